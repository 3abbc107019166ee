"""Image quality metrics: PSNR, SSIM, MS-SSIM and bits per pixel (numpy only).

Images are ``HxW`` or ``HxWxC`` arrays (uint8 or float) of equal shape; ``data_range``
is the span of the values (255 for uint8, 1.0 for floats in [0, 1]).
"""

from __future__ import annotations

import numpy as np

__all__ = ["MS_SSIM_WEIGHTS", "bits_per_pixel", "ms_ssim", "ms_ssim_scales", "psnr", "ssim"]

MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
_WIN = 11
_SIGMA = 1.5
_K1, _K2 = 0.01, 0.03


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return both images as float64 ``HxWxC``."""
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape:
        raise ValueError(f"images must have the same shape, got {x.shape} and {y.shape}")
    if x.ndim == 2:
        x, y = x[:, :, None], y[:, :, None]
    if x.ndim != 3 or x.shape[0] == 0 or x.shape[1] == 0 or x.shape[2] == 0:
        raise ValueError(f"images must be HxW or HxWxC and non-empty, got shape {x.shape}")
    return x.astype(np.float64), y.astype(np.float64)


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 255) -> float:
    """Peak signal-to-noise ratio in dB; ``inf`` for identical images."""
    x, y = _pair(a, b)
    mse = float(np.mean((x - y) ** 2))
    if mse == 0.0:
        return float("inf")
    return float(10.0 * np.log10(float(data_range) ** 2 / mse))


def _gaussian(size: int, sigma: float) -> np.ndarray:
    r = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(r ** 2) / (2.0 * sigma ** 2))
    return g / g.sum()


def _filter_valid(img: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable 'valid' convolution of ``HxWxC`` with the 1-D kernel ``g`` on both axes."""
    k = g.size
    h, w = img.shape[:2]
    rows = np.zeros((h - k + 1, w) + img.shape[2:], dtype=np.float64)
    for i in range(k):
        rows += g[i] * img[i:i + h - k + 1]
    out = np.zeros((h - k + 1, w - k + 1) + img.shape[2:], dtype=np.float64)
    for i in range(k):
        out += g[i] * rows[:, i:i + w - k + 1]
    return out


def _window(h: int, w: int) -> np.ndarray:
    """11-tap Gaussian (sigma 1.5), shrunk to an odd size that fits tiny images."""
    size = min(_WIN, h, w)
    if size % 2 == 0:
        size -= 1
    return _gaussian(max(size, 1), _SIGMA)


def _ssim_cs(x: np.ndarray, y: np.ndarray, data_range: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean SSIM and mean contrast-structure term (arrays of shape (C,))."""
    g = _window(x.shape[0], x.shape[1])
    c1 = (_K1 * data_range) ** 2
    c2 = (_K2 * data_range) ** 2
    mu_x = _filter_valid(x, g)
    mu_y = _filter_valid(y, g)
    sxx = _filter_valid(x * x, g) - mu_x ** 2
    syy = _filter_valid(y * y, g) - mu_y ** 2
    sxy = _filter_valid(x * y, g) - mu_x * mu_y
    cs_map = (2.0 * sxy + c2) / (sxx + syy + c2)
    ssim_map = (2.0 * mu_x * mu_y + c1) / (mu_x ** 2 + mu_y ** 2 + c1) * cs_map
    return ssim_map.mean(axis=(0, 1)), cs_map.mean(axis=(0, 1))


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255) -> float:
    """Structural similarity (Gaussian 11x11 window, sigma 1.5), averaged over channels."""
    x, y = _pair(a, b)
    s, _ = _ssim_cs(x, y, float(data_range))
    return float(s.mean())


def _downsample(img: np.ndarray) -> np.ndarray:
    """2x2 average pooling (a trailing odd row/column is dropped)."""
    h, w = img.shape[0] // 2 * 2, img.shape[1] // 2 * 2
    v = img[:h, :w]
    return 0.25 * (v[0::2, 0::2] + v[1::2, 0::2] + v[0::2, 1::2] + v[1::2, 1::2])


def ms_ssim_scales(h: int, w: int) -> int:
    """How many of the 5 MS-SSIM scales fit an ``h`` x ``w`` image (at least 1)."""
    n = 1
    while n < len(MS_SSIM_WEIGHTS) and min(h, w) // (2 ** n) >= _WIN:
        n += 1
    return n


def ms_ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255) -> float:
    """Multi-scale SSIM (Wang et al. 2003) with the standard 5 weights.

    Small images use as many scales as fit (the coarsest at least 11 pixels) with the
    weights renormalised. Negative terms are clipped to 0. Averaged over channels.
    """
    x, y = _pair(a, b)
    n = ms_ssim_scales(x.shape[0], x.shape[1])
    weights = np.asarray(MS_SSIM_WEIGHTS[:n], dtype=np.float64)
    weights /= weights.sum()
    result = np.ones(x.shape[2], dtype=np.float64)
    for i in range(n):
        s, cs = _ssim_cs(x, y, float(data_range))
        term = s if i == n - 1 else cs
        result *= np.maximum(term, 0.0) ** weights[i]
        if i < n - 1:
            x, y = _downsample(x), _downsample(y)
    return float(result.mean())


def bits_per_pixel(n_bytes: int, width: int, height: int) -> float:
    """Compressed size in bits divided by the number of pixels."""
    if width <= 0 or height <= 0:
        raise ValueError(f"width and height must be positive, got {width}x{height}")
    if n_bytes < 0:
        raise ValueError(f"n_bytes must be >= 0, got {n_bytes}")
    return 8.0 * n_bytes / (width * height)
