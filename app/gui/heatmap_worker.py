"""The difference heatmap (View ▸ Difference heatmap, key D), computed off the UI thread.

On a 12 MP photo the heatmap takes a second or more of numpy work; done on the UI thread it
froze the window, and every Space press or release (which redraws the right pane) froze it
again. Here the window asks :meth:`HeatmapWorker.heatmap_for` first: a cached heatmap for
the same pair of arrays comes back at once. Otherwise it calls :meth:`request`, shows the
plain result meanwhile, and redraws when ``ready`` fires. A generation counter, as in the
controller, drops a heatmap whose pair was replaced while it was computed.
"""

from __future__ import annotations

import weakref

import numpy as np
from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QImage

from .heatmap import difference_heatmap
from .screen_images import prepare, prepared
from .worker import Worker

__all__ = ["HeatmapWorker"]


def _same(ref: weakref.ref | None, arr: np.ndarray) -> bool:
    return ref is not None and ref() is arr


class HeatmapWorker(QObject):
    """One heatmap at a time, for the latest (original, result) pair; the last one cached."""

    ready = Signal()  # the heatmap of the latest request is available

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._generation = 0
        self._pending: tuple[weakref.ref, weakref.ref] | None = None
        self._cached: tuple[weakref.ref, weakref.ref, np.ndarray] | None = None
        self._jobs: dict[int, Worker] = {}
        self._retired: list[Worker] = []  # kept until their run() has returned
        self.computed = 0  # heatmaps computed (tests check the cache works)

    def heatmap_for(self, original: np.ndarray, result: np.ndarray) -> np.ndarray | None:
        """The heatmap of exactly these two arrays, if it was computed; else None."""
        c = self._cached
        if c is not None and _same(c[0], original) and _same(c[1], result):
            return c[2]
        return None

    def image_for(self, heat: np.ndarray) -> QImage | None:
        """The cached heatmap as a QImage already in the screen's pixel format (made in the
        worker, so showing it costs the UI thread no conversion), or None."""
        c = self._cached
        return prepared(heat) if c is not None and c[2] is heat else None

    @property
    def is_busy(self) -> bool:
        return self._pending is not None

    def request(self, original: np.ndarray, result: np.ndarray) -> None:
        """Compute the heatmap of this pair in the pool (nothing if cached or running)."""
        if self.heatmap_for(original, result) is not None:
            return
        p = self._pending
        if p is not None and _same(p[0], original) and _same(p[1], result):
            return
        self._generation += 1
        for worker in self._jobs.values():
            worker.cancel()
        gen = self._generation
        self._pending = (weakref.ref(original), weakref.ref(result))

        def job(_progress, cancel):
            heat = difference_heatmap(original, result)
            if heat is None or cancel():
                return None
            prepare(heat)  # QImage (unlike QPixmap) may be made off the UI thread
            return heat

        worker = Worker(job, "heatmap")
        worker.signals.finished.connect(lambda heat, g=gen: self._on_done(g, heat))
        worker.signals.errored.connect(lambda _msg, g=gen: self._on_done(g, None))
        self._jobs[gen] = worker
        self.pool.start(worker)

    def clear(self) -> None:
        """Forget the cache and drop whatever is being computed (a new image)."""
        self._generation += 1
        self._pending = None
        self._cached = None
        for worker in self._jobs.values():
            worker.cancel()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        self.clear()
        return self.pool.waitForDone(timeout_ms)

    def _on_done(self, gen: int, heat: np.ndarray | None) -> None:
        self._retired = [w for w in self._retired if not w.done.is_set()]
        worker = self._jobs.pop(gen, None)
        if worker is not None:
            self._retired.append(worker)
        if gen != self._generation or self._pending is None:
            return
        original, result = self._pending[0](), self._pending[1]()
        self._pending = None
        if heat is None or original is None or result is None:
            return
        self.computed += 1
        self._cached = (weakref.ref(original), weakref.ref(result), heat)
        self.ready.emit()
