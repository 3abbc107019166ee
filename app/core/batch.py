"""Folder jobs: one task over every image of a folder, for the CLI (``aestudio batch``) and the
GUI's batch dialog alike.

The per-file work is :func:`app.core.jobs.run` (the same code as the single-file commands);
what a folder needs around it lives in these modules:

* **planning** (``app.core.batch_plan``): options, items, inputs and outputs, masks,
  skip-existing and the folder checks (nothing is ever written into the input folder).
* **where outputs land** (``app.core.batch_paths``): every planned output resolved (symlinks,
  ``..``, bind mounts) and refused inside the input or masks tree or onto an input, mask, the
  report or another output, before any model runs; each output folder checked again as it is
  created and just before its file is written; the report path and free space checked up front.
* **a small thread pipeline** (:class:`BatchRunner`, here): ``jobs`` inference workers, each
  with its own :class:`~app.core.engine.Engine` (so its own onnxruntime sessions, with
  ``cores // jobs`` intra-op threads), reused for the whole folder, and a bounded pool of
  ``jobs + 2`` file threads. A file thread runs ``jobs.run`` for one file (:func:`process_item`):
  it reads and decodes the input, hands the in-memory inference to the workers through a queue
  (a duck-typed engine, ``app.core.batch_engine``), waits, then encodes and writes the output
  atomically (temporary file renamed into place). So while a worker runs a model, other file
  threads decode the next inputs and write the previous outputs; at most ``jobs + 2`` images
  are in memory.
* **a report and progress** (``app.core.batch_progress``): every file with its status (ok /
  failed / skipped); a file that cannot be processed is recorded as failed and the batch goes
  on; :attr:`BatchReport.exit_code` is 0 when nothing failed, 3 otherwise, and 4 when the
  report could not be written at the end.

The Ray Data engine (``app.core.batch_ray``) plans and reports the same way and runs the same
per-file function, :func:`process_item`. The public names of all these modules are importable
from here.
"""

from __future__ import annotations

import concurrent.futures as cf
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .atomic_write import destination_check
from .batch_engine import LockedEngine, QueuedEngine, inference_worker
from .batch_paths import OutputGuard, preflight
from .batch_plan import (
    AEI_SUFFIX,
    IMAGE_SUFFIXES,
    MODEL_TASK,
    TASKS,
    BatchError,
    BatchItem,
    BatchOptions,
    check_folders,
    default_jobs,
    default_threads,
    input_suffixes,
    is_url,
    mask_index,
    output_name,
    plan_items,
    plan_local,
    remove_stale_temps,
    scan_local,
)
from .batch_progress import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REPORT,
    BatchProgress,
    BatchReport,
    FileResult,
    TextProgress,
    _Tracker,
)
from .jobs import Job, run
from .memory_budget import max_jobs_for_memory
from .tiling import Cancelled

__all__ = [
    "AEI_SUFFIX", "EXIT_FAILED", "EXIT_OK", "EXIT_REPORT", "IMAGE_SUFFIXES", "TASKS",
    "BatchError", "BatchItem", "BatchOptions", "BatchProgress", "BatchReport", "BatchRunner",
    "FileResult", "LockedEngine", "OutputGuard", "TextProgress", "check_folders", "default_jobs",
    "default_threads", "describe_error", "input_suffixes", "is_url", "mask_index",
    "output_name", "plan_items", "plan_local", "process_item", "remove_stale_temps",
    "run_batch", "scan_local", "skipped",
]



# ============================================================================ one file


def describe_error(exc: BaseException) -> str:
    """One line for the report."""
    if isinstance(exc, MemoryError):
        return "out of memory"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def process_item(item: BatchItem, engine: Any, opts: BatchOptions,
                 cancel: Callable[[], bool] | None = None,
                 guard: OutputGuard | None = None) -> FileResult:
    """Run one file through :func:`app.core.jobs.run`; never raises except :class:`Cancelled`.

    ``engine`` is anything with the Engine's ``compress/decompress/denoise/inpaint``. With a
    ``guard``, the output folder is created and checked one level at a time, and checked again
    just before the output is written (a folder swapped for a symlink mid-run is refused).
    """
    result = FileResult(item.relative, item.input, item.output, "failed")
    if item.skip:
        result.status, result.note = "skipped", item.skip
        return result
    if item.error:
        result.error = item.error
        return result
    t0 = time.perf_counter()
    job = Job(task=opts.task, input=Path(item.input), output=Path(item.output),
              quality=opts.quality, sigma=opts.sigma, passes=opts.passes,
              strength=opts.strength,
              mask=Path(item.mask) if item.mask else None, model=opts.model, force=opts.force)
    try:
        if guard is None:
            Path(item.output).parent.mkdir(parents=True, exist_ok=True)
            res = run(job, engine, cancel=cancel)
        else:
            guard.make_dirs(Path(item.output).parent)
            with destination_check(guard.check_target):
                res = run(job, engine, cancel=cancel)
    except Cancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - a bad file is recorded, the batch goes on
        result.error = describe_error(exc)
    else:
        result.status, result.bytes, result.details = "ok", res.bytes, dict(res.extra)
    result.seconds = round(time.perf_counter() - t0, 4)
    return result


def skipped(item: BatchItem, note: str) -> FileResult:
    return FileResult(item.relative, item.input, item.output, "skipped", note=note)



# ============================================================================ the runner


