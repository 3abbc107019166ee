"""Folder jobs: one task over every image of a folder, for the CLI (``aestudio batch``) and the
GUI's batch dialog alike.

The per-file work is :func:`app.core.jobs.run` (the same code as the single-file commands);
this module adds what a folder needs around it:

* **planning** (:func:`plan_local`): find the inputs (optionally recursively), mirror their
  relative paths into the output folder, find each inpainting mask in the masks folder (same
  relative path and stem, any image extension), skip outputs that exist (``skip_existing``),
  and refuse an output folder equal to or inside the input folder. Nothing is ever written into
  the input folder.
* **a small thread pipeline** (:class:`BatchRunner`): ``jobs`` inference workers, each with its
  own :class:`~app.core.engine.Engine` (so its own onnxruntime sessions, with
  ``cores // jobs`` intra-op threads), reused for the whole folder, and a bounded pool of
  ``jobs + 2`` file threads. A file thread runs ``jobs.run`` for one file: it reads and decodes
  the input, hands the in-memory inference to the workers through a queue (a duck-typed engine,
  :class:`_QueuedEngine`), waits, then encodes and writes the output atomically (temporary file
  renamed into place). So while a worker runs a model, other file threads decode the next
  inputs and write the previous outputs; at most ``jobs + 2`` images are in memory.
* **a report** (:class:`BatchReport`): every file with its status (ok / failed / skipped),
  output, seconds and error, plus totals and images per second. A file that cannot be
  processed (corrupt, not an image, over the pixel limit, mask missing) is recorded as failed
  and the batch goes on; :attr:`BatchReport.exit_code` is 0 when nothing failed and 3 otherwise.

The Ray Data engine (``app.core.batch_ray``) plans and reports the same way and runs the same
per-file function, :func:`process_item`.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
import queue
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import IO, Any

from .imageio import atomic_write_bytes
from .jobs import Job, run
from .tiling import Cancelled

__all__ = [
    "AEI_SUFFIX", "EXIT_FAILED", "EXIT_OK", "IMAGE_SUFFIXES", "TASKS",
    "BatchError", "BatchItem", "BatchOptions", "BatchProgress", "BatchReport", "BatchRunner",
    "FileResult", "LockedEngine", "TextProgress", "check_folders", "describe_error",
    "default_threads", "input_suffixes", "is_url", "mask_index", "output_name", "plan_items",
    "plan_local", "process_item", "remove_stale_temps", "run_batch", "scan_local", "skipped",
]

TASKS = ("compress", "decompress", "denoise", "inpaint")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
AEI_SUFFIX = ".aei"
EXIT_OK = 0
EXIT_FAILED = 3  # some files failed (the others were written)

# the temporary files of app.core.imageio's atomic writes: ".<name>.<8 hex>.part"
_TEMP = re.compile(r"^\.(?P<name>.+)\.[0-9a-f]{8}\.part$")
_MODEL_TASK = {"compress": "codec", "denoise": "denoise", "inpaint": "inpaint"}


class BatchError(ValueError):
    """The batch cannot start (bad folders or options); the message says why."""


def is_url(location: str | os.PathLike[str]) -> bool:
    """Whether a location is a URL (``s3://bucket/dir``, ``file:///data``) rather than a path."""
    return "://" in str(location)


def default_jobs() -> int:
    """Two inference workers on a machine with two or more cores: while one worker's file
    is being read or written, the other keeps the model busy (measured in
    benchmarks/batch.py: 97 % of the pure inference rate, against 79 % with one worker)."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def default_threads(jobs: int) -> int:
    """Intra-op threads of each of ``jobs`` workers: the usable cores shared out."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, jobs))


# ============================================================================ options, items


@dataclass
class BatchOptions:
    task: str
    input_dir: str
    output_dir: str
    recursive: bool = False
    masks: str | None = None
    quality: float = 75.0
    sigma: float | None = None
    model: str | None = None
    jobs: int = field(default_factory=lambda: default_jobs())
    skip_existing: bool = False
    force: bool = False
    models_dir: str | None = None
    provider: str | None = None
    threads: int | None = None  # intra-op threads per worker (default: cores // jobs)

    def worker_threads(self) -> int:
        return self.threads or default_threads(self.jobs)


@dataclass
class BatchItem:
    """One input file: where it is, where its output goes, and its mask (inpaint)."""

    relative: str                # input path relative to the input folder (POSIX separators)
    input: str
    output: str
    mask: str | None = None
    error: str | None = None     # known before running (mask missing, name clash): fails
    skip: str | None = None      # why it is skipped (output exists)


@dataclass
class FileResult:
    relative: str
    input: str
    output: str | None
    status: str                  # ok | failed | skipped
    seconds: float = 0.0
    error: str | None = None
    bytes: int = 0
    note: str | None = None      # skipped: why
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"relative": self.relative, "input": self.input, "output": self.output,
                "status": self.status, "seconds": self.seconds, "error": self.error,
                "bytes": self.bytes, "note": self.note, "details": self.details}

    @classmethod
    def from_dict(cls, d: dict) -> FileResult:
        return cls(**{k: d.get(k) for k in ("relative", "input", "output", "status", "error",
                                             "note")},
                   seconds=float(d.get("seconds") or 0.0), bytes=int(d.get("bytes") or 0),
                   details=dict(d.get("details") or {}))


