"""The Ray Data engine of folder jobs (``aestudio batch --engine ray``).

The same batch as :class:`app.core.batch.BatchRunner`, spread over a Ray cluster:
``ray.data.from_items`` of one record per file, then ``map_batches`` with an actor class
(:class:`FileWorker`) that holds one :class:`~app.core.engine.Engine` (its onnxruntime sessions)
for its whole life; an actor pool of ``opts.jobs`` actors. Each file still goes through
:func:`app.core.batch.process_item` (so :func:`app.core.jobs.run`). The planning (inputs,
mirrored outputs, masks, ``skip_existing``) and the report are those of the local engine.

Folders are local paths or any pyarrow filesystem URL (``s3://bucket/photos``,
``gs://…``, ``hdfs://…``, ``file:///mnt/nfs/…``), opened with
``pyarrow.fs.FileSystem.from_uri``. A URL's files are copied to a local temporary folder for
the job and the output is uploaded to a hidden temporary name, then moved into place.

Ray and pyarrow are optional (``pip install "aestudio[cluster]"``) and imported only here.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import secrets
import shutil
import tempfile
import time
from dataclasses import asdict, replace
from datetime import datetime, timezone
from typing import Any, Callable

from .batch import describe_error, process_item, skipped
from .batch_engine import LockedEngine
from .batch_paths import OutputGuard, preflight
from .batch_plan import (
    IMAGE_SUFFIXES,
    MODEL_TASK,
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
from .batch_progress import BatchProgress, BatchReport, FileResult, _Tracker
from .tiling import Cancelled

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
        raise BatchError(f"--engine ray needs Ray Data and pyarrow ({exc}): "
                         'pip install "aestudio[cluster]"') from None
    return ray


# ============================================================================ file systems


class _Location:
    """A folder given as a path or a URL: its pyarrow file system and base path."""

    def __init__(self, location: str):
        from pyarrow import fs as pafs

        self.location = location
        if is_url(location):
            self.fs, self.base = pafs.FileSystem.from_uri(location)
            self.base = self.base.rstrip("/")
            self.url = True
        else:
            self.fs = pafs.LocalFileSystem()
            self.base = os.path.abspath(os.path.expanduser(location))
            self.url = False

    def path(self, relative: str) -> str:
        """The file system path of a relative POSIX path."""
        if self.url:
            return f"{self.base}/{relative}" if self.base else relative
        return os.path.join(self.base, *relative.split("/"))

    def name(self, relative: str) -> str:
        """What the report shows: the URL or the local path."""
        if self.url:
            return self.location.rstrip("/") + "/" + relative
        return self.path(relative)

    def scan(self, recursive: bool, suffixes: tuple[str, ...],
             exclude: tuple[str, ...] = ()) -> list[str]:
        from pyarrow import fs as pafs

        info = self.fs.get_file_info(self.base)
        if info.type != pafs.FileType.Directory:
            raise BatchError(f"input folder {self.location} does not exist or is not a folder")
        wanted = tuple(s.lower() for s in suffixes)
        found = []
        for entry in self.fs.get_file_info(pafs.FileSelector(self.base, recursive=recursive)):
            if entry.type != pafs.FileType.File:
                continue
            rel = entry.path[len(self.base):].lstrip("/").replace(os.sep, "/")
            parts = rel.split("/")
            if any(p.startswith(".") for p in parts) or not rel.lower().endswith(wanted):
                continue
            if any(rel == e or rel.startswith(e + "/") for e in exclude):
                continue
            found.append(rel)
        return sorted(found)

    def exists(self, paths: list[str]) -> list[bool]:
        from pyarrow import fs as pafs

        return [i.type == pafs.FileType.File for i in self.fs.get_file_info(paths)]


def _relative_inside(child: _Location, parent: _Location) -> str | None:
    """``child``'s path relative to ``parent`` when it lies inside it (same store), else None."""
    if child.url != parent.url or type(child.fs) is not type(parent.fs):
        return None
    c, p = child.base.rstrip("/"), parent.base.rstrip("/")
    if child.url:
        if c.startswith(p + "/"):
            return c[len(p) + 1:]
        return None
    try:
        rel = os.path.relpath(os.path.realpath(c), os.path.realpath(p))
    except ValueError:
        return None
    return None if rel.startswith("..") or rel == "." else rel.replace(os.sep, "/")


