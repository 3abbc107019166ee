"""Saving what the window shows: File ▸ Save… (Ctrl+S) and the Save… buttons of the Denoise
and Inpaint panels save what the right side shows in the current mode: the ``.aei`` file in
Compress, the result image (PNG by default) in Denoise and Inpaint.

Every save dialog starts in the folder the user last saved to, else in the current image's
folder, so a result lands next to its photo unless the user chose another place (then that
place, across restarts: :meth:`app.gui.settings.Settings.remember_saved`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtWidgets import QFileDialog

from .files import AEI_FILTER, AEI_SUFFIX, IMAGE_FILTER, IMAGE_SUFFIXES

if TYPE_CHECKING:
    from .main_window import MainWindow

__all__ = ["RESULT_SUFFIX", "connect_save_buttons", "save_aei_dialog", "save_folder",
           "save_result_dialog", "save_shown_dialog", "savable", "start_path"]

# the default name of each mode's result image: x_denoised.png
RESULT_SUFFIX = {"compress": "decoded", "denoise": "denoised", "inpaint": "inpainted"}
NOTHING_YET = {"compress": "compress an image first", "denoise": "denoise the image first",
               "inpaint": "inpaint the image first"}


def savable(win: MainWindow, mode: str | None = None) -> np.ndarray | None:
    """The image Save writes in ``mode`` (default: the current mode): its result; in Inpaint,
    after "Continue on result" and before the next fill, the image continued on (as IOPaint
    saves the image being edited)."""
    mode = mode or win.mode
    doc = win.document
    result = doc.result(mode)
    if result is None and mode == "inpaint" and doc.source.step:
        return doc.image
    return result


def save_folder(win: MainWindow) -> str:
    """Where a save dialog starts: the last folder saved to, else the current image's folder
    (not the bundled sample's), else the last folder an Open dialog used ("" when none)."""
    saved = win.settings.last_save_folder()
    if saved:
        return saved
    source = win.document.source
    if source.belongs_in_recent_files and source.path.parent.is_dir():
        return str(source.path.resolve().parent)
    return win.settings.last_folder()


def start_path(win: MainWindow, name: str) -> str:
    """``name`` in :func:`save_folder` (just ``name`` when there is no folder to offer)."""
    folder = save_folder(win)
    return str(Path(folder) / name) if folder else name


def _stem(win: MainWindow) -> str:
    return Path(win.current_name).stem or "image"


def save_aei_dialog(win: MainWindow) -> bool:
    """Ask where to save the compressed file (or the opened .aei), then save it."""
    if win.document.aei_data is None:
        win.show_error(f"Nothing to save yet: {NOTHING_YET['compress']}.")
        return False
    path, _ = QFileDialog.getSaveFileName(win, "Save .aei",
                                          start_path(win, f"{_stem(win)}{AEI_SUFFIX}"),
                                          AEI_FILTER)
    if not path:
        return False
    if not path.lower().endswith(AEI_SUFFIX):
        path += AEI_SUFFIX
    win.settings.remember_saved(path)
    return win.save_aei(path)


def save_result_dialog(win: MainWindow, mode: str | None = None) -> bool:
    """Ask where to save the result image of ``mode`` (default: the current mode)."""
    mode = mode or win.mode
    if savable(win, mode) is None:
        win.show_error(f"Nothing to save yet: {NOTHING_YET[mode]}.")
        return False
    path, _ = QFileDialog.getSaveFileName(
        win, "Save image", start_path(win, f"{_stem(win)}_{RESULT_SUFFIX[mode]}.png"),
        IMAGE_FILTER)
    if not path:
        return False
    if Path(path).suffix.lower() not in IMAGE_SUFFIXES:
        path += ".png"
    win.settings.remember_saved(path)
    return win.save_result(path, mode)


def save_shown_dialog(win: MainWindow) -> bool:
    """File ▸ Save… (Ctrl+S): the .aei in Compress mode, the result image otherwise."""
    if win.mode == "compress":
        return save_aei_dialog(win)
    return save_result_dialog(win)


def connect_save_buttons(win: MainWindow) -> None:
    """The Denoise and Inpaint panels' Save… buttons: enabled once their mode has a result."""
    panels = {"denoise": win.denoise_panel, "inpaint": win.inpaint_panel}

    def refresh(*_args) -> None:
        for mode, panel in panels.items():
            panel.save_button.setEnabled(savable(win, mode) is not None)

    for mode, panel in panels.items():
        panel.saveRequested.connect(lambda m=mode: save_result_dialog(win, m))
    win.document.mode_changed.connect(refresh)
    win.document.image_changed.connect(refresh)
    refresh()
