"""The AE Studio main window: wiring between menus, panels, the comparison view and the
controller. Image work happens in the controller's background jobs; this module only reacts
to intents and results. Menus and shortcuts live in :mod:`app.gui.actions`, the mask being
painted in :mod:`app.gui.mask_editor`."""

from __future__ import annotations

import time
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
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.core.document import Document, Source

from .actions import build_menus
from .batch_dialog import BatchDialog
from .classic_encoder import ClassicEncoder
from .compare_sides import save_side_dialog
from .compress_preview import CompressPreview
from .panel_fit import MIN_WINDOW, PanelFit
from .controller import Controller
from .document_view import APP_TITLE, DocumentView, progress_text
from .empty_state import EmptyState
from .files import error_reason
from .heatmap_worker import HeatmapWorker
from .inpaint_steps import InpaintSteps
from .keys import BracketKeysPassThrough
from .mask import mask_overlay
from .mask_editor import MaskEditor
from .panels import (
    COMPARE_CHOICES,
    CompressPanel,
    DenoisePanel,
    InpaintPanel,
)
from .settings import Settings
from .theme import THEMES, ThemeFollower
from .widgets.compare_view import LAYOUTS, CompareView
from .window_files import PASTED_NAME, FileMixin

__all__ = ["APP_TITLE", "MODES", "PASTED_NAME", "MainWindow"]

MODES = ("compress", "denoise", "inpaint")
_LAYOUT_KEY, _THEME_KEY, _COMPARE_KEY = "view/layout", "view/theme", "compress/compareWith"
_BRUSH_KEY, _AUTO_KEY, _DIVIDER_KEY = "inpaint/brushRadius", "denoise/automatic", "view/divider"


