"""Feedback within a second (issue 28): what is shown first and what follows.

The reconstruction is shown as soon as it is decoded; MS-SSIM follows it (for the AE Studio
side and for a classic side), and a readout that arrives for a result no longer shown is
dropped. A final quality change (not a drag) starts at once; releasing a dragged slider ends
the wait; the preview keeps its own small copy so the full compress keeps reusing the image's
analysis.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app.core.compare.same_size import available_formats
from app.core.compare.sides import SideChoice
from app.gui import classic_encoder
from app.gui.controller import Controller
from tests.gui.conftest import gradient
from tests.gui.test_gui_controller import FakeEngine

TIMEOUT_MS = 120_000


def photo(h: int = 160, w: int = 224) -> np.ndarray:
    rng = np.random.default_rng(11)
    base = gradient(h, w, seed=4).astype(np.int16)
    return np.clip(base + rng.integers(-10, 11, base.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def opened(qtbot, window, write_image):
    window.show_error_dialogs = False
    window.open_path(write_image("photo.png", photo()))
    qtbot.waitUntil(lambda: window.last_result is not None
                    and window.last_result.get("ms_ssim") is not None
                    and not window.controller.is_busy, timeout=TIMEOUT_MS)
    return window


# --------------------------------------------------------------------------- controller
@pytest.fixture
def controller(qapp):
    c = Controller(FakeEngine(), debounce_ms=60_000)
    yield c
    c.shutdown(10_000)


def test_a_settled_change_does_not_wait_for_the_drag_debounce(qtbot, controller):
    with qtbot.waitSignal(controller.compressed, timeout=5_000) as blocker:
        controller.request_compress(np.zeros((8, 12, 3), np.uint8), 40, settled=True)
    assert blocker.args[0]["quality"] == 40


def test_releasing_the_slider_starts_the_pending_compress(qtbot, controller):
    controller.request_compress(np.zeros((8, 12, 3), np.uint8), 30)  # a drag: waits a minute
    with qtbot.waitSignal(controller.compressed, timeout=5_000) as blocker:
        controller.flush()
    assert blocker.args[0]["quality"] == 30


def test_a_readout_for_an_older_request_is_dropped(qtbot, controller):
    gate, delivered = threading.Event(), []
    controller.readout(lambda: gate.wait(10) and 0.9, delivered.append)
    controller.request_compress(np.zeros((8, 12, 3), np.uint8), 50)  # a newer request
    gate.set()
    assert controller.readouts.waitForDone(10_000)
    qtbot.wait(50)  # the finished signal is queued to this thread
    assert delivered == []
    controller.readout(lambda: 0.5, delivered.append)  # the current one is delivered
    qtbot.waitUntil(lambda: delivered == [0.5], timeout=5_000)


# --------------------------------------------------------------------------- the window
def test_the_reconstruction_is_shown_before_its_ms_ssim(qtbot, opened):
    win = opened
    shown: list[tuple[int, float | None]] = []  # (id of the result shown, its MS-SSIM)

    def on_mode(mode: str) -> None:
        s = win.document.modes["compress"]
        if mode == "compress" and s.result is not None and not s.busy:
            shown.append((id(s.result), s.info.get("ms_ssim")))

    win.document.mode_changed.connect(on_mode)
    win.quality_slider.setValue(33)
    qtbot.waitUntil(lambda: win.last_result["quality"] == 33
                    and win.last_result.get("ms_ssim") is not None, timeout=TIMEOUT_MS)
    first = shown[0]
    assert first[1] is None  # shown without waiting for MS-SSIM
    assert shown[-1][0] == first[0] and 0 < shown[-1][1] <= 1  # then added to the same one
    assert f"MS-SSIM {shown[-1][1]:.4f}" in win.compress_panel.result_label.text()


def test_an_ms_ssim_for_a_replaced_result_is_not_shown(qtbot, opened):
    win = opened
    old = win.document.modes["compress"].result
    win._on_ms_ssim(old.copy(), 0.123)  # measured for a reconstruction no longer shown
    assert win.last_result["ms_ssim"] != 0.123


def test_a_full_compress_after_a_preview_reuses_the_image_analysis(qtbot, window, write_image,
                                                                 monkeypatch):
    window.show_error_dialogs = False
    pixels = photo(400, 600)  # larger than the preview's copy: a preview runs
    window.open_path(write_image("big.png", pixels))
    qtbot.waitUntil(lambda: window.last_result is not None and not window.controller.is_busy,
                    timeout=TIMEOUT_MS)
    codec = window.engine.codec()
    analysed: list[tuple[int, ...]] = []
    analyse = codec.analyse
    monkeypatch.setattr(codec, "analyse",
                        lambda px, *a, **k: analysed.append(px.shape) or analyse(px, *a, **k))
    for quality in (30, 60):
        window.quality_slider.setValue(quality)
        qtbot.waitUntil(lambda q=quality: window.last_result["quality"] == q
                        and not window.controller.is_busy, timeout=TIMEOUT_MS)
        assert window.compress_preview.pool.waitForDone(TIMEOUT_MS)  # its preview, too
    # the full image is never analysed again, and the preview's copy at most once
    assert pixels.shape not in analysed
    assert len(analysed) <= 1


# --------------------------------------------------------------------------- classic sides
@pytest.fixture
def webp_left(qtbot, opened):
    if "webp" not in available_formats():
        pytest.skip("needs a WebP encoder")
    win = opened
    win.classic_encoder.set_choice("left", SideChoice("webp"))
    qtbot.waitUntil(lambda: win.document.classic["left"].result is not None
                    and win.document.classic["left"].result.get("ms_ssim") is not None,
                    timeout=TIMEOUT_MS)
    return win


def test_a_classic_side_is_shown_before_its_ms_ssim(qtbot, webp_left):
    win = webp_left
    doc = win.document
    shown: list[tuple[int, float | None]] = []

    def on_classic() -> None:
        r = doc.classic["left"].result
        if r is not None:
            shown.append((id(r), r.get("ms_ssim")))

    doc.same_size_changed.connect(on_classic)
    win.quality_slider.setValue(45)
    qtbot.waitUntil(lambda: doc.classic["left"].result is not None
                    and doc.classic["left"].result.get("ms_ssim") is not None,
                    timeout=TIMEOUT_MS)
    assert shown[0][1] is None and shown[-1][0] == shown[0][0] and 0 < shown[-1][1] <= 1
    r = doc.classic["left"].result
    assert r["bytes"] <= len(doc.aei_data)  # still the same size as the AE Studio file


def test_a_stale_classic_result_is_dropped(qtbot, webp_left, monkeypatch):
    """The classic side for an older AE Studio file finishes last: it is never shown."""
    win = webp_left
    doc = win.document
    gate, calls, made = threading.Event(), [], {}
    encode = classic_encoder.encode_side

    def held_first(pixels, fmt, plan, cancel=None, guess=None):
        calls.append(plan)
        if len(calls) == 1:
            assert gate.wait(60)
        made[plan] = encode(pixels, fmt, plan, None, guess)
        return made[plan]

    monkeypatch.setattr(classic_encoder, "encode_side", held_first)
    win.quality_slider.setValue(20)
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=TIMEOUT_MS)  # held, for quality 20
    win.quality_slider.setValue(80)
    qtbot.waitUntil(lambda: win.last_result["quality"] == 80, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: len(made) == 1 and doc.classic["left"].result is not None,
                    timeout=TIMEOUT_MS)  # the newer side is shown while the older one waits
    gate.set()
    qtbot.waitUntil(lambda: len(made) == 2, timeout=TIMEOUT_MS)
    assert win.classic_encoder.pool.waitForDone(TIMEOUT_MS)
    qtbot.wait(100)  # the older result's signal is delivered (and dropped)
    newer = ("size", len(doc.aei_data))
    assert calls[1] == newer and calls[0] != newer  # the held one had an older target
    assert doc.classic["left"].result is made[newer]
