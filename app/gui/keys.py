"""Keys that must reach the window's shortcuts even from a focused input box."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt

__all__ = ["BracketKeysPassThrough"]

_BRACKETS = (Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight)


class BracketKeysPassThrough(QObject):
    """Event filter for a spin box: ``[`` and ``]`` go to the Brush smaller / larger
    shortcuts instead of being taken as typed text (the Inpaint tab's radius box has the
    focus right after switching tabs, and swallowed both keys)."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in _BRACKETS:
            event.ignore()  # not overridden: the shortcut fires
            return True
        return False
