"""Denoising and inpainting of whole images through tiled ONNX inference."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .imageio import from_rgb, to_rgb
from .registry import Model
from .sessions import SessionPool
from .tiling import run_tiled

Progress = Callable[[int, int], None] | None
Cancel = Callable[[], bool] | None


def estimate_sigma(rgb: np.ndarray) -> float:
    """Gaussian noise level (0-255 scale) from the finest diagonal Haar subband (Donoho's MAD).

    Strong edges inflate the estimate, so the median is taken over the lower-energy half of
    local blocks' MADs, which keeps textured but clean photos near zero.
    """
    g = rgb.astype(np.float64)
    g = g.mean(axis=2) if g.ndim == 3 else g
    h, w = (g.shape[0] // 2) * 2, (g.shape[1] // 2) * 2
    if h < 16 or w < 16:
        return 0.0
    g = g[:h, :w]
    hh = (g[0::2, 0::2] - g[0::2, 1::2] - g[1::2, 0::2] + g[1::2, 1::2]) / 2
    b = 8
    bh, bw = hh.shape[0] // b, hh.shape[1] // b
    if bh == 0 or bw == 0:
        return float(np.median(np.abs(hh)) / 0.6745)
    blocks = np.abs(hh[:bh * b, :bw * b]).reshape(bh, b, bw, b).transpose(0, 2, 1, 3)
    mads = np.median(blocks.reshape(bh * bw, -1), axis=1) / 0.6745
    low = np.sort(mads)[: max(1, len(mads) // 2)]
    # A grey image built as the mean of 3 noisy channels has sigma / sqrt(3) noise.
    scale = np.sqrt(3.0) if rgb.ndim == 3 else 1.0
    return float(np.median(low) * scale)


def _run(sessions: SessionPool, model: Model, graph: str, tile: np.ndarray) -> np.ndarray:
    x = tile.transpose(2, 0, 1)[None]
    names = model.manifest.graphs[graph].inputs
    (out,) = sessions.run(model, graph, **{names[0]: x[:, :3], names[1]: x[:, 3:]})
    return out[0].transpose(1, 2, 0)


def denoise(sessions: SessionPool, model: Model, pixels: np.ndarray, sigma: float | None = None,
            progress: Progress = None, cancel: Cancel = None) -> tuple[np.ndarray, float]:
    """Denoise an 8-bit image; ``sigma`` (0-255) None means estimate it. Returns (image, sigma)."""
    rgb, alpha = to_rgb(pixels)
    grey = pixels.ndim == 2 or pixels.shape[2] == 1
    if sigma is None:
        sigma = estimate_sigma(rgb[..., 0] if grey else rgb)
    sigma = float(np.clip(sigma, 0.0, 75.0))
    x = rgb.astype(np.float32) / 255.0
    sigma_map = np.full(x.shape[:2] + (1,), sigma / 255.0, np.float32)
    m = model.manifest
    out = run_tiled(x, lambda t: _run(sessions, model, "denoise", t), tile=m.tile_size,
                    overlap=m.tile_overlap, multiple=m.downsample, extra=sigma_map,
                    progress=progress, cancel=cancel)
    rgb_out = np.clip(np.round(out * 255), 0, 255).astype(np.uint8)
    return from_rgb(rgb_out, alpha, grey=grey), sigma


def inpaint(sessions: SessionPool, model: Model, pixels: np.ndarray, mask: np.ndarray,
            progress: Progress = None, cancel: Cancel = None) -> np.ndarray:
    """Fill the pixels where ``mask`` is set (HxW, nonzero = hole); the rest stay unchanged."""
    if mask.shape[:2] != pixels.shape[:2]:
        raise ValueError(f"mask size {mask.shape[1]}x{mask.shape[0]} does not match the image "
                         f"({pixels.shape[1]}x{pixels.shape[0]})")
    rgb, alpha = to_rgb(pixels)
    hole = (mask.reshape(mask.shape[:2]) > 0)
    x = rgb.astype(np.float32) / 255.0
    x[hole] = 0.0
    m = model.manifest
    out = run_tiled(x, lambda t: _run(sessions, model, "inpaint", t), tile=m.tile_size,
                    overlap=m.tile_overlap, multiple=m.downsample,
                    extra=hole[..., None].astype(np.float32), progress=progress, cancel=cancel)
    filled = np.clip(np.round(out * 255), 0, 255).astype(np.uint8)
    result = np.where(hole[..., None], filled, rgb)
    return from_rgb(result, alpha, grey=pixels.ndim == 2 or pixels.shape[2] == 1)
