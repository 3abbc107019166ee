"""Training step of the real-noise denoiser: estimator and denoiser trained together.

The estimator is supervised by the true noise level of each crop at quarter resolution: the
known sigma for Gaussian noise, and for camera noise and JPEGs the root mean square of the
noise actually added (noisy minus clean) over each 4x4 cell, smoothed over 3x3 cells, which
includes what demosaic and JPEG did to it. The denoiser is fed the *estimated* map (not the
true one), so that it learns to live with the estimate's errors, and its loss flows back into
the estimator too.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from .archs.noise_estimator import MAP_SCALE, upsample_map
from .realnoise import degrade_batch

_degrade = torch.compiler.disable(degrade_batch)
_FLOOR = 1 / 255  # log-domain map loss: levels below about sigma 1 count as equal


def true_map(noisy: torch.Tensor, clean: torch.Tensor, known: torch.Tensor,
             kinds: list[str]) -> torch.Tensor:
    """(B,1,H/4,W/4) target noise std: the known level for Gaussian noise, measured otherwise."""
    rms = F.avg_pool2d(((noisy - clean) ** 2).mean(1, keepdim=True), MAP_SCALE)
    rms = F.avg_pool2d(F.pad(rms, (1, 1, 1, 1), mode="replicate"), 3, stride=1).sqrt()
    exact = torch.tensor([k in ("gauss", "clean") for k in kinds])[:, None, None, None]
    return torch.where(exact, F.avg_pool2d(known, MAP_SCALE), rms)


def _psnr(mse: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / mse.detach().clamp_min(1e-10)).mean())


def realnoise_step(model, clean: torch.Tensor, rng: np.random.Generator, crop: int = 96,
                   map_weight: float = 0.1, mix: dict | None = None):
    gen = torch.Generator().manual_seed(int(rng.integers(2 ** 62)))
    noisy, target, known, kinds = _degrade(clean.float().contiguous(), gen, crop, mix)
    want = true_map(noisy, target, known, kinds)
    noisy_cl = noisy.contiguous(memory_format=torch.channels_last)
    est = model.estimator(noisy_cl).float()
    out = model(noisy_cl, upsample_map(est).contiguous(memory_format=torch.channels_last)).float()
    rec = F.l1_loss(out, target)
    map_loss = F.l1_loss(torch.log(est + _FLOOR), torch.log(want + _FLOOR))
    mse = F.mse_loss(out.detach().clamp(0, 1), target, reduction="none").flatten(1).mean(1)
    mse_in = F.mse_loss(noisy.clamp(0, 1), target, reduction="none").flatten(1).mean(1)
    return rec + map_weight * map_loss, {"psnr": _psnr(mse), "psnr_in": _psnr(mse_in),
                                         "map_l1": float(map_loss.detach())}
