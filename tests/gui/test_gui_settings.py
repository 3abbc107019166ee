"""QSettings persistence: last folder, mode, quality and geometry survive a restart."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog

from app.gui.main_window import MainWindow
from app.gui.save_shown import save_result_dialog
from app.gui.settings import Settings

TIMEOUT_MS = 60_000


def ini(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "aestudio.ini"), QSettings.Format.IniFormat)


def make_window(qtbot, engine, settings):
    win = MainWindow(engine, settings=settings)
    win.show_error_dialogs = False
    qtbot.addWidget(win)
    return win


def test_real_settings_are_redirected(isolated_settings):
    assert Settings().qsettings.fileName().startswith(str(isolated_settings))


def test_mode_quality_and_geometry_are_restored(qtbot, engine, tmp_path):
    win = make_window(qtbot, engine, ini(tmp_path))
    assert win.mode == "compress" and win.quality_slider.value() == 75
    win.show()
    qtbot.waitExposed(win)
    win.resize(780, 570)
    win.set_mode("denoise")
    win.quality_slider.setValue(33)
    win.close()

    again = make_window(qtbot, engine, ini(tmp_path))
    assert again.mode == "denoise"
    assert again.quality_slider.value() == 33
    assert again.compress_panel.quality_spin.value() == 33
    again.show()
    qtbot.waitExposed(again)
    assert again.size().toTuple() == (780, 570)  # above the minimum window size
    again.close()


def test_settings_are_saved_as_they_change(qtbot, engine, tmp_path):
    settings = ini(tmp_path)
    win = make_window(qtbot, engine, settings)
    win.set_mode("inpaint")
    win.compress_panel.quality_spin.setValue(12)
    assert settings.value("mode") == "inpaint"
    assert int(settings.value("quality")) == 12
    win.controller.shutdown(TIMEOUT_MS)


def test_dialogs_start_in_the_last_folder(qtbot, engine, tmp_path, write_image, monkeypatch):
    folder = tmp_path / "pictures"
    folder.mkdir()
    image = write_image("pictures/a.png")
    seen = []

    def fake_open(parent, caption, directory, filter_):
        seen.append(directory)
        return str(image), filter_

    monkeypatch.setattr(QFileDialog, "getOpenFileName", fake_open)
    win = make_window(qtbot, engine, ini(tmp_path))
    win.open_dialog()
    assert seen == [""]
    qtbot.waitUntil(lambda: not win.controller.is_busy, timeout=TIMEOUT_MS)
    win.close()

    again = make_window(qtbot, engine, ini(tmp_path))
    again.open_dialog()
    assert seen[1] == str(folder.resolve())
    qtbot.waitUntil(lambda: not again.controller.is_busy, timeout=TIMEOUT_MS)
    captured = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda parent, caption, directory, filter_: (captured.append(directory)
                                                                     or ("", "")))
    qtbot.waitUntil(lambda: again.result_pixels("compress") is not None, timeout=TIMEOUT_MS)
    save_result_dialog(again)
    assert captured == [str(folder.resolve() / "a_decoded.png")]
    again.close()
