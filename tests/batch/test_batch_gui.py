"""The batch dialog (pytest-qt): a batch on a tiny folder with the tiny models, cancel, "Open
output folder", and dropping a folder on the main window."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDesktopServices, QDragEnterEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.gui.batch_dialog import BatchDialog  # noqa: E402
from tests.batch.helpers import SlowEngine, temp_files, tree  # noqa: E402

TIMEOUT_MS = 120_000


@pytest.fixture
def dialog(qtbot, tiny_models):
    dlg = BatchDialog(models_dir=str(tiny_models), provider="cpu")
    qtbot.addWidget(dlg)
    dlg.show()
    yield dlg
    if dlg.is_running:
        dlg.cancel()
    dlg.wait_done(TIMEOUT_MS)


def test_dialog_runs_a_batch_and_opens_the_output(qtbot, dialog, photos, tmp_path,
                                                  monkeypatch):
    src = photos(["a.png", "b.jpg", "sub/c.png"])
    (src / "bad.png").write_bytes(b"not an image")
    dialog.set_input(src)
    assert dialog.output_edit.text() == str(tmp_path / "in_denoise")  # suggested
    out = tmp_path / "result"
    dialog.set_output(out)
    dialog.set_task("denoise")
    dialog.recursive_check.setChecked(True)
    assert not dialog.open_button.isEnabled()
    with qtbot.waitSignal(dialog.finished_batch, timeout=TIMEOUT_MS) as blocker:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        assert dialog.is_running and not dialog.start_button.isEnabled()
    report = blocker.args[0]
    assert report is dialog.report and not report.cancelled
    assert report.totals == {"files": 4, "ok": 3, "failed": 1, "skipped": 0}
    assert sorted(tree(out)) == ["a.png", "b.png", "sub/c.png"]
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum() == 4
    assert "bad.png" in dialog.log.toPlainText()
    assert dialog.status_label.text().startswith("Done: 3 images denoised, 1 failed")
    assert dialog.start_button.isEnabled() and dialog.open_button.isEnabled()

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert opened == [QUrl.fromLocalFile(str(out.resolve()))]


def test_dialog_cancel(qtbot, tiny_models, photos, tmp_path):
    from app.core.engine import Engine

    src = photos([f"p{i:02d}.png" for i in range(12)])
    dlg = BatchDialog(engine_factory=lambda threads: SlowEngine(
        Engine(tiny_models, provider="cpu", threads=threads)))
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.set_input(src)
    dlg.set_output(tmp_path / "out")
    with qtbot.waitSignal(dlg.finished_batch, timeout=TIMEOUT_MS) as blocker:
        assert dlg.start()
        qtbot.waitUntil(lambda: dlg.progress_bar.value() >= 1, timeout=TIMEOUT_MS)
        qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    report = blocker.args[0]
    assert report.cancelled and "Cancelled" in dlg.status_label.text()
    t = report.totals
    assert t["ok"] >= 1 and t["skipped"] >= 1 and t["ok"] + t["skipped"] == 12
    assert len(tree(tmp_path / "out")) == t["ok"] and not temp_files(tmp_path / "out")
    assert dlg.start_button.isEnabled() and not dlg.cancel_button.isEnabled()


def test_dialog_shows_why_it_cannot_start(qtbot, dialog, photos):
    src = photos(["a.png"])
    dialog.set_input(src)
    dialog.set_output(src / "inside")
    with qtbot.waitSignal(dialog.finished_batch, timeout=TIMEOUT_MS) as blocker:
        dialog.start()
    assert blocker.args[0] is None
    assert "inside the input folder" in dialog.status_label.text()
    assert not (src / "inside").exists()


def folder_mime(path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def test_dropping_a_folder_opens_the_batch_dialog(qtbot, tiny_engine, photos):
    from app.gui.main_window import MainWindow

    src = photos(["a.png"])
    win = MainWindow(tiny_engine)
    qtbot.addWidget(win)
    win.show()
    mime = folder_mime(src)
    center = QPointF(win.rect().center())
    enter = QDragEnterEvent(center.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(win, enter)
    assert enter.isAccepted()
    drop = QDropEvent(center, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(win, drop)
    assert drop.isAccepted()
    dlg = win.batch_dialog
    assert dlg is not None and dlg.isVisible()
    assert dlg.input_edit.text() == str(src)
    assert dlg.models_dir == str(tiny_engine.registry.root) and dlg.provider == "cpu"
    assert win.batch_action.text() == "&Batch…"
    assert win.open_batch_dialog() is dlg  # File > Batch… shows the same dialog
    win.close()
    win.controller.shutdown(TIMEOUT_MS)
