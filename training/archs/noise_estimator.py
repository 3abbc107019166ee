"""A blind denoiser for real noise: a small noise-map estimator in front of the
noise-level-conditioned U-Net (CBDNet's layout, Guo et al. 2019).

The estimator reads the noisy image and writes a noise std map (sigma / 255 units, the
denoiser's own ``sigma_map`` scale) at a quarter of the resolution: noise level varies with
brightness and content, but slowly, and the coarse map is cheap. It is upsampled bilinearly
(half-pixel centres) before the denoiser sees it; the app does the same, after scaling the map
by the user's strength.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .restoration import Denoiser
from .widen import widen_state

MAP_SCALE = 4  # the estimator's map is this many times smaller than the image on each side
# The map starts near sigma 5 (softplus(0) * _MAP_UNIT), the level of typical camera noise.
_MAP_UNIT = 0.03


class NoiseEstimator(nn.Module):
    """Image (B,3,H,W) -> noise std map (B,1,H/4,W/4); H and W multiples of 4.

    Two stride-2 convolutions, then dilated convolutions at quarter resolution: a receptive
    field of about 70 pixels, enough to tell flat regions (where noise shows) from texture.
    """

    def __init__(self, width: int = 32, dilations=(1, 2, 4, 1)):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, width // 2, 3, stride=2, padding=1),
                                   nn.LeakyReLU(0.1),
                                   nn.Conv2d(width // 2, width, 3, stride=2, padding=1),
                                   nn.LeakyReLU(0.1)]
        for d in dilations:
            layers += [nn.Conv2d(width, width, 3, padding=d, dilation=d), nn.LeakyReLU(0.1)]
        self.body = nn.Sequential(*layers)
        self.out = nn.Conv2d(width, 1, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return F.softplus(self.out(self.body(image - 0.5))) * _MAP_UNIT


def upsample_map(small: torch.Tensor) -> torch.Tensor:
    """The quarter-resolution map at full resolution (bilinear, half-pixel centres)."""
    return F.interpolate(small, scale_factor=MAP_SCALE, mode="bilinear", align_corners=False)


class RealNoiseDenoiser(Denoiser):
    """The U-Net denoiser (same parameter names, so it starts from a Gaussian denoiser's
    weights) with a noise-map estimator beside it."""

    def __init__(self, widths=(32, 64, 128), blocks: int = 2, bottleneck_dilations=(1,),
                 estimator_width: int = 32):
        super().__init__(widths, blocks, bottleneck_dilations)
        self.estimator = NoiseEstimator(estimator_width)
        self.map_scale = MAP_SCALE

    def adapt_init_state(self, params: dict) -> dict:
        """Start from a denoiser without an estimator (the estimator keeps its fresh weights)
        or from a narrower one (``widen_state``: the same output, new channels to train)."""
        own = self.state_dict()
        params = {**{k: v for k, v in own.items() if k.startswith("estimator.")}, **params}
        return widen_state(self, params)

    def blind(self, noisy: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
        """Denoise with the estimated map (scaled by ``strength``)."""
        return self(noisy, upsample_map(self.estimator(noisy)) * strength)
