"""The pixel array contract (``HxWxC`` uint8, C in 1, 3, 4) and RGB/alpha splitting."""

from __future__ import annotations

import numpy as np

__all__ = ["check_pixels", "from_rgb", "icc_matches", "to_rgb"]


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


def icc_matches(icc: bytes, channels: int) -> bool:
    """Whether an ICC profile's colour space fits the output pixels (grey or RGB)."""
    space = icc[16:20] if len(icc) >= 20 else b""
    return space == (b"GRAY" if channels == 1 else b"RGB ")
