"""Denoising benchmark of AE Studio against CBM3D and OpenCV non-local means.

    PYTHONPATH=. python benchmarks/denoise.py

Options: ``--sets cbsd68,mcmaster``, ``--sigmas 15,25,50`` (0-255 scale), ``--methods
aestudio,nlm,cbm3d``, ``--oracle-sigma`` (also AE Studio told the true sigma), ``--also-model
ID`` (also this installed denoise model, blind; repeatable), ``--also-passes 4,8`` (also the
default model blind with that many network passes per tile, averaged over mirrored copies;
rows ``aestudio-pN``), ``--limit N``
(first N images of each set), ``--cbm3d-limit N`` (CBM3D on the first N images of each set
only, default 10; 0 = all), ``--threads N``, ``--data-root DIR``, ``--json PATH``.
CBM3D and NLM need the bench extra: ``pip install -e ".[bench]"``.

Noisy inputs: clean 8-bit RGB (grey images expanded to RGB) plus Gaussian noise of standard
deviation sigma from numpy's default_rng seeded with (2026, image index in the sorted set,
sigma), rounded and clipped to uint8 as a user's noisy file would be. Every method gets the
same input; its output, rounded to uint8, is scored with RGB PSNR and SSIM (app.core.compare.metrics).
The "noisy" row scores the input itself.

AE Studio (``Engine().denoise``) is blind: it estimates sigma as the app does ("sigma used" is
its mean estimate). The baselines are given the true sigma, which favours them. CBM3D:
``bm3d.bm3d_rgb(noisy / 255, sigma_psd=sigma / 255)``, 'np' profile, opponent colour space.
NLM: ``cv2.fastNlMeansDenoisingColored`` (on BGR) with h = hColor = 0.5 * sigma, 7x7 template,
21x21 search: one fixed rule, picked among 0.4/0.5/0.6 * sigma on three BSDS500 training photos.

Seconds: mean wall-clock time per image of the denoising call alone, after one untimed warm-up
per method. ``--threads N`` sets ONNX Runtime's intra-op threads, cv2.setNumThreads and BM3D's
num_threads (default: each library uses all cores). CBM3D takes tens of seconds per image, so
it runs on the first ``--cbm3d-limit`` images of each set; the "vs CBM3D" table compares AE
Studio with it on exactly those images (speedup = CBM3D seconds / AE Studio seconds).
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

from app.core.compare.metrics import psnr, ssim
from app.spec.data_paths import data_root
from benchmarks.codec import _finite, environment, load_images
from benchmarks.inpaint import pass_counts

DEFAULT_DATA_ROOT = data_root()
RESULTS = REPO / "benchmarks" / "results"
ALL_SETS = ("cbsd68", "mcmaster")
ALL_METHODS = ("aestudio", "nlm", "cbm3d")
SIGMAS = (15, 25, 50)
NOISE_SEED = 2026
CBM3D_LIMIT = 10
NLM_H_PER_SIGMA = 0.5
NLM_TEMPLATE, NLM_SEARCH = 7, 21

@dataclass
class Method:
    name: str
    label: str
    run: Callable[[np.ndarray, int], tuple[np.ndarray, float | None]]  # (noisy, true sigma)
    settings: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None  # run on the first N images of each set only
    warmup_crop: int | None = None  # warm up on a corner crop (slow methods)


# ------------------------------------------------------------------------------ methods


def require(module: str) -> Any:
    """Import an optional benchmark dependency, or exit saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise SystemExit(f"{module} is not installed; install the benchmark extras with: "
                         'pip install -e ".[bench]"') from None


def to_uint8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def aestudio_methods(threads: int | None, oracle: bool,
                     also: Sequence[str] = (), passes: Sequence[int] = ()) -> list[Method]:
    from app.core.engine import Engine

    engine = Engine(models_dir=None, threads=threads)

    def settings(model) -> dict[str, Any]:
        return {"model_id": model.id, "model_hash": model.hash_prefix.hex(),
                "model_dir": str(model.directory), "provider": engine.provider_label,
                "threads": threads}

    model = engine.model("denoise")
    methods = [Method("aestudio", f"AE Studio ({model.id}, blind)",
                      lambda x, s: engine.denoise(x), {**settings(model), "sigma": "estimated"})]
    if oracle:
        methods.append(Method("aestudio-oracle", f"AE Studio ({model.id}, true sigma)",
                              lambda x, s: engine.denoise(x, sigma=float(s)),
                              {**settings(model), "sigma": "true"}))
    for n in passes:
        methods.append(Method(f"aestudio-p{n}", f"AE Studio ({model.id}, blind, {n} passes)",
                              lambda x, s, n=n: engine.denoise(x, passes=n),
                              {**settings(model), "sigma": "estimated", "passes": n}))
    for model_id in also:
        other = engine.model("denoise", model_id)
        methods.append(Method(f"aestudio:{other.id}", f"AE Studio ({other.id}, blind)",
                              lambda x, s, i=other.id: engine.denoise(x, model_id=i),
                              {**settings(other), "sigma": "estimated"}))
    return methods


