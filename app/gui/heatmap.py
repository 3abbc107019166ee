"""The difference heatmap of the comparison view: ``|original - result|``, amplified and
colour-mapped (black -> purple -> red -> yellow -> white) with plain numpy."""

from __future__ import annotations

import numpy as np

__all__ = ["DEFAULT_GAIN", "colormap", "difference_heatmap"]

DEFAULT_GAIN = 4.0

# anchor positions (0..1) and RGB colours of the colormap, a simple "inferno"-like ramp
_STOPS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
_COLOURS = np.array([
    [0, 0, 0],
    [80, 18, 123],
    [203, 58, 64],
    [251, 170, 20],
    [252, 255, 164],
], dtype=np.float64)


def colormap(values: np.ndarray) -> np.ndarray:
    """Map values in 0..1 (any shape ``S``) to ``S x 3`` uint8 RGB colours."""
    v = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)
    out = np.empty(v.shape + (3,), dtype=np.uint8)
    for c in range(3):
        out[..., c] = np.round(np.interp(v, _STOPS, _COLOURS[:, c])).astype(np.uint8)
    return out


def _rgb(pixels: np.ndarray) -> np.ndarray:
    arr = np.asarray(pixels)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    return arr[:, :, :3].astype(np.int16)


def difference_heatmap(original: np.ndarray, result: np.ndarray,
                       gain: float = DEFAULT_GAIN) -> np.ndarray | None:
    """An ``HxWx3`` uint8 heatmap of the largest per-channel absolute difference.

    The difference (0..255) is multiplied by ``gain`` before colour mapping so that small
    coding errors become visible. Returns None when the two images differ in size.
    """
    a, b = _rgb(original), _rgb(result)
    if a.shape != b.shape:
        return None
    diff = np.abs(a - b).max(axis=2).astype(np.float64)
    return colormap(diff * gain / 255.0)
