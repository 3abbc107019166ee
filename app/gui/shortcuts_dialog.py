"""Help ▸ Keyboard shortcuts: every key and mouse gesture of the window in one table.

The menu actions are read from the window itself (their text and current shortcut), so the
list cannot drift from :mod:`app.gui.actions`; keys handled outside actions (Space, the
wheel, drags) are listed from :data:`GESTURES`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
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
)


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
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(560, 520)

    def rows(self) -> list[tuple[str, str]]:
        return [(self.table.item(i, 0).text(), self.table.item(i, 1).text())
                for i in range(self.table.rowCount())]
