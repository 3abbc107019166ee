"""Image files -> numpy arrays: safe loading, EXIF orientation and the pixel limit.

Loaded pixels are always ``HxWxC`` uint8 with C in (1, 3, 4): grey, RGB or RGBA
(:mod:`app.core.io.pixel_depth` says how other modes and depths become that). Every failure to
read an image is an :class:`ImageIOError` naming the file. Writing images is
:mod:`app.core.io.image_save`; splitting channels is :mod:`app.core.io.pixels`.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import ExifTags, Image, ImageOps

from .bounded_read import InputFileError, read_input
from .image_errors import DECODE_ERRORS, ImageIOError, PixelLimitError
from .pixel_depth import is_16bit_rgb, raw_mode, to_uint8_array
from .pixels import icc_matches

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "ImageIOError",
    "LoadedImage",
    "PixelLimitError",
    "load_image",
    "load_image_bytes",
    "max_pixels_limit",
]

DEFAULT_MAX_PIXELS = 100_000_000
MAX_PIXELS_ENV = "AESTUDIO_MAX_PIXELS"

_ORIENTATION = ExifTags.Base.Orientation


@dataclass
class LoadedImage:
    """Decoded image plus what is needed to write it back faithfully."""

    pixels: np.ndarray  # HxWxC uint8, C in (1, 3, 4)
    path: Path | None = None
    source_mode: str = ""
    exif: bytes | None = None
    icc_profile: bytes | None = None
    notes: list[str] = field(default_factory=list)
    file_bytes: int = 0

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def channels(self) -> int:
        return int(self.pixels.shape[2])


def max_pixels_limit(max_pixels: int | None = None) -> int:
    """The pixel limit: ``max_pixels`` if given, else ``$AESTUDIO_MAX_PIXELS``, else default."""
    if max_pixels is not None:
        if max_pixels <= 0:
            raise ValueError(f"max_pixels must be positive, got {max_pixels}")
        return int(max_pixels)
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value > 0:
            return value
    return DEFAULT_MAX_PIXELS


def load_image(path: str | os.PathLike[str], max_pixels: int | None = None) -> LoadedImage:
    """Read an image file; see :class:`LoadedImage` for what comes back."""
    p = Path(path)
    name = p.name or str(p)
    try:
        # the one bounded reader: regular files only, at most MAX_INPUT_BYTES
        data = read_input(p, name=name)
    except InputFileError as exc:
        raise ImageIOError(str(exc)) from exc
    except OSError as exc:
        raise ImageIOError(f"{name}: cannot read file ({exc.strerror or exc})") from exc
    loaded = load_image_bytes(data, name, max_pixels)
    loaded.path = p
    return loaded


def load_image_bytes(data: bytes, name: str = "<memory>",
                     max_pixels: int | None = None) -> LoadedImage:
    """Like :func:`load_image` for an encoded image held in memory."""
    if not data:
        raise ImageIOError(f"{name}: file is empty (0 bytes)")
    loaded = _load(io.BytesIO(data), name, max_pixels)
    loaded.file_bytes = len(data)
    return loaded


def _load(fp: IO[bytes], name: str, max_pixels: int | None) -> LoadedImage:
    limit = max_pixels_limit(max_pixels)
    # Our own check below is authoritative: keep Pillow's bomb guard from firing below it.
    if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < limit:
        Image.MAX_IMAGE_PIXELS = limit
    try:
        im = Image.open(fp)
    except Image.DecompressionBombError as exc:
        raise _bomb_error(name, exc, limit) from exc
    except Image.UnidentifiedImageError as exc:
        raise ImageIOError(f"{name}: not a recognised image file") from exc
    except DECODE_ERRORS as exc:
        raise ImageIOError(f"{name}: cannot open image ({_reason(exc)})") from exc
    with im:
        w, h = im.size
        if w <= 0 or h <= 0:
            raise ImageIOError(f"{name}: image has no pixels ({w}x{h})")
        if w * h > limit:
            raise PixelLimitError(
                f"{name}: image is {w}x{h} = {w * h:,} pixels, more than the limit of "
                f"{limit:,} (set {MAX_PIXELS_ENV} to change it)")
        notes: list[str] = []
        try:
            if getattr(im, "is_animated", False) or getattr(im, "n_frames", 1) > 1:
                notes.append("multi-page image: first page used" if im.format == "TIFF"
                             else "animated image: first frame used")
                im.seek(0)
            raw16 = is_16bit_rgb(im)
            rawmode = raw_mode(im)
            im.load()
            ImageOps.exif_transpose(im, in_place=True)
        except Image.DecompressionBombError as exc:
            raise _bomb_error(name, exc, limit) from exc
        except DECODE_ERRORS as exc:
            raise ImageIOError(f"{name}: cannot decode image ({_reason(exc)})") from exc
        source_mode = im.mode
        exif = _clean_exif(im.info.get("exif"))
        icc = im.info.get("icc_profile") or None
        try:
            pixels = to_uint8_array(im, notes, raw16, rawmode)
        except ImageIOError as exc:  # pixel values that have no 8-bit reading
            raise ImageIOError(f"{name}: {exc}") from exc
        except ValueError as exc:
            raise ImageIOError(f"{name}: unsupported image mode {im.mode!r} ({exc})") from exc
    if icc is not None and not icc_matches(icc, pixels.shape[2]):
        icc = None
        notes.append("colour profile dropped (it does not match the converted image)")
    return LoadedImage(pixels=pixels, source_mode=source_mode, exif=exif,
                       icc_profile=icc, notes=notes)


def _bomb_error(name: str, exc: Exception, limit: int) -> PixelLimitError:
    """Pillow's own guard (at twice our limit) fired: say so in terms of our limit."""
    m = re.search(r"\((\d+) pixels\)", str(exc))
    size = f"{int(m.group(1)):,} pixels" if m else "too many pixels"
    return PixelLimitError(f"{name}: image too large ({size}, more than the limit of "
                           f"{limit:,}; set {MAX_PIXELS_ENV} to change it)")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    if isinstance(exc, MemoryError):
        return "out of memory"
    if "truncated" in text.lower() or isinstance(exc, EOFError):
        return "file is truncated"
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _clean_exif(data: Any) -> bytes | None:
    """Return EXIF bytes with the orientation reset (the pixels are already upright)."""
    if not isinstance(data, (bytes, bytearray)) or not data:
        return None
    data = bytes(data)
    try:
        exif = Image.Exif()
        exif.load(data)
        if exif.get(_ORIENTATION, 1) != 1:
            exif[_ORIENTATION] = 1
            return exif.tobytes()
    except Exception:  # noqa: BLE001 - malformed EXIF is dropped, never fatal
        return None
    return data
