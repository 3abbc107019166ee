"""Image files <-> numpy arrays: safe loading, mode normalisation and saving.

Loaded pixels are always ``HxWxC`` uint8 with C in (1, 3, 4): grey, RGB or RGBA.
Every failure to read an image is an :class:`ImageIOError` naming the file. Saving is atomic
(:mod:`app.core.atomic_write`; its :func:`atomic_write_bytes` is re-exported here).
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import ExifTags, Image, ImageOps, features

from .atomic_write import atomic_write_bytes, write_atomically
from .bounded_read import InputFileError, read_input

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "ImageIOError",
    "LoadedImage",
    "PixelLimitError",
    "atomic_write_bytes",
    "encode_image_bytes",
    "from_rgb",
    "load_image",
    "load_image_bytes",
    "max_pixels_limit",
    "save_image",
    "to_rgb",
]

DEFAULT_MAX_PIXELS = 100_000_000
MAX_PIXELS_ENV = "AESTUDIO_MAX_PIXELS"

_ORIENTATION = ExifTags.Base.Orientation

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
# errors Pillow raises for corrupt or unsupported data
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError,
                  TypeError, ZeroDivisionError, MemoryError, Image.DecompressionBombError)


class ImageIOError(ValueError):
    """An image could not be read or written; the message names the file."""


class PixelLimitError(ImageIOError):
    """The image has more pixels than the configured limit."""


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


# ---------------------------------------------------------------------------- loading


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
    except _DECODE_ERRORS as exc:
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
            raw16 = _is_16bit_rgb(im)
            rawmode = _raw_mode(im)
            im.load()
            ImageOps.exif_transpose(im, in_place=True)
        except Image.DecompressionBombError as exc:
            raise _bomb_error(name, exc, limit) from exc
        except _DECODE_ERRORS as exc:
            raise ImageIOError(f"{name}: cannot decode image ({_reason(exc)})") from exc
        source_mode = im.mode
        exif = _clean_exif(im.info.get("exif"))
        icc = im.info.get("icc_profile") or None
        try:
            pixels = _to_array(im, notes, raw16, rawmode)
        except ImageIOError as exc:  # pixel values that have no 8-bit reading
            raise ImageIOError(f"{name}: {exc}") from exc
        except ValueError as exc:
            raise ImageIOError(f"{name}: unsupported image mode {im.mode!r} ({exc})") from exc
    if icc is not None and not _icc_matches(icc, pixels.shape[2]):
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


def _raw_mode(im: Image.Image) -> str:
    """The raw mode of the file's first tile ("I;16B", "I;32S", ...): what it stores."""
    try:
        args = im.tile[0][3] if im.tile else None
    except (IndexError, TypeError):
        return ""
    raw = args[0] if isinstance(args, tuple) and args else args
    return raw if isinstance(raw, str) else ""


def _is_16bit_rgb(im: Image.Image) -> bool:
    """Pillow silently reads 48/64-bit RGB(A) as 8-bit; detect it from the raw mode."""
    return im.mode in ("RGB", "RGBA") and ";16" in _raw_mode(im)


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


def _to_array(im: Image.Image, notes: list[str], raw16: bool,
              rawmode: str = "") -> np.ndarray:
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


def _icc_matches(icc: bytes, channels: int) -> bool:
    """Whether an ICC profile's colour space fits the output pixels (grey or RGB)."""
    space = icc[16:20] if len(icc) >= 20 else b""
    return space == (b"GRAY" if channels == 1 else b"RGB ")


# ---------------------------------------------------------------------- channel helpers


def to_rgb(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Split ``HxW``/``HxWxC`` uint8 pixels into (RGB ``HxWx3``, alpha ``HxW`` or None)."""
    arr = check_pixels(pixels)
    c = arr.shape[2]
    if c == 1:
        return np.ascontiguousarray(np.repeat(arr, 3, axis=2)), None
    if c == 3:
        return np.ascontiguousarray(arr), None
    return np.ascontiguousarray(arr[:, :, :3]), np.ascontiguousarray(arr[:, :, 3])


def from_rgb(rgb: np.ndarray, alpha: np.ndarray | None = None,
             grey: bool = False) -> np.ndarray:
    """Merge RGB (+ alpha) back into ``HxWxC`` uint8.

    ``grey=True`` gives one luma channel (ITU-R 601, as Pillow's "L") when there is no alpha,
    and RGBA with the luma repeated when there is.
    """
    arr = check_pixels(rgb)
    if arr.shape[2] != 3:
        raise ValueError(f"expected HxWx3 RGB pixels, got shape {rgb.shape}")
    if grey:
        c = arr.astype(np.uint32)
        luma = (c[:, :, 0] * 19595 + c[:, :, 1] * 38470 + c[:, :, 2] * 7471 + 0x8000) >> 16
        luma = luma.astype(np.uint8)[:, :, None]
        arr = luma if alpha is None else np.repeat(luma, 3, axis=2)
    if alpha is None:
        return np.ascontiguousarray(arr)
    a = np.asarray(alpha)
    if a.dtype != np.uint8 or a.shape != arr.shape[:2]:
        raise ValueError(f"alpha must be uint8 of shape {arr.shape[:2]}, got {a.dtype} {a.shape}")
    return np.concatenate([arr, a[:, :, None]], axis=2)


def check_pixels(pixels: np.ndarray) -> np.ndarray:
    """``pixels`` as HxWxC uint8 (C in 1, 3, 4), or a ValueError that says what is wrong."""
    arr = np.asarray(pixels)
    if arr.dtype != np.uint8:
        raise ValueError(f"pixels must be uint8, got {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4) or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"pixels must be HxW or HxWxC with C in 1, 3, 4; got {arr.shape}")
    return arr


# ---------------------------------------------------------------------------- saving


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
    if icc_profile and fmt in _ICC_FORMATS and _icc_matches(icc_profile, channels):
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

