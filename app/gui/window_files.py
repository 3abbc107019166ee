"""The main window's file handling: open (dialog, drop, recent files, paste, a list of
dropped files to step through), save, load a mask, and the batch dialog for a dropped folder.

A mixin of :class:`app.gui.main_window.MainWindow`, kept apart so each module stays small; it
uses the window's ``settings``, ``controller``, ``mask_editor``, panels and image state.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

from app.core.io.atomic_write import atomic_write_bytes
from app.core.document import Source
from app.core.io.image_save import save_image
from app.core.io.imageio import load_image
from app.core.jobs import read_aei
from app.core.restore.hole_mask import hole_mask

from .batch_dialog import BatchDialog, dropped_folder, engine_settings
from .files import (
    AEI_FILTER,
    AEI_SUFFIX,
    FILE_ERRORS,
    IMAGE_FILTER,
    IMAGE_SUFFIXES,
    OPEN_FILTER,
    dropped_paths,
    error_reason,
    file_size,
    is_aei,
)
from .qimage import qimage_to_array

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
        """Open an image (shown at once) or an .aei file (decoded in the background).

        Returns False, after showing an error, when the file cannot be read.
        """
        p = Path(path)
        if is_aei(p):
            try:
                data = read_aei(p)
            except FILE_ERRORS as exc:
                self.show_error(f"Cannot open {p.name}: {error_reason(exc, p)}")
                return False
            self.statusBar().showMessage(f"Decoding {p.name}…")
            self._decoding[p.name] = p  # added to Open Recent once it decoded
            self.document.stop_all(f"Stopped to open {p.name}.")  # decoding replaces any job
            self.controller.decode(data, p.name)
            return True
        try:
            loaded = load_image(p)
        except FILE_ERRORS as exc:
            self.show_error(f"Cannot open {p.name}: {error_reason(exc, p)}")
            return False
        source = Source("sample" if _is_sample(p) else "file", p.name, p, file_size(p))
        self.set_image(loaded.pixels, p.name, source)
        if source.belongs_in_recent_files:
            self._add_recent(p)
        if loaded.notes:
            self.statusBar().showMessage(f"{p.name}: " + "; ".join(loaded.notes), 8000)
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
        pixels = qimage_to_array(image)
        if pixels.shape[2] == 4 and bool((pixels[:, :, 3] == 255).all()):
            pixels = np.ascontiguousarray(pixels[:, :, :3])  # opaque: plain RGB
        self.set_image(pixels, PASTED_NAME)
        self.statusBar().showMessage("Pasted an image from the clipboard", 5000)
        return True

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

    def save_result(self, path: str | Path) -> bool:
        """Write the image shown on the right (decoded / denoised / inpainted)."""
        pixels = self.result_pixels()
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

    def save_aei_dialog(self) -> None:
        if self._aei_data is None:
            self.show_error("Nothing to save yet: compress an image first.")
            return
        stem = Path(self.current_name).stem or "image"
        path, _ = QFileDialog.getSaveFileName(self, "Save .aei",
                                              self._in_last_folder(f"{stem}{AEI_SUFFIX}"),
                                              AEI_FILTER)
        if path:
            self.settings.remember_path(path)
            if not path.lower().endswith(AEI_SUFFIX):
                path += AEI_SUFFIX
            self.save_aei(path)

    def save_result_dialog(self) -> None:
        if self.result_pixels() is None:
            self.show_error("Nothing to save yet: run the current mode first.")
            return
        stem = Path(self.current_name).stem or "image"
        suffix = {"compress": "decoded", "denoise": "denoised", "inpaint": "inpainted"}[self.mode]
        path, _ = QFileDialog.getSaveFileName(self, "Save image",
                                              self._in_last_folder(f"{stem}_{suffix}.png"),
                                              IMAGE_FILTER)
        if path:
            self.settings.remember_path(path)
            if Path(path).suffix.lower() not in IMAGE_SUFFIXES:
                path += ".png"
            self.save_result(path)

    def load_mask_dialog(self) -> None:
        if not self._require_image():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Load mask", self.settings.last_folder(),
                                              IMAGE_FILTER)
        if path:
            self.settings.remember_path(path)
            self.load_mask(path)

    def _in_last_folder(self, name: str) -> str:
        folder = self.settings.last_folder()
        return str(Path(folder) / name) if folder else name

    def open_batch_dialog(self, folder: str | Path | None = None) -> BatchDialog:
        """Show the batch dialog (one per window), on ``folder`` when given."""
        if self.batch_dialog is None:
            models, provider = engine_settings(self.engine)
            self.batch_dialog = BatchDialog(self, models_dir=models, provider=provider)
        if not self.batch_dialog.is_running:
            self.batch_dialog.set_task(self.mode)  # the task defaults to the current mode
            if folder is not None:
                self.batch_dialog.set_input(folder)
        self.batch_dialog.show()
        self.batch_dialog.raise_()
        self.batch_dialog.activateWindow()
        return self.batch_dialog

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
