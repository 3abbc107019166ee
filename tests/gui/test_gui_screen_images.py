"""QImages made in workers for arrays about to be shown (app/gui/screen_images.py)."""

from __future__ import annotations

import gc
import threading
import time

import numpy as np
from PySide6.QtGui import QImage

from app.core.engine import CompressResult
from app.gui import screen_images
from app.gui.controller import Controller
from app.gui.qimage import array_to_qimage, qimage_to_array

TIMEOUT_MS = 10_000


def test_prepared_image_is_screen_format_and_shows_the_pixels(qapp, make_gradient):
    rgb = make_gradient()
    image = screen_images.prepare(rgb)
    assert image.format() == QImage.Format.Format_RGB32
    assert screen_images.prepared(rgb) is image
    assert screen_images.prepared(rgb.copy()) is None  # the same values, another array
    np.testing.assert_array_equal(qimage_to_array(image)[..., :3], rgb)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 128, np.uint8)])
    assert screen_images.prepare(rgba).hasAlphaChannel()


def test_pixmap_uses_the_prepared_image_once_and_entries_die_with_their_array(qapp,
                                                                             make_gradient):
    rgb = make_gradient()
    screen_images.prepare(rgb)
    pixmap = screen_images.pixmap_for(rgb)
    np.testing.assert_array_equal(qimage_to_array(pixmap.toImage())[..., :3], rgb)
    assert screen_images.prepared(rgb) is None  # the view keeps the pixmap, not this
    assert screen_images.pixmap_for(rgb).size() == pixmap.size()  # converted here instead
    other = make_gradient()
    screen_images.prepare(other)
    key = id(other)
    del other
    gc.collect()
    assert key not in screen_images._prepared


class _Engine:
    def compress(self, pixels, quality=75.0, target_bytes=None, progress=None, cancel=None):
        return CompressResult(b"x" * 10, float(quality), 0.01, "fake")

    def decompress(self, data, progress=None, cancel=None):
        return np.full((8, 12, 3), 7, np.uint8)


def test_compress_job_prepares_the_reconstruction_in_its_thread(qtbot, qapp):
    controller = Controller(_Engine())
    try:
        with qtbot.waitSignal(controller.compressed, timeout=TIMEOUT_MS) as blocker:
            controller.compress(np.zeros((8, 12, 3), np.uint8), 40)
        rec = blocker.args[0]["reconstruction"]
        assert screen_images.prepared(rec) is not None
    finally:
        controller.shutdown(TIMEOUT_MS)


def test_screen_image_equals_qts_own_conversion(qapp, make_gradient):
    rgb = make_gradient()
    rgba = np.dstack([rgb, (np.arange(rgb.shape[1]) * 7 % 256).astype(np.uint8)[None, :]
                      .repeat(rgb.shape[0], 0)])
    grey = rgb[..., :1]
    for pixels, fmt in ((rgb, QImage.Format.Format_RGB32), (grey, QImage.Format.Format_RGB32),
                        (rgba, QImage.Format.Format_ARGB32_Premultiplied)):
        ours = screen_images.screen_image(pixels)
        assert ours.format() == fmt
        assert ours == array_to_qimage(pixels).convertToFormat(fmt)


def longest_wait_of_main_thread(work) -> float:
    """The longest the main thread waited for the GIL while ``work`` ran in a thread."""
    worker = threading.Thread(target=work)
    gaps, last = [0.0], time.perf_counter()
    worker.start()
    while worker.is_alive():
        time.sleep(0.001)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now
    return max(gaps)


def test_screen_image_lets_the_ui_thread_run_meanwhile(qapp):
    """The conversion of a 12 MP photo in a worker must not hold the GIL as Qt's own
    conversion does. Measured against Qt's under the same load, so a busy machine slows
    both alike."""
    pixels = np.random.default_rng(0).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
    ours = longest_wait_of_main_thread(
        lambda: [screen_images.screen_image(pixels) for _ in range(3)])
    qts = longest_wait_of_main_thread(
        lambda: [array_to_qimage(pixels).convertToFormat(QImage.Format.Format_RGB32)
                 for _ in range(3)])
    assert ours < 0.5 * qts, f"main thread waited {ours * 1000:.0f} ms (Qt: {qts * 1000:.0f} ms)"
