"""The batch dialog: a task over a whole folder, with a progress bar, cancel and "Open output
folder" at the end. Opened by File ▸ Batch… or by dropping a folder on the main window; the
task defaults to the main window's mode. Each task has its own options, the model included
(:mod:`app.gui.batch_options`); failed files are listed one clean line each and the run ends
with a summary (:mod:`app.gui.batch_text`). Opening it from the window, the folders kept
across restarts and the suggested output folder are in :mod:`app.gui.batch_setup`.

The work is :class:`app.core.batch.BatchRunner` (the local backend of ``aestudio batch``) in a
:class:`QThread`; its progress callbacks arrive here as queued signals.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.batch import (
    BatchOptions,
    BatchProgress,
    BatchReport,
    BatchRunner,
    default_threads,
    default_workers,
    describe_error,
)

from .batch_options import TaskOptions
from .batch_setup import (
    INPUT_KEY,
    OUTPUT_KEY,
    SuggestedEdit,
    dropped_folder,
    engine_settings,
    fix_label_width,
    open_folder,
    open_folder_failed,
)
from .batch_text import error_row, report_summary

if TYPE_CHECKING:
    from .settings import Settings

__all__ = ["BatchDialog", "BatchThread", "dropped_folder", "engine_settings"]

IDLE_HINT = "Choose an input folder, an output folder and a task."
MASKS_HINT = "Choose the masks folder: white = fill, the same names as the images."
TASK_LABELS = {"denoise": "Denoise", "inpaint": "Inpaint (masks folder)",
               "compress": "Compress to .aei", "decompress": "Decompress .aei"}


class BatchThread(QThread):
    """Runs one batch; ``progressed`` / ``finished_report`` / ``failed`` are queued to the GUI."""

    progressed = Signal(object)        # BatchProgress
    finished_report = Signal(object)   # BatchReport
    failed = Signal(str)

    def __init__(self, opts: BatchOptions, engine_factory: Callable[[int], Any] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = BatchRunner(opts, engine_factory=engine_factory,
                                  on_progress=self.progressed.emit)

    def cancel(self) -> None:
        self.runner.cancel()

    def run(self) -> None:  # noqa: D401 - Qt override, runs in the thread
        try:
            report = self.runner.run()
        except Exception as exc:  # noqa: BLE001 - shown in the dialog
            self.failed.emit(describe_error(exc))
        else:
            self.finished_report.emit(report)


class BatchDialog(QDialog):
    """Pick folders and a task, start, watch, cancel, open the output folder."""

    finished_batch = Signal(object)    # BatchReport, or None when the batch could not run

    def __init__(self, parent: QWidget | None = None, *, models_dir: str | None = None,
                 provider: str | None = None,
                 engine_factory: Callable[[int], Any] | None = None,
                 input_dir: str | Path | None = None, task: str | None = None,
                 settings: Settings | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch")
        self.models_dir = models_dir
        self.provider = provider
        self.engine_factory = engine_factory
        self.settings = settings  # the folders are remembered there
        self.batch_thread: BatchThread | None = None
        self.report: BatchReport | None = None
        self.last_error: str | None = None
        self._build()
        if task in TASK_LABELS:
            self.set_task(task)
        if input_dir is not None:
            self.set_input(input_dir)
        elif settings is not None:
            self._restore_folders()
        self._on_task_changed()
        self.resize(640, 520)

    # ------------------------------------------------------------------ widgets
    def _folder_row(self, edit: QLineEdit, title: str) -> QWidget:
        row = QWidget(self)
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(edit, 1)
        button = QPushButton("Browse…", row)
        button.clicked.connect(lambda: self._browse(edit, title))
        lay.addWidget(button)
        return row

    def _build(self) -> None:
        self.input_edit = QLineEdit(self)
        self.output_edit = SuggestedEdit(self)  # typing replaces the suggested folder
        self.input_edit.editingFinished.connect(lambda: self._suggest_output())
        self.task_combo = QComboBox(self)
        for task, label in TASK_LABELS.items():
            self.task_combo.addItem(label, task)
        self.task_combo.currentIndexChanged.connect(self._on_task_changed)
        form = QFormLayout()
        self.input_row = self._folder_row(self.input_edit, "Input folder")
        self.output_row = self._folder_row(self.output_edit, "Output folder")
        form.addRow("Input folder", self.input_row)
        form.addRow("Output folder", self.output_row)
        form.addRow("Task", self.task_combo)
        # each task's rows in this form: one label column for every task
        self.task_options = TaskOptions(form, self._folder_row, self.models_dir, self)
        self.masks_edit = self.task_options.masks_edit
        self.masks_row = self.task_options.masks_row
        self.quality_spin = self.task_options.quality_spin
        self.recursive_check = QCheckBox("Include subfolders (mirrored in the output)", self)
        self.skip_check = QCheckBox("Skip files whose output exists (continue a batch)", self)
        self.skip_check.setChecked(True)
        self.workers_spin = QSpinBox(self)
        self.workers_spin.setRange(1, max(1, default_threads(1)))
        self.workers_spin.setValue(default_workers())
        self.workers_spin.setToolTip("Inference workers, each with its own model sessions")

        form.addRow("Workers", self.workers_spin)
        form.addRow("", self.recursive_check)
        form.addRow("", self.skip_check)
        fix_label_width(form)

        self.progress_bar = QProgressBar(self)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.status_label = QLabel(IDLE_HINT, self)
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(  # paths and errors can be copied
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.log.setPlaceholderText("Files that could not be processed are listed here.")

        self.start_button = QPushButton("Start", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.open_button = QPushButton("Open output folder", self)
        self.close_button = QPushButton("Close", self)
        self.start_button.setDefault(True)
        self.cancel_button.setEnabled(False)
        self.open_button.setEnabled(False)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.open_button.clicked.connect(self.open_output_folder)
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.close_button)

        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.progress_bar)
        lay.addWidget(self.status_label)
        lay.addWidget(self.log, 1)
        lay.addLayout(buttons)
        # a new setup makes the last run's summary and error rows obsolete
        for edit in (self.input_edit, self.output_edit, self.masks_edit):
            edit.textChanged.connect(self._forget_report)
        self.task_combo.currentIndexChanged.connect(self._forget_report)

    # ------------------------------------------------------------------ state
    @property
    def task(self) -> str:
        return self.task_combo.currentData()

    def set_task(self, task: str) -> None:
        self.task_combo.setCurrentIndex(list(TASK_LABELS).index(task))

    @property
    def is_running(self) -> bool:
        return self.batch_thread is not None and self.batch_thread.isRunning()

    def set_input(self, folder: str | Path) -> None:
        """Another input folder (a dropped one, one from the command line): the output
        folder is suggested for it anew."""
        if str(folder) != self.input_edit.text().strip():
            self.output_edit.suggested = True
        self.input_edit.setText(str(folder))
        self._suggest_output()

    def set_output(self, folder: str | Path) -> None:
        self.output_edit.setText(str(folder))
        self.output_edit.suggested = False

    def _suggest_output(self) -> None:
        """A sibling of the input folder named after the task, until the user picks one."""
        text = self.input_edit.text().strip()
        if not text or (self.output_edit.text().strip() and not self.output_edit.suggested):
            return
        src = Path(text)
        self.output_edit.suggest(str(src.with_name(f"{src.name}_{self.task}")))

    def _restore_folders(self) -> None:
        """The folders of the last batch started, where they still exist."""
        # an output folder is made by the batch: it need not exist yet
        folder = self.settings.folder(INPUT_KEY)
        output = self.settings.folder(OUTPUT_KEY, must_exist=False) if folder else ""
        if folder:
            self.set_input(folder)
        if output and output != self.output_edit.text():
            self.set_output(output)

    def _on_task_changed(self, *_args) -> None:
        self.task_options.show_task(self.task)
        self._suggest_output()
        self._show_hint()

    def _show_hint(self, *_args) -> None:
        """What is still missing before Start, while no run has anything to say."""
        if self.is_running or self.report is not None or self.last_error is not None:
            return
        hint = ""
        if not (self.input_edit.text().strip() and self.output_edit.text().strip()):
            hint = IDLE_HINT
        elif self.task == "inpaint" and not self.masks_edit.text().strip():
            hint = MASKS_HINT
        self.status_label.setText(hint)

    def _forget_report(self, *_args) -> None:
        """Clear the last run's summary, rows and hint once the user sets up another run."""
        if self.is_running or (self.report is None and self.last_error is None):
            self._show_hint()
            return
        self.report = None
        self.last_error = None
        self.log.clear()
        self.open_button.setEnabled(False)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self._show_hint()

    def _browse(self, edit: QLineEdit, title: str) -> None:
        folder = QFileDialog.getExistingDirectory(self, title, edit.text())
        if folder:
            edit.setText(folder)
            if edit is self.input_edit:
                self._suggest_output()
            elif edit is self.output_edit:
                self.output_edit.suggested = False

    def options(self) -> BatchOptions:
        return BatchOptions(task=self.task, input_dir=self.input_edit.text().strip(),
                            output_dir=self.output_edit.text().strip(),
                            recursive=self.recursive_check.isChecked(),
                            workers=self.workers_spin.value(),
                            skip_existing=self.skip_check.isChecked(),
                            models_dir=self.models_dir, provider=self.provider,
                            **self.task_options.values(self.task))

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for w in (self.input_row, self.output_row, self.task_combo, self.task_options,
                  self.recursive_check, self.skip_check, self.workers_spin):
            w.setEnabled(not running)
        if not running:
            self._on_task_changed()

    # ------------------------------------------------------------------ actions
    def start(self) -> bool:
        """Start the batch; False (with the reason shown) when it cannot start."""
        if self.is_running:
            return False
        opts = self.options()
        if not opts.input_dir or not opts.output_dir:
            self._show_error("Choose an input folder and an output folder first.")
            return False
        if self.settings is not None:
            self.settings.set_folder(INPUT_KEY, opts.input_dir)
            self.settings.set_folder(OUTPUT_KEY, opts.output_dir)
        self.report = None
        self.last_error = None
        self.log.clear()
        self.open_button.setEnabled(False)
        self.progress_bar.setRange(0, 0)  # busy until the first file is counted
        self.status_label.setText("Starting…")
        self.batch_thread = BatchThread(opts, self.engine_factory, self)
        self.batch_thread.progressed.connect(self._on_progress)
        self.batch_thread.finished_report.connect(self._on_finished)
        self.batch_thread.failed.connect(self._on_failed)
        self._set_running(True)
        self.batch_thread.start()
        return True

    def cancel(self) -> None:
        if self.batch_thread is not None:
            self.cancel_button.setEnabled(False)
            self.status_label.setText("Cancelling… (files being written are completed)")
            self.batch_thread.cancel()

    def open_output_folder(self) -> bool:
        """Show the output folder in the desktop's file manager; where there is none, say
        so and give its path."""
        folder = self.output_edit.text().strip()
        if not folder:
            return False
        if open_folder(folder):
            return True
        summary = report_summary(self.report) + "\n" if self.report is not None else ""
        self.status_label.setText(summary + open_folder_failed(folder))
        return False

    def wait_done(self, timeout_ms: int = 30000) -> bool:
        """Wait for the batch thread to end (tests, closing)."""
        return self.batch_thread is None or self.batch_thread.wait(timeout_ms)

    # ------------------------------------------------------------------ reactions
    def _on_progress(self, p: BatchProgress) -> None:
        if p.total:
            self.progress_bar.setRange(0, p.total)
            self.progress_bar.setValue(p.done)
        eta = "" if p.eta is None else f" · about {int(p.eta) // 60}:{int(p.eta) % 60:02d} left"
        failed = f" · {p.failed} failed" if p.failed else ""
        self.status_label.setText(f"{p.done} / {p.total} · {p.rate:.2f} images/s{eta}{failed}"
                                  + (f"\n{p.current}" if p.current else ""))

    def _on_finished(self, report: BatchReport) -> None:
        self.report = report
        self._set_running(False)
        total = max(1, len(report.files))
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(total if not report.cancelled else
                                   total - sum(f.note == "cancelled" for f in report.files))
        self.status_label.setText(report_summary(report))
        for f in report.failures():
            self.log.appendPlainText(error_row(f))
        self.open_button.setEnabled(True)
        self.finished_batch.emit(report)

    def _on_failed(self, message: str) -> None:
        self._set_running(False)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self._show_error(message)
        self.finished_batch.emit(None)

    def _show_error(self, message: str) -> None:
        self.last_error = message
        self.status_label.setText(f"Cannot run the batch: {message}")

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.is_running:
            self.cancel()
            self.wait_done(60000)
        super().closeEvent(event)