class BatchRunner:
    """Run a batch over local folders with ``opts.jobs`` inference workers.

    ``engine_factory(threads)`` makes one engine per worker (default: an
    :class:`~app.core.engine.Engine` on ``opts.models_dir`` / ``opts.provider``).
    ``on_progress`` is called from worker threads. :meth:`cancel` (or ``cancel()`` returning
    True) stops the batch: files not started are reported as skipped ("cancelled"), outputs
    being written are completed or not written at all.
    """

    def __init__(self, opts: BatchOptions, *, engine_factory: Callable[[int], Any] | None = None,
                 on_progress: Callable[[BatchProgress], None] | None = None,
                 cancel: Callable[[], bool] | None = None, report: str | None = None):
        self.opts = opts
        self.engine_factory = engine_factory or self._default_engine
        self.on_progress = on_progress
        self._external_cancel = cancel
        self._cancel = threading.Event()
        self.report_path = report
        self.report: BatchReport | None = None
        self.guard: OutputGuard | None = None

    def _default_engine(self, threads: int) -> Any:
        from .engine import Engine

        return Engine(models_dir=self.opts.models_dir, provider=self.opts.provider,
                      threads=threads)

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        if not self._cancel.is_set() and self._external_cancel is not None \
                and self._external_cancel():
            self._cancel.set()
        return self._cancel.is_set()

    def run(self) -> BatchReport:
        opts = self.opts
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        t0 = time.perf_counter()
        check_folders(opts, self.report_path)
        opts.jobs = min(opts.jobs, max_jobs_for_memory())  # workers that fit the memory budget
        items = plan_local(opts)
        self.guard = OutputGuard(opts, items, self.report_path)
        self.guard.check_plan(items)       # before any model runs: where every output lands
        todo = [it for it in items if not it.skip and not it.error]
        preflight(opts, todo, self.report_path)
        remove_stale_temps(items)
        tracker = _Tracker(len(items), len(todo), self.on_progress)
        results: dict[str, FileResult] = {}
        for item in items:
            if item.skip or item.error:
                results[item.relative] = process_item(item, None, opts)
                tracker.add(results[item.relative])
        interrupted = False
        if todo and not self.cancelled():
            try:
                self._run_pipeline(todo, tracker, results)
            except KeyboardInterrupt:
                interrupted = True
        cancelled = interrupted or self.cancelled()
        for item in items:  # what was never started
            if item.relative not in results:
                results[item.relative] = skipped(item, "cancelled")
        tracker.finish()
        self.report = BatchReport(opts.task, str(opts.input_dir), str(opts.output_dir), "local",
                                  opts.jobs, started, time.perf_counter() - t0,
                                  [results[it.relative] for it in items], cancelled)
        self.report.write_or_note(self.report_path)
        if interrupted:
            raise KeyboardInterrupt
        return self.report

    def _check_model(self, engine: Any) -> None:
        """Fail before starting when the task's model is missing or damaged."""
        task = MODEL_TASK.get(self.opts.task)
        if task is not None and hasattr(engine, "model"):
            engine.model(task, self.opts.model)

    def _run_pipeline(self, todo: list[BatchItem], tracker: _Tracker,
                      results: dict[str, FileResult]) -> None:
        opts = self.opts
        threads = opts.worker_threads()
        engines = [self.engine_factory(threads) for _ in range(opts.jobs)]
        self._check_model(engines[0])
        requests: queue.Queue = queue.Queue()
        workers = [threading.Thread(target=inference_worker,
                                    args=(e, requests, self.cancelled),
                                    name=f"batch-infer-{i}", daemon=True)
                   for i, e in enumerate(engines)]
        for w in workers:
            w.start()

        def one(item: BatchItem) -> FileResult:
            if self.cancelled():
                return skipped(item, "cancelled")
            tracker.started(item.relative)
            proxy = QueuedEngine(requests, self.cancelled)
            try:
                res = process_item(item, proxy, opts, cancel=self.cancelled, guard=self.guard)
            except Cancelled:
                return skipped(item, "cancelled")
            if res.status == "ok":
                res.details["inference_seconds"] = round(proxy.inference_seconds, 4)
            return res

        def collect(fut: cf.Future) -> None:
            item = futures[fut]
            if item.relative in results or fut.cancelled():
                return
            try:
                res = fut.result()
            except BaseException as exc:  # noqa: BLE001 - defensive
                res = FileResult(item.relative, item.input, item.output, "failed",
                                 error=describe_error(exc))
            results[item.relative] = res
            tracker.add(res)

        pool = cf.ThreadPoolExecutor(max_workers=opts.jobs + 2,
                                     thread_name_prefix="batch-file")
        futures: dict[cf.Future, BatchItem] = {}
        try:
            for item in todo:
                futures[pool.submit(one, item)] = item
            pending = set(futures)
            while pending:
                done, pending = cf.wait(pending, timeout=0.2,
                                        return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    collect(fut)
                self.cancelled()  # polls an external cancel callable
        except BaseException:
            self._cancel.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for fut in futures:  # files finished while stopping are reported as they are
                if fut.done():
                    collect(fut)
            for _ in workers:
                requests.put(None)
            for w in workers:
                w.join()


def run_batch(opts: BatchOptions, engine: str = "local", *,
              on_progress: Callable[[BatchProgress], None] | None = None,
              cancel: Callable[[], bool] | None = None, report: str | None = None,
              ray_address: str | None = None,
              engine_factory: Callable[[int], Any] | None = None) -> BatchReport:
    """Run a batch on the ``local`` thread pipeline or on ``ray`` (Ray Data)."""
    if engine == "local":
        return BatchRunner(opts, engine_factory=engine_factory, on_progress=on_progress,
                           cancel=cancel, report=report).run()
    if engine == "ray":
        from .batch_ray import run_ray

        return run_ray(opts, address=ray_address, on_progress=on_progress, cancel=cancel,
                       report=report)
    raise BatchError(f"unknown batch engine {engine!r} (use local or ray)")
