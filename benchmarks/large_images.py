"""Big photos with the shipped models: seconds for a 12-megapixel image, peak memory at 48 MP.

    PYTHONPATH=. python benchmarks/large_images.py [--sizes 12,48] [--tasks denoise,inpaint]
        [--threads N] [--model ID] [--models-dir DIR] [--note "how the machine was used"]

Each (task, size) runs in a fresh process, so the peak RSS reported is that run's own (image,
model sessions, tiles and result included). The image is a real Kodak photo tiled to the size
(4000x3000 for 12 MP, 8000x6000 for 48 MP) with Gaussian noise σ = 25 for denoising, and 20 %
of it masked in strokes for inpainting. The model is the app's default for the task (on the
CPU) unless ``--model`` names one. Seconds are the operation alone, model loading excluded
(one warm-up tile first); CPU seconds are those of all the process's threads over the same
span. ``--threads`` is the engine's thread count (default: the app's, one per core). On a
machine shared with other jobs the seconds depend on them, while the CPU seconds of a
1-thread run barely do: compare changes by those, and say in ``--note`` how the machine was
used. Targets (issue 25): a 12 MP photo denoised in ≤ 20 s on 2 cores, ≤ 1.5 GB peak.
Writes benchmarks/results/large_images.json (a row per task, size, threads and model).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
sys.path.insert(0, str(REPO))
from app.spec.data_paths import data_path  # noqa: E402

KODAK = data_path("kodak", "kodim01.png")
SIZES = {12: (3000, 4000), 48: (6000, 8000)}

CHILD = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np
    from app.core.engine import Engine
    from app.core.io.imageio import load_image
    from app.core.io.pixels import to_rgb

    task, h, w, photo = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    threads, model_id, models = int(sys.argv[5]) or None, sys.argv[6] or None, sys.argv[7] or None
    rgb, _ = to_rgb(load_image(photo).pixels)
    reps = (-(-h // rgb.shape[0]), -(-w // rgb.shape[1]), 1)
    img = np.ascontiguousarray(np.tile(rgb, reps)[:h, :w])
    rng = np.random.default_rng(0)
    engine = Engine(models_dir=models, provider="cpu", threads=threads)
    if task == "denoise":
        for y in range(0, h, 500):  # add noise in strips: no full-size float copy
            strip = img[y:y + 500].astype(np.float32) + rng.normal(0, 25, img[y:y + 500].shape)
            img[y:y + 500] = np.clip(np.rint(strip), 0, 255)
        engine.denoise(img[:256, :256], model_id=model_id)  # warm-up: sessions loaded
        t, cpu = time.perf_counter(), time.process_time()
        engine.denoise(img, model_id=model_id)
    else:
        mask = np.zeros((h, w), np.uint8)
        for y in range(0, h, 100):
            mask[y:y + 20] = 1  # 20 % of the rows, in 20-pixel strokes
        engine.inpaint(img[:256, :256], mask[:256, :256], model_id=model_id)
        t, cpu = time.perf_counter(), time.process_time()
        engine.inpaint(img, mask, model_id=model_id)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mib": peak,
                      "model": engine.model(task, model_id).id, "threads": threads,
                      "provider": engine.provider_label}))
""")


def run(task: str, megapixels: int, threads: int | None = None, model: str | None = None,
        models_dir: str | None = None) -> dict:
    h, w = SIZES[megapixels]
    proc = subprocess.run([sys.executable, "-c", CHILD, task, str(h), str(w), str(KODAK),
                           str(threads or 0), model or "", models_dir or ""],
                          capture_output=True, text=True, cwd=REPO, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{task} at {megapixels} MP failed:\n{proc.stderr[-3000:]}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row.update(task=task, megapixels=megapixels, width=w, height=h)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--sizes", default="12,48")
    parser.add_argument("--tasks", default="denoise,inpaint")
    parser.add_argument("--json", type=Path, default=RESULTS / "large_images.json")
    parser.add_argument("--note", default="", help="how the machine was used, kept in each row")
    parser.add_argument("--threads", type=int, default=None,
                        help="engine threads (default: the app's, one per core)")
    parser.add_argument("--model", default=None, help="model id (default: the task's default)")
    parser.add_argument("--models-dir", default=None, help="models folder (default: the app's)")
    args = parser.parse_args(argv)
    rows, new = [], []
    if args.json.exists():
        rows = json.loads(args.json.read_text())["rows"]
    print(f"{'task':<8} {'size':>10} {'MP':>4} {'threads':>7} {'seconds':>8} {'CPU s':>7} "
          f"{'peak MiB':>9}  model")
    for task in args.tasks.split(","):
        for mp in (int(s) for s in args.sizes.split(",")):
            row = {**run(task, mp, args.threads, args.model, args.models_dir),
                   "date": time.strftime("%Y-%m-%d")}
            if args.note:
                row["note"] = args.note
            new.append(row)
            print(f"{task:<8} {row['width']:>5}x{row['height']:<4} {mp:>4} "
                  f"{row['threads'] or 'auto':>7} {row['seconds']:>8.1f} "
                  f"{row['cpu_seconds']:>7.1f} {row['peak_mib']:>9.0f}  {row['model']} "
                  f"({row['provider']})", flush=True)
    # rows of other runs are kept; a row measured now replaces the one of the same task, size,
    # model and threads
    measured = {_key(r) for r in new}
    rows = [r for r in rows if _key(r) not in measured] + new
    args.json.parent.mkdir(parents=True, exist_ok=True)
    rows.sort(key=lambda r: (r["task"], r["megapixels"], r["model"], r.get("threads") or 0))
    info = {"machine": platform.platform(), "cpus": os.cpu_count(), "rows": rows}
    args.json.write_text(json.dumps(info, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


def _key(row: dict) -> tuple:
    return row["task"], row["megapixels"], row["model"], row.get("threads")


if __name__ == "__main__":
    sys.exit(main())
