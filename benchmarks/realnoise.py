"""Real-noise denoising benchmark: real camera noise (PolyU) and noisy or blocky JPEGs.

    PYTHONPATH=. python benchmarks/realnoise.py --threads 1

Parts (``--parts polyu,jpeg,gauss``):

- ``polyu``: ``$AESTUDIO_DATA/polyu_dev``: 40 pairs of 512x512 crops from two Canon cameras,
  ``*_real.JPG`` (one noisy shot, as the camera wrote it) scored against ``*_mean.JPG`` (the
  mean of many shots). Evaluation only. Rows: the noisy input; OpenCV
  ``fastNlMeansDenoisingColored`` with h = hColor = 3 and 5 (7x7 template, 21x21 search);
  CBM3D (``bm3d.bm3d_rgb``, 'np' profile) with sigma estimated per image (below; on every
  ``--cbm3d-every``-th pair, compared with every method on those pairs); and each AE Studio
  model given with ``--models`` (blind, as the app runs it, with ``--strength``).
- ``jpeg``: the first 10 CBSD68 images (a) with Gaussian noise of sigma 10..25 then saved as a
  JPEG of quality 75..90 by Pillow (sigma and quality drawn per image from
  ``default_rng((2025, index))``), and (b) saved as a clean JPEG of quality 30. Rows: the input
  and each AE Studio model.
- ``gauss``: all of CBSD68 with sigma 25 Gaussian noise drawn exactly as ``benchmarks/denoise.py``
  does (so its CBM3D numbers in ``results/denoise_cbm3d10.json`` compare), each model blind.

CBM3D's sigma: from the diagonal Haar detail at the *second* level, the median over 8x8
blocks of each block's RMS, averaged over the channels. The first level reads near 0 on camera JPEGs,
whose in-camera processing and compression remove the finest noise; the second level sees the
noise that survives, but still reads low, so CBM3D is not at its best here.

Scores: RGB PSNR and SSIM (``app.core.compare.metrics``) of the uint8 output; seconds per image of the
denoising call alone (after one untimed warm-up). Results merge into
``benchmarks/results/realnoise.json`` (rows of a method re-measured replace the old ones).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.compare.metrics import psnr, ssim  # noqa: E402
from app.spec.data_paths import data_root  # noqa: E402

DATA = data_root()
RESULTS = REPO / "benchmarks" / "results" / "realnoise.json"
JPEG_SEED = 2025
GAUSS_SEED = 2026  # as benchmarks/denoise.py


def load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def polyu_pairs(folder: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    pairs = []
    for real in sorted(folder.glob("*_real.JPG")):
        mean = real.with_name(real.name.replace("_real.JPG", "_mean.JPG"))
        pairs.append((real.name[:-len("_real.JPG")], load_rgb(real), load_rgb(mean)))
    if not pairs:
        raise SystemExit(f"no *_real.JPG / *_mean.JPG pairs in {folder}")
    return pairs


def jpeg_bytes(pixels: np.ndarray, quality: int) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=int(quality))
    buf.seek(0)
    return load_rgb(buf)


def jpeg_cases(folder: Path, n: int = 10) -> dict[str, list[tuple[str, np.ndarray, np.ndarray]]]:
    files = sorted(folder.glob("*.png"))[:n]
    noisy, blocky = [], []
    for i, p in enumerate(files):
        clean = load_rgb(p)
        rng = np.random.default_rng((JPEG_SEED, i))
        sigma, q = rng.uniform(10, 25), int(rng.integers(75, 91))
        x = np.clip(np.round(clean + rng.normal(0, sigma, clean.shape)), 0, 255).astype(np.uint8)
        noisy.append((f"{p.name} s{sigma:.1f} q{q}", jpeg_bytes(x, q), clean))
        blocky.append((f"{p.name} q30", jpeg_bytes(clean, 30), clean))
    return {"gauss_jpeg": noisy, "jpeg_q30": blocky}


def gauss_cases(folder: Path, sigma: int = 25) -> list[tuple[str, np.ndarray, np.ndarray]]:
    cases = []
    for i, p in enumerate(sorted(folder.glob("*.png"))):
        clean = load_rgb(p)
        rng = np.random.default_rng((GAUSS_SEED, i, sigma))
        x = np.clip(np.round(clean + rng.normal(0.0, sigma, clean.shape)), 0, 255)
        cases.append((p.name, x.astype(np.uint8), clean))
    return cases


def mad_sigma(pixels: np.ndarray) -> float:
    """Noise sigma (0-255) from the second-level diagonal Haar detail (see the module doc)."""
    x = pixels.astype(np.float64)
    h, w = (x.shape[0] // 4) * 4, (x.shape[1] // 4) * 4
    x = x[:h, :w]
    a = (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2]) / 2  # orthonormal
    hh = (a[0::2, 0::2] - a[1::2, 0::2] - a[0::2, 1::2] + a[1::2, 1::2]) / 2
    # the median absolute value is 0 on a quantised JPEG's flat areas; the median over 8x8
    # blocks of each block's RMS is as robust to texture and does not collapse
    bh, bw = (hh.shape[0] // 8) * 8, (hh.shape[1] // 8) * 8
    blocks = hh[:bh, :bw].reshape(bh // 8, 8, bw // 8, 8, 3)
    rms = np.sqrt((blocks ** 2).mean(axis=(1, 3)))
    return float(np.mean([np.median(rms[..., c]) for c in range(3)]))


Runner = Callable[[np.ndarray], tuple[np.ndarray, float | None]]


def baselines(threads: int | None) -> dict[str, Runner]:
    import cv2

    if threads:
        cv2.setNumThreads(threads)

    def nlm(h: float) -> Runner:
        def run(x: np.ndarray):
            out = cv2.fastNlMeansDenoisingColored(np.ascontiguousarray(x[..., ::-1]), None,
                                                  h, h, 7, 21)
            return np.ascontiguousarray(out[..., ::-1]), float(h)
        return run

    def cbm3d(x: np.ndarray):
        import bm3d

        profile = bm3d.BM3DProfile()
        if threads:
            profile.num_threads = threads
        sigma = max(mad_sigma(x), 0.5)
        out = bm3d.bm3d_rgb(x / 255.0, sigma_psd=sigma / 255.0, profile=profile,
                            colorspace="opp")
        return np.clip(np.round(out * 255), 0, 255).astype(np.uint8), sigma

    return {"noisy": lambda x: (x, None), "nlm-h3": nlm(3.0), "nlm-h5": nlm(5.0),
            "cbm3d": cbm3d}


def model_runners(ids: list[str], models: str | None, threads: int | None,
                  strength: float) -> dict[str, Runner]:
    from app.core.engine import Engine

    engine = Engine(models_dir=models, threads=threads)
    runners = {}
    for model_id in ids:
        engine.model("denoise", model_id)  # fail early on a missing model
        runners[model_id if strength == 1.0 else f"{model_id}@{strength:g}"] = (
            lambda x, i=model_id: engine.denoise(x, model_id=i, strength=strength))
    return runners


def evaluate(run: Runner, cases) -> dict:
    run(cases[0][1][:64, :64])  # warm-up
    rows = []
    for name, x, ref in cases:
        t = time.perf_counter()
        out, used = run(x)
        secs = time.perf_counter() - t
        rows.append({"image": name, "psnr": psnr(ref, out), "ssim": ssim(ref, out),
                     "seconds": secs, "sigma_used": used})
    summary = {k: float(np.mean([r[k] for r in rows])) for k in ("psnr", "ssim", "seconds")}
    return {"images": len(rows), **summary, "per_image": rows}


def gains(result: dict, noisy: dict) -> dict:
    d = [r["psnr"] - n["psnr"] for r, n in zip(result["per_image"], noisy["per_image"])]
    return {"mean_gain": float(np.mean(d)), "worst_gain": float(np.min(d)),
            "worse_than_input": int(sum(v < 0 for v in d))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", default="polyu,jpeg,gauss")
    ap.add_argument("--methods", default="noisy,nlm-h3,nlm-h5,cbm3d,models",
                    help="baselines to run (noisy, nlm-h3, nlm-h5, cbm3d) and/or 'models'")
    ap.add_argument("--models", default="denoise-realnoise-v1,denoise-unet-v4",
                    help="AE Studio denoise model ids, comma-separated")
    ap.add_argument("--models-dir", help="models folder (default: the app's)")
    ap.add_argument("--strength", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--limit", type=int, default=None, help="first N cases of each part")
    ap.add_argument("--cbm3d-every", type=int, default=1, metavar="K",
                    help="CBM3D on every K-th PolyU pair only (tens of seconds each on 2 cores); "
                    "the 'vs_cbm3d' table compares every method on those pairs")
    ap.add_argument("--json", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    methods = args.methods.split(",")
    parts = {}
    if "polyu" in args.parts:
        parts["polyu"] = polyu_pairs(DATA / "polyu_dev")
    if "jpeg" in args.parts:
        parts.update(jpeg_cases(DATA / "cbsd68"))
    if "gauss" in args.parts:
        parts["cbsd68_s25"] = gauss_cases(DATA / "cbsd68")
    runners = {k: v for k, v in baselines(args.threads).items() if k in methods}
    if "models" in methods:
        runners.update(model_runners(args.models.split(","), args.models_dir, args.threads,
                                     args.strength))
    results = json.loads(args.json.read_text()) if args.json.exists() else {}
    for part, cases in parts.items():
        cases = cases[:args.limit]
        table = results.setdefault(part, {})
        for name, run in runners.items():
            if part != "polyu" and name.startswith(("nlm", "cbm3d")):
                continue  # baselines of the JPEG and Gaussian parts live elsewhere
            subset = cases[::args.cbm3d_every] if name == "cbm3d" else cases
            table[name] = evaluate(run, subset)
            print(f"{part:<12} {name:<28} {table[name]['psnr']:7.3f} dB "
                  f"SSIM {table[name]['ssim']:.4f} {table[name]['seconds']:6.2f} s", flush=True)
            finish(results, table, args.json, argv)  # saved after each method: CBM3D is slow
    print_table(results)
    return 0


def finish(results: dict, table: dict, path: Path, argv) -> None:
    """Gains over the input, the comparison on CBM3D's pairs, and the JSON file."""
    if "noisy" in table:
        for name in table:
            if name != "noisy" and table[name]["images"] == table["noisy"]["images"]:
                table[name].update(gains(table[name], table["noisy"]))
    if "cbm3d" in table:
        names = {r["image"] for r in table["cbm3d"]["per_image"]}
        table["cbm3d"]["vs_cbm3d"] = {
            m: float(np.mean([r["psnr"] for r in t["per_image"] if r["image"] in names]))
            for m, t in table.items() if isinstance(t, dict) and "per_image" in t
            and names <= {r["image"] for r in t["per_image"]}}
    command = "PYTHONPATH=. python benchmarks/realnoise.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    if command not in results.setdefault("commands", []):
        results["commands"].append(command)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1))


def print_table(results: dict) -> None:
    print(f"\n{'part':<12} {'method':<28} {'PSNR':>7} {'SSIM':>7} {'s/img':>6} "
          f"{'gain':>6} {'worst':>6} {'worse':>5}")
    for part, table in results.items():
        if part == "commands":
            continue
        for name, r in table.items():
            g = (f"{r['mean_gain']:6.2f} {r['worst_gain']:6.2f} {r['worse_than_input']:5d}"
                 if "mean_gain" in r else "")
            print(f"{part:<12} {name:<28} {r['psnr']:7.3f} {r['ssim']:7.4f} "
                  f"{r['seconds']:6.2f} {g}")
        if "cbm3d" in table:
            same = table["cbm3d"]["vs_cbm3d"]
            print(f"{part:<12} on CBM3D's {table['cbm3d']['images']} pairs: " + ", ".join(
                f"{m} {v:.3f}" for m, v in same.items()))


if __name__ == "__main__":
    sys.exit(main())
