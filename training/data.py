"""Training data: photos held in memory, random crops and flips, synthetic degradations."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


def load_folder(folder: str | Path, downscale: int = 1, min_side: int = 128) -> list[np.ndarray]:
    """Every image below ``folder`` as an RGB uint8 array (optionally downscaled)."""
    images = []
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix.lower() not in IMAGE_EXTS:
            continue
        with Image.open(path) as im:
            im = im.convert("RGB")
            if downscale > 1:
                im = im.resize((im.width // downscale, im.height // downscale), Image.BICUBIC)
            if min(im.size) >= min_side:
                images.append(np.asarray(im))
    if not images:
        raise FileNotFoundError(f"no training images of at least {min_side}px in {folder}")
    return images


class CropSampler:
    """Batches of random crops (with flips and 90-degree turns) as float32 NCHW in [0, 1]."""

    def __init__(self, images: list[np.ndarray], patch: int, batch: int, seed: int = 0):
        self.images = [im for im in images if min(im.shape[:2]) >= patch]
        if not self.images:
            raise ValueError(f"no image is at least {patch}px on each side")
        self.patch, self.batch = patch, batch
        self.rng = np.random.default_rng(seed)

    def __call__(self) -> np.ndarray:
        out = np.empty((self.batch, 3, self.patch, self.patch), np.float32)
        for i in range(self.batch):
            im = self.images[self.rng.integers(len(self.images))]
            y = self.rng.integers(im.shape[0] - self.patch + 1)
            x = self.rng.integers(im.shape[1] - self.patch + 1)
            crop = im[y:y + self.patch, x:x + self.patch]
            if self.rng.random() < 0.5:
                crop = crop[:, ::-1]
            crop = np.rot90(crop, self.rng.integers(4))
            out[i] = crop.transpose(2, 0, 1) / 255.0
        return out


def add_noise(clean: np.ndarray, rng: np.random.Generator, sigma_max: float = 55.0,
              quantize_prob: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian noise with sigma ~ U[0, sigma_max] (0-255 scale) per image.

    Half the batch is clipped and rounded to 8 bits, as a user's files are.
    Returns (noisy, sigma / 255 per image).
    """
    b = clean.shape[0]
    sigma = rng.uniform(0, sigma_max, size=b).astype(np.float32) / 255.0
    noisy = clean + rng.standard_normal(clean.shape, dtype=np.float32) * sigma[:, None, None, None]
    quant = rng.random(b) < quantize_prob
    noisy[quant] = np.round(np.clip(noisy[quant], 0, 1) * 255) / 255
    return noisy.astype(np.float32), sigma


def random_mask(h: int, w: int, rng: np.random.Generator, lo: float = 0.15,
                hi: float = 0.35, stroke_px: tuple[int, int] | None = None) -> np.ndarray:
    """A free-form mask of strokes and boxes (1 = hole) covering about lo..hi of the area.

    Strokes are ``stroke_px`` pixels wide (inclusive range) when given, so that holes keep the
    size of a user's brush whatever the crop size; otherwise w/40 .. w/8.
    """
    target = rng.uniform(lo, hi)
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    arr = np.zeros((h, w), np.uint8)
    for _ in range(40):
        if rng.random() < 0.3:
            bw, bh = rng.integers(w // 10, w // 2), rng.integers(h // 10, h // 2)
            x0, y0 = rng.integers(0, w - bw), rng.integers(0, h - bh)
            draw.rectangle([x0, y0, x0 + bw, y0 + bh], fill=255)
        else:
            x, y = rng.integers(w), rng.integers(h)
            if stroke_px:
                width = int(rng.integers(stroke_px[0], stroke_px[1] + 1))
            else:
                width = int(rng.integers(max(3, w // 40), max(4, w // 8)))
            for _ in range(rng.integers(2, 8)):
                angle = rng.uniform(0, 2 * math.pi)
                length = rng.uniform(w / 16, w / 3)
                nx = int(np.clip(x + length * math.cos(angle), 0, w - 1))
                ny = int(np.clip(y + length * math.sin(angle), 0, h - 1))
                draw.line([x, y, nx, ny], fill=255, width=width)
                draw.ellipse([nx - width // 2, ny - width // 2, nx + width // 2,
                              ny + width // 2], fill=255)
                x, y = nx, ny
        arr = np.asarray(mask)
        if (arr > 0).mean() >= target:
            break
    return (arr > 0).astype(np.float32)


def mask_batch(b: int, h: int, w: int, rng: np.random.Generator,
               stroke_px: tuple[int, int] | None = None) -> np.ndarray:
    return np.stack([random_mask(h, w, rng, stroke_px=stroke_px) for _ in range(b)])[:, None]
