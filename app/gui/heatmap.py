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


def _lut(gain: float) -> np.ndarray:
    """The colour of every absolute difference 0..255 at ``gain``: a 256 x 3 table."""
    return colormap(np.arange(256, dtype=np.float64) * gain / 255.0)


_STRIP_ROWS = 128  # rows per step: bounded temporaries, and the GIL is released in between


def difference_heatmap(original: np.ndarray, result: np.ndarray,
                       gain: float = DEFAULT_GAIN) -> np.ndarray | None:
    """An ``HxWx3`` uint8 heatmap of the largest per-channel absolute difference.

    The difference (0..255) is multiplied by ``gain`` before colour mapping so that small
    coding errors become visible. Returns None when the two images differ in size.

    Works in strips of rows through a 256-entry colour table: no whole-image float or int16
    copies (a 12 MP photo needs about 36 MB for the output and a few MB besides), and each
    strip is short, so a worker thread running it never holds the GIL for long.
    """
    a, b = np.asarray(original), np.asarray(result)
    if a.ndim == 2:
        a = a[:, :, None]
    if b.ndim == 2:
        b = b[:, :, None]
    if a.shape[:2] != b.shape[:2]:
        return None
    lut = _lut(gain)
    h, w = a.shape[:2]
    out = np.empty((h, w, 3), dtype=np.uint8)
    for y in range(0, h, _STRIP_ROWS):
        sa, sb = _rgb(a[y:y + _STRIP_ROWS]), _rgb(b[y:y + _STRIP_ROWS])
        diff = np.abs(sa - sb).max(axis=2).astype(np.uint8)
        out[y:y + _STRIP_ROWS] = lut[diff]
    return out
