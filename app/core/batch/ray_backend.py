"""The Ray Data backend of folder jobs (``aestudio batch --backend ray``).

The same batch as the local backend (:class:`app.core.batch.local.BatchRunner`), spread over a
Ray cluster: ``ray.data.from_items`` of one record per file, then ``map_batches`` with an actor
class (:class:`FileWorker`) that holds one :class:`~app.core.engine.Engine` (its onnxruntime
sessions) for its whole life; an actor pool of ``opts.workers`` actors. Each file still goes
through :func:`app.core.batch.items.process_item` (so :func:`app.core.jobs.run`). The planning
(inputs, mirrored outputs, masks, ``skip_existing``) and the report are those of the local
backend.

Folders are local paths or any pyarrow file system URL (:mod:`app.core.batch.locations`).

Ray and pyarrow are optional (``pip install "aestudio[cluster]"``) and imported only here.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import tempfile
import time
from dataclasses import asdict, replace
from datetime import datetime, timezone
from typing import Any, Callable

from ..io.file_types import IMAGE_SUFFIXES
from ..jobs import MODEL_TASK
from ..runtime.tiling import Cancelled
from .engine_proxies import LockedEngine
from .items import describe_error, process_item, skipped
from .locations import Location, download, relative_inside, upload
from .paths import OutputGuard, preflight
from .plan import (
    BatchError,
    BatchItem,
    BatchOptions,
    check_folders,
    input_suffixes,
    is_url,
    mask_index,
    plan_items,
    remove_stale_temps,
)
from .progress import BatchProgress, BatchReport, FileResult, ProgressTracker

__all__ = ["FileWorker", "plan_ray", "run_ray"]

RESULT_FIELDS = ("relative", "input", "output", "status", "seconds", "error", "bytes", "note",
                 "details")
_FORWARDED_ENV = ("AESTUDIO_MAX_PIXELS", "AESTUDIO_PROVIDER", "AESTUDIO_MODELS")


def _require():
    try:
        import pyarrow.fs  # noqa: F401
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise BatchError(f"--backend ray needs Ray Data and pyarrow ({exc}): "
                         'pip install "aestudio[cluster]"') from None
    return ray


# ============================================================================ planning


def plan_ray(opts: BatchOptions) -> list[BatchItem]:
    """The items of a batch whose folders may be URLs (see :func:`app.core.batch.plan.plan_items`).

    ``input`` / ``output`` / ``mask`` of each item are what the report shows (URL or path).
    """
    src, dst = Location(opts.input_dir), Location(opts.output_dir)
    masks_loc = Location(opts.masks) if opts.masks else None
    exclude = ()
    if masks_loc is not None:
        inside = relative_inside(masks_loc, src)
        exclude = (inside,) if inside else ()
    inputs = src.scan(opts.recursive, input_suffixes(opts.task), exclude)
    masks = None
    if opts.task == "inpaint" and masks_loc is not None:
        masks = mask_index(masks_loc.scan(opts.recursive, IMAGE_SUFFIXES))
    return plan_items(opts, inputs, join_in=src.name, join_out=dst.name,
                      out_exists=lambda outs: dst.exists(
                          [dst.path(o[len(dst.name('')):]) for o in outs]),
                      masks=masks, join_mask=masks_loc.name if masks_loc else None)


# ============================================================================ the actor


class FileWorker:
    """A Ray Data actor: one engine for its whole life; each batch row is one file."""

    def __init__(self, opts: dict, threads: int, concurrent: bool = False):
        from ..engine import Engine

        self.opts = BatchOptions(**opts)
        engine = Engine(models_dir=self.opts.models_dir, provider=self.opts.provider,
                        threads=threads)
        task = MODEL_TASK.get(self.opts.task)
        if task is not None:
            engine.model(task, self.opts.model)  # a missing model stops the batch at once
        # two calls at a time in one actor: one reads / writes while the other infers
        self.engine = LockedEngine(engine) if concurrent else engine
        self.src = Location(self.opts.input_dir)
        self.dst = Location(self.opts.output_dir)
        self.masks = Location(self.opts.masks) if self.opts.masks else None

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        out: dict[str, list] = {k: [] for k in RESULT_FIELDS}
        for i in range(len(batch["relative"])):
            rec = {k: _plain(batch[k][i]) for k in batch}
            res = self.one(rec)
            for k in RESULT_FIELDS:
                value = getattr(res, k)
                if k == "details":
                    value = json.dumps(value)
                elif value is None and k in ("error", "note", "output"):
                    value = ""
                out[k].append(value)
        return out

    def one(self, rec: dict) -> FileResult:
        item = BatchItem(relative=rec["relative"], input=rec["input"], output=rec["output"],
                         mask=rec.get("mask") or None)
        if not (self.src.url or self.dst.url or (self.masks and self.masks.url)):
            return process_item(item, self.engine, self.opts)
        return self._staged(item, rec)

    def _staged(self, item: BatchItem, rec: dict) -> FileResult:
        """A file on a remote store: copy in, run locally, upload atomically."""
        t0 = time.perf_counter()
        fail = FileResult(item.relative, item.input, item.output, "failed")
        out_path = self.dst.path(rec["output_relative"])
        with tempfile.TemporaryDirectory(prefix="aestudio-batch-") as tmp:
            try:
                if not self.opts.force and self.dst.exists([out_path])[0]:
                    raise FileExistsError(f"output {item.output} exists (use --force to "
                                          "overwrite)")
                local_in = os.path.join(tmp, "in", posixpath.basename(item.relative))
                download(self.src.fs, self.src.path(item.relative), local_in)
                local_mask = None
                if rec.get("mask_relative"):
                    local_mask = os.path.join(tmp, "mask", posixpath.basename(
                        rec["mask_relative"]))
                    download(self.masks.fs, self.masks.path(rec["mask_relative"]), local_mask)
            except Exception as exc:  # noqa: BLE001 - recorded, the batch goes on
                fail.error = describe_error(exc)
                fail.seconds = round(time.perf_counter() - t0, 4)
                return fail
            local_out = os.path.join(tmp, "out", posixpath.basename(rec["output_relative"]))
            staged = BatchItem(item.relative, local_in, local_out, local_mask)
            res = process_item(staged, self.engine, replace(self.opts, force=True))
            res.input, res.output = item.input, item.output
            if res.status == "ok":
                try:
                    upload(local_out, self.dst.fs, out_path, self.dst.url)
                except Exception as exc:  # noqa: BLE001
                    res.status, res.error, res.bytes = "failed", describe_error(exc), 0
            res.seconds = round(time.perf_counter() - t0, 4)
            return res


def _plain(value: Any) -> Any:
    """numpy scalars / bytes of a Ray batch -> plain Python values."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode()
    return value


