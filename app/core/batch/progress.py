"""Batch results and progress: each file's :class:`FileResult`, the :class:`BatchReport`, and the
:class:`BatchProgress` sent to a display as files start and finish.

The report lists every file with its status (ok / failed / skipped), output, seconds and error,
plus totals and images per second. A file that cannot be processed (corrupt, not an image, over
the pixel limit, mask missing) is recorded as failed and the batch goes on;
:attr:`BatchReport.exit_code` is 0 when nothing failed and 3 otherwise, and 4 when the batch ran
but its report file could not be written at the end (the summary is still printed).
:class:`ProgressTracker` counts results for either backend; :class:`TextProgress` draws the
progress in a terminal (the CLI).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from ..io.atomic_write import atomic_write_bytes

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_REPORT", "BatchProgress", "BatchReport", "FileResult",
           "ProgressTracker", "TextProgress"]

EXIT_OK = 0
EXIT_FAILED = 3  # some files failed (the others were written)
EXIT_REPORT = 4  # the batch ran, but the report file could not be written at the end


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
    """What a batch did. In the JSON (:meth:`to_dict`) the backend is written as ``"engine"`` and
    the number of inference workers as ``"jobs"``: the keys reports have always had."""

    task: str
    input_dir: str
    output_dir: str
    backend: str                 # local | ray
    workers: int                 # inference workers (Ray: actors)
    started: str
    seconds: float
    files: list[FileResult]
    cancelled: bool = False
    report_error: str | None = None  # why --report could not be written at the end

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
        if self.report_error:
            return EXIT_REPORT
        return EXIT_FAILED if self.totals["failed"] else EXIT_OK

    def failures(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    def to_dict(self) -> dict:
        d = {"task": self.task, "input_dir": self.input_dir, "output_dir": self.output_dir,
             "engine": self.backend, "jobs": self.workers, "started": self.started,
             "seconds": round(self.seconds, 3), "cancelled": self.cancelled,
             "totals": self.totals, "images_per_second": self.images_per_second,
             "exit_code": self.exit_code, "files": [f.to_dict() for f in self.files]}
        if self.report_error:  # only in what --json prints: the file could not be written
            d["report_error"] = self.report_error
        return d

    def write(self, path: str | os.PathLike[str]) -> int:
        """Write the report as JSON, atomically (an existing report is replaced)."""
        data = json.dumps(self.to_dict(), indent=1, default=str).encode() + b"\n"
        return atomic_write_bytes(path, data, overwrite=True)

    def write_or_note(self, path: str | os.PathLike[str] | None) -> None:
        """Write the report to ``path`` if given; an error is kept in :attr:`report_error`
        (exit status 4) instead of raised, so the run's summary is never lost."""
        if not path:
            return
        try:
            self.write(path)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.report_error = f"cannot write the report {path}: {reason}"

    def summary(self) -> str:
        t = self.totals
        text = (f"{self.task}: {t['ok']} ok, {t['failed']} failed, {t['skipped']} skipped "
                f"of {t['files']} in {self.seconds:.1f} s ({self.images_per_second:.2f} "
                "images/s)")
        return text + (" (cancelled)" if self.cancelled else "")


# ============================================================================ progress


class ProgressTracker:
    """Counts results and sends :class:`BatchProgress` (thread-safe); used by both backends."""

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
