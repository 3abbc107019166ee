"""Comparison of two images: a split view with a draggable divider, or two synced panes.

``split`` layout (the default in the app, as in Squoosh): one pane shows the original left of
a vertical divider and the result right of it; drag the divider, or move it with
:meth:`CompareView.set_divider` (the window binds keys 1 / 2 / 3 to left, middle, right).
``side-by-side`` layout: two captioned panes that always show the same image region.

In both, the wheel zooms around the cursor, dragging pans, :meth:`CompareView.fit` fits the
window and :meth:`CompareView.actual_size` shows one image pixel per *device* pixel (also on
high-DPI screens). The left pane can act as a brush canvas (inpainting masks): while brush
mode is on, a drag emits ``brushed`` with scene (= image pixel) coordinates instead of panning
(left button paints, right button erases), and Alt+wheel asks for another brush size.
"""

from __future__ import annotations

import weakref

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPen,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ..qimage import array_to_pixmap

__all__ = ["LAYOUTS", "MAX_ZOOM", "MIN_ZOOM", "WHEEL_STEP", "CompareView", "ImagePane"]

WHEEL_STEP = 1.25
MIN_ZOOM = 0.02
MAX_ZOOM = 64.0
LAYOUTS = ("split", "side-by-side")
DIVIDER_GRAB_PX = 8  # how close to the divider a press grabs it
_PIXMAP_CACHE = 4  # recently shown arrays whose pixmaps are kept (Space flashes between two)


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
        if self._divider is not None:
            return self.has_image() and self.split_item.pixmap().isNull()
        return not self.has_image()

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
        """The divider (with its handle) and the brush outline, in viewport coordinates."""
        super().drawForeground(painter, rect)
        placeholder = self.placeholder_visible
        if self._divider is None and not placeholder and not (self._brush
                                                              and self._hover is not None):
            return
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if placeholder:
            vw, vh = self.viewport().width(), self.viewport().height()
            x0 = self.divider_x() if self._divider is not None else 0.0
            area = QRectF(x0, 0, vw - x0, vh)
            painter.fillRect(area, QColor(20, 20, 20, 215))
            painter.setPen(QColor(235, 235, 235))
            painter.drawText(area.adjusted(12, 0, -12, 0),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._placeholder)
        if self._divider is not None:
            x, h = self.divider_x(), self.viewport().height()
            painter.setPen(QPen(QColor(255, 255, 255, 230), 2))
            painter.drawLine(QPointF(x, 0), QPointF(x, h))
            painter.setBrush(QColor(40, 40, 40, 200))
            painter.drawEllipse(QPointF(x, h / 2), 11, 11)
            painter.drawText(QRectF(x - 11, h / 2 - 11, 22, 22),
                             Qt.AlignmentFlag.AlignCenter, "⇔")
        if self._brush and self._hover is not None:
            r = self._brush_radius * self.zoom()
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor(0, 0, 0, 200), 3))
            painter.drawEllipse(self._hover, r, r)
            painter.setPen(QPen(QColor(255, 255, 255, 230), 1))
            painter.drawEllipse(self._hover, r, r)
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


class CompareView(QWidget):
    """Original (left) against result (right), in a ``split`` or ``side-by-side`` layout."""

    brushed = Signal(QPointF, QPointF)  # a brush stroke on the left pane, in image pixels
    strokeStarted = Signal(bool)  # True: erasing
    strokeFinished = Signal()
    brushSizeStep = Signal(int)
    viewChanged = Signal()  # zoom or scroll position changed (the status bar's zoom)

    def __init__(self, parent: QWidget | None = None, layout: str = "side-by-side") -> None:
        super().__init__(parent)
        # id -> (weak reference to the array, its pixmap): showing an array again (Space
        # flashes, mode switches) costs no conversion
        self._pixmaps: dict[int, tuple[weakref.ref, QPixmap]] = {}
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
        self.left.set_pixmap(self._pixmap(left))
        self._set_right_pixmap(self._pixmap(right))
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
        self.left.set_pixmap(self._pixmap(pixels))
        self._after_single_update(self.left_caption, caption)

    def set_right(self, pixels: np.ndarray | None, caption: str | None = None) -> None:
        self._set_right_pixmap(self._pixmap(pixels))
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
        hit = self._pixmaps.get(id(pixels))
        if hit is None or hit[0]() is not pixels:
            self._remember(pixels, QPixmap.fromImage(image))

    def _pixmap(self, pixels: np.ndarray | None) -> QPixmap | None:
        """The pixmap of ``pixels``, converted once per array while it is shown often.
        Arrays are treated as immutable once shown (the window never edits them in place)."""
        if pixels is None:
            return None
        hit = self._pixmaps.get(id(pixels))
        if hit is not None and hit[0]() is pixels:
            return hit[1]
        pixmap = array_to_pixmap(pixels)
        self._remember(pixels, pixmap)
        return pixmap

    def _remember(self, pixels: np.ndarray, pixmap: QPixmap) -> None:
        self._pixmaps = {k: v for k, v in self._pixmaps.items() if v[0]() is not None}
        while len(self._pixmaps) >= _PIXMAP_CACHE:
            self._pixmaps.pop(next(iter(self._pixmaps)))
        try:
            self._pixmaps[id(pixels)] = (weakref.ref(pixels), pixmap)
        except TypeError:  # not weak-referenceable: simply not cached
            pass

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
