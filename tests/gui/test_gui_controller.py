"""Controller: newest request wins (stale results dropped), debouncing, errors, cancel.

A scripted fake engine makes the ordering deterministic: a job can be held until the test
releases it, so "old result arrives after new result" is forced, not hoped for.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app.core.engine import CompressResult
from app.core.runtime.tiling import Cancelled
from app.gui.controller import Controller

TIMEOUT_MS = 10_000


class FakeEngine:
    """compress() blocks on ``gates[quality]`` when one is set; decompress echoes a grey image."""

    def __init__(self, shape=(8, 12, 3)):
        self.shape = shape
        self.gates: dict[float, threading.Event] = {}
        self.calls: list[float] = []
        self.lock = threading.Lock()

    def compress(self, pixels, quality=75.0, target_bytes=None, progress=None, cancel=None):
        with self.lock:
            self.calls.append(float(quality))
        gate = self.gates.get(float(quality))
        if gate is not None:
            assert gate.wait(10), "test never released the gate"
        return CompressResult(bytes([int(quality)]) * int(quality), float(quality), 0.01, "fake")

    def decompress(self, data, progress=None, cancel=None):
        return np.full(self.shape, len(data), np.uint8)

    def denoise(self, pixels, sigma=None, progress=None, cancel=None, passes=None):
        for i in range(1000):
            if cancel is not None and cancel():
                raise Cancelled()
            if progress is not None:
                progress(i + 1, 1000)
            threading.Event().wait(0.002)
        return pixels, 5.0

    def inpaint(self, pixels, mask, progress=None, cancel=None, passes=None):
        raise ValueError("mask is 3x3, the image is 12x8")


@pytest.fixture
def fake():
    return FakeEngine()


@pytest.fixture
def controller(qapp, fake):
    c = Controller(fake, debounce_ms=50)
    results: list[dict] = []
    c.compressed.connect(results.append)
    c.results = results  # type: ignore[attr-defined]
    yield c
    for gate in fake.gates.values():
        gate.set()
    c.shutdown(TIMEOUT_MS)


def pixels():
    return np.zeros((8, 12, 3), np.uint8)


def test_compress_result_has_measures(qtbot, controller):
    with qtbot.waitSignal(controller.compressed, timeout=TIMEOUT_MS) as blocker:
        gen = controller.compress(pixels(), 40)
    r = blocker.args[0]
    assert r["generation"] == gen == controller.generation
    assert r["bytes"] == 40 and r["data"] == bytes([40]) * 40
    assert r["bpp"] == pytest.approx(8 * 40 / (8 * 12))
    assert r["psnr"] > 0 and r["reconstruction"].shape == (8, 12, 3)
    assert r["quality"] == 40 and r["model_id"] == "fake"


def test_stale_result_is_dropped_even_when_it_arrives_last(qtbot, controller, fake):
    fake.gates[10.0] = threading.Event()          # the first request is held back
    old = controller.compress(pixels(), 10)
    new = controller.compress(pixels(), 90)
    assert new == old + 1
    qtbot.waitUntil(lambda: len(controller.results) == 1, timeout=TIMEOUT_MS)
    assert controller.results[0]["quality"] == 90
    fake.gates[10.0].set()                          # now the old one finishes, too late
    assert controller.pool.waitForDone(TIMEOUT_MS)
    qtbot.waitUntil(lambda: controller.dropped == 1, timeout=TIMEOUT_MS)
    assert [r["generation"] for r in controller.results] == [new]
    assert not controller.is_busy


def test_busy_stays_on_until_the_latest_job_is_done(qtbot, controller, fake):
    fake.gates[90.0] = threading.Event()
    states: list[bool] = []
    controller.busy.connect(states.append)
    controller.compress(pixels(), 10)
    controller.compress(pixels(), 90)
    assert controller.pool.waitForDone(200) is False  # 90 is still held
    qtbot.wait(100)  # let the (stale) result of 10 arrive
    assert controller.is_busy and controller.results == []
    fake.gates[90.0].set()
    qtbot.waitUntil(lambda: len(controller.results) == 1, timeout=TIMEOUT_MS)
    assert states == [True, False]


def test_slider_bursts_are_debounced_to_the_last_value(qtbot, controller, fake):
    for q in (20, 30, 40, 55):
        controller.request_compress(pixels(), q)
    assert controller.is_busy
    qtbot.waitUntil(lambda: len(controller.results) == 1, timeout=TIMEOUT_MS)
    qtbot.wait(120)  # longer than the debounce: nothing else may come
    assert fake.calls == [55.0]
    assert len(controller.results) == 1 and controller.results[0]["quality"] == 55


def test_a_request_invalidates_a_job_in_flight(qtbot, controller, fake):
    fake.gates[10.0] = threading.Event()
    controller.compress(pixels(), 10)
    controller.request_compress(pixels(), 70)   # while 10 is still running
    fake.gates[10.0].set()
    qtbot.waitUntil(lambda: len(controller.results) == 1, timeout=TIMEOUT_MS)
    assert controller.results[0]["quality"] == 70


def test_errors_become_failed_signal(qtbot, controller):
    with qtbot.waitSignal(controller.failed, timeout=TIMEOUT_MS) as blocker:
        controller.inpaint(pixels(), np.ones((3, 3), np.uint8))
    assert "mask is 3x3" in blocker.args[0]
    assert not controller.is_busy


def test_cancel_stops_a_tiled_job(qtbot, controller):
    progress: list[tuple[int, int]] = []
    controller.progress.connect(lambda d, t: progress.append((d, t)))
    denoised: list[dict] = []
    controller.denoised.connect(denoised.append)
    controller.denoise(pixels())
    qtbot.waitUntil(lambda: len(progress) > 2, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(controller.cancelled, timeout=TIMEOUT_MS):
        controller.cancel()
    assert controller.pool.waitForDone(TIMEOUT_MS)  # the job really stopped
    qtbot.wait(50)
    assert denoised == [] and not controller.is_busy


def test_denoise_result(qtbot, qapp):
    class Quick(FakeEngine):
        def denoise(self, pixels, sigma=None, progress=None, cancel=None, passes=None):
            progress(1, 1)
            return pixels + 1, 12.5

    c = Controller(Quick())
    try:
        with qtbot.waitSignal(c.denoised, timeout=TIMEOUT_MS) as blocker:
            c.denoise(pixels())
        assert blocker.args[0]["sigma"] == 12.5
        assert blocker.args[0]["pixels"].max() == 1
    finally:
        c.shutdown(TIMEOUT_MS)