def plan_ray(opts: BatchOptions) -> list[BatchItem]:
    """The items of a batch whose folders may be URLs (see :func:`app.core.batch_plan.plan_items`).

    ``input`` / ``output`` / ``mask`` of each item are what the report shows (URL or path).
    """
    src, dst = _Location(opts.input_dir), _Location(opts.output_dir)
    masks_loc = _Location(opts.masks) if opts.masks else None
    exclude = ()
    if masks_loc is not None:
        inside = _relative_inside(masks_loc, src)
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
        from .engine import Engine

        self.opts = BatchOptions(**opts)
        engine = Engine(models_dir=self.opts.models_dir, provider=self.opts.provider,
                        threads=threads)
        task = MODEL_TASK.get(self.opts.task)
        if task is not None:
            engine.model(task, self.opts.model)  # a missing model stops the batch at once
        # two calls at a time in one actor: one reads / writes while the other infers
        self.engine = LockedEngine(engine) if concurrent else engine
        self.src = _Location(self.opts.input_dir)
        self.dst = _Location(self.opts.output_dir)
        self.masks = _Location(self.opts.masks) if self.opts.masks else None

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
                _download(self.src.fs, self.src.path(item.relative), local_in)
                local_mask = None
                if rec.get("mask_relative"):
                    local_mask = os.path.join(tmp, "mask", posixpath.basename(
                        rec["mask_relative"]))
                    _download(self.masks.fs, self.masks.path(rec["mask_relative"]), local_mask)
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
                    _upload(local_out, self.dst.fs, out_path, self.dst.url)
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


def _download(fs, path: str, local: str) -> None:
    os.makedirs(os.path.dirname(local), exist_ok=True)
    with fs.open_input_stream(path) as src, open(local, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


def _upload(local: str, fs, path: str, url: bool) -> None:
    """Copy to a hidden temporary name beside ``path``, then move it into place."""
    parent, name = posixpath.split(path) if url else os.path.split(path)
    if parent:
        fs.create_dir(parent, recursive=True)
    tmp = (posixpath if url else os.path).join(parent, f".{name}.{secrets.token_hex(4)}.part")
    try:
        with open(local, "rb") as src, fs.open_output_stream(tmp) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        fs.move(tmp, path)
    except BaseException:
        try:
            fs.delete_file(tmp)
        except Exception:  # noqa: BLE001
            pass
        raise


# ============================================================================ the driver


def _cpus_per_worker(ray, jobs: int) -> int:
    """CPUs each actor reserves (and uses as onnxruntime threads): the cluster's CPUs shared
    out, at most one node's worth."""
    total = float(ray.cluster_resources().get("CPU", 1))
    node = max((float(n.get("Resources", {}).get("CPU", 0)) for n in ray.nodes()
                if n.get("Alive")), default=total)
    return max(1, int(min(node, total // max(1, jobs))))


def _strategy(ray, jobs: int):
    """A fixed pool of ``jobs`` actors; two calls at a time per actor where Ray allows it."""
    try:
        return ray.data.ActorPoolStrategy(size=jobs, max_concurrent_calls_per_actor=2,
                                          enable_true_multi_threading=True), True
    except TypeError:  # Ray < 2.50: one call at a time
        return ray.data.ActorPoolStrategy(size=jobs), False


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
        # actors do not check again before each write, unlike the local engine)
        OutputGuard(opts, items, report).check_plan(items)
    local_todo = [] if is_url(opts.output_dir) else [it for it in items
                                                     if not it.skip and not it.error]
    preflight(opts, local_todo, report)     # the report can be written; room for local outputs
    if not is_url(opts.output_dir):
        remove_stale_temps(items)
    results: dict[str, FileResult] = {}
    todo = [it for it in items if not it.skip and not it.error]
    tracker = _Tracker(len(items), len(todo), on_progress)
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
    rep = BatchReport(opts.task, str(opts.input_dir), str(opts.output_dir), "ray", opts.jobs,
                      started, time.perf_counter() - t0,
                      [results[it.relative] for it in items], cancelled)
    rep.write_or_note(report)
    if interrupted:
        raise KeyboardInterrupt
    return rep


def _execute(ray, opts: BatchOptions, items: list[BatchItem], todo: list[BatchItem],
             results: dict[str, FileResult], tracker: _Tracker,
             cancel: Callable[[], bool] | None) -> bool:
    from ray.data import DataContext

    logging.getLogger("ray.data").setLevel(logging.ERROR)
    ctx = DataContext.get_current()
    ctx.enable_progress_bars = False
    dst = _Location(opts.output_dir)
    masks_loc = _Location(opts.masks) if opts.masks else None
    records = []
    for it in todo:
        out_rel = it.output[len(dst.name("")):]
        mask_rel = it.mask[len(masks_loc.name("")):] if (it.mask and masks_loc) else ""
        records.append({"relative": it.relative, "input": it.input, "output": it.output,
                        "mask": it.mask or "", "output_relative": out_rel,
                        "mask_relative": mask_rel})
    cpus = _cpus_per_worker(ray, opts.jobs)
    strategy, concurrent = _strategy(ray, opts.jobs)
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
