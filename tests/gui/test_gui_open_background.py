"""Files read in the background (app/gui/file_opener.py): large ones are, small ones are read
at once. ``opener.small_pixels = -1`` sends every file to the worker, so these tests use
small images."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.gui.file_opener import SMALL_PIXELS, is_small
from app.gui.qimage import array_to_qimage

TIMEOUT_MS = 60_000


def in_background(window):
    window.show_error_dialogs = False
    window.opener.small_pixels = -1
    return window


@pytest.fixture
def in_bg_window(window):
    return in_background(window)


def test_a_large_image_is_read_in_the_background_then_compressed(qtbot, window, tmp_path):
    from PIL import Image

    window.show_error_dialogs = False
    big = np.zeros((1000, 1001, 3), np.uint8)  # just over SMALL_PIXELS
    path = tmp_path / "large.png"
    Image.fromarray(big).save(path)
    assert not is_small(path) and is_small(path, big.shape[0] * big.shape[1])
    assert window.open_path(path) is True
    assert window.current_pixels is None  # not shown yet: still being read
    assert window.opening == "large.png"
    assert window.statusBar().currentMessage() == "Opening large.png…"
    assert window.cursor().shape() == Qt.CursorShape.BusyCursor
    qtbot.waitUntil(lambda: window.current_name == "large.png", timeout=TIMEOUT_MS)
    assert window.opening == ""
    assert window.cursor().shape() != Qt.CursorShape.BusyCursor
    np.testing.assert_array_equal(window.current_pixels, big)
    assert window.document.modes["compress"].busy  # the automatic compress started
    assert window.recent_files() == [str(path.resolve())]
    window.controller.cancel()


def test_small_files_still_open_before_open_path_returns(window, write_image):
    path = write_image("small.png")
    assert is_small(path) and SMALL_PIXELS >= 96 * 64
    assert window.open_path(path) is True
    assert window.current_name == "small.png" and window.opening == ""


def test_the_last_file_opened_wins(qtbot, in_bg_window, write_image, make_gradient):
    win = in_bg_window
    first, second = write_image("first.png"), write_image("second.png", make_gradient(seed=3))
    win.open_path(first)
    win.open_path(second)  # while the first is still being read
    qtbot.waitUntil(lambda: win.current_name == "second.png", timeout=TIMEOUT_MS)
    qtbot.wait(100)  # the first file's read has long finished: it was dropped
    assert win.current_name == "second.png"
    np.testing.assert_array_equal(win.current_pixels, make_gradient(seed=3))
    assert win.recent_files() == [str(second.resolve())]


def test_a_broken_file_read_in_the_background_leaves_the_open_image(
        qtbot, window, write_image, tmp_path):
    window.open_path(write_image("shown.png"))  # small: shown at once
    shown = window.current_pixels
    in_background(window)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    assert window.open_path(bad) is True
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=TIMEOUT_MS)
    assert window.last_error.startswith("Cannot open broken.png: ")
    assert window.last_error.count("broken.png") == 1
    assert window.current_name == "shown.png" and window.current_pixels is shown
    assert window.recent_files() == [str((tmp_path / "shown.png").resolve())]
    assert window.opening == "" and window.cursor().shape() != Qt.CursorShape.BusyCursor


def test_a_broken_file_gives_the_same_message_either_way(qtbot, window, tmp_path):
    window.show_error_dialogs = False
    bad = tmp_path / "cut.png"
    bad.write_bytes(b"not an image at all")
    assert window.open_path(bad) is False
    at_once = window.last_error
    in_background(window).last_error = None
    window.open_path(bad)
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=TIMEOUT_MS)
    assert window.last_error == at_once
    assert window.current_pixels is None and window.recent_files() == []


def test_a_truncated_aei_read_in_the_background_names_the_file(qtbot, in_bg_window, engine,
                                                                make_gradient, tmp_path):
    win = in_bg_window
    data = engine.compress(make_gradient(), 40).data
    path = tmp_path / "cut.aei"
    path.write_bytes(data[: len(data) // 2])
    assert win.open_path(path) is True
    qtbot.waitUntil(lambda: win.last_error is not None, timeout=TIMEOUT_MS)
    assert win.last_error.count("cut.aei") == 1
    assert win.current_pixels is None and win.recent_files() == []
    assert not win.controller.is_busy


def test_an_aei_read_in_the_background_is_decoded(qtbot, in_bg_window, engine, make_gradient,
                                                  tmp_path):
    win = in_bg_window
    path = tmp_path / "made.aei"
    path.write_bytes(engine.compress(make_gradient(), 40).data)
    win.open_path(path)
    qtbot.waitUntil(lambda: win.current_name == "made.aei" and not win.controller.is_busy,
                    timeout=TIMEOUT_MS)
    assert win.document.source.is_decoded
    assert win.recent_files() == [str(path.resolve())]


def test_opening_an_image_drops_an_aei_being_decoded(qtbot, window, engine, make_gradient,
                                                     write_image, tmp_path):
    aei = tmp_path / "first.aei"
    aei.write_bytes(engine.compress(make_gradient(), 40).data)
    window.open_path(aei)  # decoding in the controller
    png = write_image("second.png")
    in_background(window).open_path(png)  # read in the background meanwhile
    qtbot.waitUntil(lambda: window.current_name == "second.png", timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.controller.is_busy, timeout=TIMEOUT_MS)
    assert window.current_name == "second.png" and not window.document.source.is_decoded
    assert window.recent_files() == [str(png.resolve())]


def test_paste_of_a_large_image_is_converted_in_the_background(qtbot, in_bg_window,
                                                               make_gradient):
    win = in_bg_window
    pixels = make_gradient()
    QApplication.clipboard().setImage(array_to_qimage(pixels))
    assert win.paste_image() is True
    qtbot.waitUntil(lambda: win.current_name == "pasted image", timeout=TIMEOUT_MS)
    np.testing.assert_array_equal(win.current_pixels, pixels)
    assert win.recent_files() == []
    win.controller.cancel()


def test_the_window_closes_while_a_file_is_read(qtbot, engine, write_image):
    from app.gui.main_window import MainWindow

    win = MainWindow(engine)
    qtbot.addWidget(win)
    in_background(win).open_path(write_image())
    win.close()  # waits for the read; its result is dropped
    assert win.opener.pool.activeThreadCount() == 0
    assert win.current_pixels is None


def test_an_aei_being_decoded_is_named_at_once_and_shows_its_quality(qtbot, window, engine,
                                                                      make_gradient, tmp_path):
    win = window
    win.show_error_dialogs = False
    first, second = tmp_path / "first.aei", tmp_path / "second.aei"
    first.write_bytes(engine.compress(make_gradient(), 40).data)
    second.write_bytes(engine.compress(make_gradient(seed=5), 75).data)
    win.open_path(first)
    qtbot.waitUntil(lambda: win.current_name == "first.aei" and not win.controller.is_busy,
                    timeout=TIMEOUT_MS)
    assert win.quality_slider.value() == 40
    win.open_path(second)  # decoded in the controller: nothing of first.aei stays named
    view, panel = win.compare_view, win.compress_panel
    assert win.windowTitle() == "second.aei — AE Studio"
    assert win.statusBar().currentMessage() == "Decoding second.aei…"
    assert view.right_caption.text() == "Decoding second.aei…"
    assert "second.aei" in view.left_caption.text() and "first" not in view.left_caption.text()
    assert panel.result_label.text() == "Decoding second.aei…"
    assert win.view_stack.currentWidget() is view  # not the drop zone meanwhile
    win.set_layout("split")
    assert view.placeholder_visible  # the empty canvas says what is going on
    assert not panel.compress_button.isEnabled()
    qtbot.waitUntil(lambda: win.current_name == "second.aei" and not win.controller.is_busy,
                    timeout=TIMEOUT_MS)
    assert win.quality_slider.value() == 75 and panel.quality_spin.value() == 75
    assert win.last_result["decoded_file"] and not win.document.modes["compress"].busy
    assert not win.controller.is_busy  # the slider moved without a new compress
    assert "Decoded" in view.right_caption.text() and "second.aei" in view.left_caption.text()


def test_a_cancelled_decode_brings_back_the_image_open_before(qtbot, window, engine,
                                                              make_gradient, write_image,
                                                              tmp_path):
    win = window
    win.show_error_dialogs = False
    win.open_path(write_image("shown.png"))
    shown = win.current_pixels
    aei = tmp_path / "next.aei"
    aei.write_bytes(engine.compress(make_gradient(seed=2), 60).data)
    win.open_path(aei)
    assert win.current_pixels is None and win.windowTitle().startswith("next.aei")
    win.controller.cancel()
    assert win.current_name == "shown.png" and win.current_pixels is shown
    assert win.windowTitle() == "shown.png — AE Studio"
    assert "shown.png" in win.compare_view.left_caption.text()
    qtbot.wait(200)  # the decode's result, if it still came, was dropped
    assert win.current_name == "shown.png" and win.recent_files() == [
        str((tmp_path / "shown.png").resolve())]
