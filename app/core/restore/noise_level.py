"""Blind estimate of the Gaussian noise level of an 8-bit image (0-255 scale).

The raw estimate is the noise floor of the covariance of small colour patches (the approach of
Chen, Zhu and Heng, ICCV 2015): image structure lives in a few principal directions, and the
remaining eigenvalues are the noise variance. The smallest eigenvalues are taken as noise while
their mean does not exceed their median, i.e. while they look like one flat floor rather than a
tail of signal.

A user's file is clipped to 0..255 and rounded, which hides part of strong noise. Patches that
touch 0 or 255 are left out, and a piecewise-linear correction measured on *training* photos
(``benchmarks/sigma_calibration.py``) maps what remains back to the σ that was added.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_PATCH = 5  # 5x5 pixels (75 values per colour patch)
_SAMPLES = 40_000  # patches for the covariance (75 values each: a small fraction of a second)
_DRAWS = 4  # draws of _SAMPLES patches at most, to find enough that touch neither 0 nor 255
_SEED = 0  # fixed: the same image always gets the same estimate

# Median raw estimate for each σ added to 120 training photos (BSDS500 train), noise clipped
# and rounded to 8 bits: measured by benchmarks/sigma_calibration.py.
_SIGMA_CALIBRATION = (
    (0.40, 5.03, 9.99, 14.94, 19.85, 24.72, 29.51, 38.54, 45.17, 52.00, 62.59),  # raw estimate
    (0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 75.0),  # σ added
)


def estimate_sigma(pixels: np.ndarray) -> float:
    """Gaussian noise level (0-255 scale) of an 8-bit RGB or grey image, as the denoiser
    should use it: the raw estimate corrected for 8-bit clipping."""
    raw = raw_sigma_estimate(pixels)
    est, true = _SIGMA_CALIBRATION
    if raw <= est[-1]:
        return float(np.interp(raw, est, true))
    return float(true[-1] + (raw - est[-1]) * (true[-1] - true[-2]) / (est[-1] - est[-2]))


def _patch_rows(pixels: np.ndarray) -> np.ndarray:
    """Random patches as rows of a (n, values) array, preferring patches without 0 or 255.

    Draws ``_SAMPLES`` patch positions at a time, up to ``_DRAWS`` times, until enough of them
    are unclipped; strong noise clips almost every patch of a dark or bright photo, and then all
    the patches of the first draw are used. Clipping is checked on a per-pixel mask first, so
    only the patches kept are gathered.
    """
    img = pixels if pixels.ndim == 3 else pixels[..., None]
    windows = sliding_window_view(img, (_PATCH, _PATCH), axis=(0, 1))
    ny, nx = windows.shape[:2]
    # clipped pixels (0 or 255 in any channel; uint8 x - 1 wraps 0 to 255), then the number of
    # them in each patch as a separable box sum (at most 25: uint8 holds it)
    clipped = ((img - np.uint8(1)) >= 254).any(axis=2).view(np.uint8)
    cols = sum(clipped[d:d + ny] for d in range(_PATCH))
    in_patch = sum(cols[:, d:d + nx] for d in range(_PATCH))
    rng = np.random.default_rng(_SEED)
    first, kept = None, []
    for _ in range(_DRAWS):
        ys, xs = rng.integers(0, ny, _SAMPLES), rng.integers(0, nx, _SAMPLES)
        first = (ys, xs) if first is None else first
        ok = in_patch[ys, xs] == 0
        kept.append(windows[ys[ok], xs[ok]].reshape(int(ok.sum()), -1))
        if sum(len(k) for k in kept) >= _SAMPLES:
            break
    rows = np.concatenate(kept)
    if len(rows) < 20 * rows.shape[1]:
        return windows[first].reshape(_SAMPLES, -1)
    return rows[:_SAMPLES]


def raw_sigma_estimate(pixels: np.ndarray) -> float:
    """Noise floor of the patch covariance, uncorrected (clipping makes it low at high σ).

    It samples a fixed number of patches, so the cost does not grow with the image: a few
    hundredths of a second for a photo of any size.
    """
    if min(pixels.shape[:2]) < 2 * _PATCH:
        return 0.0
    # float32 products, float64 eigenvalues: eigenvalues within 1e-3 of an all-float64
    # covariance on 8-bit data, at half the cost
    rows = _patch_rows(pixels).astype(np.float32)
    rows -= rows.mean(axis=0, dtype=np.float64).astype(np.float32)
    cov = (rows.T @ rows).astype(np.float64) / max(1, len(rows) - 1)
    eig = np.linalg.eigvalsh(cov)[::-1]  # largest first
    for i in range(len(eig)):
        floor = eig[i:]
        if floor.mean() <= np.median(floor):
            return float(np.sqrt(max(floor.mean(), 0.0)))
    return float(np.sqrt(max(eig[-1], 0.0)))