class MainWindow(FileMixin, QMainWindow):
    """Open an image (menu, drop or argument), pick a mode, see original | result."""

    def __init__(self, engine: Any, parent: QWidget | None = None,
                 settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.settings = Settings(settings)
        self._flashing = False  # Space held: the right pane shows the original
        self.controller = Controller(engine, self)
        # the image, its source, each mode's result, busy and stale flags: all readouts are
        # drawn from it by ``document_view`` (app/gui/document_view.py)
        self.document = Document()
        # the classic-codec sides of the comparison, encoded in their own threads
        self.classic_encoder = ClassicEncoder(self.document, self)
        # a quick preview on a downscaled copy while a compress runs
        self.compress_preview = CompressPreview(
            self.document, engine, lambda: self.compress_panel.quality, self)
        self.heatmaps = HeatmapWorker(self)
        self.last_error: str | None = None
        self.show_error_dialogs = True
        self._decoding: dict[str, Path] = {}  # .aei name -> path, until it is decoded
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
        self.document_view = DocumentView(self)
        self._connect()
        self.inpaint_steps = InpaintSteps(self)  # "Continue on result" / "Step back"
        self._restore_settings()
        self._update_model_label()
        self.document_view.render_panes()

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
        # wrapped result lines are never cut off, even at the minimum window size
        self.panel_fit = PanelFit(self.tabs)
        self.setMinimumSize(*MIN_WINDOW)
        from app.core.demo import SAMPLE

        self.empty_state = EmptyState(self, sample_available=SAMPLE.is_file())
        self.view_stack = QStackedWidget(self)  # the empty state until an image is open
        self.view_stack.addWidget(self.empty_state)
        self.view_stack.addWidget(self.compare_view)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.addWidget(self.view_stack, 1)
        layout.addWidget(self.tabs)
        self.setCentralWidget(central)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setMaximumWidth(260)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.hide()
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.hide()
        self.model_label = QLabel(self)
        self.zoom_label = QLabel(self)
        self.zoom_label.setToolTip("Zoom (Ctrl+0 fits, Ctrl+1 is 100 %)")
        bar.addPermanentWidget(self.zoom_label)
        bar.addPermanentWidget(self.progress_bar)
        bar.addPermanentWidget(self.cancel_button)
        bar.addPermanentWidget(self.model_label)

    def _connect(self) -> None:
        c = self.controller
        c.compressed.connect(self._on_compressed)
        c.decoded.connect(self._on_decoded)
        c.denoised.connect(self._on_denoised)
        c.inpainted.connect(self._on_inpainted)
        c.failed.connect(self._on_failed)
        c.cancelled.connect(self._on_cancelled)
        c.busy.connect(self._on_busy)
        c.progress.connect(self._on_progress)
        self.cancel_button.clicked.connect(c.cancel)
        self.compress_panel.qualityChanged.connect(self._on_quality_changed)
        self.compress_panel.qualityChanged.connect(self.settings.set_quality)
        self.compress_panel.compressRequested.connect(self.compress_now)
        self.compress_panel.targetSizeRequested.connect(self.compress_to_size)
        self.compress_panel.compareWithChanged.connect(self._on_compare_with_changed)
        for side_controls in (self.compress_panel.left_side, self.compress_panel.right_side):
            side_controls.changed.connect(
                lambda choice, s=side_controls.side: self.classic_encoder.set_choice(s, choice))
            side_controls.saveRequested.connect(
                lambda s=side_controls.side: save_side_dialog(self, s))
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
        panel.brushSizeChanged.connect(lambda r: self.settings.set_value(_BRUSH_KEY, int(r)))
        # [ and ] resize the brush even while the radius box has the focus
        panel.brush_spin.installEventFilter(BracketKeysPassThrough(panel.brush_spin))
        self.denoise_panel.auto_check.toggled.connect(
            lambda on: self.settings.set_value(_AUTO_KEY, bool(on)))
        self.compare_view.viewChanged.connect(self._update_zoom_label)
        self.empty_state.openRequested.connect(self.open_dialog)
        self.empty_state.sampleRequested.connect(self.open_sample)
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

    # the document's state under the names the rest of the window (and tests) use
    @property
    def current_pixels(self) -> np.ndarray | None:
        return self.document.image

    @property
    def current_name(self) -> str:
        return self.document.source.name

    @property
    def last_result(self) -> dict[str, Any] | None:
        """The measures of the compressed file shown (or of the opened .aei)."""
        return self.document.modes["compress"].info

    @property
    def same_size_result(self) -> dict[str, Any] | None:
        return self.document.same_size.result

    @property
    def _aei_data(self) -> bytes | None:
        return self.document.aei_data

    @property
    def _results(self) -> dict[str, np.ndarray]:
        """Read-only snapshot: results change through the document only."""
        return {m: s.result for m, s in self.document.modes.items() if s.result is not None}

    def result_pixels(self, mode: str | None = None) -> np.ndarray | None:
        """The latest result of ``mode`` (default: the current mode)."""
        return self.document.result(mode or self.mode)

    def set_image(self, pixels: np.ndarray, name: str = "", source: Source | None = None) -> None:
        """Make ``pixels`` the current image and run the current mode's automatic job."""
        self.controller.reset()  # results still in flight belong to the previous image
        self._decoding.clear()  # so is an .aei still being decoded
        self.heatmaps.clear()
        self.mask_editor.reset(pixels.shape)
        self.document.open(pixels, source or Source(
            "pasted" if name == PASTED_NAME else "file", name))
        if self.mode == "compress":
            self.compress_now()

    def show_empty_state(self, empty: bool) -> None:
        """The drop zone with Open and Open sample (no image), or the comparison."""
        self.view_stack.setCurrentWidget(self.empty_state if empty else self.compare_view)

    def open_sample(self) -> bool:
        from app.core.demo import SAMPLE

        return self.open_path(SAMPLE)

    def compress_now(self) -> None:
        if self._require_image():
            quality = self.compress_panel.quality
            self.document.start("compress", f"Compressing at quality {quality}…")
            self.controller.compress(self.current_pixels, quality)

    def compress_to_size(self, target_bytes: int) -> None:
        """Compress at the best quality whose file fits ``target_bytes``."""
        if self._require_image():
            self.document.start("compress",
                                f"Finding the best quality for {target_bytes:,} bytes…")
            self.controller.compress(self.current_pixels, self.compress_panel.quality,
                                     target_bytes=target_bytes)

    def denoise_now(self) -> None:
        if self._require_image():
            self.document.start("denoise", "Denoising…")
            self.controller.denoise(self.current_pixels, self.denoise_panel.sigma,
                                    self.denoise_panel.passes)

    def inpaint_now(self) -> None:
        if not self._require_image():
            return
        if not self.mask_editor.has_holes:
            self.show_error("Paint the areas to fill on the left image, or load a mask, first.")
            return
        self.document.start("inpaint", "Inpainting…")
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
                          f"<b>{APP_TITLE} {__version__}</b><p>Compress, denoise and inpaint photos with "
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
            self.document.start("compress", f"Compressing at quality {quality}…")
            self.controller.request_compress(self.current_pixels, quality)

    def _on_compressed(self, result: dict[str, Any]) -> None:
        info = dict(result)  # the measures (with references to the pixels and file)
        info["original_bytes"] = self.document.source.file_bytes
        if result.get("target_bytes"):
            self.compress_panel.set_quality_silently(result["quality"])
        self.document.finish("compress", result["reconstruction"], info, result["data"])
        self._request_same_size()
        self._update_model_label()

    def _request_same_size(self) -> None:
        """Encode the classic-codec sides that need it (app/gui/classic_encoder.py)."""
        self.classic_encoder.refresh()

    def _on_same_sized(self, result: dict[str, Any]) -> None:
        self.document.finish_same_size(result)

    def _on_compare_with_changed(self, key: str) -> None:
        # the left side's choice itself reaches the document through left_side.changed
        self.settings.set_choice(_COMPARE_KEY, key)

    def _on_strength_changed(self) -> None:
        """A new strength re-runs the denoiser (debounced) once there is a result to update."""
        if self.result_pixels("denoise") is not None:
            self.document.start("denoise", "Denoising…")
            self.controller.request_denoise(self.current_pixels, self.denoise_panel.sigma,
                                            self.denoise_panel.passes)

    def _on_decoded(self, result: dict[str, Any]) -> None:
        pixels, name = result["pixels"], result["name"]
        path = self._decoding.pop(name, None)
        self.set_image_from_aei(pixels, name, result["data"], result["seconds"],
                                result.get("model_id", ""), path)
        self.set_mode("compress")  # after the result is stored: no automatic re-compress
        self._update_model_label()
        self.statusBar().showMessage(f"Decoded {name}", 5000)
        if path is not None:
            self._add_recent(path)  # only once it decoded: a broken file is not "recent"

    def set_image_from_aei(self, pixels: np.ndarray, name: str, data: bytes = b"",
                           decode_seconds: float = 0.0, model_id: str = "",
                           path: Path | None = None) -> None:
        """A decoded .aei: like :meth:`set_image` without starting a compress; its measures
        are the file's size and the *decode* time."""
        self.controller.reset()
        self.heatmaps.clear()
        self.mask_editor.reset(pixels.shape)
        self.document.open_decoded(pixels, Source("aei", name, path), data, decode_seconds,
                                   model_id)

    def _on_denoised(self, result: dict[str, Any]) -> None:
        self.document.finish("denoise", result["pixels"], result)
        self._update_model_label()

    def _on_inpainted(self, result: dict[str, Any]) -> None:
        self.document.finish("inpaint", result["pixels"], result)
        self._update_model_label()

    def _on_failed(self, message: str) -> None:
        if self._decoding:  # an .aei being decoded failed: say which file
            name = list(self._decoding)[-1]
            self._decoding.clear()
            if name not in message:
                message = f"Cannot open {name}: {message}"
        self.document.fail(message)
        self.show_error(message)

    def _on_cancelled(self) -> None:
        self.document.cancel()
        self.statusBar().showMessage("Cancelled.", 5000)

    def _on_busy(self, busy: bool) -> None:
        self.progress_bar.setRange(0, 0)  # indeterminate until progress arrives
        self.progress_bar.setTextVisible(False)
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
            self.progress_bar.setFormat(progress_text(done, total, elapsed))
            self.progress_bar.setTextVisible(True)

    def _on_mode_changed(self, _index: int) -> None:
        self.settings.set_mode(self.mode)
        self.show_mode_state()
        self._update_model_label()
        if self.mode == "inpaint" and self.current_pixels is not None:
            # the image takes the keyboard focus, not the radius box: [ ] E work at once
            self.compare_view.left.setFocus()
        if (self.mode == "compress" and self.current_pixels is not None
                and self.result_pixels("compress") is None and not self.controller.is_busy):
            self.compress_now()

    def _update_zoom_label(self) -> None:
        view = self.compare_view
        if self.current_pixels is None:
            self.zoom_label.setText("")
            return
        percent = view.zoom() * view.devicePixelRatioF() * 100  # 100 % = one device pixel
        self.zoom_label.setText(f"{percent:.0f} %" + (" (fit)" if view.fit_mode else ""))

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
        self.document.set_mask(mask)

    def show_mode_state(self) -> None:
        """Both sides, overlay and brush for the current mode (from the document)."""
        self.document_view.render_panes()

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
        brush = self.settings.number(_BRUSH_KEY, 1, 200)
        if brush is not None:
            self.inpaint_panel.brush_spin.setValue(round(brush))
        automatic = self.settings.flag(_AUTO_KEY)
        if automatic is not None:
            self.denoise_panel.auto_check.setChecked(automatic)
        divider = self.settings.number(_DIVIDER_KEY, 0.0, 1.0)
        if divider is not None:
            self.compare_view.set_divider(divider)

    def save_settings(self) -> None:
        self.settings.set_geometry(self.saveGeometry())
        self.settings.set_mode(self.mode)
        self.settings.set_quality(self.compress_panel.quality)
        self.settings.set_value(_BRUSH_KEY, self.inpaint_panel.brush_radius)
        self.settings.set_value(_AUTO_KEY, self.denoise_panel.auto_check.isChecked())
        self.settings.set_value(_DIVIDER_KEY, float(self.compare_view.divider))
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
        self.heatmaps.shutdown(10000)
        self.classic_encoder.shutdown(10000)
        self.compress_preview.shutdown(10000)
        super().closeEvent(event)

