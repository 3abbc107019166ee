"""View ▸ Difference heatmap (key D) and flashing the original while Space is held."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.gui.heatmap import DEFAULT_GAIN, colormap, difference_heatmap
from app.gui.qimage import qimage_to_array

TIMEOUT_MS = 60_000


def right_pixels(win) -> np.ndarray:
    return qimage_to_array(win.compare_view.right.image_item.pixmap().toImage())[..., :3]


def test_colormap_ends_and_monotonic_brightness():
    colours = colormap(np.linspace(0, 1, 11))
    assert colours.shape == (11, 3) and colours.dtype == np.uint8
    assert colours[0].tolist() == [0, 0, 0]
    brightness = colours.astype(int).sum(axis=1)
    assert (np.diff(brightness) > 0).all()
    assert colormap(np.array([-1.0, 2.0])).tolist() == [colours[0].tolist(), colours[-1].tolist()]


def test_difference_heatmap_values(make_gradient):
    a = make_gradient()
    b = a.copy()
    b[10:20, 30:40, 1] = np.clip(b[10:20, 30:40, 1].astype(int) + 16, 0, 255).astype(np.uint8)
    heat = difference_heatmap(a, b)
    assert heat.shape == a.shape and heat.dtype == np.uint8
    assert (heat[0, 0] == 0).all()  # equal pixels: black
    diff = np.abs(a.astype(int) - b.astype(int)).max(axis=2)
    assert (heat[diff > 0].sum(axis=1) > 0).all()
    np.testing.assert_array_equal(heat[12, 32], colormap(diff[12, 32] * DEFAULT_GAIN / 255))
    # grey vs RGB compare per channel; different sizes give None
    assert difference_heatmap(a[..., :1], np.repeat(a[..., :1], 3, axis=2)).max() == 0
    assert difference_heatmap(a, a[:10]) is None


@pytest.fixture
def compressed(qtbot, window, write_image, wait_idle):
    window.open_path(write_image())
    qtbot.waitUntil(lambda: window.result_pixels("compress") is not None, timeout=TIMEOUT_MS)
    wait_idle(window)
    return window


def test_heatmap_toggle_with_key_d(qtbot, compressed):
    win = compressed
    reconstruction = win.result_pixels("compress")
    np.testing.assert_array_equal(right_pixels(win), reconstruction)
    assert win.heatmap_action.shortcut().toString() == "D"
    win.activateWindow()
    qtbot.keyClick(win, Qt.Key.Key_D)
    if not win.showing_heatmap:  # no active window on this platform: use the menu
        win.heatmap_action.trigger()
    assert win.showing_heatmap
    expected = difference_heatmap(win.current_pixels, reconstruction)
    # computed in a worker: the result stays on the right, captioned, until it arrives
    qtbot.waitUntil(lambda: "Difference" in win.compare_view.right_caption.text(),
                    timeout=TIMEOUT_MS)
    np.testing.assert_array_equal(right_pixels(win), expected)
    assert "Difference" in win.compare_view.right_caption.text()
    # the heatmap follows the mode: denoise has no result yet
    win.set_mode("denoise")
    assert not win.compare_view.right.has_image()
    win.set_mode("compress")
    np.testing.assert_array_equal(right_pixels(win), expected)
    win.heatmap_action.trigger()
    assert not win.showing_heatmap
    np.testing.assert_array_equal(right_pixels(win), reconstruction)
    assert win.compare_view.right_caption.text().startswith("Reconstruction · AE Studio")


def test_space_flashes_the_original(qtbot, compressed):
    win = compressed
    reconstruction = win.result_pixels("compress")
    assert not np.array_equal(reconstruction, win.current_pixels)
    qtbot.keyPress(win.compare_view.right, Qt.Key.Key_Space)
    assert win.flashing_original
    np.testing.assert_array_equal(right_pixels(win), win.current_pixels)
    assert "Original" in win.compare_view.right_caption.text()
    qtbot.keyRelease(win.compare_view.right, Qt.Key.Key_Space)
    assert not win.flashing_original
    np.testing.assert_array_equal(right_pixels(win), reconstruction)
    # with the heatmap on, releasing Space goes back to the heatmap at once: it is not
    # computed again (that froze the window for seconds on large photos)
    win.heatmap_action.trigger()
    qtbot.waitUntil(lambda: "Difference" in win.compare_view.right_caption.text(),
                    timeout=TIMEOUT_MS)
    computed = win.heatmaps.computed
    qtbot.keyPress(win, Qt.Key.Key_Space)
    np.testing.assert_array_equal(right_pixels(win), win.current_pixels)
    qtbot.keyRelease(win, Qt.Key.Key_Space)
    np.testing.assert_array_equal(right_pixels(win),
                                  difference_heatmap(win.current_pixels, reconstruction))
    assert win.heatmaps.computed == computed and not win.heatmaps.is_busy


def test_flash_stops_when_the_window_is_deactivated(qtbot, compressed):
    from PySide6.QtWidgets import QWidget

    win = compressed
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    qtbot.keyPress(win, Qt.Key.Key_Space)
    np.testing.assert_array_equal(right_pixels(win), win.current_pixels)
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: not win.isActiveWindow())
    assert not win.flashing_original
    np.testing.assert_array_equal(right_pixels(win), win.result_pixels("compress"))
