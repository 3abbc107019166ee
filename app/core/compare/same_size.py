"""Classic codecs at a given file size: the fair comparison for a learned codec.

Squoosh-style "what would JPEG / WebP / AVIF / JPEG XL / HEIC look like at the same number of
bytes?": a bisection over each encoder's integer quality finds the highest quality whose file
fits the byte budget (or the smallest file it can make, flagged as over budget).
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image, features

from .extra_formats import EXTRA_FORMATS, encode_extra, extra_format_status
from ..io.image_save import encode_image_bytes

__all__ = ["FORMATS", "SameSize", "available_formats", "encode_at_quality", "encode_at_size",
           "encode_format", "format_status"]

FORMATS = ("jpeg", "webp", "avif", *EXTRA_FORMATS)
QUALITY_RANGE = (1, 100)


@dataclass
class SameSize:
    """One classic encoding: its bytes, decoded pixels and the quality the search chose."""

    fmt: str
    data: bytes
    pixels: np.ndarray
    quality: int
    seconds: float
    budget: int

    @property
    def fits(self) -> bool:
        """False when even the lowest quality is larger than the budget asked for."""
        return len(self.data) <= self.budget


def available_formats() -> tuple[str, ...]:
    """The formats this Pillow can write (AVIF needs Pillow's libavif support; JPEG XL and
    HEIC need their optional plugins, see ``extra_formats``)."""
    return tuple(f for f in FORMATS if format_status(f) is None)


def format_status(fmt: str) -> str | None:
    if fmt in EXTRA_FORMATS:
        return extra_format_status(fmt)
    if fmt == "avif" and not features.check("avif"):
        return "this Pillow has no AVIF support"
    return None


def encode_format(pixels: np.ndarray, fmt: str, quality: int) -> bytes:
    if fmt in EXTRA_FORMATS:
        return encode_extra(pixels, fmt, quality)
    return encode_image_bytes(pixels, fmt, quality)


def _decode(data: bytes, channels: int) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        im = im.convert("L" if channels == 1 else "RGB")
        return np.asarray(im, dtype=np.uint8).copy()


def _encodable(pixels: np.ndarray, fmt: str) -> np.ndarray:
    """``pixels`` without alpha (it is not compared); ValueError for a format this install
    cannot write."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    reason = format_status(fmt)
    if reason is not None:
        raise ValueError(f"cannot encode as {fmt.upper()}: {reason}")
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        pixels = pixels[:, :, :3]
    return pixels


def _result(fmt: str, data: bytes, pixels: np.ndarray, quality: int, started: float,
            budget: int) -> SameSize:
    channels = 1 if pixels.ndim == 2 else 3
    return SameSize(fmt, data, _decode(data, channels), quality, time.perf_counter() - started,
                    budget)


def encode_at_size(pixels: np.ndarray, fmt: str, target_bytes: int,
                   cancel=None) -> SameSize:
    """The best ``fmt`` encoding of ``pixels`` whose file is at most ``target_bytes`` long.

    ``pixels`` is HxW or HxWx3 uint8 (alpha is not compared). ``cancel()`` returning True
    stops the search between encodes (the best file so far is returned).
    """
    pixels = _encodable(pixels, fmt)
    if target_bytes <= 0:
        raise ValueError("the byte budget must be positive")
    t = time.perf_counter()
    lo, hi = QUALITY_RANGE
    best: tuple[int, bytes] | None = None
    while lo <= hi:  # the file size grows with the quality: bisect for the last fit
        q = (lo + hi) // 2
        data = encode_format(pixels, fmt, q)
        if len(data) <= target_bytes:
            best, lo = (q, data), q + 1
        else:
            hi = q - 1
        if cancel is not None and cancel():
            break
    if best is None:  # nothing fits: the lowest quality, flagged by ``fits``
        best = (QUALITY_RANGE[0], encode_format(pixels, fmt, QUALITY_RANGE[0]))
    q, data = best
    return _result(fmt, data, pixels, q, t, target_bytes)


def encode_at_quality(pixels: np.ndarray, fmt: str, quality: int) -> SameSize:
    """One ``fmt`` encoding at ``quality`` (1..100) with its decoded pixels (no budget: it
    always "fits")."""
    pixels = _encodable(pixels, fmt)
    t = time.perf_counter()
    q = int(min(max(int(quality), QUALITY_RANGE[0]), QUALITY_RANGE[1]))
    data = encode_format(pixels, fmt, q)
    return _result(fmt, data, pixels, q, t, len(data))
