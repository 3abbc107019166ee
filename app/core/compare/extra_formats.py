"""Optional Pillow encoders for the side-by-side comparison: JPEG XL and HEIC (HEVC intra).

Pillow has no JPEG XL or HEIF encoder of its own; the ``pillow-jxl-plugin`` and
``pillow-heif`` packages add them (``pip install "aestudio[formats]"``). Both are optional: a
missing or broken plugin makes its format unavailable, with the reason, and nothing else.
The plugins are loaded on first use, never at import time.
"""

from __future__ import annotations

import io
from functools import cache

import numpy as np
from PIL import Image

__all__ = ["EXTRA_FORMATS", "encode_extra", "extra_format_status"]

# format -> (Pillow format name, package to install, save parameters besides quality)
EXTRA_FORMATS: dict[str, tuple[str, str, dict]] = {
    # effort 7 is libjxl's own default (cjxl -e 7).
    "jxl": ("JXL", "pillow-jxl-plugin", {"effort": 7}),
    # 4:2:0 like Pillow's JPEG, WebP and AVIF rows; x265's default preset.
    "heic": ("HEIF", "pillow-heif", {"chroma": 420}),
}


@cache
def extra_format_status(fmt: str) -> str | None:
    """None when ``fmt`` can be encoded and decoded here, else why not (one line)."""
    if fmt not in EXTRA_FORMATS:
        return f"unknown format {fmt!r}"
    package = EXTRA_FORMATS[fmt][1]
    try:
        if fmt == "jxl":
            import pillow_jxl  # noqa: F401  (registers the JXL plugin with Pillow)
        else:
            import pillow_heif

            pillow_heif.register_heif_opener()
            if not pillow_heif.libheif_info().get("encoders", {}).get("x265"):
                return "pillow-heif was built without the x265 HEVC encoder"
    except ImportError:
        return f"needs the {package} package (pip install {package})"
    except Exception as exc:  # a plugin whose native library fails to load
        return f"{package} failed to load: {exc}"
    return None


def encode_extra(pixels: np.ndarray, fmt: str, quality: int) -> bytes:
    """Encode HxW or HxWx3 uint8 ``pixels`` as ``fmt`` at ``quality`` (1..100) in memory."""
    reason = extra_format_status(fmt)
    if reason is not None:
        raise ValueError(f"cannot encode as {fmt.upper()}: {reason}")
    pil_format, _, params = EXTRA_FORMATS[fmt]
    image = Image.fromarray(np.ascontiguousarray(pixels))
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB")
    if fmt == "heic" and image.mode == "L":
        params = {k: v for k, v in params.items() if k != "chroma"}
    if fmt == "jxl" and int(quality) >= 100:
        # As cjxl reads it: quality 100 is lossless, which pillow-jxl only accepts as a flag.
        params = {**params, "lossless": True}
    buf = io.BytesIO()
    image.save(buf, format=pil_format, quality=int(quality), **params)
    return buf.getvalue()
