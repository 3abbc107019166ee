"""Inpainting benchmark of AE Studio against OpenCV's Telea and Navier-Stokes on Kodak.

    PYTHONPATH=. python benchmarks/inpaint.py

Options: ``--limit N`` (first N images), ``--methods aestudio,pushpull,harmonic,telea,ns``,
``--passes 4,1`` (AE Studio's network passes per tile, averaged over mirrored copies: the row
``aestudio`` uses the app's default count, ``aestudio-pN`` each other count listed; default:
the app's default and 1), ``--radius R`` (OpenCV's inpaintRadius, default 3), ``--threads N``,
``--data DIR`` (Kodak PNGs), ``--masks DIR`` (one mask per image, same file name),
``--json PATH``. Telea and NS need the bench extra: ``pip install -e ".[bench]"``
(opencv-python-headless).

Masks: the shared kodak_masks (8-bit grey, the image's size; white = hole, black = keep; a
value > 127 counts as a hole). Every method gets the image with its hole pixels set to black
(nothing of the original shows through) plus the mask, and its result is composited so that
only hole pixels differ from the original. AE Studio: ``Engine().inpaint(pixels, mask)`` with
an HxW uint8 mask (nonzero = hole). OpenCV: ``cv2.inpaint(image, mask * 255, radius,
INPAINT_TELEA | INPAINT_NS)``; both treat the channels independently, so RGB order is fine.
The radius is 3 pixels by default; the masks' SOURCE.txt quotes reference figures made with
radius 5 (and OpenCV 5), so ``--radius 5`` reproduces those conditions.

Per method: mean RGB PSNR over the whole image, mean PSNR inside the holes only (MSE over the
hole pixels and channels), mean seconds per image of the inpainting call alone (after one
untimed warm-up, so model loading is not counted). The "black" row scores the input with the
holes left black; "pushpull" and "harmonic" are the smooth first guesses that AE Studio's
newer inpainters refine (app/core/restore/hole_fill.py), scored alone. ``--threads N`` sets ONNX
Runtime's intra-op threads and cv2.setNumThreads.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.io.imageio import load_image
from app.core.io.pixels import to_rgb
from app.core.compare.metrics import psnr
from app.core.restore.self_ensemble import DEFAULT_PASSES, check_passes
from benchmarks.codec import _finite, environment, load_images
from app.spec.data_paths import data_path

DEFAULT_DATA = data_path("kodak")
DEFAULT_MASKS = data_path("kodak_masks")
RESULTS = REPO / "benchmarks" / "results"
FILLS = {"pushpull": "push-pull", "harmonic": "harmonic"}  # method name -> hole_fill
ALL_METHODS = ("aestudio", *FILLS, "telea", "ns")
RADIUS = 3


@dataclass
class Method:
    name: str
    label: str
    run: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (RGB, HxW bool hole) -> RGB
    settings: dict[str, Any] = field(default_factory=dict)


def require(module: str) -> Any:
    """Import an optional benchmark dependency, or exit saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise SystemExit(f"{module} is not installed; install the benchmark extras with: "
                         'pip install -e ".[bench]"') from None


def aestudio_methods(threads: int | None, passes: Sequence[int]) -> list[Method]:
    """One AE Studio row per pass count, all on one engine (one session for the model)."""
    from app.core.engine import Engine

    engine = Engine(models_dir=None, threads=threads)
    return [aestudio_method(engine, threads, p) for p in passes]


def aestudio_method(engine, threads: int | None, passes: int) -> Method:
    model = engine.model("inpaint")
    default = passes == DEFAULT_PASSES["inpaint"]
    return Method("aestudio" if default else f"aestudio-p{passes}",
                  f"AE Studio ({model.id}, {passes} pass{'es' if passes > 1 else ''})",
                  lambda rgb, hole: engine.inpaint(rgb, hole.astype(np.uint8), passes=passes),
                  {"model_id": model.id, "model_hash": model.hash_prefix.hex(),
                   "model_dir": str(model.directory), "provider": engine.provider_label,
                   "threads": threads, "passes": passes})


def fill_method(name: str) -> Method:
    """A first guess that ``hole_fill`` models refine (``name``: a key of FILLS), alone."""
    from app.core.restore.hole_fill import prefill

    fill = FILLS[name]
    return Method(name, f"{fill} fill (app/core/restore/hole_fill.py, no network)",
                  lambda rgb, hole: prefill(rgb, hole, fill).array(), {"hole_fill": fill})


def opencv_method(name: str, threads: int | None, radius: float) -> Method:
    cv2 = require("cv2")
    if threads:
        cv2.setNumThreads(threads)
    flag, label = {"telea": (cv2.INPAINT_TELEA, "OpenCV Telea"),
                   "ns": (cv2.INPAINT_NS, "OpenCV Navier-Stokes")}[name]

    def run(rgb: np.ndarray, hole: np.ndarray) -> np.ndarray:
        return cv2.inpaint(rgb, hole.astype(np.uint8) * 255, radius, flag)

    return Method(name, f"{label} (radius {radius:g})", run,
                  {"opencv": cv2.__version__, "radius": radius, "threads": threads})


def make_methods(names: Sequence[str], threads: int | None, radius: float,
                 passes: Sequence[int] = (DEFAULT_PASSES["inpaint"],)) -> list[Method]:
    factories = {"aestudio": lambda: aestudio_methods(threads, passes),
                 **{n: (lambda n=n: [fill_method(n)]) for n in FILLS}}
    return [m for n in names
            for m in (factories[n]() if n in factories else [opencv_method(n, threads, radius)])]


