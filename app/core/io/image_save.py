"""Numpy arrays -> image files and in-memory encodings: formats and their save options.

Saving is atomic (:mod:`app.core.io.atomic_write`).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, features

from .atomic_write import write_atomically
from .image_errors import ImageIOError
from .pixels import check_pixels, icc_matches

__all__ = ["encode_image_bytes", "save_image"]

# extension -> Pillow format name
_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    ".bmp": "BMP",
}
_ENCODE_FORMATS = {"jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP", "png": "PNG", "avif": "AVIF"}
_EXIF_FORMATS = {"JPEG", "PNG", "WEBP", "TIFF", "AVIF"}
_ICC_FORMATS = {"JPEG", "PNG", "WEBP", "TIFF", "AVIF"}
_NO_ALPHA_FORMATS = {"JPEG", "BMP"}  # BMP alpha is ignored by most readers, Pillow included


def _to_pil(pixels: np.ndarray, fmt: str) -> Image.Image:
    arr = check_pixels(pixels)
    if arr.shape[2] == 4 and fmt in _NO_ALPHA_FORMATS:
        # No (reliable) alpha in this format: flatten onto white.
        rgb = arr[:, :, :3].astype(np.uint16)
        a = arr[:, :, 3:4].astype(np.uint16)
        arr = ((rgb * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)
    if arr.shape[2] == 1:
        return Image.fromarray(np.ascontiguousarray(arr[:, :, 0]))
    return Image.fromarray(np.ascontiguousarray(arr))


def _save_params(fmt: str, quality: int, exif: bytes | None,
                 icc_profile: bytes | None, channels: int) -> dict[str, Any]:
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality}")
    params: dict[str, Any] = {}
    if fmt in ("JPEG", "WEBP", "AVIF"):
        params["quality"] = int(quality)
    if fmt == "TIFF" and features.check("libtiff"):
        params["compression"] = "tiff_deflate"
    if exif and fmt in _EXIF_FORMATS:
        params["exif"] = exif
    if icc_profile and fmt in _ICC_FORMATS and icc_matches(icc_profile, channels):
        params["icc_profile"] = icc_profile
    return params


def save_image(pixels: np.ndarray, path: str | os.PathLike[str], *,
               exif: bytes | None = None, icc_profile: bytes | None = None,
               quality: int = 95, overwrite: bool = False) -> int:
    """Write pixels atomically in the format named by the extension; return bytes written.

    JPEG and BMP drop alpha (flattened onto white). Raises :class:`FileExistsError` when the
    target exists and ``overwrite`` is False; OS errors (e.g. disk full) propagate.
    """
    p = Path(path)
    fmt = _FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ImageIOError(f"{p.name}: unsupported file extension {p.suffix!r} "
                           f"(use one of {', '.join(sorted(_FORMATS))})")
    im = _to_pil(pixels, fmt)
    channels = 1 if im.mode == "L" else 3
    params = _save_params(fmt, quality, exif, icc_profile, channels)
    return write_atomically(p, lambda f: im.save(f, format=fmt, **params), overwrite)


def encode_image_bytes(pixels: np.ndarray, fmt: str, quality: int) -> bytes:
    """Encode pixels in memory as JPEG, WEBP, PNG or AVIF (for baseline comparisons)."""
    pil_fmt = _ENCODE_FORMATS.get(fmt.lower().lstrip("."))
    if pil_fmt is None:
        raise ImageIOError(f"cannot encode as {fmt!r}: use one of jpeg, webp, png, avif")
    if pil_fmt == "AVIF" and not features.check("avif"):
        raise ImageIOError("cannot encode as AVIF: this Pillow has no AVIF support")
    im = _to_pil(pixels, pil_fmt)
    params = _save_params(pil_fmt, quality, None, None, 1 if im.mode == "L" else 3)
    buf = io.BytesIO()
    try:
        im.save(buf, format=pil_fmt, **params)
    except (OSError, ValueError, KeyError) as exc:
        raise ImageIOError(f"cannot encode as {fmt!r}: {exc}") from exc
    return buf.getvalue()
