"""Entropy coding of a checkerboard codec's latent (``checkerboard-v1``): the anchors first,
then the rest, in one stream. The parameters of both passes are
:mod:`app.fixedpoint.checkerboard`'s; within a pass the entropy coder groups the symbols by
scale index (:func:`app.core.codec.entropy.encode_passes`).

The context's passes take most of a coding's time (at 6 MP: 3.6 s for the hyper parameters,
1.1 s and 3.3 s for the passes, 0.8 s of range coding), so each ends with ``step()``: the
caller's progress and cancel point.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.fixedpoint import FixedCheckerboard, anchor_mask

from . import entropy

__all__ = ["ENCODE_STEPS", "DECODE_STEPS", "decode", "encode"]

Step = Callable[[], None]
# the ``step()`` calls of :func:`encode` and :func:`decode`
ENCODE_STEPS, DECODE_STEPS = 3, 2


def encode(ctx: FixedCheckerboard, y: np.ndarray, z_sym: np.ndarray, tables: entropy.TableSet,
           step: Step) -> tuple[bytes, bytes]:
    """The latent ``y`` (1, M, H, W, gains applied) as one stream of two passes."""
    p = ctx.hyper_params(z_sym)
    step()
    means, index = ctx.first_pass(p)
    y_sym = np.round(y - means)  # the anchors' symbols are final: the second pass reads them
    step()
    ctx.second_pass(p, y_sym, means, index)  # the non-anchors' means and indexes
    step()
    a = anchor_mask(*y.shape[2:])
    y_sym[..., ~a] = np.round(y[..., ~a] - means[..., ~a])
    return entropy.encode_passes([(y_sym[..., a], index[..., a]),
                                  (y_sym[..., ~a], index[..., ~a])], tables)


def decode(ctx: FixedCheckerboard, stream: bytes, escapes: bytes, z_sym: np.ndarray,
           tables: entropy.TableSet, step: Step) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(means, scale indexes, latent symbols) of a stream written by :func:`encode`."""
    p = ctx.hyper_params(z_sym)
    step()
    means, index = ctx.first_pass(p)
    a = anchor_mask(*index.shape[2:])
    decoder = entropy.StreamDecoder(stream, escapes, index.size, tables)
    y_sym = np.zeros(index.shape, np.int64)
    y_sym[..., a] = decoder.decode(index[..., a])
    step()
    ctx.second_pass(p, y_sym, means, index)
    y_sym[..., ~a] = decoder.decode(index[..., ~a])
    decoder.finish()
    return means, index, y_sym
