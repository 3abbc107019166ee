"""Holding Space shows the original where the result is, to compare the two in place.

A mixin of :class:`app.gui.main_window.MainWindow`, kept apart so each module stays small; the
window's ``document_view`` draws the panes from :attr:`flashing_original`. Space reaches it
whatever control has the focus through :class:`app.gui.keys.WindowKeys`, an application event
filter put in place when the window is first shown.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QApplication

from .keys import WindowKeys

__all__ = ["FlashOriginalMixin"]


class FlashOriginalMixin:
    """Space held: the result's pane shows the original (main window key handling)."""

    _flashing = False  # while True the right pane shows the original
    window_keys: WindowKeys | None = None

    @property
    def flashing_original(self) -> bool:
        return self._flashing

    def set_flash_original(self, on: bool) -> None:
        """Show the original in the right pane (while Space is held)."""
        if on != self._flashing:
            self._flashing = on
            self.show_mode_state()

    def showEvent(self, event: QShowEvent) -> None:
        app = QApplication.instance()
        if self.window_keys is None and app is not None:
            # on the application: a focused control sees a key before the window does
            self.window_keys = WindowKeys(self)
            app.installEventFilter(self.window_keys)
        super().showEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        # a Space released in another window never reaches us: stop flashing on deactivation
        if event.type() == QEvent.Type.ActivationChange and not self.isActiveWindow():
            self.set_flash_original(False)
        super().changeEvent(event)
