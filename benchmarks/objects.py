"""Object removal on Kodak: one object-sized hole per image (an ellipse or a box, 5-12 % of
the area), filled by AE Studio, OpenCV's Telea and Navier-Stokes, and the harmonic fill.

    PYTHONPATH=. python benchmarks/objects.py [--limit N] [--methods ...] [--large 12]

Masks: ``object_mask`` below, one per image from ``numpy.random.default_rng([seed, i])``
(seed 2025, i the image's index), so they are the same on every run and every machine.
Every method gets the image with its hole black, and only hole pixels are scored.

Per method, means over the images of:
- PSNR inside the hole (MSE over its pixels and channels);
- the detail ratio: mean |Laplacian| of the result's grey level inside the hole eroded by
  3 px, over that in the 24 px ring around the hole (Euclidean distances). A smear scores
  near 0, a fill as busy as its surroundings near 1;
- seconds per image (after one untimed warm-up).

Methods: ``aestudio`` (``Engine().inpaint``, the app's path: exemplar fill for large holes),
``exemplar`` (``app.core.restore.object_fill`` alone, no network), ``harmonic`` (the network's old
first guess), ``telea`` and ``ns`` (``cv2.inpaint``, radius 3; bench extra).
``--large 12`` also removes one object from a 12-megapixel photo (kodim01 upscaled to
4000x3000, a 5-12 % object mask) in a fresh process and reports its seconds and peak RSS.
Writes benchmarks/results/objects.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.codec import _finite, environment, load_images
from benchmarks.inpaint import Method, fill_method, make_methods, require
from app.spec.data_paths import data_path

DEFAULT_DATA = data_path("kodak")
RESULTS = REPO / "benchmarks" / "results"
SEED = 2025
ALL_METHODS = ("aestudio", "exemplar", "harmonic", "telea", "ns")


def object_mask(h: int, w: int, rng: np.random.Generator,
                coverage: tuple[float, float] = (0.05, 0.12)) -> np.ndarray:
    """One object-shaped hole (HxW bool): an ellipse or an axis-aligned box covering a
    fraction of the image drawn from ``coverage``, with a random aspect ratio (1:2 to 2:1)
    and position, kept at least 8 px from the edges."""
    area = rng.uniform(*coverage) * h * w
    aspect = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))  # width / height
    ellipse = bool(rng.integers(0, 2))
    # ellipse area = pi/4 * bw * bh, box area = bw * bh
    bh = np.sqrt(area / aspect / (np.pi / 4 if ellipse else 1.0))
    bh, bw = min(bh, h - 16.0), min(bh * aspect, w - 16.0)
    cy = rng.uniform(8 + bh / 2, h - 8 - bh / 2)
    cx = rng.uniform(8 + bw / 2, w - 8 - bw / 2)
    y, x = np.mgrid[:h, :w]
    if ellipse:
        return ((y + 0.5 - cy) / (bh / 2)) ** 2 + ((x + 0.5 - cx) / (bw / 2)) ** 2 <= 1.0
    return (np.abs(y + 0.5 - cy) <= bh / 2) & (np.abs(x + 0.5 - cx) <= bw / 2)


def object_masks(shapes: Sequence[tuple[int, int]], seed: int = SEED) -> list[np.ndarray]:
    """One ``object_mask`` per image shape, the i-th from ``default_rng([seed, i])``."""
    return [object_mask(h, w, np.random.default_rng([seed, i])) for i, (h, w) in enumerate(shapes)]


def _laplacian(rgb: np.ndarray) -> np.ndarray:
    g = np.pad(rgb.astype(np.float32).mean(axis=2), 1, mode="edge")
    return np.abs(g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4 * g[1:-1, 1:-1])


def detail_ratio(out: np.ndarray, hole: np.ndarray) -> float:
    cv2 = require("cv2")
    inside = cv2.distanceTransform(hole.astype(np.uint8), cv2.DIST_L2, 5) > 3
    outside = cv2.distanceTransform((~hole).astype(np.uint8), cv2.DIST_L2, 5)
    ring = (outside > 0) & (outside <= 24)
    lap = _laplacian(out)
    return float(lap[inside].mean() / max(lap[ring].mean(), 1e-9))


def hole_psnr(clean: np.ndarray, out: np.ndarray, hole: np.ndarray) -> float:
    mse = np.mean((clean[hole].astype(np.float64) - out[hole]) ** 2)
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-12)))


def exemplar_method() -> Method:
    from app.core.restore.object_fill import fill_large_holes

    return Method("exemplar", "exemplar fill alone (app/core/restore/object_fill.py, no network)",
                  lambda rgb, hole: fill_large_holes(rgb, hole)[0])


def build_methods(names: Sequence[str], threads: int | None) -> list[Method]:
    out = []
    for n in names:
        if n == "exemplar":
            out.append(exemplar_method())
        elif n == "harmonic":
            out.append(fill_method("harmonic"))
        else:
            out.extend(make_methods([n], threads, 3))
    return out


LARGE_CHILD = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np
    from PIL import Image
    from app.core.engine import Engine
    from benchmarks.objects import object_mask
    h, w, photo, threads = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    img = np.asarray(Image.open(photo).convert("RGB").resize((w, h), Image.BICUBIC)).copy()
    hole = object_mask(h, w, np.random.default_rng([2025, 12]))
    engine = Engine(provider="cpu", threads=threads or None)
    engine.inpaint(img[:256, :256], hole[:256, :256].astype(np.uint8))  # warm-up
    t = time.perf_counter()
    engine.inpaint(img, hole.astype(np.uint8))
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "hole": float(hole.mean()),
                      "size": [w, h], "model": engine.model("inpaint").id}))
""")


