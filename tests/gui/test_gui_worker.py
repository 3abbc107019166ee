"""The QRunnable worker: result, progress, errors and cancellation all arrive as signals."""

import threading

import pytest
from PySide6.QtCore import QThreadPool

from app.core.runtime.tiling import Cancelled
from app.gui.worker import CANCELLED_MESSAGE, Worker, describe_error

TIMEOUT_MS = 10_000


@pytest.fixture
def pool(qapp):
    p = QThreadPool()
    yield p
    p.waitForDone(TIMEOUT_MS)


def test_result_and_progress(qtbot, pool):
    def fn(progress, cancel):
        for i in range(3):
            progress(i + 1, 3)
        return {"answer": 42}

    worker = Worker(fn)
    steps, results = [], []
    worker.signals.progress.connect(lambda d, t: steps.append((d, t)))
    worker.signals.finished.connect(results.append)
    with qtbot.waitSignals([worker.signals.started, worker.signals.finished],
                           timeout=TIMEOUT_MS):
        pool.start(worker)
    assert results == [{"answer": 42}]
    qtbot.waitUntil(worker.done.is_set, timeout=TIMEOUT_MS)
    assert steps == [(1, 3), (2, 3), (3, 3)]


def test_exception_becomes_errored_signal(qtbot, pool):
    def fn(progress, cancel):
        raise ValueError("photo.png: not a recognised image file")

    worker = Worker(fn)
    finished = []
    worker.signals.finished.connect(finished.append)
    with qtbot.waitSignal(worker.signals.errored, timeout=TIMEOUT_MS) as blocker:
        pool.start(worker)
    assert blocker.args == ["photo.png: not a recognised image file"]
    qtbot.waitUntil(worker.done.is_set, timeout=TIMEOUT_MS)
    assert finished == []


def test_unexpected_exception_names_its_type(qtbot, pool):
    worker = Worker(lambda progress, cancel: 1 / 0)
    with qtbot.waitSignal(worker.signals.errored, timeout=TIMEOUT_MS) as blocker:
        pool.start(worker)
    assert blocker.args[0].startswith("ZeroDivisionError")


def test_cancel_reaches_the_callable(qtbot, pool):
    running = threading.Event()

    def fn(progress, cancel):
        running.set()
        while not cancel():
            threading.Event().wait(0.005)
        raise Cancelled()

    worker = Worker(fn)
    with qtbot.waitSignal(worker.signals.errored, timeout=TIMEOUT_MS) as blocker:
        pool.start(worker)
        assert running.wait(5)
        worker.cancel()
    assert blocker.args == [CANCELLED_MESSAGE]
    assert worker.cancelled


def test_cancel_before_start_never_runs(qtbot, pool):
    calls = []
    worker = Worker(lambda progress, cancel: calls.append(1))
    worker.cancel()
    with qtbot.waitSignal(worker.signals.errored, timeout=TIMEOUT_MS) as blocker:
        pool.start(worker)
    assert blocker.args == [CANCELLED_MESSAGE]
    assert calls == []


def test_describe_error():
    assert describe_error(Cancelled()) == CANCELLED_MESSAGE
    assert describe_error(FileNotFoundError(2, "No such file or directory", "x.png")) == \
        "x.png: No such file or directory"
    assert describe_error(RuntimeError("")) == "RuntimeError"
    assert describe_error(KeyError("k")) == "'k'"
