"""Issue 28: a compress shows a determinate bar from the engine's own step counts ("Encoding
step 2 / 3", then the decode's), as one percentage that never goes back, and a cancel stops
it between two steps."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app.core.runtime.tiling import Cancelled
from tests.gui.conftest import gradient

TIMEOUT_MS = 60_000


class Stepped:
    """The window's engine with scripted steps in front of compress and decompress: each step
    waits for the test to allow it, then is reported (the real results follow)."""

    def __init__(self, engine, encode_steps: int, decode_steps: int) -> None:
        self.engine = engine
        self.steps = {"compress": encode_steps, "decompress": decode_steps}
        self.allowed = threading.Semaphore(0)
        self.ran: list[str] = []

    def _run(self, name: str, progress, cancel) -> None:
        n = self.steps[name]
        for i in range(n):
            if cancel is not None and cancel():
                raise Cancelled()
            assert self.allowed.acquire(timeout=30), "the test never allowed the step"
            self.ran.append(name)
            if progress is not None:
                progress(i + 1, n)

    def install(self, monkeypatch) -> None:
        real_compress, real_decompress = self.engine.compress, self.engine.decompress

        def compress(pixels, quality=75.0, target_bytes=None, model_id=None, progress=None,
                     cancel=None):
            self._run("compress", progress, cancel)
            return real_compress(pixels, quality, target_bytes, model_id)

        def decompress(data, progress=None, cancel=None):
            self._run("decompress", progress, cancel)
            return real_decompress(data)

        monkeypatch.setattr(self.engine, "compress", compress)
        monkeypatch.setattr(self.engine, "decompress", decompress)


@pytest.fixture
def stepped(window, monkeypatch):
    s = Stepped(window.engine, encode_steps=3, decode_steps=4)
    s.install(monkeypatch)
    yield s
    s.allowed.release(100)  # never leave a worker waiting


def test_the_bar_follows_the_encode_and_decode_steps(qtbot, window, stepped):
    win = window
    shown: list[tuple[int, int, str]] = []
    win.controller.progress.connect(
        lambda done, total: shown.append((done, total, win.controller.progress_note)))
    win.set_image(gradient(96, 128, seed=5), "small.png")
    qtbot.waitUntil(lambda: win.controller.is_busy and bool(shown), timeout=5_000)
    assert win.progress_bar.maximum() == 100  # determinate from the start
    # the encode's last step ends it: the decode is what runs next
    expected = ["Encoding step 1 / 3", "Encoding step 2 / 3", "Decoding"] + \
        [f"Decoding step {k} / 4" for k in (1, 2, 3, 4)]
    for text in expected:
        stepped.allowed.release()
        qtbot.waitUntil(lambda: any(note.split(" · ")[0] == text for *_, note in shown),
                        timeout=5_000)
        assert win.progress_bar.maximum() == 100
    qtbot.waitUntil(lambda: win.result_pixels("compress") is not None
                    and not win.controller.is_busy, timeout=TIMEOUT_MS)
    percents = [done for done, _, _ in shown]
    assert {total for _, total, _ in shown} == {100}
    assert percents == sorted(percents) and percents[-1] == 100  # never back, then full
    # every step moved the bar: 3 encode and 4 decode steps give 7 higher values
    firsts = {note.split(" · ")[0]: done for done, _, note in reversed(shown)}
    steps = [firsts[text] for text in expected]
    assert steps == sorted(set(steps)) and steps[-1] == 100


def test_cancel_mid_encode_stops_at_a_step_boundary(qtbot, window, stepped):
    win = window
    win.set_image(gradient(96, 128, seed=6), "small.png")
    stepped.allowed.release(2)
    qtbot.waitUntil(lambda: win.controller.progress_note.startswith("Encoding step 2 / 3"),
                    timeout=5_000)
    with qtbot.waitSignal(win.controller.cancelled, timeout=5_000):
        win.cancel_button.click()
    stepped.allowed.release(10)  # the step waiting when the cancel came may end; no more
    assert win.controller.pool.waitForDone(TIMEOUT_MS)
    assert stepped.ran == ["compress"] * 3
    assert win.result_pixels("compress") is None and not win.controller.is_busy
