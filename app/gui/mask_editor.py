"""The inpainting mask being edited: brush and eraser strokes, clear, load, undo and redo.

Holds the numpy mask (see :mod:`app.gui.mask`) and its :class:`~app.gui.mask.MaskHistory`;
every change emits ``changed`` so the window can redraw the overlay and the Undo / Redo state.
A stroke (press, drags, release) or a clear is one undo step.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from .mask import MaskHistory, empty_mask, paint_stroke

__all__ = ["MaskEditor"]


class MaskEditor(QObject):
    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.mask: np.ndarray | None = None
        self.history = MaskHistory()
        self._erasing = False

    def reset(self, shape: tuple[int, ...] | None) -> None:
        """A new, empty mask for an image of ``shape`` (None: no image); forgets the history."""
        self.mask = None if shape is None else empty_mask(shape)
        self.history.clear()
        self.changed.emit()

    @property
    def has_holes(self) -> bool:
        return self.mask is not None and bool(self.mask.any())

    def begin_stroke(self, erase: bool) -> None:
        if self.mask is not None:
            self.history.checkpoint(self.mask)
            self._erasing = erase

    def stroke(self, x0: float, y0: float, x1: float, y1: float, radius: float) -> None:
        if self.mask is not None:
            paint_stroke(self.mask, x0, y0, x1, y1, radius, value=0 if self._erasing else 1)
            self.changed.emit()

    def replace(self, mask: np.ndarray) -> None:
        """Use ``mask`` (a loaded mask image), as one undoable step."""
        if self.mask is not None:
            self.history.checkpoint(self.mask)
        self.mask = mask.astype(np.uint8)
        self.changed.emit()

    def clear(self) -> None:
        if self.mask is not None and self.mask.any():
            self.replace(np.zeros_like(self.mask))

    def undo(self) -> bool:
        return self._restore(self.history.undo)

    def redo(self) -> bool:
        return self._restore(self.history.redo)

    def _restore(self, step) -> bool:
        if self.mask is None:
            return False
        previous = step(self.mask)
        if previous is None:
            return False
        self.mask = previous
        self.changed.emit()
        return True
