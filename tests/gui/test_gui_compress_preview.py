"""Feedback within a second: while the full compress runs, a preview made on a downscaled copy
is shown on the right, labelled "Preview", and the real result replaces it."""

from __future__ import annotations

import time

import numpy as np

from app.gui.compress_preview import PREVIEW_SIDE, downscaled
from tests.gui.conftest import gradient

TIMEOUT_MS = 120_000


class SlowFullSize:
    """The real engine, with the full-size compress held back: the preview must come first."""

    def __init__(self, engine, min_pixels: int):
        self.engine, self.min_pixels = engine, min_pixels

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def compress(self, pixels, *a, **k):
        if pixels.shape[0] * pixels.shape[1] >= self.min_pixels:
            time.sleep(2.0)
        return self.engine.compress(pixels, *a, **k)


def test_downscaled_copy_has_the_preview_size():
    small = downscaled(np.zeros((400, 600, 3), np.uint8))
    assert small.shape == (256, PREVIEW_SIDE, 3)
    assert downscaled(np.zeros((100, 120, 3), np.uint8)) is None  # already small


def test_a_preview_shows_until_the_full_result_arrives(qtbot, window, write_image, wait_idle):
    window.show_error_dialogs = False
    window.open_path(write_image("big.png", gradient(400, 600, seed=5)))
    qtbot.waitUntil(lambda: window.last_result is not None, timeout=TIMEOUT_MS)
    wait_idle(window)
    window.controller.engine = SlowFullSize(window.engine, 400 * 600)
    window.quality_slider.setValue(30)
    doc = window.document
    qtbot.waitUntil(lambda: doc.modes["compress"].preview is not None, timeout=TIMEOUT_MS)
    assert doc.modes["compress"].busy  # the full compress still runs
    caption = window.compare_view.right_caption.text()
    assert caption.startswith("Preview · quality 30, computed at 384×256")
    shown = window.compare_view.right.image_item.pixmap()
    assert (shown.width(), shown.height()) == (600, 400)  # scaled back to the image
    wait_idle(window)
    assert doc.modes["compress"].preview is None
    assert window.last_result["quality"] == 30
    assert not window.compare_view.right_caption.text().startswith("Preview")


def test_cancel_drops_the_preview(qtbot, window, write_image, wait_idle):
    window.show_error_dialogs = False
    window.open_path(write_image("big.png", gradient(400, 600, seed=6)))
    qtbot.waitUntil(lambda: window.last_result is not None, timeout=TIMEOUT_MS)
    wait_idle(window)
    window.controller.engine = SlowFullSize(window.engine, 400 * 600)
    window.quality_slider.setValue(20)
    qtbot.waitUntil(lambda: window.document.modes["compress"].preview is not None,
                    timeout=TIMEOUT_MS)
    window.controller.cancel()
    s = window.document.modes["compress"]
    assert not s.busy and s.preview is None
    assert not window.compare_view.right_caption.text().startswith("Preview")
    window.compress_preview.shutdown(TIMEOUT_MS)


class Recording:
    """The real engine, recording when each compress and decompress starts and ends."""

    def __init__(self, engine):
        self.engine, self.events = engine, []

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def compress(self, pixels, *a, **k):
        size = "small" if max(pixels.shape[:2]) <= PREVIEW_SIDE else "full"
        self.events.append(("compress", size))
        return self.engine.compress(pixels, *a, **k)

    def decompress(self, data, *a, **k):
        out = self.engine.decompress(data, *a, **k)
        size = "small" if max(out.shape[:2]) <= PREVIEW_SIDE else "full"
        self.events.append(("decompressed", size))
        return out


def test_the_full_compress_starts_once_its_preview_is_made(qtbot, window, write_image,
                                                           wait_idle):
    """Side by side on two cores the preview lost the race whenever another program held a
    core: the full compress now waits for it (TURN_WAIT_S at most)."""
    window.show_error_dialogs = False
    window.open_path(write_image("big.png", gradient(400, 600, seed=7)))
    qtbot.waitUntil(lambda: window.last_result is not None, timeout=TIMEOUT_MS)
    wait_idle(window)
    recording = Recording(window.engine)
    window.controller.engine = window.compress_preview.engine = recording
    window.quality_slider.setValue(35)
    qtbot.waitUntil(lambda: window.last_result["quality"] == 35, timeout=TIMEOUT_MS)
    wait_idle(window)
    events = recording.events
    assert events.index(("decompressed", "small")) < events.index(("compress", "full")), events
