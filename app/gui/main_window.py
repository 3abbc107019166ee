"""The AE Studio main window: wiring between menus, panels, the comparison view and the
controller. Image work happens in the controller's background jobs; the window only reacts
to intents and results.

The window is put together from parts, each in its own module: menus and shortcuts
(:mod:`app.gui.actions`), files (:mod:`app.gui.window_files`), starting jobs and taking in
their results (:mod:`app.gui.window_jobs`), the status bar (:mod:`app.gui.window_status`),
saved preferences (:mod:`app.gui.window_settings`), reading files off the UI thread
(:mod:`app.gui.file_opener`), Space to see the original
(:mod:`app.gui.flash_original`), the mask being painted (:mod:`app.gui.mask_editor`) and the
readouts drawn from the document (:mod:`app.gui.document_view`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QPointF, QSettings
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.core.document import MODES, Document, Source

if TYPE_CHECKING:
    from app.core.engine import Engine

from .actions import build_menus
from .batch_dialog import BatchDialog
from .classic_encoder import ClassicEncoder
from .compare_sides import save_side_dialog
from .compress_preview import CompressPreview
from .panel_fit import MIN_WINDOW, PanelFit
from .controller import Controller
from .document_view import APP_TITLE, DocumentView
from .empty_state import EmptyState
from .file_opener import FileOpener
from .flash_original import FlashOriginalMixin
from .heatmap_worker import HeatmapWorker
from .inpaint_steps import InpaintSteps
from .mask import mask_overlay
from .mask_editor import MaskEditor
from .panels import CompressPanel, DenoisePanel, InpaintPanel
from .settings import Settings
from .theme import ThemeFollower
from .widgets.compare_view import CompareView
from .window_files import PASTED_NAME, FileMixin
from .window_jobs import JobsMixin
from .window_settings import SettingsMixin
from .window_status import StatusBarMixin

__all__ = ["APP_TITLE", "MODES", "PASTED_NAME", "MainWindow"]


class MainWindow(FileMixin, JobsMixin, StatusBarMixin, SettingsMixin, FlashOriginalMixin,
                 QMainWindow):
    """Open an image (menu, drop or argument), pick a mode, see original | result."""

    def __init__(self, engine: Engine, parent: QWidget | None = None,
                 settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.settings = Settings(settings)
        self.controller = Controller(engine, self)
        # files to open are read (and images decoded) in its worker
        self.opener = FileOpener(self)
        # the image, its source, each mode's result, busy and stale flags: all readouts are
        # drawn from it by ``document_view`` (app/gui/document_view.py)
        self.document = Document()
        # the classic-codec sides of the comparison, encoded in their own threads
        self.classic_encoder = ClassicEncoder(self.document, self)
        # a quick preview on a downscaled copy while a compress runs
        self.compress_preview = CompressPreview(
            self.document, engine, lambda: self.compress_panel.quality, self)
        self.controller.before_compress = self.compress_preview.wait_turn  # preview first
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
        self.show_empty_state(not self.document.has_image)
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
        c.progress.connect(self._show_progress_note)
        # the release ends the wait for a pause in the drag
        self.quality_slider.sliderReleased.connect(c.flush)
        self.document.same_size_changed.connect(self._show_side_qualities)
        self.opener.opened.connect(self._take_opened)
        self.opener.failed.connect(self._take_opened)
        self.cancel_button.clicked.connect(c.cancel)
        self.compress_panel.qualityChanged.connect(self._on_quality_changed)
        self.compress_panel.compressRequested.connect(self.compress_now)
        self.compress_panel.targetSizeRequested.connect(self.compress_to_size)
        for side_controls in (self.compress_panel.left_side, self.compress_panel.right_side):
            side_controls.changed.connect(
                lambda choice, s=side_controls.side: self.classic_encoder.set_choice(s, choice))
            side_controls.saveRequested.connect(
                lambda s=side_controls.side: save_side_dialog(self, s))
        self.denoise_panel.denoiseRequested.connect(self.denoise_now)
        self.denoise_panel.strengthChanged.connect(self._on_strength_changed)
        panel, editor = self.inpaint_panel, self.mask_editor
        panel.inpaintRequested.connect(self.inpaint_now)
        panel.loadMaskRequested.connect(self.load_mask_dialog)
        panel.clearMaskRequested.connect(editor.clear)
        panel.undoRequested.connect(editor.undo)
        panel.redoRequested.connect(editor.redo)
        panel.brushSizeChanged.connect(self.compare_view.set_brush_radius)
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
        self._store_choices_as_made()

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
        self.opener.cancel()  # and a file still being read
        self.heatmaps.clear()
        self.mask_editor.reset(pixels.shape)
        self.document.open(pixels, source or Source(
            "pasted" if name == PASTED_NAME else "file", name))
        if self.mode == "compress":
            self.compress_now()

    def show_empty_state(self, empty: bool) -> None:
        """The drop zone with Open and Open sample (nothing open), or the comparison (also
        while an .aei file is decoded)."""
        self.view_stack.setCurrentWidget(self.empty_state if empty else self.compare_view)
        # a button that needs an image is disabled, not answered with a warning dialog
        panel = self.compress_panel
        for button in (panel.compress_button, panel.fit_button, panel.left_side.save_button,
                       panel.right_side.save_button, self.denoise_panel.denoise_button,
                       self.inpaint_panel.inpaint_button):
            button.setEnabled(self.document.has_image)
        # and so is a menu item (File ▸ Save…, the folder's next image, a mask to load)
        for action in (self.save_action, self.save_aei_action, self.save_image_action,
                       self.save_left_action, self.save_right_action, self.previous_action,
                       self.next_action, self.load_mask_action):
            action.setEnabled(self.document.has_image)

    def open_sample(self) -> bool:
        from app.core.demo import SAMPLE

        return self.open_path(SAMPLE)

    def clear_mask(self) -> None:
        self.mask_editor.clear()

    def about(self) -> None:
        QMessageBox.about(self, f"About {APP_TITLE}",
                          f"<b>{APP_TITLE} {__version__}</b><p>Compress, denoise and inpaint photos with "
                          "learned autoencoders (ONNX Runtime).</p>"
                          f"<p>{self.model_label.text()}</p>")

    # ================================================================ reactions
    def _on_mode_changed(self, _index: int) -> None:
        self.settings.set_mode(self.mode)
        self.show_mode_state()
        self._update_model_label()
        if self.mode == "inpaint" and self.current_pixels is not None:
            # the image takes the keyboard focus, not the radius box: [ ] E work at once
            self.compare_view.left.setFocus()
        self.compress_if_due()

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

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_settings()
        if self.batch_dialog is not None:
            self.batch_dialog.close()
        self.controller.shutdown(10000)
        self.opener.shutdown(10000)
        self.heatmaps.shutdown(10000)
        self.classic_encoder.shutdown(10000)
        self.compress_preview.shutdown(10000)
        super().closeEvent(event)

