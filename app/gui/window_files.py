"""The main window's file handling: open (dialog, drop, recent files, paste, a list of
dropped files to step through), save, load a mask, and the batch dialog for a dropped folder.

A mixin of :class:`app.gui.main_window.MainWindow`, kept apart so each module stays small; it
uses the window's ``settings``, ``controller``, ``opener`` (files are read in its worker),
``mask_editor``, panels and image state.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from app.core.io.atomic_write import atomic_write_bytes
from app.core.document import Source
from app.core.io.image_save import save_image
from app.core.io.imageio import load_image
from app.core.restore.hole_mask import hole_mask

from . import save_shown
from .batch_dialog import BatchDialog, dropped_folder
from .batch_open import open_batch
from .files import (
    FILE_ERRORS,
    IMAGE_FILTER,
    OPEN_FILTER,
    dropped_paths,
    error_reason,
)
from .file_opener import Opened

__all__ = ["PASTED_NAME", "FileMixin"]

PASTED_NAME = "pasted image"


def _is_sample(path: Path) -> bool:
    """The bundled sample: opened from the empty state, never listed in Open Recent."""
    from app.core.demo import SAMPLE

    try:
        return path.resolve() == SAMPLE.resolve()
    except OSError:
        return False


class FileMixin:
    """Opening and saving files for the main window."""

    def open_path(self, path: str | Path) -> bool:
        """Open an image or an .aei file (decoded in the background). The file is read in a
        worker (app/gui/file_opener.py); one read within moments is shown before this returns.

        Returns False, after showing an error, when the file cannot be read; True once it is
        shown, is being decoded, or is still being read ("Opening x.png…").
        """
        p = Path(path)
        return self._take_opened(self.opener.open(p), p.name)

    @property
    def opening(self) -> str:
        """The name of the file being read in the background ("" when none)."""
        return self.opener.loading

    def _take_opened(self, outcome: Opened | str | None, name: str = "") -> bool:
        """Show what the opener read (or its error); None: it is still reading ``name``."""
        if outcome is None:
            # the jobs of the image shown (or of an .aei being decoded) would be dropped with
            # it: the CPU goes to reading this one
            self.controller.reset()
            self._decoding.clear()
            self.document.stop_all(f"Stopped to open {name}.")
            self.statusBar().showMessage(f"Opening {name}…")
            self.setCursor(Qt.CursorShape.BusyCursor)  # the window still works meanwhile
            return True
        self.unsetCursor()
        if isinstance(outcome, str):
            self.statusBar().clearMessage()
            self.show_error(outcome)
            return False
        p = outcome.path
        if p is None:  # the clipboard
            self.set_image(outcome.pixels, outcome.name)
            self.statusBar().showMessage("Pasted an image from the clipboard", 5000)
            return True
        if outcome.aei is not None:
            self._decoding[p.name] = p  # added to Open Recent once it decoded
            # named at once (title, captions, panel); decoding replaces any job
            self.document.start_decoding(p.name, p)
            self.controller.decode(outcome.aei, p.name)
            # after decode(): its busy signal would replace this with "Working…"
            self.statusBar().showMessage(f"Decoding {p.name}…")
            return True
        source = Source("sample" if _is_sample(p) else "file", p.name, p, outcome.file_bytes)
        self.statusBar().clearMessage()
        self.set_image(outcome.pixels, p.name, source)
        if source.belongs_in_recent_files:
            self._add_recent(p)
        if outcome.notes:
            self.statusBar().showMessage(f"{p.name}: " + "; ".join(outcome.notes), 8000)
        return True

    def load_mask(self, path: str | Path) -> bool:
        """Use an image as the inpainting mask (bright = hole); switches to Inpaint."""
        if not self._require_image():
            return False
        p = Path(path)
        try:
            mask = hole_mask(load_image(p).pixels, self.current_pixels.shape)
        except FILE_ERRORS as exc:
            self.show_error(f"Cannot use {p.name} as a mask: {error_reason(exc, p)}")
            return False
        self.set_mode("inpaint")
        self.mask_editor.replace(mask)
        self.inpaint_panel.show_message(
            f"Mask {p.name}: {mask.mean():.1%} of the image will be filled.")
        return True

    def step_file(self, step: int) -> bool:
        """Open the next (``step`` = 1) or previous (-1) of the dropped files."""
        index = self.file_index + step
        if not self.files or not 0 <= index < len(self.files):
            self.statusBar().showMessage("No more dropped files in that direction.", 3000)
            return False
        self.file_index = index
        ok = self.open_path(self.files[index])
        self.statusBar().showMessage(f"{self.files[index].name} ({index + 1} of "
                                     f"{len(self.files)}; Page Up / Page Down to step)", 8000)
        return ok

    def open_files(self, paths: list[Path]) -> bool:
        """Open the first of several files; the others are a list to step through."""
        self.files, self.file_index = list(paths), -1
        return self.step_file(1)

    def paste_image(self) -> bool:
        """Open the image on the clipboard as "pasted image" (Edit ▸ Paste, Ctrl+V)."""
        image = QApplication.clipboard().image()
        if image.isNull():
            self.show_error("The clipboard holds no image.")
            return False
        return self._take_opened(self.opener.paste(image, PASTED_NAME), PASTED_NAME)

    def recent_files(self) -> list[str]:
        """The Open Recent list, most recent first (missing files dropped)."""
        return self.settings.recent_files()

    def _add_recent(self, path: Path) -> None:
        self.settings.add_recent_file(path)
        self.rebuild_recent_menu()

    def rebuild_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        files = self.settings.recent_files()
        for i, f in enumerate(files):
            action = menu.addAction(f"&{i + 1} {Path(f).name}")
            action.setData(f)
            action.setStatusTip(f)
            action.triggered.connect(lambda _checked=False, f=f: self._open_recent(f))
        if files:
            menu.addSeparator()
            menu.addAction("&Clear list", self._clear_recent)
        menu.setEnabled(bool(files))

    def _open_recent(self, path: str) -> None:
        if not Path(path).is_file():
            self.show_error(f"{Path(path).name} no longer exists.")
            self.rebuild_recent_menu()
            return
        self.open_path(path)

    def _clear_recent(self) -> None:
        self.settings.clear_recent_files()
        self.rebuild_recent_menu()

    def save_aei(self, path: str | Path) -> bool:
        """Write the latest compressed file (or the opened .aei) to ``path``."""
        if self._aei_data is None:
            self.show_error("Nothing to save yet: compress an image first.")
            return False
        try:
            n = atomic_write_bytes(path, self._aei_data, overwrite=True)
        except FILE_ERRORS as exc:
            self.show_error(f"Cannot save {Path(path).name}: {error_reason(exc, Path(path))}")
            return False
        self.statusBar().showMessage(f"Saved {Path(path).name} ({n:,} bytes)", 8000)
        return True

    def save_result(self, path: str | Path, mode: str | None = None) -> bool:
        """Write the result of ``mode`` (default: the current one): the image shown on the
        right (decoded / denoised / inpainted), or the inpainted image continued on."""
        pixels = save_shown.savable(self, mode)
        if pixels is None:
            self.show_error("Nothing to save yet: run the current mode first.")
            return False
        try:
            n = save_image(pixels, path, overwrite=True)
        except FILE_ERRORS as exc:
            self.show_error(f"Cannot save {Path(path).name}: {error_reason(exc, Path(path))}")
            return False
        self.statusBar().showMessage(f"Saved {Path(path).name} ({n:,} bytes)", 8000)
        return True

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open", self.settings.last_folder(),
                                              OPEN_FILTER)
        if path:
            self.settings.remember_path(path)
            self.open_path(path)

    def load_mask_dialog(self) -> None:
        if not self._require_image():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Load mask", self.settings.last_folder(),
                                              IMAGE_FILTER)
        if path:
            self.settings.remember_path(path)
            self.load_mask(path)

    def open_batch_dialog(self, folder: str | Path | None = None) -> BatchDialog:
        """Show the batch dialog (one per window), on ``folder`` when given."""
        return open_batch(self, folder)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if dropped_paths(mime) or dropped_folder(mime) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_paths(event.mimeData())
        folder = dropped_folder(event.mimeData()) if not paths else None
        if folder is not None:  # a folder: the batch dialog on it
            event.acceptProposedAction()
            self.open_batch_dialog(folder)
            return
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        if len(paths) == 1:
            self.files, self.file_index = [], -1
            self.open_path(paths[0])
        else:  # several files: a list to step through
            self.open_files(paths)
