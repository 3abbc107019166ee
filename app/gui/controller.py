"""User intents -> background jobs, with the newest request always winning.

Every request increments a generation counter; a job remembers the generation it was started
for, and its result is dropped if a newer request was made meanwhile (so dragging the quality
slider only ever shows the result for the latest position). Slider moves go through
:meth:`Controller.request_compress`, which is debounced by a short single-shot timer.

The engine is anything that follows :class:`app.core.engine_protocol.EngineProtocol` (tests
use a scripted fake). The engine's typed results become the signals' dict payloads here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, SignalInstance

from app.core.compare.metrics import bits_per_pixel, psnr
from app.core.compare.same_size import encode_at_size
from app.core.engine_protocol import EngineProtocol
from app.core.round_trip import compress_and_measure, ms_ssim_or_none
from app.spec.bitstream import unpack

from .screen_images import prepare
from .worker import CANCELLED_MESSAGE, JobFn, Worker

__all__ = ["DEBOUNCE_MS", "Controller"]

DEBOUNCE_MS = 150


class Controller(QObject):
    """Owns the thread pool and the generation counter; the window connects to its signals.

    Result payloads are dicts; every one carries ``generation`` and ``seconds``:

    * ``compressed``: ``data`` (bytes), ``bytes``, ``bpp``, ``psnr``, ``ms_ssim`` (None for
      images too small for it), ``quality``, ``target_bytes``, ``model_id``,
      ``reconstruction`` (decoded pixels), ``decode_seconds``
    * ``same_sized``: ``format``, ``quality``, ``bytes``, ``fits``, ``pixels``, ``psnr``,
      ``ms_ssim`` (a classic codec at the size of the AE Studio file)
    * ``decoded``: ``data``, ``bytes``, ``bpp``, ``pixels``, ``name``, ``model_id``
    * ``denoised``: ``pixels``, ``sigma``, ``automatic``
    * ``inpainted``: ``pixels``
    """

    compressed = Signal(object)
    same_sized = Signal(object)
    decoded = Signal(object)
    denoised = Signal(object)
    inpainted = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    busy = Signal(bool)
    progress = Signal(int, int)

    def __init__(self, engine: EngineProtocol, parent: QObject | None = None,
                 max_threads: int = 2,
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
        self._pending: Callable[[], int] | None = None  # the debounced request
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._flush_pending)

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
        self._request(lambda: self.compress(pixels, quality))

    def request_denoise(self, pixels: np.ndarray, sigma: float | None,
                        passes: int | None = None) -> None:
        """Debounced denoise (a strength slider being dragged)."""
        self._request(lambda: self.denoise(pixels, sigma, passes))

    def _request(self, start: Callable[[], int]) -> None:
        self._next_generation()
        self._pending = start
        self._debounce.start()
        self._set_busy(True)

    def compress(self, pixels: np.ndarray, quality: float,
                 target_bytes: int | None = None) -> int:
        """Compress now (at ``quality``, or the best quality that fits ``target_bytes``); also
        decode, to measure PSNR, MS-SSIM and the decode time. Returns the job's generation."""
        engine = self.engine

        def job(progress, cancel) -> dict:
            t = time.perf_counter()
            trip = compress_and_measure(engine, pixels, quality, target_bytes,
                                        with_ms_ssim=True, progress=progress, cancel=cancel)
            if trip is None:
                return {}
            prepare(trip.reconstruction)  # its QImage: the UI thread only wraps it
            res = trip.encoded
            return {"data": res.data, "bytes": trip.bytes, "bpp": trip.bpp, "psnr": trip.psnr,
                    "ms_ssim": trip.ms_ssim, "seconds": res.seconds,
                    "decode_seconds": trip.decode_seconds,
                    "total_seconds": time.perf_counter() - t, "quality": res.quality,
                    "target_bytes": target_bytes, "model_id": res.model_id,
                    "reconstruction": trip.reconstruction}

        return self._submit(job, self.compressed, "compress")

    def same_size(self, pixels: np.ndarray, fmt: str, target_bytes: int) -> int:
        """Encode ``pixels`` with a classic codec (jpeg, webp, avif) at ``target_bytes``."""

        def job(progress, cancel) -> dict:
            res = encode_at_size(pixels, fmt, target_bytes, cancel=cancel)
            ref = pixels[:, :, :3] if pixels.ndim == 3 and pixels.shape[2] == 4 else pixels
            out = res.pixels.reshape(ref.shape)
            prepare(out)
            return {"format": fmt, "quality": res.quality, "bytes": len(res.data),
                    "fits": res.fits, "pixels": out, "psnr": psnr(ref, out),
                    "ms_ssim": ms_ssim_or_none(ref, out), "seconds": res.seconds}

        return self._submit(job, self.same_sized, "same-size")

    def decode(self, data: bytes, name: str = "") -> int:
        """Decode an .aei file's bytes."""
        engine = self.engine

        def job(progress, cancel) -> dict:
            t = time.perf_counter()
            pixels = engine.decompress(data)
            prepare(pixels)
            h, w = pixels.shape[:2]
            model_id = unpack(data).model_id  # the engine has just decoded it: it unpacks
            return {"data": data, "bytes": len(data), "bpp": bits_per_pixel(len(data), w, h),
                    "pixels": pixels, "name": name, "model_id": model_id,
                    "seconds": time.perf_counter() - t}

        return self._submit(job, self.decoded, "decode")

    def denoise(self, pixels: np.ndarray, sigma: float | None = None,
                passes: int | None = None) -> int:
        """Denoise; ``sigma`` None estimates the noise level (automatic strength); ``passes``
        None: the engine's default."""
        engine = self.engine

        def job(progress, cancel) -> dict:
            t = time.perf_counter()
            out, used = engine.denoise(pixels, sigma, progress=progress, cancel=cancel,
                                       passes=passes)
            prepare(out)
            return {"pixels": out, "sigma": float(used), "automatic": sigma is None,
                    "seconds": time.perf_counter() - t, "passes": passes}

        return self._submit(job, self.denoised, "denoise")

    def inpaint(self, pixels: np.ndarray, mask: np.ndarray, passes: int | None = None) -> int:
        """Fill the nonzero pixels of ``mask`` (HxW); ``passes`` None: the engine's default."""
        engine = self.engine

        def job(progress, cancel) -> dict:
            t = time.perf_counter()
            out = engine.inpaint(pixels, mask, progress=progress, cancel=cancel, passes=passes)
            prepare(out)
            return {"pixels": out, "seconds": time.perf_counter() - t, "passes": passes}

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
    def _flush_pending(self) -> None:
        start, self._pending = self._pending, None
        if start is not None:
            start()

    def _submit(self, fn: JobFn, done_signal: SignalInstance, name: str) -> int:
        self._debounce.stop()  # a direct request replaces a pending debounced one
        self._pending = None
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
