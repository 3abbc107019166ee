"""Parts of the batch dialog's setup: the folder a drag brings, the main window's engine
settings for the batch's own engines, the suggested output folder that typing replaces, one
label column for every task's rows, the keys of the folders remembered across restarts, and
what the dialog says when the desktop cannot open the output folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QFocusEvent
from PySide6.QtWidgets import QApplication, QFormLayout, QLineEdit

__all__ = ["INPUT_KEY", "OUTPUT_KEY", "SuggestedEdit", "dropped_folder", "engine_settings",
           "fix_label_width", "open_folder", "open_folder_failed"]

INPUT_KEY, OUTPUT_KEY = "batch/inputFolder", "batch/outputFolder"


class SuggestedEdit(QLineEdit):
    """A line edit holding a suggestion: while the text is the suggestion (not typed or
    chosen), focusing the field selects it all, so typing replaces it."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.suggested = False
        self.textEdited.connect(lambda _t: setattr(self, "suggested", False))

    def suggest(self, text: str) -> None:
        self.setText(text)
        self.suggested = True

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        super().focusInEvent(event)
        if self.suggested:
            # after the click that gave the focus has placed the cursor
            QTimer.singleShot(0, self.selectAll)


def open_folder(folder: str | Path) -> bool:
    """Ask the desktop to show ``folder`` (False where no file manager answers)."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(folder).resolve())))


def open_folder_failed(folder: str | Path) -> str:
    """What the dialog says when the desktop cannot open ``folder``: the path, also put on
    the clipboard, so the user can paste it into a file manager or a terminal."""
    path = str(Path(folder).resolve())
    QApplication.clipboard().setText(path)
    return ("This desktop cannot open folders (no file manager answered). The output is in "
            f"this folder (its path is copied to the clipboard):\n{path}")


def dropped_folder(mime: QMimeData) -> Path | None:
    """The first local folder among the URLs of a drag, else None."""
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile() and Path(url.toLocalFile()).is_dir():
            return Path(url.toLocalFile())
    return None


def engine_settings(engine: Any) -> tuple[str | None, str | None]:
    """(models folder, provider) of an :class:`~app.core.engine.Engine`, for the batch's own
    engines; None where the engine does not say (defaults then apply)."""
    registry = getattr(engine, "registry", None)
    models = str(registry.root) if registry is not None else None
    providers = getattr(getattr(engine, "sessions", None), "providers", None) or []
    provider = None
    if providers:
        provider = "cuda" if providers[0].startswith("CUDA") else "cpu"
    return models, provider


def fix_label_width(form: QFormLayout) -> None:
    """Every label as wide as the widest one, hidden rows included: the label column does
    not move when another task shows other rows."""
    labels = [form.itemAt(row, QFormLayout.ItemRole.LabelRole) for row in range(form.rowCount())]
    widgets = [item.widget() for item in labels if item is not None and item.widget()]
    width = max((w.sizeHint().width() for w in widgets), default=0)
    for w in widgets:
        w.setMinimumWidth(width)
