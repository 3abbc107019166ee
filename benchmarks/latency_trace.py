"""Time stamps per stage of a compress in the real window, for ``gui_latency --trace``.

Wraps, in the measuring process only, the functions each stage runs (the codec's analysis,
entropy coding and decoding, the metrics, the classic codecs' search, the screen images) and
the Qt-side events (debounce flush, job start, preview and result shown), and records for each
call: the worker that ran it, start and end relative to a zero the benchmark sets (the slider
release), and the CPU time of the calling thread (onnxruntime's own pool threads are not
counted there: see ``benchmarks/gui_stages.py`` for single-thread CPU times).
"""

from __future__ import annotations

import functools
import importlib
import threading
import time
from typing import Any

__all__ = ["Trace"]

_local = threading.local()

# (module, attribute, label): functions wrapped where the stage's caller looks them up
FUNCTIONS = [
    ("app.core.codec.image_codec", "Codec.analyse", "analyse"),
    ("app.core.codec.image_codec", "Codec.encode_analysis", "entropy encode"),
    ("app.core.codec.image_codec", "Codec.decode_symbols", "decode: entropy"),
    ("app.core.codec.image_codec", "Codec.decode", "decode"),
    ("app.core.round_trip", "psnr", "psnr"),
    ("app.core.compare.same_size", "encode_format", "classic encode probe"),
    ("app.gui.classic_encoder", "encode_side", "classic side"),
    ("app.gui.classic_encoder", "ms_ssim_or_none", "classic ms-ssim"),
    ("app.gui.controller", "ms_ssim_or_none", "ms-ssim"),
    ("app.gui.controller", "prepare", "screen image"),
    ("app.gui.compress_preview", "prepare", "screen image"),
    ("app.gui.classic_encoder", "prepare", "screen image"),
]


class Trace:
    """Collects ``(label, worker, start_s, end_s, thread_cpu_s)`` rows relative to :attr:`t0`."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.rows: list[tuple[str, str, float, float, float]] = []
        self._lock = threading.Lock()

    def zero(self) -> None:
        self.t0 = time.perf_counter()
        with self._lock:
            self.rows.clear()

    def mark(self, label: str, start: float | None = None, cpu: float = 0.0) -> None:
        end = time.perf_counter()
        worker = getattr(_local, "worker", "ui")
        with self._lock:
            self.rows.append((label, worker, (start if start is not None else end) - self.t0,
                              end - self.t0, cpu))

    def wrap(self, fn, label: str):
        trace = self

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any):
            t, c = time.perf_counter(), time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                trace.mark(label, t, time.thread_time() - c)

        return timed

    def install(self, win) -> None:
        """Wrap the stage functions and connect to ``win``'s document and workers."""
        from app.gui import worker as worker_mod

        for module, attr, label in FUNCTIONS:
            mod = importlib.import_module(module)
            owner, name = (getattr(mod, attr.split(".")[0]), attr.split(".")[1]) \
                if "." in attr else (mod, attr)
            if hasattr(owner, name):
                setattr(owner, name, self.wrap(getattr(owner, name), label))
        run = worker_mod.Worker.run
        trace = self

        def labelled_run(w) -> None:
            _local.worker = w.name
            trace.mark(f"job start: {w.name}")
            try:
                run(w)
            finally:
                trace.mark(f"job end: {w.name}")
                _local.worker = "ui"

        worker_mod.Worker.run = labelled_run
        flush = win.controller._flush_pending

        def flushed() -> None:
            self.mark("debounce over")
            flush()

        win.controller._debounce.timeout.disconnect()
        win.controller._debounce.timeout.connect(flushed)
        doc = win.document
        seen: dict[str, Any] = {}

        def on_mode(mode: str) -> None:
            s = doc.modes["compress"]
            if mode != "compress":
                return
            if s.preview is not None and seen.get("preview") is not s.preview:
                seen["preview"] = s.preview
                self.mark("shown: preview")
            if s.result is not None and not s.busy and seen.get("result") is not s.result:
                seen["result"] = s.result
                self.mark("shown: reconstruction")
            if (s.info or {}).get("ms_ssim") is not None and not seen.get("ms"):
                seen["ms"] = True
                self.mark("shown: ms-ssim")

        def on_classic() -> None:
            for side, same in doc.classic.items():
                r = same.result
                if r is not None and seen.get(side) is not r:
                    seen[side] = r
                    self.mark(f"shown: {side} classic side")

        doc.mode_changed.connect(on_mode)
        doc.same_size_changed.connect(on_classic)

    def table(self) -> list[dict]:
        with self._lock:
            rows = sorted(self.rows, key=lambda r: (r[3], r[2]))
        return [{"stage": label, "worker": worker, "start_s": round(s, 3), "end_s": round(e, 3),
                 "thread_cpu_s": round(c, 3)} for label, worker, s, e, c in rows]

    @staticmethod
    def print_table(rows: list[dict]) -> None:
        print(f"{'stage':<28} {'worker':<16} {'start':>7} {'end':>7} {'cpu':>6}")
        for r in rows:
            print(f"{r['stage']:<28} {r['worker']:<16} {r['start_s']:>7.3f} {r['end_s']:>7.3f} "
                  f"{r['thread_cpu_s']:>6.3f}")
