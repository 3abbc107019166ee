"""Opening the batch dialog from the main window: File ▸ Batch…, a folder dropped on the
window or given on the command line (``aestudio DIR``). The task follows the window's mode
and the quality its slider; the dialog remembers its folders in the window's settings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .batch_dialog import BatchDialog
from .batch_setup import engine_settings

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["open_batch"]


def open_batch(win: MainWindow, folder: str | Path | None = None) -> BatchDialog:
    """Show the window's batch dialog (one per window), on ``folder`` when given; while a
    batch runs it is only shown."""
    dialog = win.batch_dialog
    if dialog is None:
        models, provider = engine_settings(win.engine)
        dialog = win.batch_dialog = BatchDialog(win, models_dir=models, provider=provider,
                                                settings=win.settings)
    if not dialog.is_running:
        dialog.set_task(win.mode)
        dialog.quality_spin.setValue(win.compress_panel.quality)
        if folder is not None:
            dialog.set_input(folder)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog
