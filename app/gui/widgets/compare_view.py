"""Side-by-side comparison of two images in synced QGraphicsView panes.

Left: the original; right: the reconstruction or result. Wheel zooms (around the cursor),
dragging pans, and both panes always show the same image region. The left pane can also act
as a brush canvas (for inpainting masks): while brush mode is on, a left-button drag emits
:attr:`CompareView.brushed` with scene (= image pixel) coordinates instead of panning.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPixmap, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ..qimage import array_to_pixmap

__all__ = ["CompareView", "ImagePane", "MAX_ZOOM", "MIN_ZOOM", "WHEEL_STEP"]

WHEEL_STEP = 1.25
MIN_ZOOM = 0.02
MAX_ZOOM = 64.0


class ImagePane(QGraphicsView):
    """One pane: a scene with an image item and an optional overlay item on top."""

    zoomRequested = Signal(float)  # factor, already applied to this pane
    viewChanged = Signal()
    resized = Signal()
    brushed = Signal(QPointF, QPointF)  # previous and current scene point of a stroke

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.image_item = QGraphicsPixmapItem()
        self.image_item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self.overlay_item = QGraphicsPixmapItem()
        self.overlay_item.setZValue(1)
        self.scene().addItem(self.image_item)
        self.scene().addItem(self.overlay_item)
        self.setBackgroundBrush(QColor(48, 48, 48))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setAcceptDrops(False)  # file drops go to the main window
        self.horizontalScrollBar().valueChanged.connect(self.viewChanged)
        self.verticalScrollBar().valueChanged.connect(self.viewChanged)
        self._brush = False
        self._last_brush: QPointF | None = None

    # -- content --------------------------------------------------------------------------
    def set_pixmap(self, pixmap: QPixmap | None) -> None:
        self.image_item.setPixmap(pixmap if pixmap is not None else QPixmap())

    def set_overlay(self, pixmap: QPixmap | None) -> None:
        self.overlay_item.setPixmap(pixmap if pixmap is not None else QPixmap())

    def has_image(self) -> bool:
        return not self.image_item.pixmap().isNull()

    def zoom(self) -> float:
        return self.transform().m11()

    def visible_scene_rect(self) -> QRectF:
        """The part of the scene shown in the viewport."""
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def center_point(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    # -- brush ------------------------------------------------------------------------------
    def set_brush_enabled(self, enabled: bool) -> None:
        self._brush = enabled
        self._last_brush = None
        self.setDragMode(QGraphicsView.DragMode.NoDrag if enabled
                         else QGraphicsView.DragMode.ScrollHandDrag)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor if enabled
                                  else Qt.CursorShape.OpenHandCursor)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._brush and event.button() == Qt.MouseButton.LeftButton:
            pt = self.mapToScene(event.position().toPoint())
            self._last_brush = pt
            self.brushed.emit(pt, pt)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._brush and self._last_brush is not None:
            pt = self.mapToScene(event.position().toPoint())
            self.brushed.emit(self._last_brush, pt)
            self._last_brush = pt
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._brush and self._last_brush is not None:
            self._last_brush = None
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # -- zoom -------------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if steps == 0:
            return super().wheelEvent(event)
        factor = self.clamped_factor(WHEEL_STEP ** steps)
        if factor != 1.0:
            self.scale(factor, factor)  # anchored under the mouse
            self.zoomRequested.emit(factor)
        event.accept()

    def clamped_factor(self, factor: float) -> float:
        z = self.zoom()
        return min(max(z * factor, MIN_ZOOM), MAX_ZOOM) / z if z > 0 else 1.0

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()


class CompareView(QWidget):
    """Two captioned, synced panes: ``left`` (original) and ``right`` (result)."""

    brushed = Signal(QPointF, QPointF)  # a brush stroke on the left pane, in image pixels

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.left = ImagePane(self)
        self.right = ImagePane(self)
        self.left_caption = QLabel("Original", self)
        self.right_caption = QLabel("Result", self)
        for caption in (self.left_caption, self.right_caption):
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for caption, pane in ((self.left_caption, self.left), (self.right_caption, self.right)):
            column = QVBoxLayout()
            column.addWidget(caption)
            column.addWidget(pane, 1)
            layout.addLayout(column, 1)
        self._syncing = False
        self._fit_mode = True
        for src, dst in ((self.left, self.right), (self.right, self.left)):
            src.viewChanged.connect(lambda s=src, d=dst: self._sync(s, d))
            src.zoomRequested.connect(lambda _f, s=src, d=dst: self._on_user_zoom(s, d))
            src.resized.connect(self._on_resized)
        self.left.brushed.connect(self.brushed)

    # -- content ----------------------------------------------------------------------------
    def set_images(self, left: np.ndarray | None, right: np.ndarray | None,
                   left_caption: str | None = None, right_caption: str | None = None) -> None:
        """Show new images; a different image size resets the view to fit."""
        old_rect = self.left.sceneRect()
        self.left.set_pixmap(None if left is None else array_to_pixmap(left))
        self.right.set_pixmap(None if right is None else array_to_pixmap(right))
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
        self.left.set_pixmap(None if pixels is None else array_to_pixmap(pixels))
        self._after_single_update(self.left_caption, caption)

    def set_right(self, pixels: np.ndarray | None, caption: str | None = None) -> None:
        self.right.set_pixmap(None if pixels is None else array_to_pixmap(pixels))
        self._after_single_update(self.right_caption, caption)

    def set_overlay(self, rgba: np.ndarray | None) -> None:
        """An RGBA layer drawn over the left image (e.g. the inpainting mask)."""
        self.left.set_overlay(None if rgba is None else array_to_pixmap(rgba))

    def set_brush_enabled(self, enabled: bool) -> None:
        self.left.set_brush_enabled(enabled)

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

    # -- view -------------------------------------------------------------------------------
    @property
    def fit_mode(self) -> bool:
        return self._fit_mode

    def zoom(self) -> float:
        """The current scale (1.0 = one image pixel per screen pixel)."""
        return self.left.zoom()

    def fit(self) -> None:
        """Scale so the whole image is visible (and keep fitting on resize)."""
        self._fit_mode = True
        rect = self.left.sceneRect()
        if rect.isEmpty():
            return
        self.left.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self._sync(self.left, self.right)

    def actual_size(self) -> None:
        """100 %: one image pixel per screen pixel, keeping the centre."""
        self.set_zoom(1.0)

    def set_zoom(self, zoom: float) -> None:
        """Absolute zoom around the current centre."""
        self._fit_mode = False
        center = self.left.center_point()
        zoom = min(max(float(zoom), MIN_ZOOM), MAX_ZOOM)
        self.left.resetTransform()
        self.left.scale(zoom, zoom)
        self.left.centerOn(center)
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
        finally:
            self._syncing = False
