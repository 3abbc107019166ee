"""The application icon, drawn with QPainter at run time (no image files needed)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QIcon,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)

__all__ = ["draw_icon_pixmap", "make_app_icon"]

SIZES = (16, 24, 32, 48, 64, 128, 256)


def draw_icon_pixmap(size: int) -> QPixmap:
    """A rounded tile with a blue-violet gradient, a split 'before/after' line and "AE"."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = float(size)
    rect = QRectF(s * 0.04, s * 0.04, s * 0.92, s * 0.92)
    grad = QLinearGradient(rect.topLeft(), rect.bottomRight())
    grad.setColorAt(0.0, QColor("#3a7bd5"))
    grad.setColorAt(1.0, QColor("#6a3fc8"))
    tile = QPainterPath()
    tile.addRoundedRect(rect, s * 0.2, s * 0.2)
    p.fillPath(tile, grad)
    # the right half slightly darker: "original | reconstruction"
    p.setClipPath(tile)
    p.fillRect(QRectF(s * 0.5, 0.0, s * 0.5, s), QColor(0, 0, 0, 45))
    p.setClipping(False)
    p.setPen(QPen(QColor(255, 255, 255, 200), max(1.0, s / 32)))
    p.drawLine(QPointF(s * 0.5, s * 0.12), QPointF(s * 0.5, s * 0.88))
    if size >= 24:
        font = QFont()
        font.setBold(True)
        font.setPixelSize(max(8, int(s * 0.42)))
        p.setFont(font)
        p.setPen(QColor("white"))
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, "AE")
    p.end()
    return pm


def make_app_icon() -> QIcon:
    """The icon at the usual sizes (needs a QGuiApplication)."""
    icon = QIcon()
    for size in SIZES:
        icon.addPixmap(draw_icon_pixmap(size))
    return icon
