"""The AE Studio main window: wiring between menus, panels, the comparison view and the
controller. Image work happens in the controller's background jobs; this module only reacts
to intents and results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QSettings, Qt
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSlider,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.imageio import atomic_write_bytes, load_image, save_image
from app.core.jobs import read_aei

from .batch_dialog import BatchDialog, dropped_folder, engine_settings
from .controller import Controller
from .files import (
    AEI_FILTER,
    AEI_SUFFIX,
    FILE_ERRORS,
    IMAGE_FILTER,
    IMAGE_SUFFIXES,
    OPEN_FILTER,
    dropped_path,
    error_reason,
    is_aei,
)
from .heatmap import DEFAULT_GAIN, difference_heatmap
from .mask import empty_mask, mask_from_pixels, mask_overlay, paint_stroke
from .panels import CompressPanel, DenoisePanel, InpaintPanel, format_compress_result
from .qimage import qimage_to_array
from .settings import Settings
from .widgets.compare_view import CompareView

__all__ = ["APP_TITLE", "MODES", "MainWindow"]

APP_TITLE = "AE Studio"
MODES = ("compress", "denoise", "inpaint")
PASTED_NAME = "pasted image"


class MainWindow(QMainWindow):
    """Open an image (menu, drop or argument), pick a mode, see original | result."""

    def __init__(self, engine: Any, parent: QWidget | None = None,
                 settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.settings = Settings(settings)
        self._flashing = False  # Space held: the right pane shows the original
        self.controller = Controller(engine, self)
        self.current_pixels: np.ndarray | None = None
        self.current_name = ""
        self.last_result: dict[str, Any] | None = None  # compress (or opened .aei) measures
        self.last_error: str | None = None
        self.show_error_dialogs = True
        self._results: dict[str, np.ndarray] = {}
        self._aei_data: bytes | None = None
        self._mask: np.ndarray | None = None
        self._model_ids: dict[str, str] = {}
        self.batch_dialog: BatchDialog | None = None

        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self.resize(1200, 800)
        self._build_widgets()
        self._build_menus()
        self._build_status_bar()
        self._connect()
        self._restore_settings()
        self._update_model_label()

    # ================================================================ construction
    def _build_widgets(self) -> None:
        self.compare_view = CompareView(self)
        self.compress_panel = CompressPanel(self)
        self.denoise_panel = DenoisePanel(self)
        self.inpaint_panel = InpaintPanel(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.compress_panel, "Compress")
        self.tabs.addTab(self.denoise_panel, "Denoise")
        self.tabs.addTab(self.inpaint_panel, "Inpaint")
        self.tabs.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.addWidget(self.compare_view, 1)
        layout.addWidget(self.tabs)
        self.setCentralWidget(central)

    def _action(self, text: str, slot, shortcut: QKeySequence.StandardKey | str | None = None,
                tip: str = "", fallback: str = "") -> QAction:
        """An action; a standard key falls back to ``fallback`` where the platform has none."""
        action = QAction(text, self)
        if isinstance(shortcut, QKeySequence.StandardKey):
            keys = QKeySequence.keyBindings(shortcut)
            action.setShortcuts(keys or ([QKeySequence(fallback)] if fallback else []))
        elif shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        self.open_action = self._action("&Open…", self.open_dialog, QKeySequence.StandardKey.Open,
                                        "Open an image or an .aei file", "Ctrl+O")
        self.save_aei_action = self._action("&Save .aei…", self.save_aei_dialog,
                                            QKeySequence.StandardKey.Save,
                                            "Save the compressed file", "Ctrl+S")
        self.save_image_action = self._action("Save &decoded image…", self.save_result_dialog,
                                              QKeySequence.StandardKey.SaveAs,
                                              "Save the image shown on the right", "Ctrl+Shift+S")
        self.batch_action = self._action("&Batch…", self.open_batch_dialog, "Ctrl+B",
                                         "Run a task over a whole folder")
        self.load_mask_action = self._action("Load &mask…", self.load_mask_dialog, None,
                                             "Load an inpainting mask (white = hole)")
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit,
                                        "Quit AE Studio", "Ctrl+Q")
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._rebuild_recent_menu)
        for action in (self.save_aei_action, self.save_image_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.batch_action)
        file_menu.addAction(self.load_mask_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        self.paste_action = self._action("&Paste", self.paste_image,
                                         QKeySequence.StandardKey.Paste,
                                         "Open the image on the clipboard", "Ctrl+V")
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addAction(self.paste_action)

        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self._action("&Fit", self.compare_view.fit, "Ctrl+0"))
        view_menu.addAction(self._action("&100%", self.compare_view.actual_size, "Ctrl+1"))
        view_menu.addAction(self._action("Zoom &in", lambda: self.compare_view.zoom_by(1.25),
                                         QKeySequence.StandardKey.ZoomIn, fallback="Ctrl++"))
        view_menu.addAction(self._action("Zoom &out", lambda: self.compare_view.zoom_by(0.8),
                                         QKeySequence.StandardKey.ZoomOut, fallback="Ctrl+-"))
        view_menu.addSeparator()
        self.heatmap_action = self._action(
            "Difference &heatmap", lambda _checked=False: self._show_mode_state(), "D",
            "Show |original − result| (amplified) in the right pane")
        self.heatmap_action.setCheckable(True)
        view_menu.addAction(self.heatmap_action)
        self._rebuild_recent_menu()

        help_menu = self.menuBar().addMenu("&Help")
        about = self._action("&About AE Studio", self.about)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(about)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setMaximumWidth(180)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.hide()
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.hide()
        self.model_label = QLabel(self)
        bar.addPermanentWidget(self.progress_bar)
        bar.addPermanentWidget(self.cancel_button)
        bar.addPermanentWidget(self.model_label)

    def _connect(self) -> None:
        c = self.controller
        c.compressed.connect(self._on_compressed)
        c.decoded.connect(self._on_decoded)
        c.denoised.connect(self._on_denoised)
        c.inpainted.connect(self._on_inpainted)
        c.failed.connect(self.show_error)
        c.cancelled.connect(lambda: self.statusBar().showMessage("Cancelled.", 5000))
        c.busy.connect(self._on_busy)
        c.progress.connect(self._on_progress)
        self.cancel_button.clicked.connect(c.cancel)
        self.compress_panel.qualityChanged.connect(self._on_quality_changed)
        self.compress_panel.qualityChanged.connect(self.settings.set_quality)
        self.compress_panel.compressRequested.connect(self.compress_now)
        self.denoise_panel.denoiseRequested.connect(self.denoise_now)
        self.inpaint_panel.inpaintRequested.connect(self.inpaint_now)
        self.inpaint_panel.loadMaskRequested.connect(self.load_mask_dialog)
        self.inpaint_panel.clearMaskRequested.connect(self.clear_mask)
        self.compare_view.brushed.connect(self._on_brushed)
        self.tabs.currentChanged.connect(self._on_mode_changed)

    # ================================================================ public API
    @property
    def quality_slider(self) -> QSlider:
        return self.compress_panel.quality_slider

    @property
    def mode(self) -> str:
        return MODES[self.tabs.currentIndex()]

    def set_mode(self, mode: str) -> None:
        self.tabs.setCurrentIndex(MODES.index(mode))

    @property
    def mask(self) -> np.ndarray | None:
        return self._mask

    def result_pixels(self, mode: str | None = None) -> np.ndarray | None:
        """The latest result of ``mode`` (default: the current mode)."""
        return self._results.get(mode or self.mode)

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
            self.controller.decode(data, p.name)
            self._add_recent(p)
            return True
        try:
            loaded = load_image(p)
        except FILE_ERRORS as exc:
            self.show_error(f"Cannot open {p.name}: {error_reason(exc, p)}")
            return False
        self.set_image(loaded.pixels, p.name)
        self._add_recent(p)
        if loaded.notes:
            self.statusBar().showMessage(f"{p.name}: " + "; ".join(loaded.notes), 8000)
        return True

    def set_image(self, pixels: np.ndarray, name: str = "") -> None:
        """Make ``pixels`` the current image and run the current mode's automatic job."""
        self.controller.reset()  # results still in flight belong to the previous image
        self.current_pixels = pixels
        self.current_name = name
        self.last_result = None
        self._aei_data = None
        self._results.clear()
        self._mask = empty_mask(pixels.shape)
        h, w = pixels.shape[:2]
        self.setWindowTitle(f"{APP_TITLE} — {name}" if name else APP_TITLE)
        self.compare_view.set_images(pixels, None, f"Original · {name} · {w}×{h}".strip(),
                                     "Result")
        self._show_mode_state()
        if self.mode == "compress":
            self.compress_now()

    def compress_now(self) -> None:
        if self._require_image():
            self.compress_panel.show_message("Compressing…")
            self.controller.compress(self.current_pixels, self.compress_panel.quality)

    def denoise_now(self) -> None:
        if self._require_image():
            self.denoise_panel.show_message("Denoising…")
            self.controller.denoise(self.current_pixels)

    def inpaint_now(self) -> None:
        if not self._require_image():
            return
        if self._mask is None or not self._mask.any():
            self.show_error("Paint the areas to fill on the left image, or load a mask, first.")
            return
        self.inpaint_panel.show_message("Inpainting…")
        self.controller.inpaint(self.current_pixels, self._mask.copy())

    def load_mask(self, path: str | Path) -> bool:
        """Use an image as the inpainting mask (bright = hole); switches to Inpaint."""
        if not self._require_image():
            return False
        p = Path(path)
        try:
            self._mask = mask_from_pixels(load_image(p).pixels, self.current_pixels.shape)
        except FILE_ERRORS as exc:
            self.show_error(f"Cannot use {p.name} as a mask: {error_reason(exc, p)}")
            return False
        self.set_mode("inpaint")
        self._show_mode_state()
        self.inpaint_panel.show_message(
            f"Mask {p.name}: {self._mask.mean():.1%} of the image will be filled.")
        return True

    def clear_mask(self) -> None:
        if self.current_pixels is not None:
            self._mask = empty_mask(self.current_pixels.shape)
            self._show_mode_state()

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
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
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
            self._rebuild_recent_menu()
            return
        self.open_path(path)

    def _clear_recent(self) -> None:
        self.settings.clear_recent_files()
        self._rebuild_recent_menu()

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

    def show_error(self, message: str) -> None:
        """Report a problem in the status bar and a (non-blocking) message box."""
        self.last_error = message
        self.statusBar().showMessage(message, 15000)
        if self.show_error_dialogs:
            box = QMessageBox(QMessageBox.Icon.Warning, APP_TITLE, message,
                              QMessageBox.StandardButton.Ok, self)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

    def about(self) -> None:
        QMessageBox.about(self, f"About {APP_TITLE}",
                          f"<b>{APP_TITLE}</b><p>Compress, denoise and inpaint photos with "
                          "learned autoencoders (ONNX Runtime).</p>"
                          f"<p>{self.model_label.text()}</p>")

    # ================================================================ dialogs
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
        if folder is not None and not self.batch_dialog.is_running:
            self.batch_dialog.set_input(folder)
        self.batch_dialog.show()
        self.batch_dialog.raise_()
        self.batch_dialog.activateWindow()
        return self.batch_dialog

    # ================================================================ drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if dropped_path(mime) is not None or dropped_folder(mime) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_path(event.mimeData())
        folder = dropped_folder(event.mimeData()) if path is None else None
        if folder is not None:  # a folder: the batch dialog on it
            event.acceptProposedAction()
            self.open_batch_dialog(folder)
            return
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(path)

    # ================================================================ reactions
    def _require_image(self) -> bool:
        if self.current_pixels is None:
            self.show_error("Open an image first (File ▸ Open… or drop a file here).")
            return False
        return True

    def _on_quality_changed(self, quality: int) -> None:
        if self.current_pixels is not None:
            self.compress_panel.show_message(f"Compressing at quality {quality}…")
            self.controller.request_compress(self.current_pixels, quality)

    def _on_compressed(self, result: dict[str, Any]) -> None:
        self.last_result = result
        self._aei_data = result["data"]
        self._results["compress"] = result["reconstruction"]
        self.compress_panel.show_result(result)
        self._show_mode_state()
        self._update_model_label()

    def _on_decoded(self, result: dict[str, Any]) -> None:
        pixels, name = result["pixels"], result["name"]
        self.set_image_from_aei(pixels, name)
        self._aei_data = result["data"]
        self.last_result = {k: result[k] for k in ("bytes", "bpp", "seconds", "model_id")}
        self.last_result["psnr"] = None
        self._results["compress"] = pixels
        self.set_mode("compress")  # after the result is stored: no automatic re-compress
        self.compress_panel.show_message(
            f"{name}: {format_compress_result(self.last_result)} (decoded; no original to "
            "compare). Move the slider to re-compress it.")
        self._show_mode_state()
        self._update_model_label()
        self.statusBar().showMessage(f"Decoded {name}", 5000)

    def set_image_from_aei(self, pixels: np.ndarray, name: str) -> None:
        """Like :meth:`set_image` without starting a compress."""
        self.controller.reset()
        self.current_pixels = pixels
        self.current_name = name
        self._results.clear()
        self._mask = empty_mask(pixels.shape)
        h, w = pixels.shape[:2]
        self.setWindowTitle(f"{APP_TITLE} — {name}")
        self.compare_view.set_images(pixels, pixels, f"Decoded · {name} · {w}×{h}",
                                     "Decoded")

    def _on_denoised(self, result: dict[str, Any]) -> None:
        self._results["denoise"] = result["pixels"]
        self.denoise_panel.show_result(result)
        self._show_mode_state()
        self._update_model_label()

    def _on_inpainted(self, result: dict[str, Any]) -> None:
        self._results["inpaint"] = result["pixels"]
        self.inpaint_panel.show_result(result)
        self._show_mode_state()
        self._update_model_label()

    def _on_busy(self, busy: bool) -> None:
        self.progress_bar.setRange(0, 0)  # indeterminate until progress arrives
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

    def _on_mode_changed(self, _index: int) -> None:
        self.settings.set_mode(self.mode)
        self._show_mode_state()
        self._update_model_label()
        if (self.mode == "compress" and self.current_pixels is not None
                and "compress" not in self._results and not self.controller.is_busy):
            self.compress_now()

    def _on_brushed(self, p0: QPointF, p1: QPointF) -> None:
        if self._mask is None or self.mode != "inpaint":
            return
        paint_stroke(self._mask, p0.x(), p0.y(), p1.x(), p1.y(), self.inpaint_panel.brush_radius)
        self.compare_view.set_overlay(mask_overlay(self._mask))

    def _show_mode_state(self) -> None:
        """Right pane, overlay and brush for the current mode."""
        mode = self.mode
        inpaint = mode == "inpaint"
        self.compare_view.set_brush_enabled(inpaint and self.current_pixels is not None)
        self.compare_view.set_overlay(
            mask_overlay(self._mask) if inpaint and self._mask is not None else None)
        if self.current_pixels is None:
            return
        captions = {"compress": "Reconstruction", "denoise": "Denoised", "inpaint": "Inpainted"}
        result = self._results.get(mode)
        heatmap = None
        if result is not None and self.heatmap_action.isChecked():
            heatmap = difference_heatmap(self.current_pixels, result)
        if self._flashing:
            self.compare_view.set_right(self.current_pixels, "Original (release Space)")
        elif heatmap is not None:
            self.compare_view.set_right(
                heatmap, f"Difference |original − {captions[mode].lower()}| ×{DEFAULT_GAIN:g}")
        elif result is not None:
            self.compare_view.set_right(result, captions[mode])
        else:
            self.compare_view.set_right(None, f"{captions[mode]} (not computed yet)")

    @property
    def showing_heatmap(self) -> bool:
        return self.heatmap_action.isChecked()

    @property
    def flashing_original(self) -> bool:
        return self._flashing

    def set_flash_original(self, on: bool) -> None:
        """Show the original in the right pane (while Space is held)."""
        if on != self._flashing:
            self._flashing = on
            self._show_mode_state()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space and not event.modifiers():
            if not event.isAutoRepeat():
                self.set_flash_original(True)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self.set_flash_original(False)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        # a Space released in another window never reaches us: stop flashing on deactivation
        if event.type() == QEvent.Type.ActivationChange and not self.isActiveWindow():
            self.set_flash_original(False)
        super().changeEvent(event)

    # ================================================================ settings
    def _restore_settings(self) -> None:
        geometry = self.settings.geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        mode = self.settings.mode()
        if mode in MODES:
            self.set_mode(mode)
        quality = self.settings.quality()
        if quality is not None:
            self.quality_slider.setValue(quality)

    def save_settings(self) -> None:
        self.settings.set_geometry(self.saveGeometry())
        self.settings.set_mode(self.mode)
        self.settings.set_quality(self.compress_panel.quality)
        self.settings.sync()

    # ================================================================ status bar model label
    def _model_id(self, task: str) -> str:
        if task not in self._model_ids:
            try:
                if task == "codec":
                    self._model_ids[task] = self.engine.codec().model.id
                else:
                    self._model_ids[task] = self.engine.model(task).id
            except Exception as exc:  # noqa: BLE001 - shown, never fatal
                return f"none ({error_reason(exc)})"
        return self._model_ids[task]

    def _update_model_label(self) -> None:
        task = {"compress": "codec"}.get(self.mode, self.mode)
        try:
            provider = self.engine.provider_label
        except Exception:  # noqa: BLE001
            provider = "?"
        self.model_label.setText(f"Model {self._model_id(task)} · {provider}")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        if self.batch_dialog is not None:
            self.batch_dialog.close()
        self.controller.shutdown(10000)
        super().closeEvent(event)

