"""User intents -> background jobs, with the newest request always winning.

Every request increments a generation counter; a job remembers the generation it was started
for, and its result is dropped if a newer request was made meanwhile (so dragging the quality
slider only ever shows the result for the latest position). Slider moves go through
:meth:`Controller.request_compress`, which is debounced by a short single-shot timer.

A compress delivers its reconstruction as soon as it is decoded (with its bytes and PSNR);
slower measures (MS-SSIM costs about a fifth of the encode and decode) follow as *readouts*
(:meth:`Controller.readout`): jobs in their own one-thread pool whose answers are dropped once
a newer request exists.

The engine is anything that follows :class:`app.core.engine_protocol.EngineProtocol` (tests
use a scripted fake). The engine's typed results become the signals' dict payloads here.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, SignalInstance

from app.core.codec.image_codec import TO_SIZE_CODINGS
from app.core.compare.metrics import bits_per_pixel
from app.core.engine_protocol import CancelFn, EngineProtocol
from app.core.round_trip import compress_and_measure, ms_ssim_or_none
from app.spec.bitstream import unpack

from .compress_progress import PERCENT, CompressPace, CompressProgress
from .screen_images import prepare
from .worker import CANCELLED_MESSAGE, JobFn, Worker

__all__ = ["DEBOUNCE_MS", "SETTLED_MS", "Controller"]

DEBOUNCE_MS = 150  # while the slider is dragged: wait for a pause
SETTLED_MS = 30  # a change that is final (released, typed, a key step): only merge bursts
TICK_MS = 500  # a running compress's percentage and time left are updated this often


class Controller(QObject):
    """Owns the thread pool and the generation counter; the window connects to its signals.

    Result payloads are dicts; every one carries ``generation`` and ``seconds``:

    * ``compressed``: ``data`` (bytes), ``bytes``, ``bpp``, ``psnr``, ``ms_ssim`` (None: a
      readout measures it), ``quality``, ``target_bytes``, ``model_id``,
      ``reconstruction`` (decoded pixels), ``decode_seconds``
    * ``decoded``: ``data``, ``bytes``, ``bpp``, ``pixels``, ``name``, ``model_id``
    * ``denoised``: ``pixels``, ``sigma``, ``automatic``
    * ``inpainted``: ``pixels``
    """

    compressed = Signal(object)
    decoded = Signal(object)
    denoised = Signal(object)
    inpainted = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    busy = Signal(bool)
    # (done, total): tiles of a denoise, inpaint or decode; for a compress, the percent done of
    # its encode and decode steps, with ``progress_note`` saying "Encoding step 3 / 12 · about
    # 20 s left" (app/gui/compress_progress.py)
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
        self._debounce_ms = debounce_ms
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._flush_pending)
        # readouts that follow a shown result (MS-SSIM): never in the way of the next job
        self.readouts = QThreadPool(self)
        self.readouts.setMaxThreadCount(1)
        self._readouts: list[Worker] = []
        # the running compress's progress: the engine's steps, weighted by the earlier pace
        self.progress_note = ""
        self.pace = CompressPace()
        # called in a compress's job before it starts, with its cancel(): the window lets the
        # compress's preview run first (CompressPreview.wait_turn)
        self.before_compress: Callable[[CancelFn], object] | None = None
        self._tracked: tuple[int, CompressProgress] | None = None
        self._analysed: weakref.ref | None = None  # the image the engine last analysed
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self._tick)

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
        for worker in (*self._jobs.values(), *self._readouts):
            worker.cancel()
        return self._generation

    # ------------------------------------------------------------------------ intents
    def request_compress(self, pixels: np.ndarray, quality: float,
                         settled: bool = False) -> None:
        """Debounced compress: only the last request within ``debounce_ms`` runs;
        ``settled`` (the value is final, not a slider being dragged) waits ``SETTLED_MS``."""
        self._request(lambda: self.compress(pixels, quality),
                      min(SETTLED_MS, self._debounce_ms) if settled else self._debounce_ms)

    def flush(self) -> None:
        """Start the pending debounced request now (the slider was released)."""
        if self._pending is not None:
            self._debounce.stop()
            self._flush_pending()

    def request_denoise(self, pixels: np.ndarray, sigma: float | None,
                        passes: int | None = None) -> None:
        """Debounced denoise (a strength slider being dragged)."""
        self._request(lambda: self.denoise(pixels, sigma, passes))

    def _request(self, start: Callable[[], int], delay_ms: int | None = None) -> None:
        self._next_generation()
        self._pending = start
        self._debounce.start(self._debounce_ms if delay_ms is None else delay_ms)
        self._set_busy(True)

    def compress(self, pixels: np.ndarray, quality: float,
                 target_bytes: int | None = None) -> int:
        """Compress now (at ``quality``, or the best quality that fits ``target_bytes``); also
        decode, to measure PSNR and the decode time (MS-SSIM is left to a readout). Both
        report their steps and stop between two steps once cancelled. Returns the job's
        generation."""
        engine = self.engine
        analysed = self._analysed is None or self._analysed() is not pixels
        try:  # the engine keeps the analysis of the image it last analysed
            self._analysed = weakref.ref(pixels)
        except TypeError:
            self._analysed = None

        def job(progress, cancel) -> dict:
            t = time.perf_counter()
            if self.before_compress is not None:
                self.before_compress(cancel)
            trip = compress_and_measure(
                engine, pixels, quality, target_bytes,
                progress=lambda stage, done, total: progress(done, total, stage=stage),
                cancel=cancel)
            prepare(trip.reconstruction)  # its QImage: the UI thread only wraps it
            res = trip.encoded
            return {"data": res.data, "bytes": trip.bytes, "bpp": trip.bpp, "psnr": trip.psnr,
                    "ms_ssim": trip.ms_ssim, "seconds": res.seconds,
                    "decode_seconds": trip.decode_seconds,
                    "total_seconds": time.perf_counter() - t, "quality": res.quality,
                    "target_bytes": target_bytes, "model_id": res.model_id,
                    "reconstruction": trip.reconstruction, "analysed": analysed}
        gen = self._submit(job, self.compressed, "compress")
        megapixels = pixels.shape[0] * pixels.shape[1] / 1e6
        self._tracked = gen, CompressProgress(self.pace, megapixels, analysed,
                                              time.monotonic(), 1 if target_bytes is None
                                              else TO_SIZE_CODINGS)
        self._ticker.start()
        self._tick()  # a percentage from the start, not a bar that only moves
        return gen

    def readout(self, compute: Callable[[], Any], deliver: Callable[[Any], None]) -> None:
        """``compute()`` in the readout pool, then ``deliver(value)`` on the UI thread unless a
        newer request was made meanwhile (a readout not started by then never runs)."""
        gen = self._generation
        worker = Worker(lambda _progress, _cancel: compute(), "readout")
        worker.signals.finished.connect(
            lambda value: deliver(value) if gen == self._generation else None)
        self._readouts = [w for w in self._readouts if not w.done.is_set()] + [worker]
        self.readouts.start(worker)

    def ms_ssim(self, reference: np.ndarray, reconstruction: np.ndarray,
                deliver: Callable[[float | None], None]) -> None:
        """MS-SSIM of a shown result as a readout (None for images too small for it)."""
        self.readout(lambda: ms_ssim_or_none(reference, reconstruction), deliver)

    def decode(self, data: bytes, name: str = "") -> int:
        """Decode an .aei file's bytes."""
        engine = self.engine

        def job(progress, cancel) -> dict:
            t = time.perf_counter()
            pixels = engine.decompress(data, progress=progress, cancel=cancel)
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
        self._stop_tracking()
        self._set_busy(False)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel everything and wait for the pool threads; True if they all stopped."""
        self._debounce.stop()
        self._pending = None
        self._next_generation()
        ok = self.pool.waitForDone(timeout_ms) and self.readouts.waitForDone(timeout_ms)
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
        worker.signals.stage_progress.connect(
            lambda stage, done, total, g=gen: self._on_stage_progress(g, stage, done, total))
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

    def _on_stage_progress(self, gen: int, stage: str, done: int, total: int) -> None:
        """A step of the compress's encode or decode has ended."""
        if self._tracked is not None and self._tracked[0] == gen == self._generation:
            self._tracked[1].step(stage, done, total, time.monotonic())
            self._tick()

    def _tick(self) -> None:
        tracked = self._tracked
        if tracked is None or tracked[0] != self._generation:
            self._stop_tracking()
            return
        percent, self.progress_note = tracked[1].at(time.monotonic())
        self.progress.emit(percent, PERCENT)

    def _stop_tracking(self) -> None:
        self._ticker.stop()
        self._tracked = None
        self.progress_note = ""

    def _on_finished(self, gen: int, signal: SignalInstance, result: Any) -> None:
        self._retire(gen)
        if signal is self.compressed and result and result.get("target_bytes") is None:
            self._learn_pace(result)
        if gen != self._generation:
            self.dropped += 1
            return
        self._stop_tracking()
        self._set_busy(False)
        result = dict(result)
        result["generation"] = gen
        signal.emit(result)

    def _learn_pace(self, result: dict[str, Any]) -> None:
        """Every finished compress, even one no longer wanted, tells the machine's pace."""
        rec = result.get("reconstruction")
        if rec is not None:
            self.pace.learn(rec.shape[0] * rec.shape[1] / 1e6, bool(result.get("analysed")),
                             result.get("seconds"), result.get("decode_seconds"))

    def _on_errored(self, gen: int, message: str) -> None:
        self._retire(gen)
        if gen != self._generation:
            self.dropped += 1
            return
        self._stop_tracking()
        self._set_busy(False)
        if message == CANCELLED_MESSAGE:
            self.cancelled.emit()
        else:
            self.failed.emit(message)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy.emit(busy)
