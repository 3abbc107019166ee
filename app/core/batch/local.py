"""The local backend of folder jobs: a small thread pipeline on this machine.

:class:`BatchRunner` runs ``workers`` inference workers, each with its own
:class:`~app.core.engine.Engine` (so its own onnxruntime sessions, with ``cores // workers``
intra-op threads), reused for the whole folder, and a bounded pool of ``workers + 2`` file
threads. A file thread runs one file through :func:`~app.core.batch.items.process_item` (so
:func:`app.core.jobs.run`): it reads and decodes the input, hands the in-memory inference to the
workers through a queue (a :class:`~app.core.batch.engine_proxies.QueuedEngine`), waits, then
encodes and writes the output atomically (temporary file renamed into place). So while a worker
runs a model, other file threads decode the next inputs and write the previous outputs; at most
``workers + 2`` images are in memory.

Before any model runs, the folders are checked and the files planned
(``app.core.batch.plan``), and where every output lands is checked
(``app.core.batch.paths``); the report and progress are those of ``app.core.batch.progress``.
"""

from __future__ import annotations

import concurrent.futures as cf
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ..jobs import MODEL_TASK
from ..runtime.memory_budget import max_workers_for_memory
from ..runtime.tiling import Cancelled
from .engine_proxies import QueuedEngine, inference_worker
from .items import describe_error, process_item, skipped
from .paths import OutputGuard, preflight
from .plan import BatchItem, BatchOptions, check_folders, plan_local, remove_stale_temps
from .progress import BatchProgress, BatchReport, FileResult, ProgressTracker

__all__ = ["BatchRunner"]


class BatchRunner:
    """Run a batch over local folders with ``opts.workers`` inference workers.

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
        from ..engine import Engine

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
        opts.workers = min(opts.workers, max_workers_for_memory())  # what fits the memory budget
        items = plan_local(opts)
        self.guard = OutputGuard(opts, items, self.report_path)
        self.guard.check_plan(items)       # before any model runs: where every output lands
        todo = [it for it in items if not it.skip and not it.error]
        preflight(opts, todo, self.report_path)
        remove_stale_temps(items)
        tracker = ProgressTracker(len(items), len(todo), self.on_progress)
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
                                  opts.workers, started, time.perf_counter() - t0,
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

    def _run_pipeline(self, todo: list[BatchItem], tracker: ProgressTracker,
                      results: dict[str, FileResult]) -> None:
        opts = self.opts
        threads = opts.worker_threads()
        engines = [self.engine_factory(threads) for _ in range(opts.workers)]
        self._check_model(engines[0])
        requests: queue.Queue = queue.Queue()
        infer_threads = [threading.Thread(target=inference_worker,
                                          args=(e, requests, self.cancelled),
                                          name=f"batch-infer-{i}", daemon=True)
                         for i, e in enumerate(engines)]
        for t in infer_threads:
            t.start()

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

        pool = cf.ThreadPoolExecutor(max_workers=opts.workers + 2,
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
            for _ in infer_threads:
                requests.put(None)
            for t in infer_threads:
                t.join()
