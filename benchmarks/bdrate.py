"""Bjøntegaard delta rate (BD-rate): the average bitrate difference between two
rate-distortion curves at equal quality, in percent (negative = the test codec needs fewer
bits than the reference).

Standard method (VCEG-M33 and its later piecewise variant): fit log(rate) as a function of
the quality metric (PSNR or MS-SSIM in dB) for each curve, integrate both fits over the
metric interval the two curves share, and convert the mean log-rate difference back:
``(exp(mean diff) - 1) * 100``.

Two fits are offered:

* ``"pchip"`` (default): a shape-preserving piecewise cubic Hermite interpolant
  (Fritsch-Carlson slopes), as used by current JVET/AOM tools; robust with many points.
* ``"cubic"``: one least-squares cubic polynomial per curve (the original formula); needs
  at least 4 points per curve.

numpy only. Both integrals are exact (Simpson's rule is exact on cubics).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["bd_rate", "METHODS"]

METHODS = ("pchip", "cubic")


def _prepare(rate: Sequence[float], metric: Sequence[float], name: str,
             min_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate one curve; return (metric, log rate) sorted by metric."""
    r = np.asarray(rate, dtype=np.float64).ravel()
    m = np.asarray(metric, dtype=np.float64).ravel()
    if r.shape != m.shape:
        raise ValueError(f"{name} curve: {r.size} rates but {m.size} metric values")
    if r.size < min_points:
        raise ValueError(f"{name} curve: need at least {min_points} points, got {r.size}")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(m))):
        raise ValueError(f"{name} curve: rates and metric values must be finite")
    if np.any(r <= 0):
        raise ValueError(f"{name} curve: rates must be positive")
    order = np.argsort(m, kind="stable")
    m, log_r = m[order], np.log(r[order])
    if np.any(np.diff(m) <= 0):
        raise ValueError(f"{name} curve: metric values must be distinct (got repeats)")
    return m, log_r


def _pchip_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Fritsch-Carlson slopes of the monotone piecewise cubic Hermite interpolant."""
    h = np.diff(x)
    delta = np.diff(y) / h
    n = x.size
    if n == 2:
        return np.array([delta[0], delta[0]])
    d = np.zeros(n)
    for k in range(1, n - 1):
        if delta[k - 1] * delta[k] > 0:
            w1, w2 = 2 * h[k] + h[k - 1], h[k] + 2 * h[k - 1]
            d[k] = (w1 + w2) / (w1 / delta[k - 1] + w2 / delta[k])
    d[0] = _end_slope(h[0], h[1], delta[0], delta[1])
    d[-1] = _end_slope(h[-1], h[-2], delta[-1], delta[-2])
    return d


def _end_slope(h0: float, h1: float, d0: float, d1: float) -> float:
    """Shape-preserving three-point end slope."""
    s = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1)
    if np.sign(s) != np.sign(d0):
        return 0.0
    if np.sign(d0) != np.sign(d1) and abs(s) > 3 * abs(d0):
        return 3.0 * d0
    return float(s)


def _hermite(x: np.ndarray, y: np.ndarray, d: np.ndarray, k: int, t: float) -> float:
    """Value at ``t`` of the Hermite cubic on segment ``[x[k], x[k+1]]``."""
    h = x[k + 1] - x[k]
    s = (t - x[k]) / h
    h00 = (1 + 2 * s) * (1 - s) ** 2
    h10 = s * (1 - s) ** 2
    h01 = s * s * (3 - 2 * s)
    h11 = s * s * (s - 1)
    return float(h00 * y[k] + h10 * h * d[k] + h01 * y[k + 1] + h11 * h * d[k + 1])


def _pchip_integral(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> float:
    d = _pchip_slopes(x, y)
    total = 0.0
    for k in range(x.size - 1):
        a, b = max(lo, x[k]), min(hi, x[k + 1])
        if b <= a:
            continue
        fa, fm, fb = (_hermite(x, y, d, k, t) for t in (a, (a + b) / 2, b))
        total += (b - a) / 6 * (fa + 4 * fm + fb)
    return total


def _cubic_integral(x: np.ndarray, y: np.ndarray, lo: float, hi: float) -> float:
    antiderivative = np.polynomial.Polynomial.fit(x, y, 3).integ()
    return float(antiderivative(hi) - antiderivative(lo))


def bd_rate(ref_rate: Sequence[float], ref_metric: Sequence[float],
            test_rate: Sequence[float], test_metric: Sequence[float],
            method: str = "pchip") -> float:
    """BD-rate of the test curve against the reference curve, in percent.

    Rates may be in any unit (bpp, bytes) as long as both curves use the same one; the
    metric must grow with quality (PSNR, MS-SSIM dB). Raises ``ValueError`` for malformed
    curves or when the two curves share no metric interval.
    """
    if method not in METHODS:
        raise ValueError(f"unknown BD-rate method {method!r}: use one of {', '.join(METHODS)}")
    min_points = 4 if method == "cubic" else 2
    xr, yr = _prepare(ref_rate, ref_metric, "reference", min_points)
    xt, yt = _prepare(test_rate, test_metric, "test", min_points)
    lo, hi = max(xr[0], xt[0]), min(xr[-1], xt[-1])
    if hi <= lo:
        raise ValueError(
            f"the curves do not overlap in quality: reference covers {xr[0]:.3f}..{xr[-1]:.3f}, "
            f"test covers {xt[0]:.3f}..{xt[-1]:.3f}")
    integral = _pchip_integral if method == "pchip" else _cubic_integral
    mean_diff = (integral(xt, yt, lo, hi) - integral(xr, yr, lo, hi)) / (hi - lo)
    return float((np.exp(mean_diff) - 1.0) * 100.0)
