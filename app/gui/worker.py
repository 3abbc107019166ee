"""Run a callable off the UI thread: a QRunnable for QThreadPool plus a signals holder.

The callable has the shape ``fn(progress, cancel) -> result`` where ``progress(done, total)``
reports advancement and ``cancel()`` returns True once :meth:`Worker.cancel` was called
(the core's tiled operations take exactly these two callbacks). A job made of stages that
count their own steps (a compress: its encode, then its decode) calls
``progress(done, total, stage=name)``. Exceptions never escape into
Qt: they become an ``errored`` signal with a readable message.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Signal

from app.core.errors import OUT_OF_MEMORY, error_line
from app.core.runtime.tiling import Cancelled

__all__ = ["CANCELLED_MESSAGE", "JobFn", "Worker", "WorkerSignals", "describe_error"]

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]
JobFn = Callable[[ProgressFn, CancelFn], Any]

CANCELLED_MESSAGE = "Cancelled."


class WorkerSignals(QObject):
    """Signals of one :class:`Worker` (a QRunnable cannot emit signals itself).

    Create it in the GUI thread: connections to it are then queued into that thread.
    """

    started = Signal()
    progress = Signal(int, int)
    stage_progress = Signal(str, int, int)  # (stage, done, total)
    finished = Signal(object)
    errored = Signal(str)


def describe_error(exc: BaseException) -> str:
    """A one-line, user-facing message for ``exc``."""
    if isinstance(exc, Cancelled):
        return CANCELLED_MESSAGE
    line = error_line(exc, filename="before", tag_unexpected=True)
    return "Out of memory." if line == OUT_OF_MEMORY else line


class Worker(QRunnable):
    """Runs ``fn(progress, cancel)`` once in a thread pool.

    Emits ``started``, any number of ``progress(done, total)`` (or
    ``stage_progress(stage, done, total)``), then exactly one of
    ``finished(result)`` or ``errored(message)`` (``CANCELLED_MESSAGE`` after a cancel).
    The runnable is not auto-deleted: whoever starts it keeps a reference until
    :attr:`done` is set (after the last signal was emitted).
    """

    def __init__(self, fn: JobFn, name: str = "job") -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.fn = fn
        self.name = name
        self.signals = WorkerSignals()
        self._cancel = threading.Event()
        self.done = threading.Event()

    def cancel(self) -> None:
        """Ask the callable to stop: its ``cancel()`` returns True from now on."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _progress(self, done: int, total: int, stage: str | None = None) -> None:
        if stage is None:
            self.signals.progress.emit(int(done), int(total))
        else:
            self.signals.stage_progress.emit(stage, int(done), int(total))

    def run(self) -> None:  # noqa: D401 - Qt override, runs in a pool thread
        try:
            self.signals.started.emit()
            if self._cancel.is_set():
                raise Cancelled()
            result = self.fn(self._progress, self._cancel.is_set)
        except Cancelled:
            self.signals.errored.emit(CANCELLED_MESSAGE)
        except BaseException as exc:  # noqa: BLE001 - nothing may escape into Qt
            if not isinstance(exc, Exception):
                traceback.print_exc()
            self.signals.errored.emit(describe_error(exc))
        else:
            if self._cancel.is_set():
                self.signals.errored.emit(CANCELLED_MESSAGE)
            else:
                self.signals.finished.emit(result)
        finally:
            self.done.set()
