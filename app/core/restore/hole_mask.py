"""Inpainting masks from mask images: the one rule for which pixels are holes.

A mask image is white where the image has a hole: a pixel whose brightest colour channel is
over half way (> 127) is a hole; alpha is ignored. The mask is ``HxW`` uint8, 1 = hole (the
convention of :meth:`app.core.engine.Engine.inpaint`), and must be the image's size.
"""

from __future__ import annotations

import numpy as np

__all__ = ["HOLE_THRESHOLD", "hole_mask"]

HOLE_THRESHOLD = 127  # a channel above this is bright: a hole


def hole_mask(pixels: np.ndarray, shape: tuple[int, ...], what: str = "the mask") -> np.ndarray:
    """The ``HxW`` hole mask of the mask image ``pixels`` (``HxW`` or ``HxWxC``) for an image of
    shape ``(H, W, ...)``; ``what`` names the mask in the error raised on a size mismatch."""
    arr = np.asarray(pixels)
    if arr.ndim == 3:
        arr = arr[..., :3].max(axis=-1)
    if arr.shape != tuple(shape[:2]):
        raise ValueError(f"{what} is {arr.shape[1]}x{arr.shape[0]}, the image is "
                         f"{shape[1]}x{shape[0]}")
    return (arr > HOLE_THRESHOLD).astype(np.uint8)
