"""What the window shows before any image is open: a drop zone with Open and Open sample.

A plain launch starts no work unasked, and a window with nothing open still says what to do
(open a file, drop one, or open the bundled sample). Drops land on the main window
(this widget does not accept them itself), so dropping anywhere here opens the file.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

__all__ = ["EmptyState"]


class EmptyState(QFrame):
    """A dashed drop zone saying what to do, with Open… and Open sample buttons."""

    openRequested = Signal()
    sampleRequested = Signal()

    def __init__(self, parent: QWidget | None = None, sample_available: bool = True) -> None:
        super().__init__(parent)
        # the dashed border is painted here, not by a style sheet: a widget with a style sheet
        # keeps the palette it was polished with, so its text and buttons stayed light-theme
        # colours (black text on the dark window) after a switch to the dark theme
        self.setContentsMargins(2, 2, 2, 2)
        self.title = QLabel("Drop an image here", self)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.title.setFont(font)
        # explicit lines: a word-wrapped label in a stretched column was given one line's
        # height and clipped
        self.detail = QLabel("PNG, JPEG, WebP, TIFF or BMP to compress, denoise or inpaint,\n"
                             "or an .aei file to decode. Several files become a list\n"
                             "(Page Up / Page Down); a folder opens Batch.", self)
        self.open_button = QPushButton("Open…", self)
        self.sample_button = QPushButton("Open sample", self)
        self.sample_button.setEnabled(sample_available)
        self.sample_button.setToolTip("The bundled sample photo" if sample_available
                                      else "The bundled sample is not installed")
        for label in (self.title, self.detail):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.sample_button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.addStretch(1)
        column.addWidget(self.title)
        column.addWidget(self.detail)
        column.addSpacing(12)
        column.addLayout(buttons)
        column.addStretch(1)
        self.open_button.clicked.connect(self.openRequested)
        self.sample_button.clicked.connect(self.sampleRequested)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(self.palette().color(QPalette.ColorRole.Mid), 2, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 12, 12)
