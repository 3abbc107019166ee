"""The main window's status bar: job progress and Cancel, zoom, the model in use, problems.

A mixin of :class:`app.gui.main_window.MainWindow`, kept apart so each module stays small.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QMessageBox, QProgressBar, QPushButton

from app.core.jobs import MODEL_TASK

from .document_view import APP_TITLE, progress_text
from .files import error_reason

__all__ = ["StatusBarMixin"]


class StatusBarMixin:
    """Status bar widgets and what updates them, for the main window."""

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        # the count and time left go in a label beside the bar, not on it: text drawn on the
        # bar changes colour where the fill ends and split letters in two ("abcut")
        self.progress_label = QLabel(self)
        self.progress_label.hide()
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setMaximumWidth(200)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.hide()
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.hide()
        self.model_label = QLabel(self)
        self.zoom_label = QLabel(self)
        self.zoom_label.setToolTip("Zoom (Ctrl+0 fits, Ctrl+1 is 100 %)")
        # a line between the zoom and the model readouts, which otherwise ran together
        self.status_separator = QFrame(self)
        self.status_separator.setFrameShape(QFrame.Shape.VLine)
        self.status_separator.setFrameShadow(QFrame.Shadow.Sunken)
        self.status_separator.hide()
        for label in (self.zoom_label, self.progress_label, self.model_label):
            label.setContentsMargins(6, 0, 6, 0)
        for widget in (self.zoom_label, self.status_separator, self.progress_label,
                       self.progress_bar, self.cancel_button, self.model_label):
            bar.addPermanentWidget(widget)

    def show_error(self, message: str) -> None:
        """Report a problem in the status bar and a (non-blocking) message box."""
        self.last_error = message
        self.statusBar().showMessage(message, 15000)
        if self.show_error_dialogs:
            box = QMessageBox(QMessageBox.Icon.Warning, APP_TITLE, message,
                              QMessageBox.StandardButton.Ok, self)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

    def _on_busy(self, busy: bool) -> None:
        self.progress_bar.setRange(0, 0)  # indeterminate until progress arrives
        self.progress_label.clear()
        self.progress_label.hide()
        self._busy_since = time.monotonic()
        self.progress_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.statusBar().showMessage("Working…")
        else:
            self.statusBar().clearMessage()

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(done)
            # tiles done / total, and the time left at the pace so far
            elapsed = time.monotonic() - getattr(self, "_busy_since", time.monotonic())
            self.progress_label.setText(progress_text(done, total, elapsed))
            self.progress_label.show()

    def _update_zoom_label(self) -> None:
        view = self.compare_view
        shown = self.current_pixels is not None
        self.status_separator.setVisible(shown)
        if not shown:
            self.zoom_label.setText("")
            return
        percent = view.zoom() * view.devicePixelRatioF() * 100  # 100 % = one device pixel
        self.zoom_label.setText(f"{percent:.0f} %" + (" (fit)" if view.fit_mode else ""))

    def _model_id(self, task: str) -> str:
        if task not in self._model_ids:
            try:  # resolve only: hashing the model files here would stall the UI thread
                self._model_ids[task] = self.engine.resolve(task).id
            except Exception as exc:  # noqa: BLE001 - shown, never fatal
                return f"none ({error_reason(exc)})"
        return self._model_ids[task]

    def _update_model_label(self) -> None:
        task = MODEL_TASK[self.mode]
        try:
            provider = self.engine.provider_label
        except Exception:  # noqa: BLE001
            provider = "?"
        self.model_label.setText(f"Model {self._model_id(task)} · {provider}")
