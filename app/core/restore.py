"""Denoising and inpainting of whole images through tiled ONNX inference."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .imageio import from_rgb, to_rgb
from .registry import Model
from .sessions import SessionPool
from .tiling import run_tiled_source

Progress = Callable[[int, int], None] | None
Cancel = Callable[[], bool] | None


# Median raw estimate for each σ added to 120 training photos (BSDS500 train), noise clipped
# and rounded to 8 bits: measured by benchmarks/sigma_calibration.py.
_SIGMA_CALIBRATION = (
    (1.60, 5.78, 10.27, 14.66, 18.83, 22.90, 26.75, 34.35, 41.09, 47.29, 56.07),  # raw estimate
    (0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 75.0),  # σ added
)
_BLOCK = 8  # MAD blocks of 8x8 diagonal-subband samples (16x16 pixels)
_CHUNK_ROWS = 1024  # pixel rows converted to float at a time (a multiple of 2 * _BLOCK)


def _diagonal_subband(rows: np.ndarray) -> np.ndarray:
    """Finest diagonal Haar subband of an even-sized block of rows (grey: channel mean)."""
    g = rows.astype(np.float64)
    g = g.mean(axis=2) if g.ndim == 3 else g
    return (g[0::2, 0::2] - g[0::2, 1::2] - g[1::2, 0::2] + g[1::2, 1::2]) / 2


def estimate_sigma(rgb: np.ndarray) -> float:
    """Gaussian noise level (0-255 scale) of an 8-bit image, as the denoiser should use it.

    The raw estimate (:func:`raw_sigma_estimate`) comes out low where 8-bit clipping removed
    part of the noise; a piecewise-linear correction measured on training photos
    (``benchmarks/sigma_calibration.py``) maps it back to the σ that was added.
    """
    raw = raw_sigma_estimate(rgb)
    est, true = _SIGMA_CALIBRATION
    if raw <= est[-1]:
        return float(np.interp(raw, est, true))
    return float(true[-1] + (raw - est[-1]) * (true[-1] - true[-2]) / (est[-1] - est[-2]))


def raw_sigma_estimate(rgb: np.ndarray) -> float:
    """Noise level from the finest diagonal Haar subband (Donoho's MAD), uncorrected.

    Strong edges inflate the estimate, so the median is taken over the lower-energy half of
    local blocks' MADs, which keeps textured but clean photos near zero. Rows are processed
    in chunks, so a 48-megapixel photo needs a few tens of MB here.
    """
    h, w = (rgb.shape[0] // 2) * 2, (rgb.shape[1] // 2) * 2
    if h < 16 or w < 16:
        return 0.0
    b = _BLOCK
    bh, bw = (h // 2) // b, (w // 2) // b
    if bh == 0 or bw == 0:
        return float(np.median(np.abs(_diagonal_subband(rgb[:h, :w]))) / 0.6745)
    mads = []
    for y in range(0, bh * b * 2, _CHUNK_ROWS):
        y1 = min(y + _CHUNK_ROWS, bh * b * 2)
        hh = np.abs(_diagonal_subband(rgb[y:y1, :bw * b * 2]))
        blocks = hh.reshape(hh.shape[0] // b, b, bw, b).transpose(0, 2, 1, 3)
        mads.append(np.median(blocks.reshape(-1, b * b), axis=1) / 0.6745)
    all_mads = np.concatenate(mads)
    low = np.sort(all_mads)[: max(1, len(all_mads) // 2)]
    # A grey image built as the mean of 3 noisy channels has sigma / sqrt(3) noise.
    scale = np.sqrt(3.0) if rgb.ndim == 3 else 1.0
    return float(np.median(low) * scale)


def _run(sessions: SessionPool, model: Model, graph: str, tile: np.ndarray) -> np.ndarray:
    x = tile.transpose(2, 0, 1)[None]
    names = model.manifest.graphs[graph].inputs
    (out,) = sessions.run(model, graph, **{names[0]: x[:, :3], names[1]: x[:, 3:]})
    return out[0].transpose(1, 2, 0)


def _to_uint8(rows: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(rows * 255.0), 0, 255).astype(np.uint8)


def denoise(sessions: SessionPool, model: Model, pixels: np.ndarray, sigma: float | None = None,
            progress: Progress = None, cancel: Cancel = None) -> tuple[np.ndarray, float]:
    """Denoise an 8-bit image; ``sigma`` (0-255) None means estimate it. Returns (image, sigma).

    Tiles are converted to float one at a time and finished rows go straight back to 8 bits,
    so a 48-megapixel photo needs well under 1.5 GB.
    """
    rgb, alpha = to_rgb(pixels)
    grey = pixels.ndim == 2 or pixels.shape[2] == 1
    if sigma is None:
        sigma = estimate_sigma(rgb[..., 0] if grey else rgb)
    sigma = float(np.clip(sigma, 0.0, 75.0))
    level = np.float32(sigma / 255.0)

    def source(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        tile = np.empty((y1 - y0, x1 - x0, 4), np.float32)
        np.multiply(rgb[y0:y1, x0:x1], np.float32(1 / 255), out=tile[..., :3])
        tile[..., 3] = level
        return tile

    m = model.manifest
    h, w = rgb.shape[:2]
    rgb_out = run_tiled_source(source, h, w, lambda t: _run(sessions, model, "denoise", t),
                               tile=m.tile_size, overlap=m.tile_overlap, multiple=m.downsample,
                               finish=lambda rows, _y0, _y1: _to_uint8(rows),
                               progress=progress, cancel=cancel)
    return from_rgb(rgb_out, alpha, grey=grey), sigma


def inpaint(sessions: SessionPool, model: Model, pixels: np.ndarray, mask: np.ndarray,
            progress: Progress = None, cancel: Cancel = None) -> np.ndarray:
    """Fill the pixels where ``mask`` is set (HxW, nonzero = hole); the rest stay unchanged."""
    if mask.shape[:2] != pixels.shape[:2]:
        raise ValueError(f"mask size {mask.shape[1]}x{mask.shape[0]} does not match the image "
                         f"({pixels.shape[1]}x{pixels.shape[0]})")
    rgb, alpha = to_rgb(pixels)
    hole = mask.reshape(mask.shape[:2]) > 0

    def source(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        tile = np.empty((y1 - y0, x1 - x0, 4), np.float32)
        np.multiply(rgb[y0:y1, x0:x1], np.float32(1 / 255), out=tile[..., :3])
        holes = hole[y0:y1, x0:x1]
        tile[..., :3][holes] = 0.0
        tile[..., 3] = holes
        return tile

    def finish(rows: np.ndarray, y0: int, y1: int) -> np.ndarray:
        return np.where(hole[y0:y1, :, None], _to_uint8(rows), rgb[y0:y1])

    m = model.manifest
    h, w = rgb.shape[:2]
    result = run_tiled_source(source, h, w, lambda t: _run(sessions, model, "inpaint", t),
                              tile=m.tile_size, overlap=m.tile_overlap, multiple=m.downsample,
                              finish=finish, progress=progress, cancel=cancel)
    return from_rgb(result, alpha, grey=pixels.ndim == 2 or pixels.shape[2] == 1)
