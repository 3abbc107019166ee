"""Inpainting masks as numpy arrays: brush strokes and a coloured overlay for display.

A mask is an ``HxW`` uint8 array, nonzero where the image has a hole to fill (the
convention of :meth:`app.core.engine.Engine.inpaint`). A loaded mask image becomes one by the
core's rule, :func:`app.core.restore.hole_mask.hole_mask`, the same as for
``aestudio inpaint --mask``.
"""

from __future__ import annotations

import numpy as np


__all__ = [
    "OVERLAY_RGBA", "MaskHistory", "empty_mask", "mask_overlay",
    "paint_stroke",
]

OVERLAY_RGBA = (255, 40, 40, 140)


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


def mask_overlay(mask: np.ndarray) -> np.ndarray:
    """``HxWx4`` RGBA: translucent red where the mask is set, transparent elsewhere."""
    out = np.zeros(mask.shape + (4,), dtype=np.uint8)
    out[mask > 0] = OVERLAY_RGBA
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
