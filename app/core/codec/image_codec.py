"""The learned codec: image -> analysis -> gains -> quantise -> constriction -> ``.aei`` bytes,
and back.  Quality (1..100) selects interpolated gain vectors; nothing else depends on it."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from app.fixedpoint import FixedChannelCheckerboard, FixedCheckerboard, FixedHyperSynthesis
from app.fixedpoint import TablesError
from app.fixedpoint.versions import CHANNEL_CHECKERBOARD, CHECKERBOARD, HYPER as FIXED_HYPER
from app.spec import bitstream as bsf

from . import channel_context, checkerboard_context, entropy
from .alpha_plane import pack_alpha, unpack_alpha
from ..io.image_errors import PixelLimitError
from ..io.imageio import max_pixels_limit
from ..io.pixels import from_rgb, to_rgb
from ..runtime.memory_budget import MemoryBudgetError, check_fits, reserve
from ..runtime.registry import Model, ModelError, ModelIntegrityError
from ..runtime.sessions import SessionPool
from ..runtime.tiling import Progress, Steps, rescaling_tile_count, run_rescaling_tiles, stage

QUALITY_MIN, QUALITY_MAX = 1.0, 100.0
# The analysis and synthesis transforms run on tiles, each with context on every side that
# covers their receptive fields, so memory stays bounded for any image size while the result
# equals one pass over the whole image. A codec's manifest records its tile side and context in
# pixels (``tile_size``, ``tile_overlap``); one that records none (``tile_size`` 0) runs
# these, about 0.7 GB of working memory for a 192-channel latent.
TILE_PX, CONTEXT_PX = 512, 64
LATENT_FACTOR = 16
# Peak memory of a decode, measured with tracemalloc on the shipped codec (M=192) from 0.4 to
# 3 megapixels and rounded up: the float output and its conversion to 8 bits per padded pixel,
# the symbols, means, indexes and float latent per latent element, and the tiles' working set.
# 100 megapixels come to 5.6 GiB, close to the 5.8 GB of process memory measured for them.
DECODE_BYTES_PER_PIXEL = 40
DECODE_BYTES_PER_LATENT = 24
DECODE_FIXED_BYTES = 64 << 20
# From this many (padded) pixels on, the transforms' sessions give their working memory back
# after the last tile: the analysis and synthesis arenas (0.3 and 0.7 GB) otherwise stay held,
# both at once, while the entropy coding, the other transform and the metrics of a big image
# need memory of their own (a 12 MP compress and decode in the GUI peaked at 1.9 GB). Taking
# the memory again costs about 0.2 s a transform: 20 % of a Kodak image's encode and decode,
# under 1 % from here on.
RELEASE_PIXELS = 4_000_000
# From RELEASE_PIXELS on, the synthesis runs on tiles of at most this side: onnxruntime's
# ConvTranspose keeps a column buffer that grows with the tile's area (0.33 GB of a 512-pixel
# tile's 0.55 GB working set). At 12 MP the decode's rise in memory fell from 0.85 to 0.53 GB
# for 10 % more decode time; the pixels are the same, since the context still covers the
# synthesis's receptive field.
BIG_SYNTHESIS_TILE_PX = 384
# A target-size search's bisection steps; with a coding at the lowest and highest quality it
# codes the image at most TO_SIZE_CODINGS times
TO_SIZE_ITERATIONS = 14
TO_SIZE_CODINGS = TO_SIZE_ITERATIONS + 2


class DecodeBudgetError(MemoryBudgetError, bsf.BitstreamError):
    """Decoding this file would need more memory than the budget (``AESTUDIO_MAX_MEMORY``)."""


def decode_peak_bytes(width: int, height: int, pad_bottom: int, pad_right: int,
                      latent_shapes: list[tuple[int, ...]]) -> int:
    """The decoder's peak memory for a header, before anything is allocated."""
    latents = sum(int(c) * int(h) * int(w) for c, h, w in latent_shapes)
    pixels = (int(width) + int(pad_right)) * (int(height) + int(pad_bottom))
    return (DECODE_BYTES_PER_PIXEL * pixels + DECODE_BYTES_PER_LATENT * latents
            + DECODE_FIXED_BYTES)


def tile_geometry(model: Model) -> tuple[int, int]:
    """(tile side, context on each side) in pixels for the codec's transforms, from its
    manifest, or the default for a manifest that records none."""
    tile, context = model.manifest.tile_size, model.manifest.tile_overlap
    if tile == 0:
        return TILE_PX, CONTEXT_PX
    if tile % LATENT_FACTOR or context % LATENT_FACTOR:
        raise ModelError(f"model {model.id!r}: tile_size {tile} and tile_overlap {context} "
                         f"must be multiples of {LATENT_FACTOR} pixels")
    return tile, context


