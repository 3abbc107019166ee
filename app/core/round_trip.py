"""Compress, decode, measure: the one round trip behind ``compress --metrics``, the GUI's
compress panel and the demo.

The encoded bytes are decoded again by the engine (the same path a reader of the file takes)
and the result is compared with the original.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .compare.metrics import bits_per_pixel, ms_ssim, psnr
from .engine_protocol import CancelFn, CompressResult, EngineProtocol, ProgressFn

__all__ = ["RoundTrip", "compress_and_measure", "measure", "ms_ssim_or_none"]


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
            with_ms_ssim: bool = False) -> RoundTrip:
    """Decode ``encoded`` (timed) and compare it with ``pixels``, the image it was made from."""
    h, w = pixels.shape[:2]
    t = time.perf_counter()
    rec = engine.decompress(encoded.data)
    decode_seconds = time.perf_counter() - t
    return RoundTrip(encoded, rec, decode_seconds, bits_per_pixel(len(encoded.data), w, h),
                     psnr(pixels, rec), ms_ssim_or_none(pixels, rec) if with_ms_ssim else None)


def compress_and_measure(engine: EngineProtocol, pixels: np.ndarray, quality: float,
                         target_bytes: int | None = None, with_ms_ssim: bool = False,
                         progress: ProgressFn | None = None,
                         cancel: CancelFn | None = None) -> RoundTrip | None:
    """Compress ``pixels`` (at ``quality``, or the best quality that fits ``target_bytes``),
    then :func:`measure`; None when ``cancel()`` turned true while encoding. ``progress``
    hears (1, 2) once encoded and (2, 2) once decoded."""
    encoded = engine.compress(pixels, quality, target_bytes=target_bytes)
    if cancel is not None and cancel():
        return None
    if progress is not None:
        progress(1, 2)
    trip = measure(engine, pixels, encoded, with_ms_ssim)
    if progress is not None:
        progress(2, 2)
    return trip