def nlm_method(threads: int | None) -> Method:
    cv2 = require("cv2")
    if threads:
        cv2.setNumThreads(threads)

    def run(noisy: np.ndarray, sigma: int) -> tuple[np.ndarray, float]:
        h = NLM_H_PER_SIGMA * sigma
        bgr = np.ascontiguousarray(noisy[..., ::-1])  # OpenCV's Lab conversion expects BGR
        out = cv2.fastNlMeansDenoisingColored(bgr, None, h, h, NLM_TEMPLATE, NLM_SEARCH)
        return np.ascontiguousarray(out[..., ::-1]), float(sigma)

    return Method("nlm", "OpenCV fastNlMeansDenoisingColored", run,
                  {"opencv": cv2.__version__, "h": f"{NLM_H_PER_SIGMA} * sigma",
                   "hColor": f"{NLM_H_PER_SIGMA} * sigma", "template": NLM_TEMPLATE,
                   "search": NLM_SEARCH, "threads": threads})


def cbm3d_method(threads: int | None, limit: int | None) -> Method:
    bm3d = require("bm3d")
    from importlib.metadata import version

    profile = bm3d.BM3DProfile()  # the 'np' profile
    if threads:
        profile.num_threads = threads

    def run(noisy: np.ndarray, sigma: int) -> tuple[np.ndarray, float]:
        out = bm3d.bm3d_rgb(noisy.astype(np.float64) / 255.0, sigma_psd=sigma / 255.0,
                            profile=profile, colorspace="opp")
        return to_uint8(out * 255.0), float(sigma)

    return Method("cbm3d", "CBM3D (bm3d.bm3d_rgb)", run,
                  {"bm3d": version("bm3d"), "profile": "np", "colorspace": "opp",
                   "threads": threads or "auto"}, limit=limit, warmup_crop=64)


def make_methods(names: Sequence[str], oracle: bool, threads: int | None,
                 cbm3d_limit: int | None, also: Sequence[str] = (),
                 passes: Sequence[int] = ()) -> list[Method]:
    methods: list[Method] = []
    for name in names:
        if name == "aestudio":
            methods += aestudio_methods(threads, oracle, also, passes)
        elif name == "nlm":
            methods.append(nlm_method(threads))
        elif name == "cbm3d":
            methods.append(cbm3d_method(threads, cbm3d_limit))
    return methods


# ----------------------------------------------------------------------------- running


def add_noise(clean: np.ndarray, index: int, sigma: int) -> np.ndarray:
    rng = np.random.default_rng((NOISE_SEED, index, sigma))
    return to_uint8(clean + rng.normal(0.0, sigma, clean.shape))


def summarise(per_image: list[dict[str, Any]], n: int | None = None) -> dict[str, Any]:
    rows = per_image[:n]
    out: dict[str, Any] = {"images": len(rows)}
    for key in ("psnr", "ssim", "seconds", "sigma_used"):
        values = [r[key] for r in rows if r.get(key) is not None]
        out[key] = float(np.mean(values)) if values else None
    return out


def score(name: str, clean: np.ndarray, out: np.ndarray, **extra: Any) -> dict[str, Any]:
    if out.shape != clean.shape:
        raise RuntimeError(f"{name}: output shape {out.shape}, expected {clean.shape}")
    return {"image": name, "psnr": psnr(clean, out), "ssim": ssim(clean, out), **extra}


def run_method(method: Method, images: list[tuple[str, np.ndarray]],
               noisy: list[np.ndarray], sigma: int) -> list[dict[str, Any]]:
    rows = []
    for (name, clean), x in list(zip(images, noisy))[:method.limit]:
        t = time.perf_counter()
        out, used = method.run(x, sigma)
        rows.append(score(name, clean, out, seconds=time.perf_counter() - t, sigma_used=used))
    return rows