@dataclass
class Analysis:
    """The quality-independent part of an encode, reusable across qualities."""
    y: np.ndarray            # (1, M, h, w) latent before gains
    width: int
    height: int
    channels: int
    pad_bottom: int
    pad_right: int
    alpha: np.ndarray | None


class Symbols(NamedTuple):
    """What entropy decoding recovers: exact integers and exact fixed-point means."""
    z: np.ndarray            # hyper-latent symbols
    means: np.ndarray        # latent means from the hyper-synthesis
    scale_index: np.ndarray  # table index of every latent element
    y: np.ndarray            # latent symbols


def _to_uint8(chw: np.ndarray, h: int, w: int, rows: int = 128) -> np.ndarray:
    """The synthesis output (``CxHxW`` in [0, 1]) as ``h x w x C`` uint8, cropped, a band of
    rows at a time: whole-image float temporaries of a 12 MP decode came to 0.6 GB."""
    out = np.empty((h, w, chw.shape[0]), np.uint8)
    for r0 in range(0, h, rows):
        # extreme escaped symbols in a damaged file can overflow the float synthesis: a NaN
        # has no defined uint8 value, so it becomes 0 (valid files never produce one)
        band = np.nan_to_num(chw[:, r0:min(h, r0 + rows), :w].transpose(1, 2, 0), nan=0.0)
        out[r0:r0 + rows] = np.clip(np.round(band * 255), 0, 255)
    return out


