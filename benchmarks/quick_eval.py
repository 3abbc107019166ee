"""Quick measured results of the installed models, for their model cards.

    python benchmarks/quick_eval.py [--data $AESTUDIO_DATA] [--json out.json] [--limit N]

Codec: Kodak at several qualities (real file bytes, RGB PSNR) and kodim23 alone.
Denoise: CBSD68 at sigma 15/25/50 (seeded noise, clipped and rounded to 8 bits), PSNR gain.
Inpaint: Kodak with the shared masks, whole-image PSNR against leaving the holes black.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.engine import Engine  # noqa: E402
from app.spec.data_paths import data_root  # noqa: E402
from app.core.io.imageio import load_image  # noqa: E402
from app.core.compare.metrics import bits_per_pixel, psnr  # noqa: E402


def images(folder: Path, limit: int | None) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")
    return files[:limit] if limit else files


def eval_codec(engine: Engine, data: Path, limit, qualities=(10, 25, 50, 75, 90, 100)):
    rows = []
    kodak = images(data / "kodak", limit)
    for q in qualities:
        bpps, psnrs, enc, dec = [], [], [], []
        for path in kodak:
            px = load_image(path).pixels
            t = time.perf_counter()
            blob = engine.compress(px, q).data
            enc.append(time.perf_counter() - t)
            t = time.perf_counter()
            rec = engine.decompress(blob)
            dec.append(time.perf_counter() - t)
            bpps.append(bits_per_pixel(len(blob), px.shape[1], px.shape[0]))
            psnrs.append(psnr(px, rec))
        rows.append({"quality": q, "bpp": float(np.mean(bpps)), "psnr": float(np.mean(psnrs)),
                     "encode_s": float(np.median(enc)), "decode_s": float(np.median(dec)),
                     "images": len(kodak)})
    k23 = load_image(data / "kodak" / "kodim23.png").pixels
    per23 = []
    for q in qualities:
        blob = engine.compress(k23, q).data
        per23.append({"quality": q, "bpp": bits_per_pixel(len(blob), 768, 512),
                      "psnr": psnr(k23, engine.decompress(blob))})
    return {"kodak": rows, "kodim23": per23}


def eval_denoise(engine: Engine, data: Path, limit, sigmas=(15, 25, 50)):
    rows = []
    files = images(data / "cbsd68", limit)
    for s in sigmas:
        rng = np.random.default_rng(s)
        p_in, p_out, p_blind, secs = [], [], [], []
        for path in files:
            px = load_image(path).pixels
            noisy = np.clip(np.round(px + rng.normal(0, s, px.shape)), 0, 255).astype(np.uint8)
            t = time.perf_counter()
            blind, _ = engine.denoise(noisy)
            secs.append(time.perf_counter() - t)
            known, _ = engine.denoise(noisy, sigma=s)
            p_in.append(psnr(px, noisy))
            p_blind.append(psnr(px, blind))
            p_out.append(psnr(px, known))
        rows.append({"sigma": s, "psnr_noisy": float(np.mean(p_in)),
                     "psnr_blind": float(np.mean(p_blind)),
                     "psnr_known_sigma": float(np.mean(p_out)),
                     "seconds": float(np.median(secs)), "images": len(files)})
    return rows


def eval_inpaint(engine: Engine, data: Path, limit):
    p_black, p_fill, p_hole, secs = [], [], [], []
    for path in images(data / "kodak", limit):
        px = load_image(path).pixels
        mask = (load_image(data / "kodak_masks" / path.name).pixels[..., 0] > 127)
        black = px.copy()
        black[mask] = 0
        t = time.perf_counter()
        out = engine.inpaint(px, mask.astype(np.uint8))
        secs.append(time.perf_counter() - t)
        p_black.append(psnr(px, black))
        p_fill.append(psnr(px, out))
        p_hole.append(psnr(px[mask], out[mask]))
    return {"psnr_black_holes": float(np.mean(p_black)), "psnr": float(np.mean(p_fill)),
            "psnr_in_holes": float(np.mean(p_hole)), "seconds": float(np.median(secs)),
            "images": len(p_fill)}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=data_root())
    ap.add_argument("--models")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--tasks", default="codec,denoise,inpaint")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    engine = Engine(args.models)
    result = {"provider": None}
    tasks = args.tasks.split(",")
    if "codec" in tasks:
        result["codec"] = eval_codec(engine, args.data, args.limit)
        print("codec (Kodak mean):")
        for r in result["codec"]["kodak"]:
            print(f"  q={r['quality']:>3}  {r['bpp']:.3f} bpp  {r['psnr']:.2f} dB  "
                  f"enc {r['encode_s']:.2f}s dec {r['decode_s']:.2f}s")
        for r in result["codec"]["kodim23"]:
            print(f"  kodim23 q={r['quality']:>3}  {r['bpp']:.3f} bpp  {r['psnr']:.2f} dB")
    if "denoise" in tasks:
        result["denoise"] = eval_denoise(engine, args.data, args.limit)
        for r in result["denoise"]:
            print(f"denoise sigma={r['sigma']}: noisy {r['psnr_noisy']:.2f} -> blind "
                  f"{r['psnr_blind']:.2f} / known sigma {r['psnr_known_sigma']:.2f} dB "
                  f"({r['seconds']:.2f}s)")
    if "inpaint" in tasks:
        r = result["inpaint"] = eval_inpaint(engine, args.data, args.limit)
        print(f"inpaint: holes black {r['psnr_black_holes']:.2f} dB -> {r['psnr']:.2f} dB "
              f"(in holes {r['psnr_in_holes']:.2f} dB, {r['seconds']:.2f}s)")
    result["provider"] = engine.provider_label
    result["models"] = {task: engine.model(task).id for task in tasks}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
