"""The batch dialog as issue 28 asks for it (pytest-qt, the real dialog on tiny images and the
installed models): it follows the window's mode, has options per task with the model,
lists failures once each, ends with a summary and "Open output folder", says "cancelled"
once, and forgets the previous run when a new one is set up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices

from app.core.batch import BatchReport, FileResult
from app.gui.batch_dialog import BatchDialog, engine_settings
from app.gui.batch_open import open_batch
from app.gui.batch_text import error_row, report_summary

from tests.batch.helpers import SlowEngine
from tests.gui.conftest import gradient

TIMEOUT_MS = 120_000


def folder(root: Path, names: list[str], size=(40, 48)) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(gradient(*size, seed=i)).save(path)
    return root


@pytest.fixture
def dialog(qtbot, engine):
    models, _ = engine_settings(engine)
    dlg = BatchDialog(models_dir=models, provider="cpu")
    qtbot.addWidget(dlg)
    dlg.show()
    yield dlg
    if dlg.is_running:
        dlg.cancel()
    dlg.wait_done(TIMEOUT_MS)


# ---------------------------------------------------------------------------- wording
def test_an_error_row_names_the_file_once():
    f = FileResult("sub/bad.png", "/data/in/sub/bad.png", None, "failed",
                   error="bad.png: not a recognised image file")
    assert error_row(f) == "sub/bad.png — not a recognised image file"
    f.error = "Permission denied: /data/in/sub/bad.png"
    assert error_row(f) == "sub/bad.png — Permission denied"
    f.error = "mask missing\nsecond line"
    assert error_row(f) == "sub/bad.png — mask missing"


def report(files, cancelled=False) -> BatchReport:
    return BatchReport("denoise", "in", "out", "local", 1, "now", 2.0, files, cancelled)


def test_the_summary_says_cancelled_once_and_counts_what_never_started():
    files = [FileResult(f"{i}.png", "", None, "ok") for i in range(3)]
    files += [FileResult(f"s{i}.png", "", None, "skipped", note="cancelled") for i in range(9)]
    text = report_summary(report(files, cancelled=True))
    assert text.lower().count("cancel") == 1
    assert text == "Cancelled after 3 of 12 images: 3 denoised, 0 failed, 9 not done."
    done = report_summary(report(files[:3] + [FileResult("x.png", "", None, "failed")]))
    assert done.startswith("Done: 3 images denoised, 1 failed") and "cancel" not in done


# ---------------------------------------------------------------------------- the dialog
def test_the_task_follows_the_windows_mode(qtbot, window):
    window.set_mode("denoise")
    dlg = open_batch(window)
    assert dlg.task == "denoise"
    assert dlg.task_options.sigma_spin.isVisibleTo(dlg)
    assert not dlg.masks_row.isVisibleTo(dlg)
    dlg.close()
    window.set_mode("inpaint")
    assert open_batch(window).task == "inpaint"
    assert dlg.masks_row.isVisibleTo(dlg)
    assert not dlg.task_options.sigma_spin.isVisibleTo(dlg)
    dlg.close()


def test_options_per_task_reach_the_batch(dialog, engine):
    dialog.set_task("denoise")
    opts = dialog.options()
    assert (opts.sigma, opts.strength, opts.passes, opts.model) == (None, 1.0, 1, None)
    dialog.task_options.auto_sigma_check.setChecked(False)
    dialog.task_options.sigma_spin.setValue(25)
    dialog.task_options.strength_spin.setValue(0.5)
    dialog.task_options.denoise_passes.setCurrentIndex(
        dialog.task_options.denoise_passes.findData(4))
    default = engine.registry.default("denoise").id
    others = [m.id for m in engine.registry.list("denoise") if m.id != default]
    assert dialog.task_options.set_model("denoise", others[0])
    opts = dialog.options()
    assert (opts.sigma, opts.strength, opts.passes, opts.model) == (25, 0.5, 4, others[0])
    assert dialog.task_options.set_model("denoise", default)  # the Default entry
    assert dialog.options().model is None
    dialog.task_options.set_model("denoise", others[0])

    dialog.set_task("compress")
    dialog.quality_spin.setValue(40)
    codecs = dialog.task_options.model_combos["compress"]
    assert codecs.itemText(0).startswith("Default (codec-")  # names what Default means
    assert codecs.count() == len(engine.registry.list("codec"))  # the default listed once
    opts = dialog.options()
    assert opts.quality == 40 and opts.sigma is None and opts.passes is None

    dialog.set_task("inpaint")
    dialog.masks_edit.setText("/some/masks")
    opts = dialog.options()
    assert opts.masks == "/some/masks" and opts.passes == 4 and opts.quality == 75
    assert ".png" in dialog.task_options.output_notes["inpaint"].text()
    assert ".aei" in dialog.task_options.output_notes["compress"].text()


def test_a_run_lists_errors_cleanly_sums_up_and_opens_the_output(qtbot, dialog, tmp_path,
                                                                 monkeypatch):
    src = folder(tmp_path / "in", ["a.png", "b.png"])
    (src / "bad.png").write_bytes(b"not an image")
    dialog.set_input(src)
    dialog.set_task("denoise")
    dialog.task_options.auto_sigma_check.setChecked(False)
    dialog.task_options.sigma_spin.setValue(10)
    out = tmp_path / "out"
    dialog.set_output(out)
    with qtbot.waitSignal(dialog.finished_batch, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    rep = blocker.args[0]
    assert rep.totals["ok"] == 2 and rep.totals["failed"] == 1
    assert all(f.details.get("sigma") == 10 for f in rep.files if f.status == "ok")
    rows = dialog.log.toPlainText().splitlines()
    assert rows == ["bad.png — not a recognised image file"]
    assert dialog.status_label.text().startswith("Done: 2 images denoised, 1 failed")
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    assert dialog.open_button.isEnabled()
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert opened == [QUrl.fromLocalFile(str(out.resolve()))]
    # setting up the next run forgets this one's summary and rows
    dialog.set_output(tmp_path / "out2")
    assert dialog.log.toPlainText() == "" and "Done" not in dialog.status_label.text()
    assert not dialog.open_button.isEnabled()


def test_cancel_says_cancelled_once(qtbot, engine, tmp_path):
    from app.core.engine import Engine

    src = folder(tmp_path / "in", [f"p{i:02d}.png" for i in range(10)])
    root = engine.registry.root
    dlg = BatchDialog(task="denoise", engine_factory=lambda threads: SlowEngine(
        Engine(root, provider="cpu", threads=threads)))
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.set_input(src)
    dlg.set_output(tmp_path / "out")
    dlg.workers_spin.setValue(1)
    with qtbot.waitSignal(dlg.finished_batch, timeout=TIMEOUT_MS) as blocker:
        assert dlg.start()
        qtbot.waitUntil(lambda: dlg.progress_bar.value() >= 1, timeout=TIMEOUT_MS)
        qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    rep = blocker.args[0]
    assert rep.cancelled
    text = dlg.status_label.text()
    assert text.lower().count("cancel") == 1 and text.startswith("Cancelled after")
    assert "not done" in text and dlg.start_button.isEnabled()


def test_the_report_rows_are_one_line_each_for_many_failures(qtbot, dialog, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        (src / f"broken{i}.png").write_bytes(b"x" * (i + 1))
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(src / "fine.png")
    dialog.set_task("compress")
    dialog.set_input(src)
    dialog.set_output(tmp_path / "out")
    with qtbot.waitSignal(dialog.finished_batch, timeout=TIMEOUT_MS):
        dialog.start()
    rows = dialog.log.toPlainText().splitlines()
    assert len(rows) == 3
    for row in rows:
        name, _, message = row.partition(" — ")
        assert name.startswith("broken") and name not in message and message
