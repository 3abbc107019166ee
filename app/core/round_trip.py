"""Compress, decode, measure: the one round trip behind ``compress --metrics``, the GUI's
compress panel and the demo.

The encoded bytes are decoded again by the engine (the same path a reader of the file takes)
and the result is compared with the original.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from .compare.metrics import bits_per_pixel, ms_ssim, psnr
from .engine_protocol import CancelFn, CompressResult, EngineProtocol, ProgressFn

__all__ = ["DECODE", "ENCODE", "RoundTrip", "StageProgressFn", "compress_and_measure", "measure",
           "ms_ssim_or_none"]

ENCODE, DECODE = "encode", "decode"  # the stages of a round trip, in order
StageProgressFn = Callable[[str, int, int], None]  # (stage, steps done, steps in the stage)


@dataclass(frozen=True)
class RoundTrip:
    """An encoded image, decoded again and compared with its original."""

    encoded: CompressResult
    reconstruction: np.ndarray
    decode_seconds: float
    bpp: float
    psnr: float
    ms_ssim: float | None  # None when not asked for, or where it cannot be computed

    @property
    def bytes(self) -> int:
        return len(self.encoded.data)


def ms_ssim_or_none(a: np.ndarray, b: np.ndarray) -> float | None:
    """MS-SSIM, or None where it cannot be computed (images of different shapes)."""
    try:
        return float(ms_ssim(a, b))
    except ValueError:
        return None


def measure(engine: EngineProtocol, pixels: np.ndarray, encoded: CompressResult,
            with_ms_ssim: bool = False, progress: ProgressFn | None = None,
            cancel: CancelFn | None = None) -> RoundTrip:
    """Decode ``encoded`` (timed) and compare it with ``pixels``, the image it was made from.
    ``progress`` and ``cancel`` go to the decode (its steps; ``Cancelled`` between two)."""
    h, w = pixels.shape[:2]
    t = time.perf_counter()
    rec = engine.decompress(encoded.data, progress=progress, cancel=cancel)
    decode_seconds = time.perf_counter() - t
    return RoundTrip(encoded, rec, decode_seconds, bits_per_pixel(len(encoded.data), w, h),
                     psnr(pixels, rec), ms_ssim_or_none(pixels, rec) if with_ms_ssim else None)


def compress_and_measure(engine: EngineProtocol, pixels: np.ndarray, quality: float,
                         target_bytes: int | None = None, with_ms_ssim: bool = False,
                         progress: StageProgressFn | None = None,
                         cancel: CancelFn | None = None) -> RoundTrip:
    """Compress ``pixels`` (at ``quality``, or the best quality that fits ``target_bytes``),
    then :func:`measure`. ``progress(stage, done, total)`` hears the engine's steps of the
    ``ENCODE`` stage, then of the ``DECODE`` stage; once ``cancel()`` turns true the engine
    raises ``Cancelled`` between two steps."""
    def stage(name: str) -> ProgressFn | None:
        return None if progress is None else partial(progress, name)

    encoded = engine.compress(pixels, quality, target_bytes=target_bytes,
                              progress=stage(ENCODE), cancel=cancel)
    return measure(engine, pixels, encoded, with_ms_ssim, stage(DECODE), cancel)
