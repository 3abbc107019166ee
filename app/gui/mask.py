"""Inpainting masks as numpy arrays: brush strokes and an overlay for display.

The overlay is a see-through red fill inside a two-tone outline (black and white dashes), so
the hole stands out on any image: the red alone vanished on a red subject.

A mask is an ``HxW`` uint8 array, nonzero where the image has a hole to fill (the
convention of :meth:`app.core.engine.Engine.inpaint`). A loaded mask image becomes one by the
core's rule, :func:`app.core.restore.hole_mask.hole_mask`, the same as for
``aestudio inpaint --mask``.
"""

from __future__ import annotations

import numpy as np


__all__ = [
    "OUTLINE_RGBA", "OVERLAY_RGBA", "MaskHistory", "empty_mask", "mask_outline",
    "mask_overlay", "outline_width", "paint_stroke",
]

OVERLAY_RGBA = (255, 40, 40, 120)
# the outline's two tones, opaque: one of them contrasts with whatever is underneath
OUTLINE_RGBA = ((255, 255, 255, 255), (0, 0, 0, 255))


def empty_mask(shape: tuple[int, ...]) -> np.ndarray:
    """An all-zero mask for an image of shape ``(H, W, ...)``."""
    return np.zeros(shape[:2], dtype=np.uint8)


def paint_stroke(mask: np.ndarray, x0: float, y0: float, x1: float, y1: float,
                 radius: float, value: int = 1) -> None:
    """Paint (in place) a round brush of ``radius`` pixels from (x0, y0) to (x1, y1)."""
    h, w = mask.shape
    r = max(0.5, float(radius))
    lo_x, hi_x = int(np.floor(min(x0, x1) - r)), int(np.ceil(max(x0, x1) + r)) + 1
    lo_y, hi_y = int(np.floor(min(y0, y1) - r)), int(np.ceil(max(y0, y1) + r)) + 1
    lo_x, lo_y, hi_x, hi_y = max(lo_x, 0), max(lo_y, 0), min(hi_x, w), min(hi_y, h)
    if lo_x >= hi_x or lo_y >= hi_y:
        return
    yy, xx = np.mgrid[lo_y:hi_y, lo_x:hi_x].astype(np.float64)
    px, py = xx + 0.5, yy + 0.5  # pixel centres
    dx, dy = x1 - x0, y1 - y0
    seg2 = dx * dx + dy * dy
    t = np.zeros_like(px) if seg2 == 0 else np.clip(((px - x0) * dx + (py - y0) * dy) / seg2,
                                                    0.0, 1.0)
    dist2 = (px - (x0 + t * dx)) ** 2 + (py - (y0 + t * dy)) ** 2
    region = mask[lo_y:hi_y, lo_x:hi_x]
    region[dist2 <= r * r] = value


def outline_width(shape: tuple[int, ...]) -> int:
    """The outline's width in image pixels: about 2 screen pixels when a large image is
    fitted in a window (the overlay is scaled with the image)."""
    return max(2, round(max(shape[:2]) / 400))


def _all_around(a: np.ndarray, r: int, axis: int) -> np.ndarray:
    """``out[i] = all(a[i-r : i+r+1])`` along ``axis``, outside the array counting as False;
    by doubling runs, so a wide window costs a few passes, not ``2r+1``."""
    a = np.moveaxis(a, axis, 0)
    width = 2 * r + 1
    run = np.pad(a, [(r, r)] + [(0, 0)] * (a.ndim - 1))  # run[i] = all(padded[i : i+span])
    span = 1
    while span * 2 <= width:
        run = run[:-span] & run[span:]
        span *= 2
    if span < width:
        run = run[:-(width - span)] & run[width - span:]
    return np.moveaxis(run, 0, axis)


def mask_outline(mask: np.ndarray, width: int) -> np.ndarray:
    """Boolean ``HxW``: the band of masked pixels within ``width`` of the mask's edge (the
    image border counts as an edge)."""
    inside = mask > 0
    core = _all_around(_all_around(inside, width, 0), width, 1)
    return inside & ~core


def mask_overlay(mask: np.ndarray) -> np.ndarray:
    """``HxWx4`` RGBA: see-through red where the mask is set, with a black-and-white dashed
    outline along its edge; transparent elsewhere. Only the mask's bounding box is worked
    on, so a small mask on a 12-megapixel image costs little."""
    out = np.zeros(mask.shape + (4,), dtype=np.uint8)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return out
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    box = mask[y0:y1, x0:x1] > 0
    region = out[y0:y1, x0:x1]
    np.multiply(box[..., None], np.array(OVERLAY_RGBA, np.uint8), out=region)
    width = outline_width(mask.shape)
    ys, xs = np.nonzero(mask_outline(box, width))
    # diagonal dashes three outline widths long: white, then black
    tone = (ys + xs + (y0 + x0)) // (3 * width) % 2
    for t, rgba in enumerate(OUTLINE_RGBA):
        region[ys[tone == t], xs[tone == t]] = rgba
    return out


class MaskHistory:
    """Undo / redo of whole brush strokes (and clears) on one mask.

    Call :meth:`checkpoint` before a change (at the start of a stroke); snapshots are kept
    bit-packed (1 bit per pixel: 1.5 MB for a 12-megapixel mask), at most ``limit`` of them.
    """

    def __init__(self, limit: int = 50) -> None:
        self.limit = limit
        self._undo: list[tuple[tuple[int, int], np.ndarray]] = []
        self._redo: list[tuple[tuple[int, int], np.ndarray]] = []

    @staticmethod
    def _pack(mask: np.ndarray) -> tuple[tuple[int, int], np.ndarray]:
        return mask.shape, np.packbits(mask > 0)

    @staticmethod
    def _unpack(snapshot: tuple[tuple[int, int], np.ndarray]) -> np.ndarray:
        shape, bits = snapshot
        return np.unpackbits(bits, count=shape[0] * shape[1]).reshape(shape)

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()

    def checkpoint(self, mask: np.ndarray) -> None:
        """Remember ``mask`` as it is before a change; a new change forgets the redo list."""
        self._undo.append(self._pack(mask))
        del self._undo[:-self.limit]
        self._redo.clear()

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self, mask: np.ndarray) -> np.ndarray | None:
        """The mask before the last change (None if there is none); ``mask`` is the current."""
        if not self._undo:
            return None
        self._redo.append(self._pack(mask))
        return self._unpack(self._undo.pop())

    def redo(self, mask: np.ndarray) -> np.ndarray | None:
        if not self._redo:
            return None
        self._undo.append(self._pack(mask))
        return self._unpack(self._redo.pop())