# ----------------------------------------------------------------------------- running


def load_hole(masks: Path, name: str, shape: tuple[int, ...]) -> np.ndarray:
    path = masks / name
    if not path.is_file():
        raise SystemExit(f"no mask for {name} in {masks}")
    mask = to_rgb(load_image(path).pixels)[0]  # alpha, if any, is ignored
    if mask.shape[:2] != shape[:2]:
        raise SystemExit(f"mask {path} is {mask.shape[1]}x{mask.shape[0]}, "
                         f"the image {shape[1]}x{shape[0]}")
    return mask.max(axis=2) > 127


def score(name: str, clean: np.ndarray, out: np.ndarray, hole: np.ndarray,
          seconds: float | None = None) -> dict[str, Any]:
    if out.shape != clean.shape:
        raise RuntimeError(f"{name}: output shape {out.shape}, expected {clean.shape}")
    return {"image": name, "psnr": psnr(clean, out), "psnr_holes": psnr(clean[hole], out[hole]),
            "seconds": seconds}


def summarise(per_image: list[dict[str, Any]]) -> dict[str, Any]:
    secs = [r["seconds"] for r in per_image if r["seconds"] is not None]
    return {"images": len(per_image),
            "psnr": float(np.mean([r["psnr"] for r in per_image])),
            "psnr_holes": float(np.mean([r["psnr_holes"] for r in per_image])),
            "seconds": float(np.mean(secs)) if secs else None}


def run_method(method: Method, cases: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]
               ) -> list[dict[str, Any]]:
    rows = []
    for name, clean, holed, hole in cases:
        t = time.perf_counter()
        filled = method.run(holed, hole)
        seconds = time.perf_counter() - t
        out = np.where(hole[..., None], filled, clean) if filled.shape == clean.shape else filled
        rows.append(score(name, clean, out, hole, seconds))
    return rows


def print_table(results: dict[str, dict[str, Any]], coverage: float) -> None:
    print("Inpainting: means over images (RGB PSNR dB, whole image and holes only)")
    print(f"{'method':<12} {'images':>6} {'PSNR':>7} {'PSNR holes':>10} {'s/img':>8}")
    for name, r in results.items():
        secs = "-" if r["seconds"] is None else f"{r['seconds']:.3f}"
        print(f"{name:<12} {r['images']:>6} {r['psnr']:>7.2f} {r['psnr_holes']:>10.2f} "
              f"{secs:>8}")
    print(f"mean hole coverage: {100 * coverage:.1f} % of the pixels")


# -------------------------------------------------------------------------------- CLI


def _methods(text: str) -> tuple[str, ...]:
    names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in ALL_METHODS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown method(s) {', '.join(unknown) or '(none)'}: use {','.join(ALL_METHODS)}")
    return tuple(dict.fromkeys(names))


def pass_counts(text: str) -> tuple[int, ...]:
    """``--passes 4,1``: the distinct pass counts named, in order (argparse type)."""
    try:
        counts = tuple(dict.fromkeys(check_passes(int(n)) for n in text.split(",") if n.strip()))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not counts:
        raise argparse.ArgumentTypeError("name at least one pass count")
    return counts


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of PNG images")
    ap.add_argument("--masks", type=Path, default=DEFAULT_MASKS,
                    help="folder of masks named like the images (white = hole)")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N images")
    ap.add_argument("--methods", type=_methods, default=ALL_METHODS)
    ap.add_argument("--passes", type=pass_counts, default=tuple(dict.fromkeys(
                    (DEFAULT_PASSES["inpaint"], 1))),
                    help="AE Studio's network passes per tile, one row per count (default: "
                         "the app's default count, then 1)")
    ap.add_argument("--radius", type=float, default=RADIUS, help="OpenCV inpaintRadius")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads for ONNX Runtime (intra-op) and OpenCV")
    ap.add_argument("--json", type=Path, default=RESULTS / "inpaint.json")
    args = ap.parse_args(argv)
    if args.radius <= 0:
        ap.error("--radius must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    methods = make_methods(args.methods, args.threads, args.radius, args.passes)
    cases = []
    for name, clean in load_images(args.data, args.limit):
        hole = load_hole(args.masks, name, clean.shape)
        holed = np.where(hole[..., None], np.uint8(0), clean)
        cases.append((name, clean, holed, hole))
    coverage = [float(hole.mean()) for _, _, _, hole in cases]
    print(f"{args.data.name}: {len(cases)} images, mean hole coverage "
          f"{100 * np.mean(coverage):.1f} %", file=sys.stderr)

    results = {"black": summarise([score(n, c, x, h) for n, c, x, h in cases])}
    for m in methods:
        m.run(cases[0][2], cases[0][3])  # warm-up: model loading is not timed
        t = time.perf_counter()
        per_image = run_method(m, cases)
        results[m.name] = {"label": m.label, **summarise(per_image), "per_image": per_image}
        print(f"  {m.name}: {results[m.name]['psnr']:.2f} dB "
              f"({time.perf_counter() - t:.1f} s)", file=sys.stderr, flush=True)
    print_table(results, float(np.mean(coverage)))

    report = {"dataset": str(args.data), "masks": str(args.masks),
              "images": [n for n, *_ in cases], "hole_threshold": "mask value > 127",
              "hole_coverage": {"mean": float(np.mean(coverage)),
                                "per_image": dict(zip([n for n, *_ in cases], coverage))},
              "environment": {**environment(), "cpus": os.cpu_count()},
              "methods": {m.name: {"label": m.label, "settings": m.settings} for m in methods},
              "results": results}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(_finite(report), indent=1) + "\n")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