# ============================================================================ the driver


def _cpus_per_worker(ray, workers: int) -> int:
    """CPUs each actor reserves (and uses as onnxruntime threads): the cluster's CPUs shared
    out, at most one node's worth."""
    total = float(ray.cluster_resources().get("CPU", 1))
    node = max((float(n.get("Resources", {}).get("CPU", 0)) for n in ray.nodes()
                if n.get("Alive")), default=total)
    return max(1, int(min(node, total // max(1, workers))))


def _strategy(ray, workers: int):
    """A fixed pool of ``workers`` actors; two calls at a time per actor where Ray allows it."""
    try:
        return ray.data.ActorPoolStrategy(size=workers, max_concurrent_calls_per_actor=2,
                                          enable_true_multi_threading=True), True
    except TypeError:  # Ray < 2.50: one call at a time
        return ray.data.ActorPoolStrategy(size=workers), False


def run_ray(opts: BatchOptions, address: str | None = None,
            on_progress: Callable[[BatchProgress], None] | None = None,
            cancel: Callable[[], bool] | None = None, report: str | None = None,
            init_kwargs: dict | None = None) -> BatchReport:
    """Run the batch on Ray Data; starts a local Ray instance when none is running and no
    ``address`` (``ray://host:10001``, ``auto``) is given, and stops it at the end."""
    ray = _require()
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    check_folders(opts, report)
    if opts.models_dir and not is_url(opts.models_dir):
        opts = replace(opts, models_dir=os.path.abspath(opts.models_dir))
    items = plan_ray(opts)
    if not any(is_url(loc) for loc in (opts.input_dir, opts.output_dir, opts.masks or "")):
        # local folders: where every output really lands, checked before any work (the
        # actors do not check again before each write, unlike the local backend)
        OutputGuard(opts, items, report).check_plan(items)
    local_todo = [] if is_url(opts.output_dir) else [it for it in items
                                                     if not it.skip and not it.error]
    preflight(opts, local_todo, report)     # the report can be written; room for local outputs
    if not is_url(opts.output_dir):
        remove_stale_temps(items)
    results: dict[str, FileResult] = {}
    todo = [it for it in items if not it.skip and not it.error]
    tracker = ProgressTracker(len(items), len(todo), on_progress)
    for item in items:
        if item.skip or item.error:
            results[item.relative] = process_item(item, None, opts)
            tracker.add(results[item.relative])

    interrupted = cancelled = False
    if todo:
        started_here = False
        if not ray.is_initialized():
            kwargs = {"include_dashboard": False, "log_to_driver": False,
                      "logging_level": logging.WARNING}
            kwargs.update(init_kwargs or {})
            ray.init(address=address, **kwargs)
            started_here = True
        try:
            cancelled = _execute(ray, opts, items, todo, results, tracker, cancel)
        except KeyboardInterrupt:
            interrupted = cancelled = True
        except (BatchError, Cancelled):
            raise
        except Exception as exc:  # Ray's errors: one line
            raise BatchError(f"Ray batch failed: {describe_error(exc)}") from exc
        finally:
            if started_here:
                ray.shutdown()
    for item in items:
        if item.relative not in results:
            results[item.relative] = skipped(item, "cancelled")
    tracker.finish()
    rep = BatchReport(opts.task, str(opts.input_dir), str(opts.output_dir), "ray", opts.workers,
                      started, time.perf_counter() - t0,
                      [results[it.relative] for it in items], cancelled)
    rep.write_or_note(report)
    if interrupted:
        raise KeyboardInterrupt
    return rep


def _execute(ray, opts: BatchOptions, items: list[BatchItem], todo: list[BatchItem],
             results: dict[str, FileResult], tracker: ProgressTracker,
             cancel: Callable[[], bool] | None) -> bool:
    from ray.data import DataContext

    logging.getLogger("ray.data").setLevel(logging.ERROR)
    ctx = DataContext.get_current()
    ctx.enable_progress_bars = False
    dst = Location(opts.output_dir)
    masks_loc = Location(opts.masks) if opts.masks else None
    records = []
    for it in todo:
        out_rel = it.output[len(dst.name("")):]
        mask_rel = it.mask[len(masks_loc.name("")):] if (it.mask and masks_loc) else ""
        records.append({"relative": it.relative, "input": it.input, "output": it.output,
                        "mask": it.mask or "", "output_relative": out_rel,
                        "mask_relative": mask_rel})
    cpus = _cpus_per_worker(ray, opts.workers)
    strategy, concurrent = _strategy(ray, opts.workers)
    remote: dict[str, Any] = {"num_cpus": cpus}
    if (opts.provider or "").lower() == "cuda":
        remote["num_gpus"] = 1
    env = {k: os.environ[k] for k in _FORWARDED_ENV if os.environ.get(k)}
    if env:
        remote["runtime_env"] = {"env_vars": env}
    blocks = min(len(records), 10_000)  # one file per block: results stream back one by one
    try:
        ds = ray.data.from_items(records, override_num_blocks=blocks)
    except TypeError:  # Ray < 2.10
        ds = ray.data.from_items(records, parallelism=blocks)
    ds = ds.map_batches(FileWorker, batch_size=1, compute=strategy,
                        fn_constructor_kwargs={"opts": asdict(opts), "threads": cpus,
                                               "concurrent": concurrent},
                        **remote)
    for row in ds.iter_rows():
        res = FileResult.from_dict({k: _plain(row.get(k)) for k in RESULT_FIELDS
                                    if k != "details"} |
                                   {"details": json.loads(_plain(row.get("details")) or "{}")})
        res.error = res.error or None
        res.note = res.note or None
        results[res.relative] = res
        tracker.add(res, current=True)
        if cancel is not None and cancel():
            return True
    return False
