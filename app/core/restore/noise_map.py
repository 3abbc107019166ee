"""Spatially varying noise level from a model's own estimator graph.

Real camera noise depends on brightness and has been through demosaicking and JPEG, so one
white-Gaussian sigma per image reads near 0 on real photos. A denoiser whose manifest has
``params["noise_map"] = {"graph": ..., "scale": s}`` ships a small estimator network that reads
the image and writes a noise std map (sigma / 255) ``s`` times smaller on each side. The map
is computed here tile by tile, upsampled bilinearly with half-pixel centres (as
``torch.nn.functional.interpolate(..., align_corners=False)`` did in training) and then fed,
scaled by the user's strength, to the denoiser's sigma input.
"""

from __future__ import annotations

import numpy as np

from ..runtime.registry import Model
from ..runtime.sessions import SessionPool

_CORE = 512  # pixels of map computed per estimator run (on each side), plus a margin:
_MARGIN = 64  # the estimator sees about 70 px around each cell; beyond that, padding


def has_noise_map(model: Model) -> bool:
    spec = model.manifest.params.get("noise_map")
    return isinstance(spec, dict) and spec.get("graph") in model.manifest.graphs


def _upsample_axis(a: np.ndarray, factor: int, axis: int) -> np.ndarray:
    n = a.shape[axis]
    src = np.maximum((np.arange(n * factor) + 0.5) / factor - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    frac = (src - i0).astype(np.float32)
    shape = [1] * a.ndim
    shape[axis] = -1
    frac = frac.reshape(shape)
    return np.take(a, i0, axis=axis) * (1 - frac) + np.take(a, i1, axis=axis) * frac


def upsample(small: np.ndarray, factor: int) -> np.ndarray:
    """(h, w) map -> (h * factor, w * factor), bilinear with half-pixel centres."""
    return _upsample_axis(_upsample_axis(small.astype(np.float32), factor, 0), factor, 1)


def _spans(n: int, core: int) -> list[tuple[int, int]]:
    return [(s, min(n, s + core)) for s in range(0, n, core)]


def estimate_map(sessions: SessionPool, model: Model, rgb: np.ndarray) -> np.ndarray:
    """Noise std map (H, W) float32, 0-1 scale, of an 8-bit RGB image (H, W, 3)."""
    spec = model.manifest.params["noise_map"]
    scale = int(spec.get("scale", 4))
    h, w = rgb.shape[:2]
    ph, pw = -h % scale, -w % scale
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "edge"
        rgb = np.pad(rgb, ((0, ph), (0, pw), (0, 0)), mode=mode)
    hp, wp = rgb.shape[:2]
    small = np.empty((hp // scale, wp // scale), np.float32)
    for y0, y1 in _spans(hp, _CORE):
        for x0, x1 in _spans(wp, _CORE):
            # window = core plus margin, clipped to the image (all multiples of the scale)
            wy0, wx0 = max(0, y0 - _MARGIN), max(0, x0 - _MARGIN)
            wy1, wx1 = min(hp, y1 + _MARGIN), min(wp, x1 + _MARGIN)
            tile = rgb[wy0:wy1, wx0:wx1].astype(np.float32).transpose(2, 0, 1)[None] / 255
            (out,) = sessions.run(model, spec["graph"], **{
                model.manifest.graphs[spec["graph"]].inputs[0]: tile})
            cy, cx = (y0 - wy0) // scale, (x0 - wx0) // scale
            small[y0 // scale:y1 // scale, x0 // scale:x1 // scale] = \
                out[0, 0, cy:cy + (y1 - y0) // scale, cx:cx + (x1 - x0) // scale]
    return upsample(small, scale)[:h, :w]
