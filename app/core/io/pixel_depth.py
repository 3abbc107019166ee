"""Decoded Pillow images -> ``HxWxC`` uint8: mode normalisation and bit-depth reduction.

Every conversion that changes what the file held appends a note (shown to the user).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .image_errors import ImageIOError

__all__ = ["is_16bit_rgb", "raw_mode", "to_uint8_array"]


def raw_mode(im: Image.Image) -> str:
    """The raw mode of the file's first tile ("I;16B", "I;32S", ...): what it stores."""
    try:
        args = im.tile[0][3] if im.tile else None
    except (IndexError, TypeError):
        return ""
    raw = args[0] if isinstance(args, tuple) and args else args
    return raw if isinstance(raw, str) else ""


def is_16bit_rgb(im: Image.Image) -> bool:
    """Pillow silently reads 48/64-bit RGB(A) as 8-bit; detect it from the raw mode."""
    return im.mode in ("RGB", "RGBA") and ";16" in raw_mode(im)


def to_uint8_array(im: Image.Image, notes: list[str], raw16: bool,
                   rawmode: str = "") -> np.ndarray:
    """The loaded image's pixels as grey, RGB or RGBA uint8.

    ``raw16`` and ``rawmode`` come from :func:`is_16bit_rgb` and :func:`raw_mode`, taken
    before ``im.load()`` (which drops the tile list). Raises :class:`ImageIOError` for pixel
    values that have no 8-bit reading, ValueError for a mode Pillow cannot convert.
    """
    mode = im.mode
    if mode.startswith("I;16") or mode == "I":
        return _integer_to_uint8(np.asarray(im), mode, rawmode, notes)[:, :, None]
    if mode == "F":
        return _float_to_uint8(np.asarray(im), notes)[:, :, None]
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in im.info
        target = "RGBA" if has_alpha else "RGB"
        notes.append(f"palette converted to {target}")
        im = im.convert(target)
    elif mode == "1":
        im = im.convert("L")
    elif mode in ("LA", "La"):
        im = im.convert("RGBA")
        notes.append("grey + alpha converted to RGBA")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        im = im.convert("RGB")
        if mode != "RGBX":
            notes.append(f"{mode} converted to RGB")
    elif mode == "RGBa":
        im = im.convert("RGBA")
    elif mode not in ("L", "RGB", "RGBA"):
        im = im.convert("RGBA" if "A" in mode else "RGB")
        notes.append(f"{mode} converted to {im.mode}")
    if raw16:
        notes.append("16-bit image reduced to 8 bits")
    arr = np.array(im, dtype=np.uint8)  # a writable copy (asarray would be read-only)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return arr


# How pixels that are not 8-bit become 8-bit (docs/robustness.md, "Odd but valid images").
# Integers: a 16-bit file (its raw mode says ;16) is on the 0..65535 scale. A 32-bit integer
# image declares no range, so its values choose: all within 0..255 -> used as they are; within
# 0..65535 -> the 16-bit scale; larger -> scaled so that the largest value is 255. Negative
# values become 0. Floats: the 0..1 scale when the largest value is at most 1, or when most of
# the non-zero values are at most 1 (so highlights above 1.0 are clipped, not taken for a
# 0..255 image); else the 0..255 scale, or the 0..65535 one when most non-zero values exceed
# 255. Values outside the scale are clipped. NaN or infinite pixels are refused.
_FLOAT_SCALES = ((1.0, 255.0, "0..1"), (255.0, 1.0, "0..255"), (65535.0, 255.0 / 65535.0,
                                                                 "0..65535"))


def _integer_to_uint8(values: np.ndarray, mode: str, rawmode: str,
                      notes: list[str]) -> np.ndarray:
    v = values.astype(np.int64)
    top = int(v.max()) if v.size else 0
    if int(v.min(initial=0)) < 0:
        notes.append("negative pixel values set to 0")
    v = np.clip(v, 0, None)
    if mode.startswith("I;16") or ";16" in rawmode:
        notes.append("16-bit image reduced to 8 bits")
        return ((np.minimum(v, 65535) + 128) // 257).astype(np.uint8)
    if top <= 255:
        notes.append("32-bit integer image holding 0..255: values used as they are")
        return v.astype(np.uint8)
    if top <= 65535:
        notes.append("32-bit integer image holding 0..65535: read as 16-bit")
        return ((v + 128) // 257).astype(np.uint8)
    notes.append(f"32-bit integer image scaled from 0..{top} to 0..255")
    return np.rint(v * (255.0 / top)).astype(np.uint8)


def _float_to_uint8(values: np.ndarray, notes: list[str]) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    finite = np.isfinite(v)
    if not finite.all():
        bad = int(v.size - np.count_nonzero(finite))
        raise ImageIOError(f"image has NaN or infinite pixel values ({bad:,} of {v.size:,}); "
                           f"only finite values can be read")
    nonzero = np.count_nonzero(v)
    limit, scale, label = _FLOAT_SCALES[0]
    for next_limit, next_scale, next_label in _FLOAT_SCALES[1:]:
        # the next scale only when most non-zero values lie above this one's top
        if v.size == 0 or v.max() <= limit or 2 * np.count_nonzero(v > limit) <= nonzero:
            break
        limit, scale, label = next_limit, next_scale, next_label
    outside = int(np.count_nonzero((v < 0) | (v > limit)))
    notes.append(f"32-bit float image on the {label} scale reduced to 8 bits")
    if outside:
        notes.append(f"{outside:,} pixel values outside {label} clipped")
    return np.clip(np.rint(v * scale), 0, 255).astype(np.uint8)
