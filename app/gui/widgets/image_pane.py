"""One image pane: an image, optionally a second one right of a divider, and an overlay.

The wheel zooms around the cursor and dragging pans. With a divider set (the ``split``
layout of :class:`~app.gui.widgets.compare_view.CompareView`) the pane shows its split image
right of the divider, which the user can drag. In brush mode a drag emits ``brushed`` with
scene (= image pixel) coordinates instead of panning (left button paints, right button
erases), and Alt+wheel asks for another brush size.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen, QPixmap, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QWidget,
)

from .pane_foreground import draw_brush_outline, draw_divider, draw_placeholder

__all__ = ["DIVIDER_GRAB_PX", "MAX_ZOOM", "MIN_ZOOM", "WHEEL_STEP", "ImagePane"]

WHEEL_STEP = 1.25
MIN_ZOOM = 0.02
MAX_ZOOM = 64.0
DIVIDER_GRAB_PX = 8  # how close to the divider a press grabs it


class ImagePane(QGraphicsView):
    """One pane: the image, an optional second image right of a divider, an overlay on top."""

    zoomRequested = Signal(float)  # factor, already applied to this pane
    viewChanged = Signal()
    resized = Signal()
    brushed = Signal(QPointF, QPointF)  # previous and current scene point of a stroke
    strokeStarted = Signal(bool)  # a brush stroke begins; True = erasing (right button)
    strokeFinished = Signal()
    brushSizeStep = Signal(int)  # Alt+wheel in brush mode: +1 larger / -1 smaller
    dividerMoved = Signal(float)  # the user dragged the divider (fraction of the width)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.image_item = QGraphicsPixmapItem()
        self.image_item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        self.split_clip = QGraphicsRectItem()  # shows its child only inside its rectangle
        self.split_clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
        self.split_clip.setPen(QPen(Qt.PenStyle.NoPen))
        self.split_clip.setZValue(0.5)
        self.split_item = QGraphicsPixmapItem(self.split_clip)
        self.split_item.setTransformationMode(Qt.TransformationMode.FastTransformation)
        # the overlay (the inpainting mask) covers the original's side only once a result is
        # shown right of the divider
        self.overlay_clip = QGraphicsRectItem()
        self.overlay_clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape)
        self.overlay_clip.setPen(QPen(Qt.PenStyle.NoPen))
        self.overlay_clip.setZValue(1)
        self.overlay_item = QGraphicsPixmapItem(self.overlay_clip)
        for item in (self.image_item, self.split_clip, self.overlay_clip):
            self.scene().addItem(item)
        self.setBackgroundBrush(QColor(48, 48, 48))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        # the divider and the brush outline are drawn in view coordinates: no scroll caching
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setMouseTracking(True)
        self.setAcceptDrops(False)  # file drops go to the main window
        self.horizontalScrollBar().valueChanged.connect(self._on_scrolled)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self._brush = False
        self._brush_radius = 12.0
        self._last_brush: QPointF | None = None
        self._hover: QPointF | None = None  # viewport position of the mouse (brush outline)
        self._divider: float | None = None  # None: no split; else fraction of the width
        self._dragging_divider = False
        self._placeholder = ""  # drawn where the result is missing ("not computed yet")

    # -- content --------------------------------------------------------------------------
    def set_pixmap(self, pixmap: QPixmap | None) -> None:
        self.image_item.setPixmap(pixmap if pixmap is not None else QPixmap())

    def set_split_pixmap(self, pixmap: QPixmap | None) -> None:
        self.split_item.setPixmap(pixmap if pixmap is not None else QPixmap())
        self.update_split_clip()

    def set_overlay(self, pixmap: QPixmap | None) -> None:
        self.overlay_item.setPixmap(pixmap if pixmap is not None else QPixmap())

    def has_image(self) -> bool:
        return not self.image_item.pixmap().isNull()

    def set_placeholder(self, text: str) -> None:
        """Text shown where the result would be while there is none: right of the divider
        (split) or in an empty pane, over a dimmed background, so an uncomputed result never
        looks like the original."""
        if text != self._placeholder:
            self._placeholder = text
            self.viewport().update()

    @property
    def placeholder_visible(self) -> bool:
        """Whether this pane currently draws its placeholder."""
        if not self._placeholder:
            return False
        if self._divider is not None and self.has_image():
            return self.split_item.pixmap().isNull()
        return not self.has_image()  # nothing to show yet (an .aei decoding): say why

    def zoom(self) -> float:
        return self.transform().m11()

    def visible_scene_rect(self) -> QRectF:
        """The part of the scene shown in the viewport."""
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def center_point(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    # -- divider ------------------------------------------------------------------------------
    @property
    def divider(self) -> float | None:
        return self._divider

    def set_divider(self, fraction: float | None) -> None:
        """Show the split image right of ``fraction`` of the width (None: no split)."""
        self._divider = None if fraction is None else min(max(float(fraction), 0.0), 1.0)
        self.split_clip.setVisible(self._divider is not None)
        self.update_split_clip()

    def divider_x(self) -> float:
        """The divider's x in viewport pixels."""
        return (self._divider or 0.0) * self.viewport().width()

    def _near_divider(self, pos: QPointF) -> bool:
        return self._divider is not None and abs(pos.x() - self.divider_x()) <= DIVIDER_GRAB_PX

    def update_split_clip(self) -> None:
        """Clip the split image to the right of the divider, the overlay to its left."""
        rect = self.sceneRect()
        if self._divider is None or self.split_item.pixmap().isNull():
            self.overlay_clip.setRect(rect)
        if self._divider is None:
            return
        x = self.mapToScene(QPoint(round(self.divider_x()), 0)).x()
        left = min(max(x, rect.left()), rect.right())
        self.split_clip.setRect(QRectF(left, rect.top(), rect.right() - left, rect.height()))
        if not self.split_item.pixmap().isNull():
            self.overlay_clip.setRect(QRectF(rect.left(), rect.top(), left - rect.left(),
                                             rect.height()))
        self.viewport().update()

    def _on_scrolled(self) -> None:
        self.update_split_clip()
        self.viewChanged.emit()

    # -- brush ------------------------------------------------------------------------------
    def set_brush_enabled(self, enabled: bool) -> None:
        self._brush = enabled
        self._last_brush = None
        self.setDragMode(QGraphicsView.DragMode.NoDrag if enabled
                         else QGraphicsView.DragMode.ScrollHandDrag)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor if enabled
                                  else Qt.CursorShape.OpenHandCursor)
        self.viewport().update()

    def set_brush_radius(self, radius: float) -> None:
        self._brush_radius = float(radius)
        self.viewport().update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if event.button() == Qt.MouseButton.LeftButton and self._near_divider(pos):
            self._dragging_divider = True
            event.accept()
            return
        buttons = (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton)
        if self._brush and event.button() in buttons:
            pt = self.mapToScene(pos.toPoint())
            self._last_brush = pt
            self.strokeStarted.emit(event.button() == Qt.MouseButton.RightButton)
            self.brushed.emit(pt, pt)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        self._hover = pos
        if self._dragging_divider:
            width = max(1, self.viewport().width())
            self.set_divider(pos.x() / width)
            self.dividerMoved.emit(self._divider)
            event.accept()
            return
        if self._brush and self._last_brush is not None:
            pt = self.mapToScene(pos.toPoint())
            self.brushed.emit(self._last_brush, pt)
            self._last_brush = pt
            event.accept()
            self.viewport().update()
            return
        if self._near_divider(pos):
            self.viewport().setCursor(Qt.CursorShape.SplitHCursor)
        else:
            self.viewport().setCursor(Qt.CursorShape.CrossCursor if self._brush
                                      else Qt.CursorShape.OpenHandCursor)
        if self._brush:
            self.viewport().update()
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._dragging_divider:
            self._dragging_divider = False
            event.accept()
            return
        if self._brush and self._last_brush is not None:
            self._last_brush = None
            self.strokeFinished.emit()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event) -> None:
        self._hover = None
        self.viewport().update()
        super().leaveEvent(event)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        """The placeholder, the divider (with its handle) and the brush outline."""
        super().drawForeground(painter, rect)
        placeholder = self.placeholder_visible
        outline = self._brush and self._hover is not None
        if self._divider is None and not placeholder and not outline:
            return
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        vw, vh = self.viewport().width(), self.viewport().height()
        if placeholder:
            x0 = self.divider_x() if self._divider is not None else 0.0
            draw_placeholder(painter, QRectF(x0, 0, vw - x0, vh), self._placeholder)
        if self._divider is not None:
            draw_divider(painter, self.divider_x(), vh)
        if outline:
            draw_brush_outline(painter, self._hover, self._brush_radius * self.zoom())
        painter.restore()

    # -- zoom -------------------------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        if self._brush and event.modifiers() & Qt.KeyboardModifier.AltModifier:
            # some platforms turn Alt+wheel into a horizontal wheel
            step = delta.y() or delta.x()
            if step:
                self.brushSizeStep.emit(1 if step > 0 else -1)
            event.accept()
            return
        steps = delta.y() / 120.0
        if steps == 0:
            return super().wheelEvent(event)
        factor = self.clamped_factor(WHEEL_STEP ** steps)
        if factor != 1.0:
            self.scale(factor, factor)  # anchored under the mouse
            self.update_split_clip()
            self.zoomRequested.emit(factor)
        event.accept()

    def clamped_factor(self, factor: float) -> float:
        z = self.zoom()
        return min(max(z * factor, MIN_ZOOM), MAX_ZOOM) / z if z > 0 else 1.0

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.update_split_clip()
        self.resized.emit()
