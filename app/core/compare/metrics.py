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


# Float64 elements per array of one band of rows: the filters work on bands of about 8 MB
# instead of whole-image float64 copies (a 12 MP photo took 3 GB as one block; in bands it
# needs tens of MB). Every pixel's value is computed as in one block, so the band size only
# changes the order of the final sums (~1e-16).
_BAND_ELEMENTS = 1 << 20


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate and return both images as ``HxWxC`` views (no copy of real-valued input)."""
    x, y = np.asarray(a), np.asarray(b)
    if x.shape != y.shape:
        raise ValueError(f"images must have the same shape, got {x.shape} and {y.shape}")
    if x.ndim == 2:
        x, y = x[:, :, None], y[:, :, None]
    if x.ndim != 3 or x.shape[0] == 0 or x.shape[1] == 0 or x.shape[2] == 0:
        raise ValueError(f"images must be HxW or HxWxC and non-empty, got shape {x.shape}")
    if x.dtype.kind not in "biuf":
        x = x.astype(np.float64)
    if y.dtype.kind not in "biuf":
        y = y.astype(np.float64)
    return x, y


def _band_rows(w: int, c: int) -> int:
    return max(1, _BAND_ELEMENTS // (w * c))


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 255) -> float:
    """Peak signal-to-noise ratio in dB; ``inf`` for identical images."""
    x, y = _pair(a, b)
    h, w, c = x.shape
    step = _band_rows(w, c)
    total = 0.0
    for r0 in range(0, h, step):
        d = x[r0:r0 + step].astype(np.float64)
        d -= y[r0:r0 + step]
        total += float(np.einsum("ijk,ijk->", d, d))
    mse = total / x.size
    if mse == 0.0:
        return float("inf")
    return float(10.0 * np.log10(float(data_range) ** 2 / mse))


def _gaussian(size: int, sigma: float) -> np.ndarray:
    r = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = np.exp(-(r ** 2) / (2.0 * sigma ** 2))
    return g / g.sum()


def _filter_valid(img: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable 'valid' convolution of ``HxWxC`` with the symmetric odd 1-D kernel ``g`` on
    both axes; mirrored taps share one multiplication (half the passes over memory)."""
    k = g.size
    c = k // 2
    n = img.shape[0] - k + 1
    rows = np.multiply(img[c:c + n], g[c])
    term = np.empty_like(rows)
    for i in range(c):
        rows += np.multiply(np.add(img[i:i + n], img[k - 1 - i:k - 1 - i + n], out=term), g[i],
                            out=term)
    n = img.shape[1] - k + 1
    out = np.multiply(rows[:, c:c + n], g[c])
    term = term[:, :n]
    for i in range(c):
        out += np.multiply(np.add(rows[:, i:i + n], rows[:, k - 1 - i:k - 1 - i + n], out=term),
                           g[i], out=term)
    return out


def _window(h: int, w: int) -> np.ndarray:
    """11-tap Gaussian (sigma 1.5), shrunk to an odd size that fits tiny images."""
    size = min(_WIN, h, w)
    if size % 2 == 0:
        size -= 1
    return _gaussian(max(size, 1), _SIGMA)


def _ssim_band(x: np.ndarray, y: np.ndarray, g: np.ndarray, c1: float,
               c2: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel sums of the SSIM and contrast-structure maps of one band (float64 in)."""
    mu_x = _filter_valid(x, g)
    mu_y = _filter_valid(y, g)
    sxx = _filter_valid(x * x, g) - mu_x ** 2
    syy = _filter_valid(y * y, g) - mu_y ** 2
    sxy = _filter_valid(x * y, g) - mu_x * mu_y
    cs_map = (2.0 * sxy + c2) / (sxx + syy + c2)
    ssim_map = (2.0 * mu_x * mu_y + c1) / (mu_x ** 2 + mu_y ** 2 + c1) * cs_map
    return ssim_map.sum(axis=(0, 1)), cs_map.sum(axis=(0, 1))


def _ssim_cs(x: np.ndarray, y: np.ndarray, data_range: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean SSIM and mean contrast-structure term (arrays of shape (C,)).

    Computed in bands of output rows; a band reads ``window - 1`` extra input rows."""
    h, w, c = x.shape
    g = _window(h, w)
    k = g.size
    c1 = (_K1 * data_range) ** 2
    c2 = (_K2 * data_range) ** 2
    out_h = h - k + 1
    step = _band_rows(w, c)
    s_sum = np.zeros(c, dtype=np.float64)
    cs_sum = np.zeros(c, dtype=np.float64)
    for r0 in range(0, out_h, step):
        r1 = min(out_h, r0 + step) + k - 1
        s, cs = _ssim_band(x[r0:r1].astype(np.float64), y[r0:r1].astype(np.float64),
                           g, c1, c2)
        s_sum += s
        cs_sum += cs
    n = out_h * (w - k + 1)
    return s_sum / n, cs_sum / n


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 255) -> float:
    """Structural similarity (Gaussian 11x11 window, sigma 1.5), averaged over channels."""
    x, y = _pair(a, b)
    s, _ = _ssim_cs(x, y, float(data_range))
    return float(s.mean())


def _downsample(img: np.ndarray, dtype: type = np.float64) -> np.ndarray:
    """2x2 average pooling (a trailing odd row/column is dropped), computed in float64 in
    bands of rows and stored as ``dtype``."""
    h, w = img.shape[0] // 2 * 2, img.shape[1] // 2 * 2
    out = np.empty((h // 2, w // 2) + img.shape[2:], dtype=dtype)
    step = 2 * _band_rows(w, img.shape[2])
    for r0 in range(0, h, step):
        v = img[r0:min(h, r0 + step), :w].astype(np.float64)
        out[r0 // 2:r0 // 2 + v.shape[0] // 2] = \
            0.25 * (v[0::2, 0::2] + v[1::2, 0::2] + v[0::2, 1::2] + v[1::2, 1::2])
    return out


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
    # The averages of 8-bit images are multiples of 1/4**scale below 256, which float32
    # holds exactly at every scale: the same values as float64 in half the memory.
    exact32 = x.dtype.kind in "biu" and x.dtype.itemsize == 1 and x.dtype == y.dtype
    store = np.float32 if exact32 else np.float64
    n = ms_ssim_scales(x.shape[0], x.shape[1])
    weights = np.asarray(MS_SSIM_WEIGHTS[:n], dtype=np.float64)
    weights /= weights.sum()
    result = np.ones(x.shape[2], dtype=np.float64)
    for i in range(n):
        s, cs = _ssim_cs(x, y, float(data_range))
        term = s if i == n - 1 else cs
        result *= np.maximum(term, 0.0) ** weights[i]
        if i < n - 1:
            x, y = _downsample(x, store), _downsample(y, store)
    return float(result.mean())


def bits_per_pixel(n_bytes: int, width: int, height: int) -> float:
    """Compressed size in bits divided by the number of pixels."""
    if width <= 0 or height <= 0:
        raise ValueError(f"width and height must be positive, got {width}x{height}")
    if n_bytes < 0:
        raise ValueError(f"n_bytes must be >= 0, got {n_bytes}")
    return 8.0 * n_bytes / (width * height)
