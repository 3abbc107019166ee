"""What an image pane draws over the image, in viewport coordinates.

The placeholder dims where a result is missing, the divider marks the split, the brush
outline shows the brush size at the current zoom. Each helper leaves the painter's pen and
brush changed; the caller saves and restores the painter around them.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

__all__ = ["draw_brush_outline", "draw_divider", "draw_placeholder"]


def draw_placeholder(painter: QPainter, area: QRectF, text: str) -> None:
    """Dim ``area`` and write ``text`` in its middle."""
    painter.fillRect(area, QColor(20, 20, 20, 215))
    painter.setPen(QColor(235, 235, 235))
    painter.drawText(area.adjusted(12, 0, -12, 0),
                     Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)


def draw_divider(painter: QPainter, x: float, height: float) -> None:
    """A vertical line at ``x`` with a round handle half-way down."""
    painter.setPen(QPen(QColor(255, 255, 255, 230), 2))
    painter.drawLine(QPointF(x, 0), QPointF(x, height))
    painter.setBrush(QColor(40, 40, 40, 200))
    painter.drawEllipse(QPointF(x, height / 2), 11, 11)
    painter.drawText(QRectF(x - 11, height / 2 - 11, 22, 22),
                     Qt.AlignmentFlag.AlignCenter, "⇔")


def draw_brush_outline(painter: QPainter, centre: QPointF, radius: float) -> None:
    """A circle visible on light and dark pixels alike: white over a wider black ring."""
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(QColor(0, 0, 0, 200), 3))
    painter.drawEllipse(centre, radius, radius)
    painter.setPen(QPen(QColor(255, 255, 255, 230), 1))
    painter.drawEllipse(centre, radius, radius)
