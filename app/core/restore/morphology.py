"""Binary masks and images, with box filters made of cumulative sums (numpy alone, O(1)
per pixel whatever the radius): dilation, erosion, clusters of a small grid, and a blur
close to a Gaussian. Used by the exemplar fill (``app.core.restore.object_fill``)."""

from __future__ import annotations

import numpy as np


def box_sum(mask: np.ndarray, r: int) -> np.ndarray:
    """Number of set pixels in the (2r+1)-square around each pixel (outside counts unset)."""
    h, w = mask.shape
    c = np.zeros((h + 2 * r + 1, w + 2 * r + 1), np.int32)
    np.cumsum(np.cumsum(np.pad(mask, r).astype(np.int32), 0), 1, out=c[1:, 1:])
    k = 2 * r + 1
    return c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]


def dilate(mask: np.ndarray, r: int) -> np.ndarray:
    return box_sum(mask, r) > 0 if r > 0 else mask.copy()


def erode(mask: np.ndarray, r: int) -> np.ndarray:
    return box_sum(mask, r) == (2 * r + 1) ** 2 if r > 0 else mask.copy()


def clusters(grid: np.ndarray) -> list[list[tuple[int, int]]]:
    """8-connected clusters of the set cells of a small grid (flood fill)."""
    seen = np.zeros_like(grid)
    out = []
    for start in zip(*np.nonzero(grid)):
        if seen[start]:
            continue
        seen[start] = True
        stack, cells = [start], []
        while stack:
            y, x = stack.pop()
            cells.append((y, x))
            for ny in range(max(y - 1, 0), min(y + 2, grid.shape[0])):
                for nx in range(max(x - 1, 0), min(x + 2, grid.shape[1])):
                    if grid[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
        out.append(cells)
    return out


def blur(a: np.ndarray, sigma: float) -> np.ndarray:
    """About a Gaussian blur of ``a`` (HxWxC float32): three box blurs along each axis
    (edges repeated), each a difference of cumulative sums."""
    r = max(1, int(round((np.sqrt(4 * sigma * sigma + 1) - 1) / 2)))  # 3 boxes ~ sigma
    for axis in (0, 1):
        for _ in range(3):
            n = a.shape[axis]
            pad = [(0, 0)] * a.ndim
            pad[axis] = (r + 1, r)
            c = np.cumsum(np.pad(a, pad, mode="edge"), axis=axis, dtype=np.float64)
            hi = np.take(c, np.arange(2 * r + 1, n + 2 * r + 1), axis=axis)
            lo = np.take(c, np.arange(0, n), axis=axis)
            a = ((hi - lo) / (2 * r + 1)).astype(np.float32)
    return a
