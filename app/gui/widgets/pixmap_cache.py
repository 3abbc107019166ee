"""Pixmaps of the arrays shown recently, so showing one again costs no conversion.

Space flashes between two images and mode switches show earlier results again; converting a
large array to a pixmap each time would make those visibly slow. Arrays are treated as
immutable once shown (the window never edits them in place), and entries die with them.
"""

from __future__ import annotations

import weakref

import numpy as np
from PySide6.QtGui import QImage, QPixmap

from ..screen_images import pixmap_for

__all__ = ["PixmapCache"]

CACHE_SIZE = 4  # recently shown arrays whose pixmaps are kept (Space flashes between two)


class PixmapCache:
    """A few recently shown arrays' pixmaps, keyed by the array itself."""

    def __init__(self) -> None:
        # id -> (weak reference to the array, its pixmap)
        self._pixmaps: dict[int, tuple[weakref.ref, QPixmap]] = {}

    def pixmap(self, pixels: np.ndarray | None) -> QPixmap | None:
        """The pixmap of ``pixels``, converted once per array while it is shown often."""
        if pixels is None:
            return None
        hit = self._pixmaps.get(id(pixels))
        if hit is not None and hit[0]() is pixels:
            return hit[1]
        pixmap = pixmap_for(pixels)  # the worker's prepared image when there is one
        self._remember(pixels, pixmap)
        return pixmap

    def prime(self, pixels: np.ndarray, image: QImage) -> None:
        """Cache ``image`` (made in a worker) as the pixmap of ``pixels``."""
        hit = self._pixmaps.get(id(pixels))
        if hit is None or hit[0]() is not pixels:
            self._remember(pixels, QPixmap.fromImage(image))

    def _remember(self, pixels: np.ndarray, pixmap: QPixmap) -> None:
        self._pixmaps = {k: v for k, v in self._pixmaps.items() if v[0]() is not None}
        while len(self._pixmaps) >= CACHE_SIZE:
            self._pixmaps.pop(next(iter(self._pixmaps)))
        try:
            self._pixmaps[id(pixels)] = (weakref.ref(pixels), pixmap)
        except TypeError:  # not weak-referenceable: simply not cached
            pass
