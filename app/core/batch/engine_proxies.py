"""Stand-ins for :class:`app.core.engine.Engine` that let several batch threads share engines.

Each has the Engine's ``compress/decompress/denoise/inpaint`` and forwards them to a real
Engine. :class:`LockedEngine` serialises one engine shared by threads (a Ray actor running two
files at once). :class:`QueuedEngine` is what a file thread of the local backend gives
:func:`app.core.jobs.run` as its engine: each call is queued to the inference workers
(:func:`inference_worker`, one per engine) and waited for, so while a worker runs a model,
other file threads decode the next inputs and write the previous outputs.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from ..engine_protocol import EngineProtocol
from ..runtime.tiling import Cancelled

__all__ = ["LockedEngine", "QueuedEngine", "inference_worker"]


class _EngineFacade:
    """The engine operations ``jobs.run`` uses, each forwarded to ``self._call(name, ...)``."""

    def _call(self, name: str, *args, **kwargs):
        raise NotImplementedError

    def compress(self, *args, **kwargs):
        return self._call("compress", *args, **kwargs)

    def decompress(self, *args, **kwargs):
        return self._call("decompress", *args, **kwargs)

    def denoise(self, *args, **kwargs):
        return self._call("denoise", *args, **kwargs)

    def inpaint(self, *args, **kwargs):
        return self._call("inpaint", *args, **kwargs)


class LockedEngine(_EngineFacade):
    """An engine whose operations run one at a time (for threads sharing one engine)."""

    def __init__(self, engine: EngineProtocol):
        self.engine = engine
        self._lock = threading.Lock()

    def _call(self, name: str, *args, **kwargs):
        with self._lock:
            return getattr(self.engine, name)(*args, **kwargs)


class _Request:
    __slots__ = ("name", "args", "kwargs", "done", "value", "error", "seconds")

    def __init__(self, name: str, args: tuple, kwargs: dict):
        self.name, self.args, self.kwargs = name, args, kwargs
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self.seconds = 0.0


class QueuedEngine(_EngineFacade):
    """What a file thread gives ``jobs.run`` as its engine: each call is queued to the
    inference workers and waited for. Keeps the time spent in the model for the report."""

    def __init__(self, requests: queue.Queue, cancel: Callable[[], bool]):
        self._requests = requests
        self._cancel = cancel
        self.inference_seconds = 0.0
        self.wait_seconds = 0.0

    def _call(self, name: str, *args, **kwargs):
        if self._cancel():
            raise Cancelled()
        req = _Request(name, args, kwargs)
        t = time.perf_counter()
        self._requests.put(req)
        req.done.wait()
        self.inference_seconds += req.seconds
        self.wait_seconds += time.perf_counter() - t - req.seconds
        if req.error is not None:
            raise req.error
        return req.value


def inference_worker(engine: EngineProtocol, requests: queue.Queue, cancel: Callable[[], bool]) -> None:
    while True:
        req = requests.get()
        if req is None:
            return
        t = time.perf_counter()
        try:
            if cancel():
                raise Cancelled()
            req.value = getattr(engine, req.name)(*req.args, **req.kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed back to the file thread
            req.error = exc
        req.seconds = time.perf_counter() - t
        req.done.set()
