"""Found by using the real app under Xvfb with a window manager, checked on the real
widgets: "Open output folder" without a file manager, a folder on the command line,
saving a denoised or inpainted result, where save dialogs start, the batch dialog's layout
and memory, the σ slider, and the line naming missing Qt libraries."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog

from app.gui.app import open_arguments
from app.gui.batch_dialog import IDLE_HINT, BatchDialog, engine_settings
from app.gui.batch_open import open_batch
from app.gui.display_check import XCB_PACKAGES, plugin_failure
from app.gui.main_window import MainWindow
from app.gui.settings import Settings
from tests.conftest import REPO
from tests.gui.conftest import gradient

TIMEOUT_MS = 120_000


def ini(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "aestudio.ini"), QSettings.Format.IniFormat)


def make_window(qtbot, engine, settings=None) -> MainWindow:
    win = MainWindow(engine, settings=settings)
    win.show_error_dialogs = False
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    qtbot.waitExposed(win)
    return win


def images(root: Path, n: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.fromarray(gradient(24, 32, seed=i)).save(root / f"p{i}.png")
    return root


@pytest.fixture
def dialog(qtbot, engine, tmp_path):
    models, _ = engine_settings(engine)
    dlg = BatchDialog(models_dir=models, provider="cpu", settings=Settings(ini(tmp_path)))
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    yield dlg
    dlg.wait_done(TIMEOUT_MS)


def run_empty_batch(qtbot, dlg, tmp_path) -> None:
    """A batch over an empty folder: over at once, with its summary and Open output folder."""
    src = tmp_path / "empty"
    src.mkdir(exist_ok=True)
    dlg.set_task("compress")
    dlg.set_input(src)
    dlg.set_output(tmp_path / "out")
    with qtbot.waitSignal(dlg.finished_batch, timeout=TIMEOUT_MS):
        assert dlg.start()


# ------------------------------------------------------------------ Open output folder
def test_open_output_folder_without_a_file_manager_says_so_with_the_path(
        qtbot, dialog, tmp_path, monkeypatch):
    run_empty_batch(qtbot, dialog, tmp_path)
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: False)
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    text = dialog.status_label.text()
    path = str((tmp_path / "out").resolve())
    assert text.startswith("Done: no images found")  # the summary stays
    assert "cannot open folders" in text and path in text
    assert dialog.status_label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert QApplication.clipboard().text() == path


# ------------------------------------------------------------------ a folder opens Batch
def test_a_folder_on_the_command_line_opens_batch_on_it(qtbot, engine, tmp_path):
    win = make_window(qtbot, engine)
    folder = images(tmp_path / "photos", 2)
    files, opened = open_arguments(win, [folder])
    assert files == [] and opened == folder
    dlg = win.batch_dialog
    assert dlg is not None and dlg.isVisible()
    assert dlg.input_edit.text() == str(folder)
    assert dlg.output_edit.text() == str(tmp_path / "photos_compress")
    assert win.current_pixels is None and win.last_error is None  # no "is a folder" error
    dlg.close()
    win.controller.shutdown(TIMEOUT_MS)


def test_a_folder_among_files_opens_batch_and_a_second_one_is_skipped(
        qtbot, engine, tmp_path, write_image, capsys):
    win = make_window(qtbot, engine)
    win.set_mode("denoise")  # no automatic job
    a, b = write_image("a.png"), write_image("b.png")
    one, two = images(tmp_path / "one", 1), images(tmp_path / "two", 1)
    files, opened = open_arguments(win, [a, one, b, two])
    assert files == [a, b] and opened == one
    assert win.current_name == "a.png" and win.files == [a, b]
    assert win.last_error is None
    assert win.batch_dialog.input_edit.text() == str(one)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"skipped the folder {two}" in err
    win.batch_dialog.close()
    win.controller.shutdown(TIMEOUT_MS)


# ------------------------------------------------------------------ saving
def run_denoise(qtbot, win, path) -> None:
    win.open_path(path)
    win.set_mode("denoise")
    win.denoise_now()
    qtbot.waitUntil(lambda: win.result_pixels("denoise") is not None
                    and not win.controller.is_busy, timeout=TIMEOUT_MS)


def fake_save(monkeypatch, answer: Path | None):
    """Replace the save dialog: record where it starts and answer ``answer``."""
    seen: list[str] = []

    def save(parent, caption, directory, filter_):
        seen.append(directory)
        return (str(answer) if answer else ""), filter_

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save)
    return seen


def test_the_denoise_panel_saves_its_result_next_to_the_image(
        qtbot, engine, tmp_path, write_image, monkeypatch, require_model):
    require_model("denoise")
    win = make_window(qtbot, engine, ini(tmp_path))
    (tmp_path / "photos").mkdir()
    photo = write_image("photos/x.png")
    panel = win.denoise_panel
    assert not panel.save_button.isEnabled()  # nothing to save yet
    run_denoise(qtbot, win, photo)
    assert panel.save_button.isEnabled() and panel.save_button.isVisible()
    target = tmp_path / "photos" / "x_denoised.png"
    seen = fake_save(monkeypatch, target)
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert seen == [str(target)]  # the image's folder, the mode's name
    saved = np.asarray(Image.open(target))
    assert np.array_equal(saved, win.result_pixels("denoise"))
    win.controller.shutdown(TIMEOUT_MS)


def test_ctrl_s_saves_what_the_right_side_shows_and_remembers_the_folder(
        qtbot, engine, tmp_path, write_image, monkeypatch, require_model):
    require_model("denoise")
    win = make_window(qtbot, engine, ini(tmp_path))
    assert QKeySequence(QKeySequence.StandardKey.Save) in win.save_action.shortcuts() \
        or win.save_action.shortcut() == QKeySequence("Ctrl+S")
    photo = write_image("x.png")
    run_denoise(qtbot, win, photo)
    out = tmp_path / "elsewhere"
    out.mkdir()
    seen = fake_save(monkeypatch, out / "mine.png")
    win.activateWindow()
    win.compare_view.left.setFocus()
    qtbot.keyClick(win.compare_view.left, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert seen == [str(tmp_path / "x_denoised.png")]
    assert (out / "mine.png").is_file() and win.last_error is None
    # Compress mode: Ctrl+S saves the .aei, and starts where the user saved last
    win.set_mode("compress")
    qtbot.waitUntil(lambda: win.document.aei_data is not None
                    and not win.controller.is_busy, timeout=TIMEOUT_MS)
    seen = fake_save(monkeypatch, out / "x")
    win.save_action.trigger()
    assert seen == [str(out / "x.aei")]
    assert (out / "x.aei").read_bytes() == win.document.aei_data
    win.close()
    # the folder saved to is remembered across restarts
    again = make_window(qtbot, engine, ini(tmp_path))
    again.open_path(write_image("y.png"))
    qtbot.waitUntil(lambda: again.document.aei_data is not None
                    and not again.controller.is_busy, timeout=TIMEOUT_MS)
    seen = fake_save(monkeypatch, None)
    again.save_action.trigger()
    assert seen == [str(out / "y.aei")]
    again.controller.shutdown(TIMEOUT_MS)


def test_the_inpaint_panel_saves_the_inpainted_image(qtbot, engine, tmp_path, write_image,
                                                     monkeypatch, require_model):
    require_model("inpaint")
    win = make_window(qtbot, engine, ini(tmp_path))
    win.open_path(write_image("x.png"))
    win.set_mode("inpaint")
    mask = np.zeros(win.current_pixels.shape[:2], bool)
    mask[20:30, 30:50] = True
    win.mask_editor.replace(mask)
    win.inpaint_now()
    qtbot.waitUntil(lambda: win.result_pixels("inpaint") is not None
                    and not win.controller.is_busy, timeout=TIMEOUT_MS)
    panel = win.inpaint_panel
    assert panel.save_button.isEnabled() and panel.save_button.isVisible()
    seen = fake_save(monkeypatch, tmp_path / "x_inpainted.png")
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert seen == [str(tmp_path / "x_inpainted.png")]
    assert np.array_equal(np.asarray(Image.open(tmp_path / "x_inpainted.png")),
                          win.result_pixels("inpaint"))
    win.controller.shutdown(TIMEOUT_MS)


# ------------------------------------------------------------------ the batch dialog
def test_the_label_column_stays_put_and_short_tasks_leave_no_gap(qtbot, dialog):
    where = {}
    for task, field in (("denoise", dialog.task_options.sigma_spin),
                        ("inpaint", dialog.masks_row), ("compress", dialog.quality_spin),
                        ("decompress", dialog.task_options.output_notes["decompress"])):
        dialog.set_task(task)
        dialog.layout().activate()
        QApplication.processEvents()
        assert field.isVisible()
        # the task's own rows start where the dialog's other fields start
        assert field.x() == dialog.task_combo.x() == dialog.workers_spin.x(), task
        where[task] = dialog.workers_spin.y() - dialog.task_combo.y()
    assert where["compress"] < where["denoise"] and where["decompress"] < where["compress"]


def test_the_hint_goes_once_the_folders_are_chosen(qtbot, dialog, tmp_path):
    assert dialog.status_label.text() == IDLE_HINT
    src = images(tmp_path / "in", 1)
    qtbot.keyClicks(dialog.input_edit, str(src))
    dialog.input_edit.editingFinished.emit()  # the output folder is suggested
    assert dialog.output_edit.text() and dialog.status_label.text() == ""
    dialog.set_task("inpaint")
    assert "masks folder" in dialog.status_label.text()
    qtbot.keyClicks(dialog.masks_edit, str(src))
    assert dialog.status_label.text() == ""


def test_typing_replaces_the_suggested_output_folder(qtbot, dialog, tmp_path):
    dialog.set_input(images(tmp_path / "in", 1))
    suggested = dialog.output_edit.text()
    assert suggested.endswith("in_compress") or suggested.endswith(f"in_{dialog.task}")
    qtbot.mouseClick(dialog.output_edit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.output_edit.selectedText() == suggested)
    qtbot.keyClicks(dialog.output_edit, "/tmp/mine")
    assert dialog.output_edit.text() == "/tmp/mine"
    dialog.set_task("denoise")  # a folder the user typed is kept
    assert dialog.output_edit.text() == "/tmp/mine"
    qtbot.mouseClick(dialog.output_edit, Qt.MouseButton.LeftButton)
    qtbot.wait(50)
    assert dialog.output_edit.selectedText() == ""


def test_the_model_list_names_the_default_once_with_hints(dialog, engine):
    for task, model_task in (("compress", "codec"), ("denoise", "denoise"),
                             ("inpaint", "inpaint")):
        combo = dialog.task_options.model_combos[task]
        default = engine.registry.default(model_task).id
        ids = [combo.itemData(i) for i in range(combo.count())]
        texts = [combo.itemText(i) for i in range(combo.count())]
        assert texts[0] == f"Default ({default})" and ids[0] is None
        assert default not in ids and len(ids) == len(engine.registry.list(model_task))
        assert all(" — " in t and t.split(" — ")[1] for t in texts[1:]), texts
    codecs = dialog.task_options.model_combos["compress"]
    older = [codecs.itemText(i) for i in range(1, codecs.count())]
    assert all(t.endswith("older snapshot") for t in older), older


def test_the_batch_quality_follows_the_window_and_folders_survive_a_restart(
        qtbot, engine, tmp_path):
    settings = ini(tmp_path)
    win = make_window(qtbot, engine, settings)
    win.quality_slider.setValue(15)
    dlg = open_batch(win)
    assert dlg.quality_spin.value() == 15
    run_empty_batch(qtbot, dlg, tmp_path)
    dlg.close()
    win.close()

    again = make_window(qtbot, engine, ini(tmp_path))
    dlg = open_batch(again)
    assert dlg.input_edit.text() == str(tmp_path / "empty")
    assert dlg.output_edit.text() == str(tmp_path / "out")
    assert dlg.quality_spin.value() == 15
    dlg.close()
    again.controller.shutdown(TIMEOUT_MS)


# ------------------------------------------------------------------ the σ slider
def test_the_sigma_slider_keeps_its_width_and_its_value(qtbot, engine, tmp_path):
    win = make_window(qtbot, engine, ini(tmp_path))
    win.set_mode("denoise")
    panel = win.denoise_panel
    panel.strength_label.setText("auto (1.9)")  # what an estimate shows
    QApplication.processEvents()
    width = panel.strength_slider.width()
    panel.auto_check.setChecked(False)
    panel.strength_slider.setValue(26)
    QApplication.processEvents()
    assert panel.strength_label.text() == "26"
    assert panel.strength_slider.width() == width
    win.close()

    again = make_window(qtbot, engine, ini(tmp_path))
    assert not again.denoise_panel.auto_check.isChecked()
    assert again.denoise_panel.sigma == 26
    again.controller.shutdown(TIMEOUT_MS)


# ------------------------------------------------------------------ missing libraries
def test_missing_qt_libraries_are_named_with_their_packages():
    line = plugin_failure("Qt could not start its 'xcb' platform plugin (display ':0')",
                          loads=lambda soname: "cursor" not in soname and "icccm" not in soname)
    assert "\n" not in line and line.startswith("aestudio: error: cannot open the desktop app")
    assert "sudo apt-get install libxcb-cursor0 libxcb-icccm4" in line
    assert "docs/desktop.md" in line
    fine = plugin_failure("Qt could not start", loads=lambda soname: True)
    assert "apt-get" not in fine and "System libraries" in fine


def test_the_doc_lists_every_package_the_line_can_name():
    text = (REPO / "docs" / "desktop.md").read_text(encoding="utf-8")
    section = text.split("## System libraries", 1)[1].split("\n## ", 1)[0]
    missing = [p for p in XCB_PACKAGES.values() if p not in section]
    assert missing == []