def run_set(set_name: str, images: list[tuple[str, np.ndarray]], sigmas: Sequence[int],
            methods: list[Method], warmed: set[str]) -> dict[str, Any]:
    by_sigma: dict[str, Any] = {}
    for sigma in sigmas:
        noisy = [add_noise(clean, i, sigma) for i, (_, clean) in enumerate(images)]
        cell = {"noisy": summarise([score(n, c, x) for (n, c), x in zip(images, noisy)])}
        for m in methods:
            if m.name not in warmed:
                crop = noisy[0][:m.warmup_crop, :m.warmup_crop] if m.warmup_crop else noisy[0]
                m.run(np.ascontiguousarray(crop), sigma)
                warmed.add(m.name)
            t = time.perf_counter()
            per_image = run_method(m, images, noisy, sigma)
            cell[m.name] = {"label": m.label, **summarise(per_image), "per_image": per_image}
            print(f"  {set_name} sigma={sigma} {m.name}: {cell[m.name]['psnr']:.2f} dB "
                  f"({time.perf_counter() - t:.1f} s)", file=sys.stderr, flush=True)
        by_sigma[str(sigma)] = cell
    return by_sigma


def vs_cbm3d(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Each AE Studio variant against CBM3D on the images CBM3D ran on."""
    rows = []
    for set_name, by_sigma in results.items():
        for sigma, cell in by_sigma.items():
            if "cbm3d" not in cell:
                continue
            ref = cell["cbm3d"]
            for name in [n for n in cell if n.startswith("aestudio")]:
                ae = summarise(cell[name]["per_image"], ref["images"])
                rows.append({"set": set_name, "sigma": int(sigma), "method": name,
                             "images": ref["images"],
                             "subset": [r["image"] for r in ref["per_image"]],
                             "psnr": ae["psnr"], "cbm3d_psnr": ref["psnr"],
                             "delta_psnr": ae["psnr"] - ref["psnr"],
                             "ssim": ae["ssim"], "cbm3d_ssim": ref["ssim"],
                             "seconds": ae["seconds"], "cbm3d_seconds": ref["seconds"],
                             "speedup": ref["seconds"] / ae["seconds"]})
    return rows


# ----------------------------------------------------------------------------- output


def print_tables(results: dict[str, dict[str, Any]], sizes: dict[str, int],
                 versus: list[dict[str, Any]]) -> None:
    print("Denoising: means over images (RGB PSNR dB, SSIM, seconds per image)")
    print(f"{'set':<9} {'sigma':>5} {'method':<26} {'images':>9} {'PSNR':>7} {'SSIM':>7} "
          f"{'s/img':>8} {'sigma used':>10}")
    for set_name, by_sigma in results.items():
        for sigma, cell in by_sigma.items():
            for name, r in cell.items():
                n = r["images"]
                images = str(n) if n == sizes[set_name] else f"first {n}"
                secs = "-" if r["seconds"] is None else f"{r['seconds']:.3f}"
                used = "-" if r["sigma_used"] is None else f"{r['sigma_used']:.1f}"
                print(f"{set_name:<9} {sigma:>5} {name:<26} {images:>9} {r['psnr']:>7.2f} "
                      f"{r['ssim']:>7.4f} {secs:>8} {used:>10}")
    if not versus:
        return
    print("\nAE Studio vs CBM3D on the same images (the first N of each set)")
    print(f"{'set':<9} {'sigma':>5} {'method':<26} {'N':>3} {'PSNR':>7} {'CBM3D':>7} "
          f"{'dPSNR':>6} {'SSIM':>7} {'CBM3D':>7} {'s/img':>7} {'CBM3D s':>8} {'speedup':>8}")
    for r in versus:
        print(f"{r['set']:<9} {r['sigma']:>5} {r['method']:<26} {r['images']:>3} "
              f"{r['psnr']:>7.2f} {r['cbm3d_psnr']:>7.2f} {r['delta_psnr']:>+6.2f} "
              f"{r['ssim']:>7.4f} {r['cbm3d_ssim']:>7.4f} {r['seconds']:>7.3f} "
              f"{r['cbm3d_seconds']:>8.2f} {r['speedup']:>7.1f}x")


# -------------------------------------------------------------------------------- CLI


def _names(allowed: Sequence[str]) -> Callable[[str], tuple[str, ...]]:
    def parse(text: str) -> tuple[str, ...]:
        names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
        unknown = [n for n in names if n not in allowed]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown name(s) {', '.join(unknown) or '(none)'}: use {','.join(allowed)}")
        return tuple(dict.fromkeys(names))
    return parse


def _sigmas(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if not values or any(not 1 <= v <= 255 for v in values):
        raise argparse.ArgumentTypeError(f"sigmas must be integers in 1..255, got {text!r}")
    return values


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-root", type=Path, default=DEFAULT_DATA_ROOT,
                    help="folder holding the sets' folders")
    ap.add_argument("--sets", type=_names(ALL_SETS), default=ALL_SETS)
    ap.add_argument("--sigmas", type=_sigmas, default=SIGMAS, help="noise levels, 0-255 scale")
    ap.add_argument("--methods", type=_names(ALL_METHODS), default=ALL_METHODS)
    ap.add_argument("--oracle-sigma", action="store_true",
                    help="also run AE Studio given the true sigma")
    ap.add_argument("--also-model", action="append", default=[], metavar="ID",
                    help="also run this installed denoise model blind (repeatable), e.g. to "
                         "compare a model with its int8 copy in one run")
    ap.add_argument("--also-passes", type=pass_counts, default=(), metavar="N[,N]",
                    help="also run the default model blind with N network passes per tile "
                         "(1, 2, 4 or 8), one row each")
    ap.add_argument("--limit", type=int, default=None, help="first N images of each set")
    ap.add_argument("--cbm3d-limit", type=int, default=CBM3D_LIMIT,
                    help="CBM3D on the first N images of each set only (0 = all)")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads for ONNX Runtime (intra-op), OpenCV and BM3D")
    ap.add_argument("--json", type=Path, default=RESULTS / "denoise.json")
    ap.add_argument("--reuse", type=Path, action="append", default=[],
                    help="a previous report: its rows of methods not run now are kept (same "
                         "seeded noisy inputs), e.g. re-measure AE Studio without re-running "
                         "CBM3D; repeat it to take rows from several reports, the first that "
                         "has a row wins")
    args = ap.parse_args(argv)
    if args.cbm3d_limit < 0:
        ap.error("--cbm3d-limit must be >= 0")
    return args


def merge_previous(results: dict[str, dict[str, Any]], path: Path) -> list[str]:
    """Add the previous report's rows for the methods this run did not measure."""
    previous = json.loads(path.read_text())
    if previous.get("noise", {}).get("seed", "").find(str(NOISE_SEED)) < 0:
        raise SystemExit(f"{path}: made with other noisy inputs; cannot reuse it")
    reused = []
    for set_name, by_sigma in results.items():
        for sigma, cell in by_sigma.items():
            old = previous.get("results", {}).get(set_name, {}).get(str(sigma), {})
            for method, row in old.items():
                if method not in cell:
                    cell[method] = row
                    reused.append(f"{set_name}/{sigma}/{method}")
    return reused


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    methods = make_methods(args.methods, args.oracle_sigma, args.threads,
                           args.cbm3d_limit or None, args.also_model, args.also_passes)
    results: dict[str, dict[str, Any]] = {}
    datasets: dict[str, Any] = {}
    warmed: set[str] = set()
    for set_name in args.sets:
        folder = args.data_root / set_name
        images = load_images(folder, args.limit)
        print(f"{set_name}: {len(images)} images", file=sys.stderr)
        datasets[set_name] = {"path": str(folder), "images": [n for n, _ in images]}
        results[set_name] = run_set(set_name, images, args.sigmas, methods, warmed)
    reused = [cell for path in args.reuse for cell in merge_previous(results, path)]
    versus = vs_cbm3d(results)
    print_tables(results, {k: len(v["images"]) for k, v in datasets.items()}, versus)

    env = {**environment(), "cpus": os.cpu_count()}
    report = {"datasets": datasets, "sigmas": list(args.sigmas),
              "noise": {"seed": f"numpy default_rng(({NOISE_SEED}, image index, sigma))",
                        "quantised": "rounded and clipped to uint8"},
              "cbm3d_limit": args.cbm3d_limit, "limit": args.limit,
              "environment": env,
              "methods": {m.name: {"label": m.label, "settings": m.settings} for m in methods},
              "results": results, "vs_cbm3d": versus,
              "reused": ({"from": [str(p) for p in args.reuse], "cells": reused} if reused
                         else None)}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(_finite(report), indent=1) + "\n")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
