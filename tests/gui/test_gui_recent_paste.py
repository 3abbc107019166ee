"""File ▸ Open Recent and Edit ▸ Paste (an image from the clipboard)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from app.gui.main_window import MainWindow
from app.gui.qimage import array_to_qimage
from app.gui.settings import MAX_RECENT

TIMEOUT_MS = 60_000


def ini(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "aestudio.ini"), QSettings.Format.IniFormat)


def recent_actions(win):
    win.recent_menu.aboutToShow.emit()
    return [a for a in win.recent_menu.actions() if a.data()]


def test_open_recent_lists_most_recent_first(qtbot, engine, tmp_path, write_image):
    win = MainWindow(engine, settings=ini(tmp_path))
    qtbot.addWidget(win)
    assert not win.recent_menu.isEnabled() and recent_actions(win) == []
    paths = [write_image(f"img{i}.png") for i in range(MAX_RECENT + 2)]
    for p in paths:
        win.open_path(p)
    qtbot.waitUntil(lambda: not win.controller.is_busy, timeout=TIMEOUT_MS)
    expected = [str(p.resolve()) for p in reversed(paths)][:MAX_RECENT]
    assert win.recent_files() == expected
    assert [a.data() for a in recent_actions(win)] == expected
    assert win.recent_menu.isEnabled()
    # reopening moves it to the top without duplicates
    win.open_path(paths[-3])
    assert win.recent_files()[0] == str(paths[-3].resolve())
    assert len(win.recent_files()) == MAX_RECENT == len(set(win.recent_files()))
    win.controller.shutdown(TIMEOUT_MS)

    # stored in QSettings: a new window shows the list; missing files are dropped
    paths[-1].unlink()
    again = MainWindow(engine, settings=ini(tmp_path))
    qtbot.addWidget(again)
    listed = [a.data() for a in recent_actions(again)]
    assert str(paths[-1].resolve()) not in listed
    assert listed[0] == str(paths[-3].resolve()) and len(listed) == MAX_RECENT - 1
    # triggering an entry opens that file
    entry = next(a for a in recent_actions(again) if a.data() == str(paths[-2].resolve()))
    entry.trigger()
    assert again.current_name == paths[-2].name
    again.controller.shutdown(TIMEOUT_MS)


def test_failed_open_is_not_recent(qtbot, window, tmp_path):
    window.show_error_dialogs = False
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert window.open_path(bad) is False
    assert window.recent_files() == []


def test_paste_image_from_clipboard(qtbot, window, make_gradient, wait_idle):
    pixels = make_gradient()
    QApplication.clipboard().setImage(array_to_qimage(pixels))
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    if window.current_pixels is None:  # no active window on this platform: use the menu
        window.paste_action.trigger()
    assert window.current_name == "pasted image"
    assert "pasted image" in window.windowTitle()
    np.testing.assert_array_equal(window.current_pixels, pixels)
    assert window.paste_action.shortcut().toString() == "Ctrl+V"
    edit = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert window.paste_action in edit.actions()
    wait_idle(window)
    assert window.result_pixels("compress") is not None  # it was compressed like any image


def test_paste_without_image_is_an_error(window):
    window.show_error_dialogs = False
    QApplication.clipboard().setText("just text")
    assert window.paste_image() is False
    assert window.current_pixels is None
    assert "clipboard" in window.last_error