class Codec:
    def __init__(self, model: Model, sessions: SessionPool):
        if model.task != "codec":
            raise ValueError(f"model {model.id!r} is not a codec")
        self.model = model
        self.sessions = sessions
        sessions.registry.verify(model)
        try:
            self.tables = entropy.EntropyTables.load(
                io.BytesIO(sessions.registry.read_verified(model, "tables")))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            # e.g. a pickled object array: refused by np.load(allow_pickle=False), never run
            reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise ModelIntegrityError(f"model {model.id!r}: {model.path('tables')} cannot be "
                                      f"read ({reason})") from None
        self.factor = model.manifest.downsample
        self.tile_px, self.context_px = tile_geometry(model)
        # The scale indexes pick the table of every latent symbol, so the decoder must derive
        # exactly the encoder's: only the integer hyper-synthesis guarantees that everywhere.
        hyper = model.manifest.params.get("hyper")
        if hyper != FIXED_HYPER:
            named = "names none" if hyper is None else f"names {hyper!r}"
            raise ModelError(f"model {model.id!r} cannot run here: its manifest {named} as its "
                             f"hyper-synthesis, and this version of AE Studio runs only "
                             f"{FIXED_HYPER!r}")
        if self.tables.hyper_fixed is None:
            raise ModelIntegrityError(f"model {model.id!r}: tables.npz lacks the "
                                      f"fixed-point hyper-synthesis its manifest names")
        try:
            self.hyper_fixed = FixedHyperSynthesis(self.tables.hyper_fixed)
        except TablesError as exc:
            raise ModelIntegrityError(f"model {model.id!r}: {exc}") from None
        # A checkerboard context (two coding passes) in fixed point, for models exported with it.
        # Channel groups on top of it (2K passes), for models exported with them.
        self.context: FixedCheckerboard | None = None
        self.channels: FixedChannelCheckerboard | None = None
        context = model.manifest.params.get("context")
        if context is not None:
            if context not in (CHECKERBOARD, CHANNEL_CHECKERBOARD):
                raise ModelError(f"model {model.id!r} uses the latent context {context!r}, "
                                 f"which this version of AE Studio cannot run")
            if self.tables.context_fixed is None:
                raise ModelIntegrityError(f"model {model.id!r}: tables.npz lacks the "
                                          f"fixed-point context its manifest names")
            try:
                self.context = FixedCheckerboard(self.tables.context_fixed, self.hyper_fixed)
                if context == CHANNEL_CHECKERBOARD:
                    if self.tables.channel_fixed is None:
                        raise TablesError("tables.npz lacks the fixed-point channel "
                                               "context its manifest names")
                    self.channels = FixedChannelCheckerboard(self.tables.channel_fixed,
                                                             self.context)
            except TablesError as exc:
                raise ModelIntegrityError(f"model {model.id!r}: {exc}") from None
        # Progress: one count per operation. ``progress(done, total)`` follows each step (an
        # analysis or synthesis tile, an entropy coding or decoding, or each pass of a
        # checkerboard's); ``cancel()`` is checked before each and raises ``Cancelled``.
        two_passes = self.context is not None and self.channels is None
        self.coding_steps = 1 + two_passes * checkerboard_context.ENCODE_STEPS
        self.symbol_steps = 1 + two_passes * checkerboard_context.DECODE_STEPS

    def analysis_steps(self, h: int, w: int) -> int:
        """The analysis transform's tiles for an ``h`` x ``w`` image."""
        return rescaling_tile_count(h + -h % self.factor, w + -w % self.factor, self.tile_px)

    def decode_steps(self, bs: bsf.Bitstream) -> int:
        """The entropy decoding, then the synthesis transform's tiles."""
        hp, wp = bs.height + bs.pad_bottom, bs.width + bs.pad_right
        return self.symbol_steps + rescaling_tile_count(hp, wp, self.synthesis_tile_px(hp * wp))

    def synthesis_tile_px(self, padded_pixels: int) -> int:
        """The synthesis tile's side for an image of ``padded_pixels``."""
        if padded_pixels >= RELEASE_PIXELS:
            return min(self.tile_px, BIG_SYNTHESIS_TILE_PX)
        return self.tile_px

    # -- encoding ---------------------------------------------------------------------------
    def analyse(self, pixels: np.ndarray, progress: Progress | None = None,
                cancel: Callable[[], bool] | None = None) -> Analysis:
        h, w = pixels.shape[:2]
        channels = 1 if pixels.ndim == 2 else pixels.shape[2]
        rgb, alpha = to_rgb(pixels)
        pb, pr = -h % self.factor, -w % self.factor
        if (h + pb) * (w + pr) > 2 * max_pixels_limit():
            raise PixelLimitError(self._padded_message(w, h))
        # never write a file that this decoder would refuse for its memory
        hp, wp = h + pb, w + pr
        shapes = [(self.tables.gains.shape[1], hp // 16, wp // 16),
                  (len(self.tables.z), hp // 64, wp // 64)]
        check_fits(decode_peak_bytes(w, h, pb, pr, shapes),
                   f"a {w}x{h} image (decoding its file)")
        # 8-bit tiles become floats one at a time: a whole-image float copy of a 12 MP photo
        # (two while dividing) took 0.3 GB
        x = np.pad(rgb, ((0, pb), (0, pr), (0, 0)), mode="edge").transpose(2, 0, 1)[None]
        y = self._transform("analysis", x, hp * wp, lambda t: t.astype(np.float32) / 255.0,
                            tile=self.tile_px, overlap=self.context_px, den=LATENT_FACTOR,
                            progress=progress, cancel=cancel)
        return Analysis(y, w, h, channels, pb, pr, alpha)

    def _transform(self, graph: str, x: np.ndarray, pixels: int,
                   prepare: Callable[[np.ndarray], np.ndarray],
                   **tiling: Any) -> np.ndarray | None:
        """``graph`` over ``x`` in tiles (see :func:`run_rescaling_tiles`, which gets
        ``tiling``); the tiles of an image of ``pixels`` >= RELEASE_PIXELS give the session's
        working memory back after the last one."""
        (name,) = self.model.manifest.graphs[graph].inputs

        def tile_fn(run: Callable[..., list[np.ndarray]]) -> Callable[[np.ndarray], np.ndarray]:
            return lambda t: run(self.model, graph, **{name: prepare(t)})[0]

        last = tile_fn(self.sessions.run_releasing) if pixels >= RELEASE_PIXELS else None
        return run_rescaling_tiles(x, tile_fn(self.sessions.run), last=last, **tiling)

    def encode(self, pixels: np.ndarray, quality: float = 75.0) -> bytes:
        return self.encode_analysis(self.analyse(pixels), quality)

    def encode_analysis(self, a: Analysis, quality: float, progress: Progress | None = None,
                        cancel: Callable[[], bool] | None = None) -> bytes:
        if not np.isfinite(quality):  # NaN would pass the clip below
            raise ValueError(f"quality must be a finite number, not {quality!r}")
        steps = Steps(self.coding_steps, progress, cancel)
        quality = float(np.clip(round(quality, 2), QUALITY_MIN, QUALITY_MAX))
        gain, _ = self.tables.gain_vectors(quality)
        y = a.y * gain[None, :, None, None]
        (z,) = self.sessions.run(self.model, "hyper_analysis", y=y)
        med = self.tables.z_medians[None, :, None, None]
        z_sym = np.round(z - med)
        z_idx = np.broadcast_to(np.arange(z.shape[1])[None, :, None, None], z.shape)
        z_stream, z_esc = entropy.encode(z_sym, z_idx, self.tables.z)
        if self.channels is not None:
            y_stream, y_esc = channel_context.encode(self.channels, y, z_sym, self.tables.y)
        elif self.context is None:
            means, scale_idx = self.hyper_fixed(z_sym)
            y_stream, y_esc = entropy.encode(np.round(y - means), scale_idx, self.tables.y)
        else:
            y_stream, y_esc = checkerboard_context.encode(self.context, y, z_sym, self.tables.y,
                                                          steps.next)
        chunks = {"ZSTR": z_stream, "ZESC": z_esc, "YSTR": y_stream, "YESC": y_esc}
        flags = bsf.FLAG_GREY if a.channels == 1 else 0
        if a.alpha is not None:
            chunks["ALPH"] = pack_alpha(a.alpha)
            flags |= bsf.FLAG_ALPHA
        data = bsf.pack(bsf.Bitstream(
            model_id=self.model.id, model_hash=self.model.hash_prefix, width=a.width,
            height=a.height, channels=a.channels, quality=quality, pad_bottom=a.pad_bottom,
            pad_right=a.pad_right, latent_shapes=[y.shape[1:], z.shape[1:]], chunks=chunks,
            flags=flags))
        steps.next()
        return data

    def encode_to_size(self, image: np.ndarray | Analysis, max_bytes: int,
                       iterations: int = TO_SIZE_ITERATIONS, progress: Progress | None = None,
                       cancel: Callable[[], bool] | None = None) -> tuple[bytes, float]:
        """The highest quality whose file fits in ``max_bytes`` (bisection on quality). Steps:
        the analysis tiles (for pixels), then ``iterations + 2`` codings (a bisection that
        ends early skips to the last, the coding at the highest quality)."""
        tiles = 0 if isinstance(image, Analysis) else self.analysis_steps(*image.shape[:2])
        total = tiles + (iterations + 2) * self.coding_steps
        a = image if isinstance(image, Analysis) else \
            self.analyse(image, stage(progress, 0, total), cancel)

        def code(q: float, coding: int) -> bytes:
            start = tiles + coding * self.coding_steps
            return self.encode_analysis(a, q, stage(progress, start, total), cancel)

        best = code(QUALITY_MIN, 0)
        if len(best) > max_bytes:
            raise ValueError(f"{max_bytes} bytes is too small: the lowest quality needs "
                             f"{len(best)} bytes")
        best_q, lo, hi = QUALITY_MIN, QUALITY_MIN, QUALITY_MAX
        for i in range(iterations):
            q = round((lo + hi) / 2, 2)
            data = code(q, 1 + i)
            if len(data) <= max_bytes:
                best, best_q, lo = data, q, q
            else:
                hi = q
            if hi - lo < 0.02:
                break
        top = code(QUALITY_MAX, iterations + 1)
        if len(top) <= max_bytes:
            return top, QUALITY_MAX
        return best, best_q

    # -- decoding ---------------------------------------------------------------------------
    def decode_symbols(self, bs: bsf.Bitstream, step: Callable[[], None] = lambda: None
                       ) -> Symbols:
        """The entropy-decoded part of a file, before any float network runs; a checkerboard's
        ends each pass but the last with ``step()``."""
        self._check_geometry(bs)
        _, (zc, zh, zw) = bs.latent_shapes
        z_idx = np.broadcast_to(np.arange(zc)[None, :, None, None], (1, zc, zh, zw))
        z_sym = entropy.decode(bs.chunks["ZSTR"], bs.chunks["ZESC"], z_idx, self.tables.z)
        if self.channels is not None:
            return Symbols(z_sym, *channel_context.decode(
                self.channels, bs.chunks["YSTR"], bs.chunks["YESC"], z_sym,
                int(np.prod(bs.latent_shapes[0])), self.tables.y))
        if self.context is not None:
            return Symbols(z_sym, *checkerboard_context.decode(
                self.context, bs.chunks["YSTR"], bs.chunks["YESC"], z_sym, self.tables.y, step))
        means, scale_idx = self.hyper_fixed(z_sym)
        y_sym = entropy.decode(bs.chunks["YSTR"], bs.chunks["YESC"], scale_idx, self.tables.y)
        return Symbols(z_sym, means, scale_idx, y_sym)

    def decode(self, data: bytes | bsf.Bitstream, progress: Progress | None = None,
               cancel: Callable[[], bool] | None = None) -> np.ndarray:
        """The pixels of a file; steps: :meth:`decode_steps`."""
        bs = data if isinstance(data, bsf.Bitstream) else bsf.unpack(data)
        self._check_geometry(bs)  # the latent shapes are right before they are budgeted
        need = decode_peak_bytes(bs.width, bs.height, bs.pad_bottom, bs.pad_right,
                                 bs.latent_shapes)
        with reserve(need, f"decoding this {bs.width}x{bs.height} image", DecodeBudgetError):
            return self._decode(bs, progress, cancel)

    def _decode(self, bs: bsf.Bitstream, progress: Progress | None,
                cancel: Callable[[], bool] | None) -> np.ndarray:
        steps = Steps(self.symbol_steps, stage(progress, 0, self.decode_steps(bs)), cancel)
        _, means, _, y_sym = self.decode_symbols(bs, steps.next)
        steps.next()
        _, inv_gain = self.tables.gain_vectors(bs.quality)
        y_hat = (y_sym.astype(np.float32) + means) * inv_gain[None, :, None, None]
        del means, y_sym  # 0.1 GB at 12 MP that the synthesis's working set can use instead
        h, w = bs.height, bs.width
        rgb = np.empty((h, w, 3), np.uint8)  # the synthesis makes RGB, as the analysis took

        def store(block: np.ndarray, y0: int, x0: int) -> None:
            # each tile's output becomes 8-bit pixels as it comes: the float output of a
            # 12 MP image, padding included, took 0.15 GB
            bh, bw = min(block.shape[2], h - y0), min(block.shape[3], w - x0)
            if bh > 0 and bw > 0:
                rgb[y0:y0 + bh, x0:x0 + bw] = _to_uint8(block[0], bh, bw)

        pixels = y_hat.shape[2] * y_hat.shape[3] * LATENT_FACTOR ** 2
        self._transform("synthesis", y_hat, pixels, lambda t: t,
                        tile=self.synthesis_tile_px(pixels) // LATENT_FACTOR,
                        overlap=self.context_px // LATENT_FACTOR, num=LATENT_FACTOR,
                        store=store, progress=stage(progress, self.symbol_steps,
                                                    self.decode_steps(bs)), cancel=cancel)
        return from_rgb(rgb, unpack_alpha(bs), grey=bool(bs.flags & bsf.FLAG_GREY))

    def _check_geometry(self, bs: bsf.Bitstream) -> None:
        if bs.model_id != self.model.id:
            raise ModelError(f"file needs model {bs.model_id!r}, this codec is {self.model.id!r}")
        f = self.factor
        if bs.width * bs.height > max_pixels_limit():
            raise bsf.CorruptFileError(f"image size {bs.width}x{bs.height} exceeds the pixel "
                                       f"limit ({max_pixels_limit()} pixels)")
        # the networks run on the padded image: a thin image pads up to 64 times its area
        if -(-bs.height // f) * f * (-(-bs.width // f) * f) > 2 * max_pixels_limit():
            raise bsf.CorruptFileError(self._padded_message(bs.width, bs.height))
        hp, wp = bs.height + bs.pad_bottom, bs.width + bs.pad_right
        m = self.tables.gains.shape[1]
        n = len(self.tables.z)
        expected = [(m, hp // 16, wp // 16), (n, hp // 64, wp // 64)]
        if bs.pad_bottom >= f or bs.pad_right >= f or hp % f or wp % f or \
                [tuple(s) for s in bs.latent_shapes] != expected:
            raise bsf.CorruptFileError("latent shapes do not match the image size")
        missing = {"ZSTR", "ZESC", "YSTR", "YESC"} - set(bs.chunks)
        if missing:
            raise bsf.CorruptFileError(f"missing chunks: {', '.join(sorted(missing))}")
        if bool(bs.flags & bsf.FLAG_ALPHA) != ("ALPH" in bs.chunks):
            raise bsf.CorruptFileError("alpha flag and alpha chunk disagree")
        grey, alpha = bool(bs.flags & bsf.FLAG_GREY), bool(bs.flags & bsf.FLAG_ALPHA)
        if (grey and alpha) or bs.channels != (4 if alpha else 1 if grey else 3):
            raise bsf.CorruptFileError(f"channel count {bs.channels} and flags {bs.flags:#x} "
                                       f"disagree")

    def _padded_message(self, w: int, h: int) -> str:
        f = self.factor
        wp, hp = -(-w // f) * f, -(-h // f) * f
        return (f"image size {w}x{h} is coded as {wp}x{hp} = {wp * hp:,} pixels, more than "
                f"twice the pixel limit ({max_pixels_limit():,} pixels; set "
                f"AESTUDIO_MAX_PIXELS to change it)")
