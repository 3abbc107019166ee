"""``aestudio demo``: every job on the bundled sample, measured."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .engine_protocol import EngineProtocol
from .io.imageio import load_image
from .compare.metrics import psnr
from .round_trip import compress_and_measure

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


@dataclass(frozen=True)
class DemoStep:
    """One row of the demo's table (None: does not apply to the step)."""

    step: str
    bytes: int | None
    bpp: float | None
    psnr: float
    seconds: float | None


def run_demo(engine: EngineProtocol, image_path: Path | None = None, quality: float = 75.0,
             sigma: float = 25.0, seed: int = 0) -> list[DemoStep]:
    img = load_image(image_path or SAMPLE)
    px = img.pixels
    h, w = px.shape[:2]

    trip = compress_and_measure(engine, px, quality)
    rows = [DemoStep(f"compress (q={quality:g})", trip.bytes, trip.bpp, trip.psnr,
                     trip.encoded.seconds),
            DemoStep("decompress", trip.bytes, trip.bpp, trip.psnr, trip.decode_seconds)]

    rng = np.random.default_rng(seed)
    noisy = np.clip(np.round(px.astype(np.float32) + rng.normal(0, sigma, px.shape)), 0, 255)
    noisy = noisy.astype(np.uint8)
    t = time.perf_counter()
    den, est = engine.denoise(noisy)
    rows.append(DemoStep(f"noisy input (sigma={sigma:g})", None, None, psnr(px, noisy), None))
    rows.append(DemoStep(f"denoise (estimated sigma={est:.1f})", None, None, psnr(px, den),
                         time.perf_counter() - t))

    mask = demo_mask(h, w)
    holed = px.copy()
    holed[mask > 0] = 0
    t = time.perf_counter()
    filled = engine.inpaint(px, mask)
    rows.append(DemoStep(f"holes left black ({mask.mean():.0%} of image)", None, None,
                         psnr(px, holed), None))
    rows.append(DemoStep("inpaint", None, None, psnr(px, filled), time.perf_counter() - t))
    return rows
