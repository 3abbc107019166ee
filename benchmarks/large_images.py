"""Big photos with the shipped models: seconds for a 12-megapixel image, peak memory at 48 MP.

    PYTHONPATH=. python benchmarks/large_images.py [--sizes 12,48] [--tasks denoise,inpaint]

Each (task, size) runs in a fresh process, so the peak RSS reported is that run's own (image,
model sessions, tiles and result included). The image is a real Kodak photo tiled to the size
(4000x3000 for 12 MP, 8000x6000 for 48 MP) with Gaussian noise σ = 25 for denoising, and 20 %
of it masked in strokes for inpainting. Seconds are the operation alone, model loading
excluded (one warm-up tile first). Targets (issue 4): 12 MP denoised in ≤ 30 s on 2 cores;
≤ 1.5 GB at 48 MP. Writes benchmarks/results/large_images.json.
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
KODAK = REPO.parent / "shared" / "data" / "kodak" / "kodim01.png"
SIZES = {12: (3000, 4000), 48: (6000, 8000)}

CHILD = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np
    from app.core.engine import Engine
    from app.core.imageio import load_image, to_rgb

    task, h, w, photo = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    rgb, _ = to_rgb(load_image(photo).pixels)
    reps = (-(-h // rgb.shape[0]), -(-w // rgb.shape[1]), 1)
    img = np.ascontiguousarray(np.tile(rgb, reps)[:h, :w])
    rng = np.random.default_rng(0)
    engine = Engine(provider="cpu")
    if task == "denoise":
        for y in range(0, h, 500):  # add noise in strips: no full-size float copy
            strip = img[y:y + 500].astype(np.float32) + rng.normal(0, 25, img[y:y + 500].shape)
            img[y:y + 500] = np.clip(np.rint(strip), 0, 255)
        engine.denoise(img[:256, :256])  # warm-up: sessions loaded
        t = time.perf_counter()
        engine.denoise(img)
    else:
        mask = np.zeros((h, w), np.uint8)
        for y in range(0, h, 100):
            mask[y:y + 20] = 1  # 20 % of the rows, in 20-pixel strokes
        engine.inpaint(img[:256, :256], mask[:256, :256])
        t = time.perf_counter()
        engine.inpaint(img, mask)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak,
                      "model": engine.model(task).id, "provider": engine.provider_label}))
""")


def run(task: str, megapixels: int) -> dict:
    h, w = SIZES[megapixels]
    proc = subprocess.run([sys.executable, "-c", CHILD, task, str(h), str(w), str(KODAK)],
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
    args = parser.parse_args(argv)
    rows = []
    measured = {(t, int(mp)) for t in args.tasks.split(",") for mp in args.sizes.split(",")}
    if args.json.exists():  # rows of other runs are kept; the ones measured now replace theirs
        rows = [r for r in json.loads(args.json.read_text())["rows"]
                if (r["task"], r["megapixels"]) not in measured]
    print(f"{'task':<8} {'size':>10} {'MP':>4} {'seconds':>8} {'peak MiB':>9}  model")
    for task in args.tasks.split(","):
        for mp in (int(s) for s in args.sizes.split(",")):
            row = {**run(task, mp), "date": time.strftime("%Y-%m-%d")}
            if args.note:
                row["note"] = args.note
            rows.append(row)
            print(f"{task:<8} {row['width']:>5}x{row['height']:<4} {mp:>4} "
                  f"{row['seconds']:>8.1f} {row['peak_mib']:>9.0f}  {row['model']} "
                  f"({row['provider']})", flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    rows.sort(key=lambda r: (r["task"], r["megapixels"]))
    info = {"machine": platform.platform(), "cpus": os.cpu_count(), "rows": rows}
    args.json.write_text(json.dumps(info, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
