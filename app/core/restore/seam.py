"""Matching an exemplar fill's brightness to the pixels around its hole.

Copied patches carry their own brightness, which may not be the hole's (water a little darker
further out, a sky gradient), so a fill can show its outline. Two corrections, both smooth, so
neither blurs the copied texture:

- a membrane (as in Poisson image editing, Perez et al. 2003): the fill plus the smoothest
  function over the hole (Laplace's equation, solved by the harmonic hole fill) that meets the
  brightness step along the hole's edge, so the seam goes and the texture stays;
- a pull, over about SHADE_SIGMA pixels, of the fill's broadest shading towards the harmonic
  fill's (the expected brightness inside the hole): it keeps the hole's PSNR up
  (benchmarks/objects.py) but erases structure of that size, so it is weak and broad.
"""

from __future__ import annotations

import numpy as np

from app.spec.manifest import HOLE_FILLS

from .hole_fill import fill_holes
from .morphology import blur

SEAM_SIGMA = 4.0  # px each side of the edge over which the brightness step is measured
SHADE_SIGMA = 24.0  # px, the scale of the shading pulled towards the harmonic fill
SHADE_WEIGHT = 1.0


def broad_blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """``blur`` for a wide sigma, computed on a grid pooled by about sigma / 4 and brought
    back bilinearly (the result is smooth at that scale anyway): on the crop around a 12 MP
    object, the full-size blurs took a fifth of the fill's time."""
    k = int(sigma // 4)
    if k < 2:
        return blur(a, sigma)
    h, w = a.shape[:2]
    ph, pw = -h % k, -w % k
    p = np.pad(a, [(0, ph), (0, pw), (0, 0)], mode="edge")
    pooled = p.reshape((h + ph) // k, k, (w + pw) // k, k, -1).mean(axis=(1, 3))
    small = blur(pooled.astype(np.float32), sigma / k)
    # bilinear, pixel centres aligned: fine pixel y sits at (y + 0.5) / k - 0.5 on the grid
    def axis(n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = np.clip((np.arange(n) + 0.5) / k - 0.5, 0, m - 1)
        i0 = np.minimum(t.astype(int), m - 2) if m > 1 else np.zeros(n, int)
        f = (t - i0).astype(np.float32) if m > 1 else np.zeros(n, np.float32)
        return i0, np.minimum(i0 + 1, m - 1), f
    y0, y1, fy = axis(h, small.shape[0])
    x0, x1, fx = axis(w, small.shape[1])
    rows = small[y0] * (1 - fy)[:, None, None] + small[y1] * fy[:, None, None]
    return (rows[:, x0] * (1 - fx)[None, :, None] + rows[:, x1] * fx[None, :, None])


def edge_mismatch(crop: np.ndarray, hole: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """Per pixel and channel, how much brighter the known pixels near it are than the fill
    near it (local means over SEAM_SIGMA px of each side); 0 away from the hole's edge."""
    known = (~hole).astype(np.float32)[..., None]
    inside = 1.0 - known
    k_w, f_w = blur(known, SEAM_SIGMA), blur(inside, SEAM_SIGMA)
    k_mean = blur(crop.astype(np.float32) * known, SEAM_SIGMA) / np.maximum(k_w, 1e-3)
    f_mean = blur(filled * inside, SEAM_SIGMA) / np.maximum(f_w, 1e-3)
    return np.where((f_w > 0.05) & (k_w > 0.05), k_mean - f_mean, 0.0).astype(np.float32)


def membrane(values: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The harmonic fill of ``values`` (HxWx3 float32, about -250 to 250) into ``hole``: the
    8-bit harmonic fill of ``app.core.restore.hole_fill`` run on values halved and offset by 128."""
    enc = np.clip(np.rint(values * 0.5 + 128), 0, 255).astype(np.uint8)
    out = fill_holes(enc, hole, HOLE_FILLS["harmonic"]).array()
    return 2.0 * (out.astype(np.float32) - 128)


def match_edges(crop: np.ndarray, hole: np.ndarray, filled: np.ndarray) -> np.ndarray:
    """``crop`` (HxWx3 uint8) with its ``hole`` pixels from ``filled`` (HxWx3 float32, the
    exemplar fill), shaded to meet the pixels around the hole."""
    filled = filled.astype(np.float32)
    if SHADE_SIGMA > 0 and SHADE_WEIGHT > 0:
        smooth = fill_holes(crop, hole, HOLE_FILLS["harmonic"]).array().astype(np.float32)
        filled = filled + SHADE_WEIGHT * broad_blur(smooth - filled, SHADE_SIGMA)
    if SEAM_SIGMA > 0:
        # the mismatch matters only along the hole's edge: measure it on the hole's box
        ys, xs = np.nonzero(hole.any(axis=1))[0], np.nonzero(hole.any(axis=0))[0]
        m = int(4 * SEAM_SIGMA) + 2
        box = (slice(max(ys[0] - m, 0), ys[-1] + m + 1), slice(max(xs[0] - m, 0), xs[-1] + m + 1))
        values = np.zeros_like(filled)
        values[box] = edge_mismatch(crop[box], hole[box], filled[box])
        filled = filled + membrane(values, hole)
    out = crop.copy()
    out[hole] = np.clip(np.rint(filled[hole]), 0, 255).astype(np.uint8)
    return out
