"""Entropy coding of a channel-group codec's latent (``channel-checkerboard-v1``): its ``2K``
passes in one stream.  The passes' parameters are :mod:`app.fixedpoint.channel_groups`'s;
within a pass the entropy coder groups the symbols by scale index
(:func:`app.core.codec.entropy.encode_passes`)."""

from __future__ import annotations

import numpy as np

from app.fixedpoint.channel_groups import FixedChannelCheckerboard

from . import entropy


def encode(ctx: FixedChannelCheckerboard, y: np.ndarray, z_sym: np.ndarray,
           tables: entropy.TableSet) -> tuple[bytes, bytes]:
    """The latent ``y`` (1, M, H, W, gains applied) as one stream of ``2K`` passes."""
    passes = []

    def take(i, ch, sel, means, index):
        sym = np.round(y[0, ch][:, sel] - means[0, ch][:, sel]).astype(np.int64)
        passes.append((sym, index[0, ch][:, sel]))
        return sym

    ctx.run(z_sym, take)
    return entropy.encode_passes(passes, tables)


def decode(ctx: FixedChannelCheckerboard, stream: bytes, escapes: bytes, z_sym: np.ndarray,
           n_symbols: int, tables: entropy.TableSet
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(means, scale indexes, latent symbols) of a stream written by :func:`encode`."""
    decoder = entropy.StreamDecoder(stream, escapes, n_symbols, tables)
    out = ctx.run(z_sym, lambda i, ch, sel, means, index: decoder.decode(index[0, ch][:, sel]))
    decoder.finish()
    return out
