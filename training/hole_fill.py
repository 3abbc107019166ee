"""Push-pull hole filling in torch: the smooth first guess an inpainter refines.

The same algorithm as the app's ``app/core/hole_fill.py`` (numpy, for whole images in bands),
written for batches of training crops; ``tests/training/test_hole_fill_parity.py`` checks that
the two agree. Push: halve the image again and again, summing the known pixels' values and
their counts over each 2x2 block, until no block is empty. Pull: from the coarsest level back
up, a pixel keeps its own mean where it has known data and takes the bilinear upsampling of the
coarser estimate where it has none (Gortler et al. 1996, "The Lumigraph").
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from app.spec.manifest import HOLE_FILLS

HOLE_FILL = HOLE_FILLS[0]  # what an exported prefill model's manifest names: "push-pull"


@torch.no_grad()
def push_pull(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``image`` (B, C, H, W), ``mask`` (B, 1, H, W) with 1 = hole. Returns the image with its
    holes filled by the push-pull estimate; known pixels are returned unchanged."""
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
    return image * (1 - mask) + estimate * mask
