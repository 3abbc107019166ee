"""User intents -> background jobs, with the newest request always winning.

Every request increments a generation counter; a job remembers the generation it was started
for, and its result is dropped if a newer request was made meanwhile (so dragging the quality
slider only ever shows the result for the latest position). Slider moves go through
:meth:`Controller.request_compress`, which is debounced by a short single-shot timer.

The engine is duck-typed: anything with the ``compress/decompress/denoise/inpaint`` methods
of :class:`app.core.engine.Engine` works (tests use a scripted fake).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, SignalInstance

from app.core.metrics import bits_per_pixel, psnr

from .worker import CANCELLED_MESSAGE, JobFn, Worker

__all__ = ["DEBOUNCE_MS", "Controller"]

DEBOUNCE_MS = 150


class Controller(QObject):
    """Owns the thread pool and the generation counter; the window connects to its signals.

    Result payloads are dicts; every one carries ``generation`` and ``seconds``:

    * ``compressed``: ``data`` (bytes), ``bytes``, ``bpp``, ``psnr``, ``quality``,
      ``model_id``, ``reconstruction`` (decoded pixels)
    * ``decoded``: ``data``, ``bytes``, ``bpp``, ``pixels``, ``name``, ``model_id``
    * ``denoised``: ``pixels``, ``sigma``
    * ``inpainted``: ``pixels``
    """

    compressed = Signal(object)
    decoded = Signal(object)
    denoised = Signal(object)
    inpainted = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    busy = Signal(bool)
    progress = Signal(int, int)

    def __init__(self, engine: Any, parent: QObject | None = None, max_threads: int = 2,
                 debounce_ms: int = DEBOUNCE_MS) -> None:
        super().__init__(parent)
        self.engine = engine
        self.pool = QThreadPool(self)
        # Two threads so that a stale job that cannot be interrupted never delays a new one.
        self.pool.setMaxThreadCount(max(1, max_threads))
        self._generation = 0
        self._jobs: dict[int, Worker] = {}
        self._retired: list[Worker] = []
        self._busy = False
        self.dropped = 0  # results discarded because a newer request existed
        self._pending: tuple[np.ndarray, float] | None = None
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._flush_compress)

    # ------------------------------------------------------------------------ state
    @property
    def generation(self) -> int:
        """The generation of the latest request."""
        return self._generation

    @property
    def is_busy(self) -> bool:
        return self._busy

    def _next_generation(self) -> int:
        """Invalidate everything in flight; return the new generation."""
        self._generation += 1
        for worker in self._jobs.values():
            worker.cancel()
        return self._generation

    # ------------------------------------------------------------------------ intents
    def request_compress(self, pixels: np.ndarray, quality: float) -> None:
        """Debounced compress: only the last request within ``debounce_ms`` runs."""
        self._next_generation()
        self._pending = (pixels, float(quality))
        self._debounce.start()
        self._set_busy(True)

    def compress(self, pixels: np.ndarray, quality: float) -> int:
        """Compress now; also decode to measure PSNR. Returns the job's generation."""
        self._debounce.stop()
        self._pending = None
        engine = self.engine
        h, w = pixels.shape[:2]

        def job(progress, cancel) -> dict:
            t = time.perf_counter()
            res = engine.compress(pixels, quality)
            if cancel():
                return {}
            progress(1, 2)
            rec = engine.decompress(res.data)
            progress(2, 2)
            return {"data": res.data, "bytes": len(res.data),
                    "bpp": bits_per_pixel(len(res.data), w, h), "psnr": psnr(pixels, rec),
                    "seconds": res.seconds, "total_seconds": time.perf_counter() - t,
                    "quality": res.quality, "model_id": res.model_id, "reconstruction": rec}

        return self._submit(job, self.compressed, "compress")

    def decode(self, data: bytes, name: str = "") -> int:
        """Decode an .aei file's bytes."""
        engine = self.engine

        def job(progress, cancel) -> dict:
            t = time.perf_counter()
            pixels = engine.decompress(data)
            h, w = pixels.shape[:2]
            model_id = ""
            try:
                model_id = engine.codec_for(data)[0].model.id
            except Exception:  # noqa: BLE001 - informational only
                pass
            return {"data": data, "bytes": len(data), "bpp": bits_per_pixel(len(data), w, h),
                    "pixels": pixels, "name": name, "model_id": model_id,
                    "seconds": time.perf_counter() - t}

        return self._submit(job, self.decoded, "decode")

    def denoise(self, pixels: np.ndarray, sigma: float | None = None) -> int:
        """Denoise; ``sigma`` None estimates the noise level (automatic strength)."""
        engine = self.engine

        def job(progress, cancel) -> dict:
            t = time.perf_counter()
            out, used = engine.denoise(pixels, sigma, progress=progress, cancel=cancel)
            return {"pixels": out, "sigma": float(used), "seconds": time.perf_counter() - t}

        return self._submit(job, self.denoised, "denoise")

    def inpaint(self, pixels: np.ndarray, mask: np.ndarray) -> int:
        """Fill the nonzero pixels of ``mask`` (HxW)."""
        engine = self.engine

        def job(progress, cancel) -> dict:
            t = time.perf_counter()
            out = engine.inpaint(pixels, mask, progress=progress, cancel=cancel)
            return {"pixels": out, "seconds": time.perf_counter() - t}

        return self._submit(job, self.inpainted, "inpaint")

    def cancel(self) -> None:
        """Stop whatever is running or pending (emits ``cancelled`` if there was any)."""
        had_work = bool(self._jobs) or self._pending is not None
        self.reset()
        if had_work:
            self.cancelled.emit()

    def reset(self) -> None:
        """Silently invalidate everything running or pending: its results will be dropped."""
        self._debounce.stop()
        self._pending = None
        self._next_generation()
        self._set_busy(False)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel everything and wait for the pool threads; True if they all stopped."""
        self._debounce.stop()
        self._pending = None
        self._next_generation()
        ok = self.pool.waitForDone(timeout_ms)
        self._prune()
        return ok

    # ------------------------------------------------------------------------ plumbing
    def _flush_compress(self) -> None:
        if self._pending is not None:
            pixels, quality = self._pending
            self.compress(pixels, quality)

    def _submit(self, fn: JobFn, done_signal: SignalInstance, name: str) -> int:
        self._prune()
        gen = self._next_generation()
        worker = Worker(fn, name)
        worker.signals.progress.connect(
            lambda done, total, g=gen: self._on_progress(g, done, total))
        worker.signals.finished.connect(
            lambda result, g=gen, sig=done_signal: self._on_finished(g, sig, result))
        worker.signals.errored.connect(lambda message, g=gen: self._on_errored(g, message))
        self._jobs[gen] = worker
        self._set_busy(True)
        self.pool.start(worker)
        return gen

    def _retire(self, gen: int) -> None:
        worker = self._jobs.pop(gen, None)
        if worker is not None:
            self._retired.append(worker)  # freed once its run() has fully returned

    def _prune(self) -> None:
        self._retired = [w for w in self._retired if not w.done.is_set()]

    def _on_progress(self, gen: int, done: int, total: int) -> None:
        if gen == self._generation:
            self.progress.emit(done, total)

    def _on_finished(self, gen: int, signal: SignalInstance, result: Any) -> None:
        self._retire(gen)
        if gen != self._generation:
            self.dropped += 1
            return
        self._set_busy(False)
        result = dict(result)
        result["generation"] = gen
        signal.emit(result)

    def _on_errored(self, gen: int, message: str) -> None:
        self._retire(gen)
        if gen != self._generation:
            self.dropped += 1
            return
        self._set_busy(False)
        if message == CANCELLED_MESSAGE:
            self.cancelled.emit()
        else:
            self.failed.emit(message)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy.emit(busy)
