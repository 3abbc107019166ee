"""Push-pull hole filling: the smooth first guess that a ``hole_fill: push-pull`` inpainter
refines (the manifest says which models want it).

The algorithm is the one the model was trained with (``training/hole_fill.py``, in torch;
``tests/training/test_hole_fill_parity.py`` checks that the two agree). Push: halve the image
again and again, summing the known pixels' values and their counts over each 2x2 block, until
no block is empty. Pull: from the coarsest level back up, a pixel keeps its own mean where it
has known data and takes the bilinear upsampling (half-pixel centres, edges clamped) of the
coarser estimate where it has none (Gortler et al. 1996, "The Lumigraph").

Only the half-resolution pyramid is held in float32 (while the fill is computed), the
upsampling is computed only where a level has no known data, full-resolution rows are summed in
bands, and the result keeps only the fill values of the hole pixels.
"""

from __future__ import annotations

import numpy as np

from app.spec.manifest import HOLE_FILLS

BAND = 256  # full-resolution rows per band (even)


def _sum2x2(a: np.ndarray) -> np.ndarray:
    """Sum over 2x2 blocks; an odd last row or column is padded with zeros."""
    h, w = a.shape[:2]
    if h % 2 or w % 2:
        a = np.pad(a, [(0, h % 2), (0, w % 2)] + [(0, 0)] * (a.ndim - 2))
    return a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]


def _upsampled_at(coarse: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """The bilinear x2 upsampling of ``coarse`` (half-pixel centres, edges clamped) at the
    fine pixels (ys, xs) only: 0.75 of the coarse pixel under each, 0.25 of its neighbour
    on the side the fine pixel lies, in each direction."""
    hc, wc = coarse.shape[:2]
    jy, jx = ys // 2, xs // 2
    ny = np.clip(jy + 2 * (ys % 2) - 1, 0, hc - 1)
    nx = np.clip(jx + 2 * (xs % 2) - 1, 0, wc - 1)
    return (0.5625 * coarse[jy, jx] + 0.1875 * coarse[jy, nx] + 0.1875 * coarse[ny, jx]
            + 0.0625 * coarse[ny, nx])


def _estimate(value: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Push-pull estimate at every pixel of one level from its value sums and known-pixel
    counts (float32; counts are whole numbers, so a pixel either has known data or none).
    Works in place in ``value``, which the caller hands over."""
    empty = weight == 0
    coarse = _estimate(_sum2x2(value), _sum2x2(weight)) if empty.any() else None
    value /= np.maximum(weight, 1.0)[..., None]
    if coarse is not None:
        ys, xs = np.nonzero(empty)
        value[ys, xs] = _upsampled_at(coarse, ys, xs)
    return value


class FilledImage:
    """An image with its holes filled, held as the fill values alone (3 bytes a hole pixel,
    in row-major order) beside the original, so a 48-megapixel photo with a small mask costs
    almost nothing more."""

    def __init__(self, rgb: np.ndarray, hole: np.ndarray, values: np.ndarray):
        self.rgb, self.hole, self.values = rgb, hole, values
        self._offsets = np.concatenate([[0], np.cumsum(np.count_nonzero(hole, axis=1))])

    def crop(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        out = self.rgb[y0:y1, x0:x1].copy()
        band = self.hole[y0:y1]
        values = self.values[self._offsets[y0]:self._offsets[y1]]
        cols = np.nonzero(band)[1]
        out[band[:, x0:x1]] = values[(cols >= x0) & (cols < x1)]
        return out

    def array(self) -> np.ndarray:
        return self.crop(0, self.hole.shape[0], 0, self.hole.shape[1])


def push_pull(rgb: np.ndarray, hole: np.ndarray) -> FilledImage:
    """``rgb`` (HxWx3 uint8) with its ``hole`` pixels (HxW bool) filled."""
    h, w = hole.shape
    if hole.all():
        raise ValueError("the mask covers the whole image: no known pixel is left to fill "
                         "the holes from")
    if not hole.any():
        return FilledImage(rgb, hole, np.empty((0, 3), np.uint8))
    # Level 1 (half resolution), summed from full-resolution bands.
    h1, w1 = (h + 1) // 2, (w + 1) // 2
    value1 = np.empty((h1, w1, 3), np.float32)
    weight1 = np.empty((h1, w1), np.float32)
    for y0 in range(0, h, BAND):
        y1 = min(h, y0 + BAND)
        keep = ~hole[y0:y1]
        value1[y0 // 2:(y1 + 1) // 2] = _sum2x2(rgb[y0:y1] * keep[..., None].astype(np.float32))
        weight1[y0 // 2:(y1 + 1) // 2] = _sum2x2(keep.astype(np.float32))
    coarse = _estimate(value1, weight1)
    del weight1
    # Level 0: hole pixels take the upsampled estimate; known pixels keep their own values.
    values = []
    for y0 in range(0, h, BAND):
        ys, xs = np.nonzero(hole[y0:min(h, y0 + BAND)])
        fill = _upsampled_at(coarse, ys + y0, xs)
        values.append(np.clip(np.rint(fill), 0, 255).astype(np.uint8))
    return FilledImage(rgb, hole, np.concatenate(values))


def prefill(rgb: np.ndarray, hole: np.ndarray, method: str | None) -> FilledImage | None:
    """The holes filled as an inpainting model expects (``method``: a manifest's
    ``params["hole_fill"]``), or None for models that ignore hole pixels."""
    if method is None:
        return None
    if method not in HOLE_FILLS:
        raise ValueError(f"unknown hole fill {method!r} (this AE Studio knows "
                         f"{', '.join(HOLE_FILLS)}): the model needs a newer AE Studio")
    return push_pull(rgb, hole)