@dataclass
class BatchProgress:
    """What a progress display needs; sent after each file starts and finishes."""

    done: int
    total: int
    ok: int
    failed: int
    skipped: int
    current: str
    elapsed: float
    rate: float                  # processed images per second (skipped ones excluded)
    eta: float | None            # seconds left, None until a rate is known
    finished: bool = False


@dataclass
class BatchReport:
    task: str
    input_dir: str
    output_dir: str
    engine: str
    jobs: int
    started: str
    seconds: float
    files: list[FileResult]
    cancelled: bool = False

    @property
    def totals(self) -> dict[str, int]:
        counts = {"files": len(self.files), "ok": 0, "failed": 0, "skipped": 0}
        for f in self.files:
            counts[f.status] = counts.get(f.status, 0) + 1
        return counts

    @property
    def images_per_second(self) -> float:
        ok = self.totals["ok"]
        return round(ok / self.seconds, 3) if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if self.totals["failed"] else EXIT_OK

    def failures(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    def to_dict(self) -> dict:
        return {"task": self.task, "input_dir": self.input_dir, "output_dir": self.output_dir,
                "engine": self.engine, "jobs": self.jobs, "started": self.started,
                "seconds": round(self.seconds, 3), "cancelled": self.cancelled,
                "totals": self.totals, "images_per_second": self.images_per_second,
                "exit_code": self.exit_code, "files": [f.to_dict() for f in self.files]}

    def write(self, path: str | os.PathLike[str]) -> int:
        """Write the report as JSON, atomically (an existing report is replaced)."""
        data = json.dumps(self.to_dict(), indent=1, default=str).encode() + b"\n"
        return atomic_write_bytes(path, data, overwrite=True)

    def summary(self) -> str:
        t = self.totals
        text = (f"{self.task}: {t['ok']} ok, {t['failed']} failed, {t['skipped']} skipped "
                f"of {t['files']} in {self.seconds:.1f} s ({self.images_per_second:.2f} "
                "images/s)")
        return text + (" (cancelled)" if self.cancelled else "")


# ============================================================================ planning


def output_name(task: str, relative: str) -> str:
    """The output's relative path: compress -> ``.aei``, everything else -> ``.png``."""
    suffix = AEI_SUFFIX if task == "compress" else ".png"
    return str(PurePosixPath(relative).with_suffix(suffix))


def input_suffixes(task: str) -> tuple[str, ...]:
    return (AEI_SUFFIX,) if task == "decompress" else IMAGE_SUFFIXES


def _mask_key(relative: str) -> str:
    return str(PurePosixPath(relative).with_suffix(""))


def mask_index(relatives: Iterable[str]) -> dict[str, str]:
    """Relative mask paths by relative path without extension (PNG preferred on a tie)."""
    index: dict[str, str] = {}
    rank = {s: i for i, s in enumerate(IMAGE_SUFFIXES)}
    for rel in sorted(relatives):
        key = _mask_key(rel)
        old = index.get(key)
        if old is None or rank[PurePosixPath(rel).suffix.lower()] < \
                rank[PurePosixPath(old).suffix.lower()]:
            index[key] = rel
    return index


def plan_items(opts: BatchOptions, inputs: list[str], join_in: Callable[[str], str],
               join_out: Callable[[str], str], out_exists: Callable[[list[str]], list[bool]],
               masks: dict[str, str] | None = None,
               join_mask: Callable[[str], str] | None = None) -> list[BatchItem]:
    """Items for the relative ``inputs``; shared by local folders and URLs.

    ``out_exists`` gets all output locations at once (one listing call on remote stores).
    """
    items: list[BatchItem] = []
    claimed: dict[str, str] = {}
    for rel in sorted(inputs):
        out_rel = output_name(opts.task, rel)
        item = BatchItem(relative=rel, input=join_in(rel), output=join_out(out_rel))
        if out_rel in claimed:
            item.error = (f"output {out_rel} is already the output of {claimed[out_rel]} "
                          "(two inputs with the same name and different extensions)")
        else:
            claimed[out_rel] = rel
        if opts.task == "inpaint" and item.error is None:
            found = (masks or {}).get(_mask_key(rel))
            if found is None:
                item.error = (f"no mask for {rel} in {opts.masks} (expected "
                              f"{_mask_key(rel)}.png or another image extension)")
            else:
                item.mask = join_mask(found) if join_mask else found
        items.append(item)
    if opts.skip_existing:
        exists = out_exists([it.output for it in items]) if items else []
        for item, there in zip(items, exists):
            if there and item.error is None:
                item.skip = "output exists"
    return items


def _real(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(os.path.abspath(os.path.expanduser(str(path)))))


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def check_folders(opts: BatchOptions, report: str | os.PathLike[str] | None = None) -> None:
    """Refuse what would write into the input folder, and options that cannot work."""
    if opts.task not in TASKS:
        raise BatchError(f"unknown task {opts.task!r} (use one of {', '.join(TASKS)})")
    if opts.jobs < 1:
        raise BatchError(f"--jobs must be at least 1, got {opts.jobs}")
    if opts.task == "inpaint" and not opts.masks:
        raise BatchError("inpaint needs --masks DIR: a folder of masks (white = hole) that "
                         "mirrors the input folder")
    if is_url(opts.input_dir) or is_url(opts.output_dir):
        from urllib.parse import urlsplit

        def norm(loc: str) -> tuple[str, str, str]:
            if not is_url(loc):
                return ("file", "", str(_real(loc)))
            u = urlsplit(loc)
            return (u.scheme.lower(), u.netloc, "/" + u.path.strip("/"))

        (s1, n1, p1), (s2, n2, p2) = norm(opts.input_dir), norm(opts.output_dir)
        if (s1, n1) == (s2, n2) and (p2 == p1 or p2.startswith(p1.rstrip("/") + "/")):
            raise BatchError(f"the output folder {opts.output_dir} is inside the input folder "
                             f"{opts.input_dir}: choose one outside it (nothing is ever "
                             "written into the input folder)")
        return
    src, dst = _real(opts.input_dir), _real(opts.output_dir)
    if not src.is_dir():
        raise BatchError(f"input folder {opts.input_dir} does not exist or is not a folder")
    if _inside(dst, src):
        what = "is the input folder" if dst == src else "is inside the input folder"
        raise BatchError(f"the output folder {opts.output_dir} {what} {opts.input_dir}: choose "
                         "one outside it (nothing is ever written into the input folder)")
    if dst.exists() and not dst.is_dir():
        raise BatchError(f"output {opts.output_dir} exists and is not a folder")
    if report is not None and _inside(_real(report), src):
        raise BatchError(f"the report {report} would be written inside the input folder "
                         f"{opts.input_dir}: choose another place")
    if opts.masks is not None and not is_url(opts.masks) and not _real(opts.masks).is_dir():
        raise BatchError(f"masks folder {opts.masks} does not exist or is not a folder")


def scan_local(root: str | os.PathLike[str], recursive: bool, suffixes: Iterable[str],
               exclude: Iterable[Path] = ()) -> list[str]:
    """Relative POSIX paths of the files under ``root`` with one of ``suffixes``.

    Hidden files and folders (a leading dot, e.g. temporary ``.part`` files) are ignored, and
    so are the ``exclude`` folders (a masks folder inside the input folder).
    """
    base = Path(root)
    wanted = tuple(s.lower() for s in suffixes)
    skip = {_real(p) for p in exclude}
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(base):
        here = Path(dirpath)
        if recursive:
            dirnames[:] = sorted(d for d in dirnames
                                 if not d.startswith(".") and _real(here / d) not in skip)
        else:
            dirnames[:] = []
        for name in filenames:
            if name.startswith(".") or not name.lower().endswith(wanted):
                continue
            if (here / name).is_file():
                found.append((here / name).relative_to(base).as_posix())
    return sorted(found)


def plan_local(opts: BatchOptions) -> list[BatchItem]:
    """The items of a batch over local folders (see :func:`plan_items`)."""
    if is_url(opts.input_dir) or is_url(opts.output_dir) or (opts.masks and is_url(opts.masks)):
        raise BatchError("URLs (s3://…, file://…) need --engine ray")
    src, dst = Path(opts.input_dir), Path(opts.output_dir)
    exclude = [Path(opts.masks)] if opts.masks else []
    inputs = scan_local(src, opts.recursive, input_suffixes(opts.task), exclude)
    masks = None
    if opts.task == "inpaint":
        masks = mask_index(scan_local(Path(opts.masks), opts.recursive, IMAGE_SUFFIXES))
    return plan_items(
        opts, inputs,
        join_in=lambda rel: str(src / rel), join_out=lambda rel: str(dst / rel),
        out_exists=lambda outs: [os.path.isfile(o) for o in outs], masks=masks,
        join_mask=lambda rel: str(Path(opts.masks) / rel))


def remove_stale_temps(items: Iterable[BatchItem]) -> int:
    """Delete the temporary files a killed run left beside the outputs it was writing.

    Only ``.<output name>.<8 hex>.part`` files of this batch's own outputs are touched.
    """
    by_dir: dict[str, set[str]] = {}
    for item in items:
        d, name = os.path.split(item.output)
        by_dir.setdefault(d, set()).add(name)
    removed = 0
    for d, names in by_dir.items():
        try:
            entries = os.listdir(d)
        except OSError:
            continue
        for entry in entries:
            m = _TEMP.match(entry)
            if m and m.group("name") in names:
                try:
                    os.unlink(os.path.join(d, entry))
                    removed += 1
                except OSError:
                    pass
    return removed


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
                 cancel: Callable[[], bool] | None = None) -> FileResult:
    """Run one file through :func:`app.core.jobs.run`; never raises except :class:`Cancelled`.

    ``engine`` is anything with the Engine's ``compress/decompress/denoise/inpaint``.
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
              quality=opts.quality, sigma=opts.sigma,
              mask=Path(item.mask) if item.mask else None, model=opts.model, force=opts.force)
    try:
        Path(item.output).parent.mkdir(parents=True, exist_ok=True)
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


# ============================================================================ engines


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

    def __init__(self, engine: Any):
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


class _QueuedEngine(_EngineFacade):
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



def _inference_worker(engine: Any, requests: queue.Queue, cancel: Callable[[], bool]) -> None:
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


# ============================================================================ progress


class _Tracker:
    """Counts results and sends :class:`BatchProgress` (thread-safe)."""

    def __init__(self, total: int, to_process: int,
                 on_progress: Callable[[BatchProgress], None] | None):
        self.total, self.to_process = total, to_process
        self.on_progress = on_progress
        self.ok = self.failed = self.skipped = 0
        self.current = ""
        self.t0 = time.perf_counter()
        self._lock = threading.Lock()

    def started(self, relative: str) -> None:
        with self._lock:
            self.current = relative
            self._send()

    def add(self, result: FileResult, current: bool = False) -> None:
        with self._lock:
            if current:
                self.current = result.relative
            if result.status == "ok":
                self.ok += 1
            elif result.status == "failed":
                self.failed += 1
            else:
                self.skipped += 1
            if not self.current:
                self.current = result.relative
            self._send()

    def finish(self) -> None:
        with self._lock:
            self._send(finished=True)

    def _send(self, finished: bool = False) -> None:
        if self.on_progress is None:
            return
        elapsed = time.perf_counter() - self.t0
        processed = self.ok + self.failed
        rate = processed / elapsed if elapsed > 0 else 0.0
        done = self.ok + self.failed + self.skipped
        left = max(0, self.total - done)
        eta = left / rate if rate > 0 else None
        try:
            self.on_progress(BatchProgress(done, self.total, self.ok, self.failed,
                                           self.skipped, self.current, elapsed, rate, eta,
                                           finished))
        except Exception:  # noqa: BLE001 - a display problem never stops the batch
            pass


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class TextProgress:
    """A progress bar for a terminal: one line rewritten with ``\\r`` when ``stream`` is a
    TTY; otherwise a plain line every ``interval`` seconds (and at the end)."""

    def __init__(self, stream: IO[str] | None = None, tty: bool | None = None,
                 interval: float = 10.0, min_redraw: float = 0.1):
        self.stream = stream if stream is not None else sys.stderr
        if tty is None:
            try:
                tty = self.stream.isatty()
            except (AttributeError, ValueError):
                tty = False
        self.tty = tty
        self.interval = interval
        self.min_redraw = min_redraw
        self._last = -1e9
        self._width = 0
        self._lock = threading.Lock()

    @staticmethod
    def line(p: BatchProgress, bar: int = 24) -> str:
        frac = p.done / p.total if p.total else 1.0
        filled = int(round(bar * frac))
        parts = [f"[{'#' * filled}{'.' * (bar - filled)}]", f"{p.done}/{p.total}",
                 f"{frac:4.0%}", f"{p.rate:.2f} img/s", f"ETA {_clock(p.eta)}"]
        if p.failed:
            parts.append(f"{p.failed} failed")
        if p.current:
            parts.append(p.current)
        return "  ".join(parts)

    def __call__(self, p: BatchProgress) -> None:
        with self._lock:
            now = time.monotonic()
            last = p.finished or p.done == p.total
            if self.tty:
                if not last and now - self._last < self.min_redraw:
                    return
                cols = shutil.get_terminal_size((100, 20)).columns - 1
                text = self.line(p)[:max(20, cols)]
                pad = " " * max(0, self._width - len(text))
                self.stream.write("\r" + text + pad)
                self._width = len(text)
                if p.finished:
                    self.stream.write("\n")
                    self._width = 0
            else:
                if p.finished:
                    if self._width == -1:  # the final line was printed already
                        return
                    self._width = -1
                elif now - self._last < self.interval:
                    return
                self.stream.write("batch: " + self.line(p) + "\n")
            self._last = now
            try:
                self.stream.flush()
            except (AttributeError, ValueError, OSError):
                pass


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
        items = plan_local(opts)
        remove_stale_temps(items)
        todo = [it for it in items if not it.skip and not it.error]
        tracker = _Tracker(len(items), len(todo), self.on_progress)
        results: dict[str, FileResult] = {}
        for item in items:
            if item.skip or item.error:
                results[item.relative] = process_item(item, None, opts)
                tracker.add(results[item.relative])
        interrupted = False
        if todo:
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
        if self.report_path:
            self.report.write(self.report_path)
        if interrupted:
            raise KeyboardInterrupt
        return self.report

    def _check_model(self, engine: Any) -> None:
        """Fail before starting when the task's model is missing or damaged."""
        task = _MODEL_TASK.get(self.opts.task)
        if task is not None and hasattr(engine, "model"):
            engine.model(task, self.opts.model)

    def _run_pipeline(self, todo: list[BatchItem], tracker: _Tracker,
                      results: dict[str, FileResult]) -> None:
        opts = self.opts
        threads = opts.worker_threads()
        engines = [self.engine_factory(threads) for _ in range(opts.jobs)]
        self._check_model(engines[0])
        requests: queue.Queue = queue.Queue()
        workers = [threading.Thread(target=_inference_worker,
                                    args=(e, requests, self.cancelled),
                                    name=f"batch-infer-{i}", daemon=True)
                   for i, e in enumerate(engines)]
        for w in workers:
            w.start()

        def one(item: BatchItem) -> FileResult:
            if self.cancelled():
                return skipped(item, "cancelled")
            tracker.started(item.relative)
            proxy = _QueuedEngine(requests, self.cancelled)
            try:
                res = process_item(item, proxy, opts, cancel=self.cancelled)
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
