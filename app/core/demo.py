"""``aestudio demo``: every job on the bundled sample, measured."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .engine import Engine
from .imageio import load_image
from .metrics import bits_per_pixel, psnr

SAMPLE = Path(__file__).resolve().parents[1] / "assets" / "sample.png"


def demo_mask(h: int, w: int) -> np.ndarray:
    """A fixed mask of strokes and a box (white = hole), about 8 % of the image."""
    im = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(im)
    s = min(h, w)
    d.line([(w * 0.1, h * 0.2), (w * 0.45, h * 0.35), (w * 0.6, h * 0.15)], fill=255,
           width=max(3, s // 25))
    d.line([(w * 0.2, h * 0.8), (w * 0.5, h * 0.6), (w * 0.9, h * 0.85)], fill=255,
           width=max(3, s // 30))
    d.rectangle([w * 0.65, h * 0.4, w * 0.8, h * 0.6], fill=255)
    return (np.asarray(im) > 0).astype(np.uint8)


def run_demo(engine: Engine, image_path: Path | None = None, quality: float = 75.0,
             sigma: float = 25.0, seed: int = 0) -> list[dict]:
    img = load_image(image_path or SAMPLE)
    px = img.pixels
    h, w = px.shape[:2]
    rows = []

    t = time.perf_counter()
    res = engine.compress(px, quality)
    t_enc = time.perf_counter() - t
    t = time.perf_counter()
    rec = engine.decompress(res.data)
    t_dec = time.perf_counter() - t
    rows.append({"step": f"compress (q={quality:g})", "bytes": len(res.data),
                 "bpp": bits_per_pixel(len(res.data), w, h), "psnr": psnr(px, rec),
                 "seconds": t_enc})
    rows.append({"step": "decompress", "bytes": len(res.data),
                 "bpp": bits_per_pixel(len(res.data), w, h), "psnr": psnr(px, rec),
                 "seconds": t_dec})

    rng = np.random.default_rng(seed)
    noisy = np.clip(np.round(px.astype(np.float32) + rng.normal(0, sigma, px.shape)), 0, 255)
    noisy = noisy.astype(np.uint8)
    t = time.perf_counter()
    den, est = engine.denoise(noisy)
    rows.append({"step": f"noisy input (sigma={sigma:g})", "bytes": None, "bpp": None,
                 "psnr": psnr(px, noisy), "seconds": None})
    rows.append({"step": f"denoise (estimated sigma={est:.1f})", "bytes": None, "bpp": None,
                 "psnr": psnr(px, den), "seconds": time.perf_counter() - t})

    mask = demo_mask(h, w)
    holed = px.copy()
    holed[mask > 0] = 0
    t = time.perf_counter()
    filled = engine.inpaint(px, mask)
    rows.append({"step": f"holes left black ({mask.mean():.0%} of image)", "bytes": None,
                 "bpp": None, "psnr": psnr(px, holed), "seconds": None})
    rows.append({"step": "inpaint", "bytes": None, "bpp": None, "psnr": psnr(px, filled),
                 "seconds": time.perf_counter() - t})
    return rows
