"""GUI latency and memory: from releasing the quality slider to the first feedback (the
preview) and to the final result, in the real window (offscreen) with the real models.

For each size (768×512: a Kodak image from $AESTUDIO_DATA/kodak, or a synthetic photo; 12 MP:
the same image upscaled to 4000×3000) a fresh process opens the image without the automatic
compress (so no earlier job competes for the CPU), moves the quality slider to 40 and records

* ``first_feedback_s``: until the right pane shows something for quality 40 (the preview,
  or the final result if that comes first);
* ``final_s``: until the full result at quality 40 is shown;
* ``heatmap_s``: then pressing D, until the difference heatmap is shown;
* ``max_ui_stall_ms``: the longest gap of a 5 ms UI timer over all of that (a frozen UI
  shows up here);
* ``peak_rss_mb``: the process's peak resident memory (``getrusage``), compress and heatmap
  included (``peak_rss_compress_mb``: the same before the heatmap);
* ``again_first_s``, ``again_final_s``: the same as the first two for a second move of the
  slider (to quality 50) once the first result is shown: the usual case while trying qualities,
  where the image's analysis can be reused.

``--trace`` also records time stamps per stage from the slider release (debounce, job start,
encode, decode, metrics, screen images, classic sides, what was shown when; see
``benchmarks/latency_trace.py``) and prints them.

Run: ``python -m benchmarks.gui_latency [--sizes small,12mp]``; prints a table and writes
benchmarks/results/gui_latency.json. Numbers depend on the load of the machine: the JSON
records the load average at the start.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from app.spec.data_paths import data_path  # noqa: E402

KODAK = data_path("kodak")
RESULTS = ROOT / "benchmarks" / "results" / "gui_latency.json"
SIZES = {"small": (768, 512), "12mp": (4000, 3000)}
QUALITY = 40
AGAIN_QUALITY = 50


def source_image(w: int, h: int):
    import numpy as np
    from PIL import Image

    kodak = sorted(KODAK.glob("kodim*.png")) if KODAK.is_dir() else []
    landscape = [p for p in kodak if Image.open(p).size == (768, 512)]
    if landscape:
        im, name = Image.open(landscape[0]).convert("RGB"), landscape[0].name
    else:  # a synthetic photo-like image: gradient, shapes and grain
        yy, xx = np.mgrid[0:512, 0:768].astype(np.float32)
        arr = np.stack([60 + 150 * xx / 768, 60 + 150 * yy / 512,
                        128 + 60 * np.sin(xx / 23) * np.cos(yy / 17)], -1)
        arr += np.random.default_rng(0).normal(0, 6, arr.shape)
        im, name = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)), "synthetic"
    if im.size != (w, h):
        im = im.resize((w, h), Image.Resampling.BICUBIC)
        name += f" upscaled to {w}×{h}"
    return np.asarray(im), name


def measure(size: str, trace: bool = False, left: str = "original") -> dict:
    """One size, in this process (the parent runs one process per size)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import resource

    from PIL import Image
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.core.engine import Engine
    from app.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    w, h = SIZES[size]
    pixels, name = source_image(w, h)
    tmp = Path(tempfile.mkdtemp(prefix="gui-latency-"))
    path = tmp / "photo.png"
    Image.fromarray(pixels).save(path, compress_level=1)
    del pixels
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    engine = Engine(provider="cpu")
    # load and hash-check the model first, as the app's first compress of a session did
    import numpy as np

    engine.decompress(engine.compress(np.zeros((64, 64, 3), np.uint8), QUALITY).data)
    win = MainWindow(engine, settings=settings)
    win.show_error_dialogs = False
    win.resize(1200, 800)
    win.show()
    win.set_mode("denoise")  # opening in Denoise starts no job
    win.open_path(path)

    def wait(pred, timeout=900.0) -> float:
        t = time.perf_counter()
        while not pred():
            app.processEvents()
            time.sleep(0.002)
            if time.perf_counter() - t > timeout:
                raise TimeoutError(size)
        return time.perf_counter()

    wait(lambda: win.current_pixels is not None)
    win.tabs.blockSignals(True)  # to Compress without its automatic compress
    win.set_mode("compress")
    win.tabs.blockSignals(False)
    win.show_mode_state()
    for _ in range(20):
        app.processEvents()
    if left != "original":  # a classic codec at the AE Studio file's size on the left
        from app.core.compare.sides import SideChoice

        win.classic_encoder.set_choice("left", SideChoice(left))
    tracer = None
    if trace:
        from benchmarks.latency_trace import Trace

        tracer = Trace()
        tracer.install(win)

    stall = {"max": 0.0}
    ticker, clock = QTimer(), QElapsedTimer()
    ticker.setInterval(5)

    def tick():
        stall["max"] = max(stall["max"], clock.restart())

    ticker.timeout.connect(tick)
    clock.start()
    ticker.start()
    doc = win.document
    right = win.compare_view.right_caption

    timing: dict[str, list] = {"classic_s": []}

    def move(quality: int) -> tuple[float, str, float]:
        if tracer is not None:
            tracer.zero()
        t0 = time.perf_counter()
        win.quality_slider.setValue(quality)  # as releasing the slider there
        t_first = wait(lambda: doc.modes["compress"].preview is not None
                       and right.text().startswith("Preview")
                       or (win.last_result or {}).get("quality") == quality)
        kind = "preview" if doc.modes["compress"].preview is not None else "final"
        t_final = wait(lambda: (win.last_result or {}).get("quality") == quality
                       and not doc.modes["compress"].busy)
        if left != "original":
            wait(lambda: doc.classic["left"].result is not None)
            timing["classic_s"].append(round(time.perf_counter() - t0, 3))
        return t_first - t0, kind, t_final - t0

    def settle() -> list[dict]:
        """Wait for the readouts that follow the result (classic sides, MS-SSIM)."""
        pools = (win.controller.pool, win.controller.readouts, win.classic_encoder.pool,
                 win.compress_preview.pool)
        wait(lambda: not doc.busy and not win.controller.is_busy
             and all(p.activeThreadCount() == 0 for p in pools))
        for _ in range(50):
            app.processEvents()
            time.sleep(0.01)
        return tracer.table() if tracer is not None else []

    first_s, first_kind, final_s = move(QUALITY)
    codec_s = (win.last_result.get("seconds") or 0, win.last_result.get("decode_seconds") or 0)
    stages = settle()
    again_first_s, again_kind, again_final_s = move(AGAIN_QUALITY)
    again_stages = settle()
    rss_compress = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t1 = time.perf_counter()
    win.heatmap_action.trigger()
    t_heat = wait(lambda: "Difference" in right.text())
    ticker.stop()
    result = {
        "size": f"{w}x{h}", "image": name, "quality": QUALITY,
        "first_feedback_s": round(first_s, 3), "first_feedback": first_kind,
        "final_s": round(final_s, 3), "heatmap_s": round(t_heat - t1, 3),
        "again_first_s": round(again_first_s, 3), "again_first": again_kind,
        "again_final_s": round(again_final_s, 3),
        "max_ui_stall_ms": round(stall["max"], 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_compress_mb": round(rss_compress, 1),
        "encode_s": round(codec_s[0], 3), "decode_s": round(codec_s[1], 3),
    }
    if left != "original":
        result["left"] = left
        result["classic_s"], result["again_classic_s"] = timing["classic_s"]
    if tracer is not None:
        result["stages"], result["again_stages"] = stages, again_stages
    win.close()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,12mp")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--trace", action="store_true",
                        help="record and print time stamps per stage")
    parser.add_argument("--left", default="original",
                        help="what the left side shows: original, or a classic codec (webp, "
                             "jpeg...) at the AE Studio file's size, timed as classic_s")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--note", default="", help="what else ran on the machine, kept in the "
                                                   "JSON (e.g. a training run on one core)")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one, args.trace, args.left)))
        return 0
    rows = []
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    for size in args.sizes.split(","):
        child = [sys.executable, "-m", "benchmarks.gui_latency", "--one", size]
        child += ["--left", args.left] + (["--trace"] if args.trace else [])
        proc = subprocess.run(child, cwd=ROOT, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
            return 1
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    if args.trace:
        from benchmarks.latency_trace import Trace

        for r in rows:
            for key in ("stages", "again_stages"):
                print(f"\n{r['size']}: {key} (seconds from the slider release)")
                Trace.print_table(r[key])
        print()
    print(f"{'size':>10} {'first':>8} {'(what)':>8} {'final':>8} {'again':>8} {'final':>8} "
          f"{'heatmap':>8} {'stall':>8} {'peak RSS':>9}")
    for r in rows:
        print(f"{r['size']:>10} {r['first_feedback_s']:>7.2f}s {r['first_feedback']:>8} "
              f"{r['final_s']:>7.2f}s {r['again_first_s']:>7.2f}s {r['again_final_s']:>7.2f}s "
              f"{r['heatmap_s']:>7.2f}s {r['max_ui_stall_ms']:>6.0f}ms "
              f"{r['peak_rss_mb']:>7.0f}MB")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"load_average_1min": load, "cpu_count": os.cpu_count(),
                               "note": args.note,
                               "targets": {"first_feedback_s": 1.0, "final_small_s": 1.5,
                                           "peak_rss_mb_12mp": 1536},
                               "results": rows}, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
