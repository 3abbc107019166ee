"""The AE Studio main window: wiring between menus, panels, the comparison view and the
controller. Image work happens in the controller's background jobs; this module only reacts
to intents and results. Menus and shortcuts live in :mod:`app.gui.actions`, the mask being
painted in :mod:`app.gui.mask_editor`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QSettings, Qt
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
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

from .actions import build_menus
from .batch_dialog import BatchDialog
from .controller import Controller
from .files import error_reason
from .heatmap import DEFAULT_GAIN, difference_heatmap
from .mask import mask_overlay
from .mask_editor import MaskEditor
from .panels import (
    COMPARE_CHOICES,
    CompressPanel,
    DenoisePanel,
    InpaintPanel,
    format_compress_result,
)
from .settings import Settings
from .theme import THEMES, ThemeFollower
from .widgets.compare_view import LAYOUTS, CompareView
from .window_files import PASTED_NAME, FileMixin

__all__ = ["APP_TITLE", "MODES", "PASTED_NAME", "MainWindow"]

APP_TITLE = "AE Studio"
MODES = ("compress", "denoise", "inpaint")
CAPTIONS = {"compress": "Reconstruction", "denoise": "Denoised", "inpaint": "Inpainted"}
_LAYOUT_KEY, _THEME_KEY, _COMPARE_KEY = "view/layout", "view/theme", "compress/compareWith"


class MainWindow(FileMixin, QMainWindow):
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
        self._original_bytes: int | None = None  # size of the opened file (compression ratio)
        self.same_size_result: dict[str, Any] | None = None  # classic codec, same bytes
        self.mask_editor = MaskEditor(self)
        self._model_ids: dict[str, str] = {}
        self.batch_dialog: BatchDialog | None = None
        self.files: list[Path] = []  # dropped files to step through
        self.file_index = -1
        app = QApplication.instance()
        self.theme = ThemeFollower(app, "system") if app is not None else None

        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self.resize(1200, 800)
        self._build_widgets()
        build_menus(self)
        self._build_status_bar()
        self._connect()
        self._restore_settings()
        self._update_model_label()

    # ================================================================ construction
    def _build_widgets(self) -> None:
        self.compare_view = CompareView(self, layout="split")
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
        self.compress_panel.targetSizeRequested.connect(self.compress_to_size)
        self.compress_panel.compareWithChanged.connect(self._on_compare_with_changed)
        c.same_sized.connect(self._on_same_sized)
        self.denoise_panel.denoiseRequested.connect(self.denoise_now)
        self.denoise_panel.strengthChanged.connect(self._on_strength_changed)
        panel, editor = self.inpaint_panel, self.mask_editor
        panel.inpaintRequested.connect(self.inpaint_now)
        panel.loadMaskRequested.connect(self.load_mask_dialog)
        panel.clearMaskRequested.connect(editor.clear)
        panel.undoRequested.connect(editor.undo)
        panel.redoRequested.connect(editor.redo)
        panel.brushSizeChanged.connect(self.compare_view.set_brush_radius)
        self.compare_view.set_brush_radius(panel.brush_radius)
        self.compare_view.brushSizeStep.connect(panel.step_brush)
        self.compare_view.strokeStarted.connect(
            lambda erase: editor.begin_stroke(erase or panel.erasing))
        self.compare_view.brushed.connect(self._on_brushed)
        editor.changed.connect(self._on_mask_changed)
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
        return self.mask_editor.mask

    def set_layout(self, layout: str) -> None:
        """``split`` (one image with a divider) or ``side-by-side`` (two synced panes)."""
        self.compare_view.set_layout(layout)
        self.split_action.setChecked(layout == "split")
        self.settings.set_choice(_LAYOUT_KEY, layout)

    def set_theme(self, theme: str) -> None:
        """``system`` (follow the desktop's light or dark scheme), ``light`` or ``dark``."""
        if self.theme is not None:
            self.theme.set_theme(theme)
        self.theme_actions[theme].setChecked(True)
        self.settings.set_choice(_THEME_KEY, theme)

    def result_pixels(self, mode: str | None = None) -> np.ndarray | None:
        """The latest result of ``mode`` (default: the current mode)."""
        return self._results.get(mode or self.mode)

    def set_image(self, pixels: np.ndarray, name: str = "") -> None:
        """Make ``pixels`` the current image and run the current mode's automatic job."""
        self.controller.reset()  # results still in flight belong to the previous image
        self.current_pixels = pixels
        self.current_name = name
        self.last_result = None
        self._aei_data = None
        self._original_bytes = None
        self.same_size_result = None
        self.compress_panel.show_same_size(None)
        self._results.clear()
        self.mask_editor.reset(pixels.shape)
        h, w = pixels.shape[:2]
        self.setWindowTitle(f"{APP_TITLE} — {name}" if name else APP_TITLE)
        self.compare_view.set_images(pixels, None, f"Original · {name} · {w}×{h}".strip(),
                                     "Result")
        self.show_mode_state()
        if self.mode == "compress":
            self.compress_now()

    def compress_now(self) -> None:
        if self._require_image():
            self.compress_panel.show_message("Compressing…")
            self.controller.compress(self.current_pixels, self.compress_panel.quality)

    def compress_to_size(self, target_bytes: int) -> None:
        """Compress at the best quality whose file fits ``target_bytes``."""
        if self._require_image():
            self.compress_panel.show_message(f"Finding the best quality for {target_bytes:,} "
                                             "bytes…")
            self.controller.compress(self.current_pixels, self.compress_panel.quality,
                                     target_bytes=target_bytes)

    def denoise_now(self) -> None:
        if self._require_image():
            self.denoise_panel.show_message("Denoising…")
            self.controller.denoise(self.current_pixels, self.denoise_panel.sigma,
                                    self.denoise_panel.passes)

    def inpaint_now(self) -> None:
        if not self._require_image():
            return
        if not self.mask_editor.has_holes:
            self.show_error("Paint the areas to fill on the left image, or load a mask, first.")
            return
        self.inpaint_panel.show_message("Inpainting…")
        self.controller.inpaint(self.current_pixels, self.mask_editor.mask.copy(),
                                self.inpaint_panel.passes)

    def clear_mask(self) -> None:
        self.mask_editor.clear()

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
        result["original_bytes"] = self._original_bytes
        self.last_result = result
        self._aei_data = result["data"]
        self._results["compress"] = result["reconstruction"]
        self.compress_panel.show_result(result)
        if result.get("target_bytes"):
            self.compress_panel.set_quality_silently(result["quality"])
        self.same_size_result = None
        self.compress_panel.show_same_size(None)
        self._request_same_size()
        self.show_mode_state()
        self._update_model_label()

    def _request_same_size(self) -> None:
        """Start the classic codec at the AE Studio file's size, if the left side shows one."""
        fmt = self.compress_panel.compare_with
        if fmt != "original" and self._aei_data is not None and self.current_pixels is not None:
            self.compress_panel.same_size_label.setText(f"Encoding {fmt.upper()} at "
                                                        f"{len(self._aei_data):,} bytes…")
            self.controller.same_size(self.current_pixels, fmt, len(self._aei_data))

    def _on_same_sized(self, result: dict[str, Any]) -> None:
        self.same_size_result = result
        self.compress_panel.show_same_size(result)
        self.show_mode_state()

    def _on_compare_with_changed(self, key: str) -> None:
        self.settings.set_choice(_COMPARE_KEY, key)
        self.same_size_result = None
        self.compress_panel.show_same_size(None)
        self._request_same_size()
        self.show_mode_state()

    def _on_strength_changed(self) -> None:
        """A new strength re-runs the denoiser (debounced) once there is a result to update."""
        if self.current_pixels is not None and "denoise" in self._results:
            self.denoise_panel.show_message("Denoising…")
            self.controller.request_denoise(self.current_pixels, self.denoise_panel.sigma,
                                            self.denoise_panel.passes)

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
        self.show_mode_state()
        self._update_model_label()
        self.statusBar().showMessage(f"Decoded {name}", 5000)

    def set_image_from_aei(self, pixels: np.ndarray, name: str) -> None:
        """Like :meth:`set_image` without starting a compress."""
        self.controller.reset()
        self.current_pixels = pixels
        self.current_name = name
        self._results.clear()
        self.same_size_result = None
        self.mask_editor.reset(pixels.shape)
        h, w = pixels.shape[:2]
        self.setWindowTitle(f"{APP_TITLE} — {name}")
        self.compare_view.set_images(pixels, pixels, f"Decoded · {name} · {w}×{h}",
                                     "Decoded")

    def _on_denoised(self, result: dict[str, Any]) -> None:
        self._results["denoise"] = result["pixels"]
        self.denoise_panel.show_result(result)
        self.show_mode_state()
        self._update_model_label()

    def _on_inpainted(self, result: dict[str, Any]) -> None:
        self._results["inpaint"] = result["pixels"]
        self.inpaint_panel.show_result(result)
        self.show_mode_state()
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
        self.show_mode_state()
        self._update_model_label()
        if (self.mode == "compress" and self.current_pixels is not None
                and "compress" not in self._results and not self.controller.is_busy):
            self.compress_now()

    def _on_brushed(self, p0: QPointF, p1: QPointF) -> None:
        if self.mode == "inpaint":
            self.mask_editor.stroke(p0.x(), p0.y(), p1.x(), p1.y(),
                                    self.inpaint_panel.brush_radius)

    def _on_mask_changed(self) -> None:
        history = self.mask_editor.history
        self.inpaint_panel.set_history_state(history.can_undo, history.can_redo)
        self.undo_action.setEnabled(history.can_undo)
        self.redo_action.setEnabled(history.can_redo)
        mask = self.mask_editor.mask
        if self.mode == "inpaint":
            self.compare_view.set_overlay(None if mask is None else mask_overlay(mask))

    def show_mode_state(self) -> None:
        """Both sides, overlay and brush for the current mode."""
        mode = self.mode
        inpaint = mode == "inpaint"
        mask = self.mask_editor.mask
        self.compare_view.set_brush_enabled(inpaint and self.current_pixels is not None)
        self.compare_view.set_overlay(mask_overlay(mask) if inpaint and mask is not None
                                      else None)
        if self.current_pixels is None:
            return
        self._show_left(mode)
        result = self._results.get(mode)
        heatmap = None
        if result is not None and self.heatmap_action.isChecked():
            heatmap = difference_heatmap(self.current_pixels, result)
        if self._flashing:
            self.compare_view.set_right(self.current_pixels, "Original (release Space)")
        elif heatmap is not None:
            self.compare_view.set_right(
                heatmap, f"Difference |original − {CAPTIONS[mode].lower()}| ×{DEFAULT_GAIN:g}")
        elif result is not None:
            self.compare_view.set_right(result, CAPTIONS[mode])
        else:
            self.compare_view.set_right(None, f"{CAPTIONS[mode]} (not computed yet)")

    def _show_left(self, mode: str) -> None:
        """The original, or in Compress mode the classic codec at the same size if chosen."""
        same = self.same_size_result
        h, w = self.current_pixels.shape[:2]
        showing_classic = self.compress_panel.compare_with != "original"
        if mode == "compress" and same is not None and showing_classic:
            caption = (f"{same['format'].upper()} q{same['quality']} · {same['bytes']:,} bytes · "
                       f"{same['psnr']:.2f} dB")
            self.compare_view.set_left(same["pixels"], caption)
        else:
            self.compare_view.set_left(self.current_pixels,
                                       f"Original · {self.current_name} · {w}×{h}".strip())

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
            self.show_mode_state()

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
        self.set_layout(self.settings.choice(_LAYOUT_KEY, LAYOUTS, "split"))
        self.set_theme(self.settings.choice(_THEME_KEY, THEMES, "system"))
        self.compress_panel.set_compare_with(
            self.settings.choice(_COMPARE_KEY, tuple(COMPARE_CHOICES), "original"))

    def save_settings(self) -> None:
        self.settings.set_geometry(self.saveGeometry())
        self.settings.set_mode(self.mode)
        self.settings.set_quality(self.compress_panel.quality)
        self.settings.sync()

    # ================================================================ status bar model label
    def _model_id(self, task: str) -> str:
        if task not in self._model_ids:
            try:  # resolve only: hashing the model files here would stall the UI thread
                self._model_ids[task] = self.engine.resolve(task).id
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

