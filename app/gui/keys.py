"""Keys and gestures of the comparison that must reach the main window whatever has the focus.

The panels' controls take keys for themselves: a focused button is pressed by Space, a combo
box opens on it, and a spin box takes every printable key as text. :class:`WindowKeys` is an
application event filter for one window that settles this once for all of its controls:

- Space held shows the original (app/gui/flash_original.py). Its press and release are taken
  away from the focused control, so a button is never pressed by it and a combo box never
  opens. A text field keeps it (Space in the target-size box types a space).
- The window's one-key shortcuts (S, 1–3, D, E, [, ]) are not typed into a spin box, whose
  text is a number; digits still type there. Other controls do not take them.
- Ctrl+Shift+wheel over the image changes the brush size, as Alt+wheel does: window
  managers often take Alt+wheel for themselves (openbox switches desktops with it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["BRUSH_WHEEL", "WindowKeys", "takes_text", "types_number"]

_Type = QEvent.Type
_KEYS = (_Type.KeyPress, _Type.KeyRelease, _Type.ShortcutOverride)
_WATCHED = frozenset((*_KEYS, _Type.Wheel))
_NUMBER_TEXT = frozenset("0123456789+-.,")
# Ctrl+Shift+wheel, besides Alt+wheel (image_pane.py), steps the brush size in Inpaint
BRUSH_WHEEL = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def takes_text(widget: QObject) -> bool:
    """True for a control where typed characters (Space included) are its content."""
    if isinstance(widget, QLineEdit) and isinstance(widget.parent(), QAbstractSpinBox):
        return False  # a spin box's editor: a number, see :func:`types_number`
    if isinstance(widget, (QLineEdit, QTextEdit, QPlainTextEdit)):
        return not widget.isReadOnly()
    return isinstance(widget, QComboBox) and widget.isEditable()


def types_number(widget: QObject) -> bool:
    """True for a spin box (or its editor), whose text is a number."""
    return isinstance(widget, QAbstractSpinBox) or (
        isinstance(widget, QLineEdit) and isinstance(widget.parent(), QAbstractSpinBox))


def _leave_to_shortcut(event: QKeyEvent) -> bool:
    """Refuse a spin box's claim on a key so that the window's shortcut (if any) fires."""
    event.ignore()  # not overridden: the shortcut map decides, then the box gets the key
    return True


class WindowKeys(QObject):
    """Application event filter: Space, one-key shortcuts and Ctrl+Shift+wheel for ``win``,
    whichever of its controls has the focus. Events of other windows (dialogs, menus, a combo
    box's open list) are left alone."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind not in _WATCHED or not isinstance(watched, QWidget):
            return False
        if watched.window() is not self.win:
            return False
        if kind == _Type.Wheel:
            return self._wheel(watched, event)
        if event.key() == Qt.Key.Key_Space:
            return self._space(watched, event)
        if kind == _Type.ShortcutOverride and types_number(watched):
            text = event.text()
            plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if plain and text.isprintable() and text and text not in _NUMBER_TEXT:
                return _leave_to_shortcut(event)
        return False

    def _space(self, watched: QWidget, event: QKeyEvent) -> bool:
        kind = event.type()
        if kind == _Type.ShortcutOverride:
            return False
        win = self.win
        if kind == _Type.KeyRelease and win.flashing_original:
            if not event.isAutoRepeat():
                win.set_flash_original(False)
            return True
        if takes_text(watched):
            return False
        if kind == _Type.KeyPress and event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False  # Ctrl+Space and the like are not "hold Space"
        if kind == _Type.KeyPress and not event.isAutoRepeat():
            win.set_flash_original(True)
        return True  # taken from the control: no button press, no combo list

    def _wheel(self, watched: QWidget, event: QWheelEvent) -> bool:
        win = self.win
        if event.modifiers() != BRUSH_WHEEL or win.mode != "inpaint" or not win.document.has_image:
            return False
        if watched is not win.compare_view.left.viewport():  # the pane that is painted on
            return False
        delta = event.angleDelta()
        step = delta.y() or delta.x()  # some platforms turn a Shift+wheel horizontal
        if step:
            win.inpaint_panel.step_brush(1 if step > 0 else -1)
        event.accept()
        return True
