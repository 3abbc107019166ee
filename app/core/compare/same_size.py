"""Classic codecs at a given file size: the fair comparison for a learned codec.

Squoosh-style "what would JPEG / WebP / AVIF / JPEG XL / HEIC look like at the same number of
bytes?": a search over each encoder's integer quality finds the highest quality whose file
fits the byte budget (or the smallest file it can make, flagged as over budget).

Each probe is a full encode (30 ms for WebP at 768×512, a second for AVIF at 12 MP), so the
search aims its probes: the file size grows about exponentially with the quality, so the next
quality comes from the sizes already seen (a secant on the log of the size), and a bisection
step follows any probe that did not halve the interval. Given a good first guess (the quality
found for the previous budget of the same image) it usually ends after two or three probes
where a plain bisection over 1..100 needs seven.
"""

from __future__ import annotations

import io
import math
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


# d ln(bytes) / d quality before two sizes are known (WebP and JPEG photos: 0.02-0.04)
LOG_SIZE_SLOPE = 0.03


def _next_quality(sizes: dict[int, int], target: int, lo: int, hi: int, bisect: bool) -> int:
    """The next quality to try strictly between ``lo`` (fits) and ``hi`` (too large)."""
    if bisect:
        return (lo + hi) // 2
    # the two probes nearest the target, in log size: their secant, or the usual slope
    near = sorted(sizes, key=lambda q: abs(math.log(sizes[q] / target)))[:2]
    q0 = near[0]
    slope = LOG_SIZE_SLOPE
    if len(near) == 2 and sizes[near[1]] != sizes[q0]:
        slope = max(1e-3, math.log(sizes[near[1]] / sizes[q0]) / (near[1] - q0))
    q = q0 + math.log(target / sizes[q0]) / slope
    # round towards the side whose bound it must establish next
    q = math.floor(q) if sizes[q0] > target else math.ceil(q)
    # towards an end of the range not yet bounded, at most halfway there, as a bisection
    # would: the extreme qualities (slow, and for some encoders fragile) only when needed
    low, high = QUALITY_RANGE
    if lo < low:
        q = max(q, (low + hi) // 2)
    if hi > high:
        q = min(q, (lo + high + 1) // 2)
    return min(max(q, lo + 1), hi - 1)


def encode_at_size(pixels: np.ndarray, fmt: str, target_bytes: int,
                   cancel=None, guess: int | None = None) -> SameSize:
    """The best ``fmt`` encoding of ``pixels`` whose file is at most ``target_bytes`` long.

    ``pixels`` is HxW or HxWx3 uint8 (alpha is not compared). ``guess``: the quality to try
    first (for instance the one found for the previous budget); ``cancel()`` returning True
    stops the search between encodes (the best file so far is returned).
    """
    pixels = _encodable(pixels, fmt)
    if target_bytes <= 0:
        raise ValueError("the byte budget must be positive")
    t = time.perf_counter()
    low, high = QUALITY_RANGE
    lo, hi = low - 1, high + 1  # highest quality known to fit, lowest known too large
    sizes: dict[int, int] = {}
    best: bytes | None = None  # the file of ``lo``
    bisect = False
    q = (low + high) // 2 if guess is None else min(max(int(guess), low), high)
    while True:  # the file size grows with the quality: aim for the last fit
        data = encode_format(pixels, fmt, q)
        sizes[q] = len(data)
        bracketed, width = lo >= low and hi <= high, hi - lo
        if len(data) <= target_bytes:
            lo, best = q, data
        else:
            hi = q
        if hi - lo <= 1 or (cancel is not None and cancel()):
            break
        # a probe that did not halve a closed interval: bisect once (a poor secant)
        bisect = not bisect and bracketed and 2 * (hi - lo) > width
        q = _next_quality(sizes, target_bytes, lo, hi, bisect)
    if best is None:  # nothing fits: the lowest quality, flagged by ``fits``
        lo = low
        best = data if q == low else encode_format(pixels, fmt, low)
    return _result(fmt, best, pixels, lo, t, target_bytes)


def encode_at_quality(pixels: np.ndarray, fmt: str, quality: int) -> SameSize:
    """One ``fmt`` encoding at ``quality`` (1..100) with its decoded pixels (no budget: it
    always "fits")."""
    pixels = _encodable(pixels, fmt)
    t = time.perf_counter()
    q = int(min(max(int(quality), QUALITY_RANGE[0]), QUALITY_RANGE[1]))
    data = encode_format(pixels, fmt, q)
    return _result(fmt, data, pixels, q, t, len(data))
