"""Comparison of two images: a split view with a draggable divider, or two synced panes.

``split`` layout (the default in the app, as in Squoosh): one pane shows the original left of
a vertical divider and the result right of it; drag the divider, or move it with
:meth:`CompareView.set_divider` (the window binds keys 1 / 2 / 3 to left, middle, right).
``side-by-side`` layout: two captioned panes that always show the same image region.

In both, the wheel zooms around the cursor, dragging pans, :meth:`CompareView.fit` fits the
window and :meth:`CompareView.actual_size` shows one image pixel per *device* pixel (also on
high-DPI screens). The left pane can act as a brush canvas (inpainting masks); see
:class:`~app.gui.widgets.image_pane.ImagePane` for what one pane does.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..qimage import array_to_pixmap
from .image_pane import MAX_ZOOM, MIN_ZOOM, ImagePane
from .pixmap_cache import PixmapCache

__all__ = ["LAYOUTS", "CompareView"]

LAYOUTS = ("split", "side-by-side")


class CompareView(QWidget):
    """Original (left) against result (right), in a ``split`` or ``side-by-side`` layout."""

    brushed = Signal(QPointF, QPointF)  # a brush stroke on the left pane, in image pixels
    strokeStarted = Signal(bool)  # True: erasing
    strokeFinished = Signal()
    brushSizeStep = Signal(int)
    viewChanged = Signal()  # zoom or scroll position changed (the status bar's zoom)

    def __init__(self, parent: QWidget | None = None, layout: str = "side-by-side") -> None:
        super().__init__(parent)
        self._pixmap_cache = PixmapCache()
        self.left = ImagePane(self)
        self.right = ImagePane(self)
        self.left_caption = QLabel("Original", self)
        self.right_caption = QLabel("Result", self)
        captions = QHBoxLayout()
        captions.addWidget(self.left_caption, 1)
        captions.addWidget(self.right_caption, 1)
        panes = QHBoxLayout()
        panes.addWidget(self.left, 1)
        panes.addWidget(self.right, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(captions)
        column.addLayout(panes, 1)
        self._syncing = False
        self._fit_mode = True
        self._divider = 0.5
        self._layout = ""
        for src, dst in ((self.left, self.right), (self.right, self.left)):
            src.viewChanged.connect(lambda s=src, d=dst: self._sync(s, d))
            src.zoomRequested.connect(lambda _f, s=src, d=dst: self._on_user_zoom(s, d))
            src.resized.connect(self._on_resized)
        self.left.brushed.connect(self.brushed)
        self.left.strokeStarted.connect(self.strokeStarted)
        self.left.strokeFinished.connect(self.strokeFinished)
        self.left.brushSizeStep.connect(self.brushSizeStep)
        self.left.dividerMoved.connect(self._on_divider_dragged)
        self.set_layout(layout)

    # -- layout -----------------------------------------------------------------------------
    @property
    def layout_mode(self) -> str:
        return self._layout

    def set_layout(self, layout: str) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}: use one of {', '.join(LAYOUTS)}")
        self._layout = layout
        split = layout == "split"
        self.right.setVisible(not split)
        self.left.set_divider(self._divider if split else None)
        self.left_caption.setAlignment(Qt.AlignmentFlag.AlignLeft if split
                                       else Qt.AlignmentFlag.AlignCenter)
        self.right_caption.setAlignment(Qt.AlignmentFlag.AlignRight if split
                                        else Qt.AlignmentFlag.AlignCenter)
        if self._fit_mode:
            self.fit()

    @property
    def divider(self) -> float:
        """Where the split divider is, as a fraction of the pane width (0 left, 1 right)."""
        return self._divider

    def set_divider(self, fraction: float) -> None:
        self._divider = min(max(float(fraction), 0.0), 1.0)
        if self._layout == "split":
            self.left.set_divider(self._divider)

    def _on_divider_dragged(self, fraction: float) -> None:
        self._divider = fraction

    # -- content ----------------------------------------------------------------------------
    def set_images(self, left: np.ndarray | None, right: np.ndarray | None,
                   left_caption: str | None = None, right_caption: str | None = None) -> None:
        """Show new images; a different image size resets the view to fit."""
        old_rect = self.left.sceneRect()
        self.left.set_pixmap(self._pixmap_cache.pixmap(left))
        self._set_right_pixmap(self._pixmap_cache.pixmap(right))
        self._update_scene_rects()
        if left_caption is not None:
            self.left_caption.setText(left_caption)
        if right_caption is not None:
            self.right_caption.setText(right_caption)
        if self._fit_mode or self.left.sceneRect() != old_rect:
            self.fit()
        else:
            self._sync(self.left, self.right)

    def set_left(self, pixels: np.ndarray | None, caption: str | None = None) -> None:
        self.left.set_pixmap(self._pixmap_cache.pixmap(pixels))
        self._after_single_update(self.left_caption, caption)

    def set_right(self, pixels: np.ndarray | None, caption: str | None = None) -> None:
        self._set_right_pixmap(self._pixmap_cache.pixmap(pixels))
        self._after_single_update(self.right_caption, caption)

    def set_placeholder(self, text: str) -> None:
        """What to say where the result is missing (see :meth:`ImagePane.set_placeholder`)."""
        self.left.set_placeholder(text)
        self.right.set_placeholder(text)

    @property
    def placeholder_visible(self) -> bool:
        pane = self.left if self._layout == "split" else self.right
        return pane.placeholder_visible

    def prime(self, pixels: np.ndarray, image: QImage) -> None:
        """Cache ``image`` (made in a worker) as the pixmap of ``pixels``."""
        self._pixmap_cache.prime(pixels, image)

    def _set_right_pixmap(self, pixmap: QPixmap | None) -> None:
        self.right.set_pixmap(pixmap)
        self.left.set_split_pixmap(pixmap)

    def set_overlay(self, rgba: np.ndarray | None) -> None:
        """An RGBA layer drawn over the left image (e.g. the inpainting mask)."""
        self.left.set_overlay(None if rgba is None else array_to_pixmap(rgba))

    def set_brush_enabled(self, enabled: bool) -> None:
        self.left.set_brush_enabled(enabled)

    def set_brush_radius(self, radius: float) -> None:
        self.left.set_brush_radius(radius)

    def _after_single_update(self, label: QLabel, caption: str | None) -> None:
        if caption is not None:
            label.setText(caption)
        self._update_scene_rects()
        self._sync(self.left, self.right)

    def _update_scene_rects(self) -> None:
        """Both scenes get the same rectangle so that scroll positions correspond."""
        rect = QRectF()
        for pane in (self.left, self.right):
            rect = rect.united(pane.image_item.boundingRect())
        for pane in (self.left, self.right):
            pane.scene().setSceneRect(rect)
            pane.setSceneRect(rect)
        self.left.update_split_clip()

    # -- view -------------------------------------------------------------------------------
    @property
    def fit_mode(self) -> bool:
        return self._fit_mode

    def zoom(self) -> float:
        """The current scale (1.0 = one image pixel per logical screen pixel)."""
        return self.left.zoom()

    def fit(self) -> None:
        """Scale so the whole image is visible (and keep fitting on resize)."""
        self._fit_mode = True
        rect = self.left.sceneRect()
        if rect.isEmpty():
            return
        self.left.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self.left.update_split_clip()
        self._sync(self.left, self.right)

    def actual_size(self) -> None:
        """100 %: one image pixel per device pixel (high-DPI screens included)."""
        self.set_zoom(1.0 / self.devicePixelRatioF())

    def set_zoom(self, zoom: float) -> None:
        """Absolute zoom around the current centre."""
        self._fit_mode = False
        center = self.left.center_point()
        zoom = min(max(float(zoom), MIN_ZOOM), MAX_ZOOM)
        self.left.resetTransform()
        self.left.scale(zoom, zoom)
        self.left.centerOn(center)
        self.left.update_split_clip()
        self._sync(self.left, self.right)

    def zoom_by(self, factor: float) -> None:
        self.set_zoom(self.zoom() * factor)

    def _on_user_zoom(self, src: ImagePane, dst: ImagePane) -> None:
        self._fit_mode = False
        self._sync(src, dst)

    def _on_resized(self) -> None:
        if self._fit_mode:
            self.fit()
        else:
            self._sync(self.left, self.right)

    def _sync(self, src: ImagePane, dst: ImagePane) -> None:
        """Give ``dst`` the zoom and centre of ``src``."""
        if self._syncing:
            return
        self._syncing = True
        try:
            dst.setTransform(src.transform())
            if dst.viewport().size() == src.viewport().size():
                dst.horizontalScrollBar().setValue(src.horizontalScrollBar().value())
                dst.verticalScrollBar().setValue(src.verticalScrollBar().value())
            else:
                dst.centerOn(src.center_point())
            dst.update_split_clip()
        finally:
            self._syncing = False
        self.viewChanged.emit()