def run_large(megapixels: int, threads: int | None) -> dict:
    h, w = {12: (3000, 4000), 48: (6000, 8000)}[megapixels]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", LARGE_CHILD, str(h), str(w),
                           str(DEFAULT_DATA / "kodim01.png"), str(threads or 0)],
                          capture_output=True, text=True, env=env, cwd=REPO)
    if proc.returncode:
        raise SystemExit(f"12 MP run failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--methods", default=",".join(ALL_METHODS))
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--large", type=int, choices=(12, 48), default=None,
                    help="also time one object removal at this many megapixels")
    ap.add_argument("--json", type=Path, default=RESULTS / "objects.json")
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.methods.split(",") if n.strip()]
    if not names or any(n not in ALL_METHODS for n in names):
        ap.error(f"--methods: choose from {','.join(ALL_METHODS)}")
    images = load_images(args.data, args.limit)
    holes = object_masks([im.shape[:2] for _, im in images], args.seed)
    results = {}
    for m in build_methods(names, args.threads):
        first_holed = np.where(holes[0][..., None], np.uint8(0), images[0][1])
        m.run(first_holed, holes[0])  # warm-up
        rows = []
        for (name, clean), hole in zip(images, holes):
            holed = np.where(hole[..., None], np.uint8(0), clean)
            t = time.perf_counter()
            filled = m.run(holed, hole)
            secs = time.perf_counter() - t
            out = np.where(hole[..., None], filled, clean)
            rows.append({"image": name, "coverage": float(hole.mean()),
                         "psnr_hole": hole_psnr(clean, out, hole),
                         "detail": detail_ratio(out, hole), "seconds": secs})
        results[m.name] = {"label": m.label, "settings": m.settings, "per_image": rows,
                           **{k: float(np.mean([r[k] for r in rows]))
                              for k in ("psnr_hole", "detail", "seconds")}}
        print(f"  {m.name}: done", file=sys.stderr, flush=True)
    print(f"Object removal, {len(images)} Kodak images, one hole of 5-12 % each "
          f"(seed {args.seed}; mean {100 * np.mean([h.mean() for h in holes]):.1f} %)")
    print(f"{'method':<10} {'PSNR hole':>9} {'detail':>7} {'s/img':>7}")
    for name, r in results.items():
        print(f"{name:<10} {r['psnr_hole']:>9.2f} {r['detail']:>7.3f} {r['seconds']:>7.2f}")
    report = {"dataset": str(args.data), "seed": args.seed, "images": [n for n, _ in images],
              "environment": {**environment(), "cpus": os.cpu_count(), "threads": args.threads},
              "results": results}
    if args.large:
        large = run_large(args.large, args.threads)
        report["large"] = large
        print(f"{args.large} MP, one object ({100 * large['hole']:.1f} %): "
              f"{large['seconds']:.1f} s, peak RSS {large['peak_mib']:.0f} MiB")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(_finite(report), indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
