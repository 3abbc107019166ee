"""The application icon, drawn with QPainter at run time (no image files needed).

``python -m app.gui.icon OUT.png [SIZE]`` writes the icon as a PNG (default 256x256), e.g.
``app/gui/resources/aestudio.png`` for the Linux desktop entry (see docs/desktop.md).
"""

from __future__ import annotations

import os
import sys

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

__all__ = ["draw_icon_pixmap", "main", "make_app_icon", "save_icon_png"]

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


def save_icon_png(path: str, size: int = 256) -> bool:
    """Render the icon at ``size`` pixels and save it as a PNG (needs a QGuiApplication)."""
    return draw_icon_pixmap(size).save(str(path), "PNG")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not 1 <= len(args) <= 2 or not (len(args) == 1 or args[1].isdigit()):
        print("usage: python -m app.gui.icon OUT.png [SIZE]", file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # noqa: F841
    size = int(args[1]) if len(args) == 2 else 256
    if not save_icon_png(args[0], size):
        print(f"cannot write {args[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
