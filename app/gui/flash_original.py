"""Holding Space shows the original where the result is, to compare the two in place.

A mixin of :class:`app.gui.main_window.MainWindow`, kept apart so each module stays small; the
window's ``document_view`` draws the panes from :attr:`flashing_original`.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent

__all__ = ["FlashOriginalMixin"]


class FlashOriginalMixin:
    """Space held: the result's pane shows the original (main window key handling)."""

    _flashing = False  # while True the right pane shows the original

    @property
    def flashing_original(self) -> bool:
        return self._flashing

    def set_flash_original(self, on: bool) -> None:
        """Show the original in the right pane (while Space is held)."""
        if on != self._flashing:
            self._flashing = on
            self.show_mode_state()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._space_key(event, held=True):
            super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if not self._space_key(event, held=False):
            super().keyReleaseEvent(event)

    def _space_key(self, event: QKeyEvent, held: bool) -> bool:
        """Start (Space pressed without modifiers) or stop flashing; True if it was Space."""
        if event.key() != Qt.Key.Key_Space or (held and event.modifiers()):
            return False
        if not event.isAutoRepeat():
            self.set_flash_original(held)
        event.accept()
        return True

    def changeEvent(self, event: QEvent) -> None:
        # a Space released in another window never reaches us: stop flashing on deactivation
        if event.type() == QEvent.Type.ActivationChange and not self.isActiveWindow():
            self.set_flash_original(False)
        super().changeEvent(event)
