"""Hole filling in torch: the smooth first guess an inpainter refines.

The same algorithm as the app's ``app/core/restore/hole_fill.py`` (numpy, for whole images in bands),
written for batches of training crops; ``tests/training/test_hole_fill_parity.py`` checks that
the two agree. Push: halve the image again and again, summing the known pixels' values and
their counts over each 2x2 block, until no block is empty. Pull: from the coarsest level back
up, a pixel keeps its own mean where it has known data and takes the bilinear upsampling of the
coarser estimate where it has none (Gortler et al. 1996, "The Lumigraph"). ``"harmonic"`` then
relaxes each level's empty pixels with red-black SOR sweeps of Laplace's equation
(``app.spec.manifest.HOLE_FILLS`` gives the sweeps of each name).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from app.spec.manifest import HOLE_FILL_OMEGA, HOLE_FILLS

DEFAULT_FILL = "push-pull"  # what ``prefill: true`` means (the first prefill inpainters)


def fill_name(prefill: bool | str | None) -> str | None:
    """The fill a ``prefill`` setting names (``True``: the default one; false or None: none);
    an unknown name is refused."""
    method = DEFAULT_FILL if prefill is True else (prefill or None)
    if method is not None and method not in HOLE_FILLS:
        raise ValueError(f"unknown hole fill {method!r}; known: {', '.join(HOLE_FILLS)}")
    return method


def _relax(estimate: torch.Tensor, empty: torch.Tensor, sweeps: int) -> torch.Tensor:
    """Red-black SOR sweeps over the ``empty`` pixels (B, 1, H, W bool); neighbours beyond the
    edge repeat the edge pixel; colour = parity of row + column, even first."""
    h, w = estimate.shape[-2:]
    parity = (torch.arange(h)[:, None] + torch.arange(w)[None, :]) % 2
    colours = [empty & (parity == c) for c in (0, 1)]
    for _ in range(sweeps):
        for colour in colours:
            p = F.pad(estimate, (1, 1, 1, 1), mode="replicate")
            around = p[..., :-2, 1:-1] + p[..., 2:, 1:-1] + p[..., 1:-1, :-2] + p[..., 1:-1, 2:]
            estimate = torch.where(colour, estimate + HOLE_FILL_OMEGA * (around * 0.25 - estimate),
                                   estimate)
    return estimate


@torch.no_grad()
def fill_holes(image: torch.Tensor, mask: torch.Tensor, method: str = DEFAULT_FILL) -> torch.Tensor:
    """``image`` (B, C, H, W), ``mask`` (B, 1, H, W) with 1 = hole. Returns the image with its
    holes filled by ``method`` (a name of ``HOLE_FILLS``); known pixels are returned unchanged."""
    sweeps = HOLE_FILLS[fill_name(method)]
    weight = 1.0 - mask
    value = image * weight
    levels = []
    while max(weight.shape[-2:]) > 1 and bool((weight == 0).any()):
        levels.append((value, weight))
        h, w = weight.shape[-2:]
        pad = (0, w % 2, 0, h % 2)
        value = F.avg_pool2d(F.pad(value, pad), 2) * 4
        weight = F.avg_pool2d(F.pad(weight, pad), 2) * 4
    estimate = value / weight.clamp_min(1e-8)
    for value, weight in reversed(levels):
        h, w = weight.shape[-2:]
        up = F.interpolate(estimate, scale_factor=2, mode="bilinear", align_corners=False)
        alpha = weight.clamp_max(1.0)
        estimate = alpha * value / weight.clamp_min(1e-8) + (1 - alpha) * up[..., :h, :w]
        if sweeps:
            estimate = _relax(estimate, weight == 0, sweeps)
    return image * (1 - mask) + estimate * mask
