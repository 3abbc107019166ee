"""Help ▸ Keyboard shortcuts: every key and mouse gesture of the window in one table.

The menu actions are read from the window itself (their text and current shortcut), so the
list cannot drift from :mod:`app.gui.actions`; keys handled outside actions (Space, the
wheel, drags) are listed from :data:`GESTURES`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMainWindow,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

__all__ = ["GESTURES", "ShortcutsDialog", "shortcut_rows"]

# (keys, what they do) for input that is not a menu action
GESTURES = (
    ("Space (hold)", "Show the original on the right while held"),
    ("Wheel", "Zoom around the cursor (both sides together)"),
    ("Drag", "Pan; in Split view, drag the divider to move it"),
    ("Left drag (Inpaint)", "Paint the mask on the left image"),
    ("Right drag (Inpaint)", "Erase the mask"),
    ("Alt+Wheel (Inpaint)", "Brush size"),
    ("Ctrl+Shift+Wheel (Inpaint)", "Brush size (where the desktop takes Alt+Wheel)"),
)
CELL_PADDING = 12  # pixels either side of a cell's text: no text runs into a column edge


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


def _typable(keys: QKeySequence) -> bool:
    """False for dedicated keys few keyboards have (Help, Save, Paste, Zoom In, F13 and up),
    which the platform adds to standard shortcuts."""
    key = keys[0].key().value
    return key < Qt.Key.Key_Help.value and not Qt.Key.Key_F13.value <= key <= Qt.Key.Key_F35.value


def shortcut_rows(win: QMainWindow) -> list[tuple[str, str]]:
    """(keys, action) for every menu action with a shortcut, then the gestures."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for menu_action in win.menuBar().actions():
        menu = menu_action.menu()
        if menu is None:
            continue
        stack = list(menu.actions())
        while stack:
            action: QAction = stack.pop(0)
            if action.menu() is not None:
                stack[0:0] = action.menu().actions()
                continue
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                             for k in action.shortcuts() if not k.isEmpty() and _typable(k))
            text = _plain(action.text())
            if keys and text and (keys, text) not in seen:
                seen.add((keys, text))
                rows.append((keys, f"{_plain(menu_action.text())} ▸ {text}"))
    return rows + list(GESTURES)


class ShortcutsDialog(QDialog):
    """A two-column table: keys, and what they do."""

    def __init__(self, win: QMainWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent or win)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(win)
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["Keys", "Action"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        for i, (keys, text) in enumerate(rows):
            self.table.setItem(i, 0, QTableWidgetItem(keys))
            self.table.setItem(i, 1, QTableWidgetItem(text))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self._fit_table()
        self.resize(self.sizeHint())

    def _fit_table(self) -> None:
        """Columns as wide as their longest text plus padding, rows one text line high, and
        the table as large as all of that, so the whole list shows without scrolling (on a
        screen too small for it, the table scrolls)."""
        table = self.table
        line = table.fontMetrics().height()
        rows = table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(line + 6)
        header = table.horizontalHeader()
        widths = [max(table.sizeHintForColumn(c), header.sectionSizeHint(c)) + 2 * CELL_PADDING
                  for c in range(2)]
        table.setColumnWidth(0, widths[0])
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        frame = 2 * table.frameWidth()
        width = sum(widths) + frame
        height = header.sizeHint().height() + table.rowCount() * rows.defaultSectionSize() + frame
        screen = (self.screen() or QGuiApplication.primaryScreen()).availableGeometry()
        table.setMinimumSize(min(width, screen.width() - 80), min(height, screen.height() - 120))

    def rows(self) -> list[tuple[str, str]]:
        return [(self.table.item(i, 0).text(), self.table.item(i, 1).text())
                for i in range(self.table.rowCount())]
