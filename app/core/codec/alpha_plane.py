"""A file's alpha plane: stored beside the coded colours as a lossless 8-bit PNG chunk."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from app.spec import bitstream as bsf

from ..io.image_errors import DECODE_ERRORS

__all__ = ["pack_alpha", "unpack_alpha"]


def pack_alpha(alpha: np.ndarray) -> bytes:
    """The ``ALPH`` chunk of an ``HxW`` uint8 alpha plane."""
    buf = io.BytesIO()
    Image.fromarray(alpha).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def unpack_alpha(bs: bsf.Bitstream) -> np.ndarray | None:
    """The alpha plane of a file, None for a file without one; a damaged or mismatched
    chunk raises :class:`~app.spec.bitstream.CorruptFileError`."""
    if "ALPH" not in bs.chunks:
        return None
    try:
        with Image.open(io.BytesIO(bs.chunks["ALPH"]), formats=["PNG"]) as im:
            if im.size != (bs.width, bs.height) or im.mode != "L":
                raise bsf.CorruptFileError("alpha plane has the wrong size or mode")
            return np.asarray(im)
    except bsf.CorruptFileError:
        raise
    except DECODE_ERRORS as exc:    # Pillow's errors, decompression bombs included
        reason = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise bsf.CorruptFileError(f"alpha plane is damaged: {reason}") from exc
