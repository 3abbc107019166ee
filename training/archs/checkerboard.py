"""Mean-scale hyperprior with a checkerboard context (He et al. 2021), gain units included.

The latent is split into two interleaved halves.  *Anchors* (``(row + col)`` even) are coded
first, with parameters from the hyperprior alone; the other half is coded next, with
parameters that also see its already-decoded anchor neighbours through a 5x5 context
convolution.  Both passes are fully parallel (no serial raster scan), so decoding stays fast.

Entropy parameters are a residual on the hyper-synthesis output ``P = h_s(z_hat)``::

    params = P + entropy_parameters(concat(P, context))   # context = 0 at anchors

with the last layer of ``entropy_parameters`` initialised to zero: a model started from a
trained :class:`MeanScaleHyperprior` begins exactly where that model was and training only
adds what the context is worth.  The app evaluates ``context`` and ``entropy_parameters`` in
exact fixed point (``app.fixedpoint.checkerboard``), like ``h_s``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from app.fixedpoint import checkerboard as fixed_checkerboard
from app.fixedpoint import versions

from .codec import MeanScaleHyperprior, round_ste

CONTEXT_KERNEL = 5


def anchor_mask(h: int, w: int, device=None) -> torch.Tensor:
    """(1, 1, h, w): 1 at the anchors, coded first (the app's mask, as a float tensor)."""
    mask = torch.from_numpy(fixed_checkerboard.anchor_mask(h, w))
    return mask.to(device=device, dtype=torch.float32)[None, None]


def context_kernel_mask(k: int = CONTEXT_KERNEL) -> torch.Tensor:
    """(1, 1, k, k): the taps at odd ``dy + dx``, the only ones that reach an anchor from a
    non-anchor; the others would read latents not decoded yet."""
    d = torch.arange(k) - k // 2
    return ((d[:, None] + d[None, :]) % 2 != 0).float()[None, None]


class CheckerboardHyperprior(MeanScaleHyperprior):
    context_version = versions.CHECKERBOARD

    def __init__(self, N: int = 128, M: int = 192, lambdas=(0.0018, 0.0035, 0.0067, 0.013,
                                                             0.025, 0.0483, 0.0932)):
        super().__init__(N, M, lambdas)
        self.context = nn.Conv2d(M, 2 * M, CONTEXT_KERNEL, padding=CONTEXT_KERNEL // 2)
        self.register_buffer("context_mask", context_kernel_mask(), persistent=False)
        self.entropy_parameters = nn.Sequential(
            nn.Conv2d(4 * M, 2 * M, 1), nn.LeakyReLU(inplace=True),
            nn.Conv2d(2 * M, 2 * M, 1), nn.LeakyReLU(inplace=True),
            nn.Conv2d(2 * M, 2 * M, 1))
        nn.init.zeros_(self.entropy_parameters[-1].weight)
        nn.init.zeros_(self.entropy_parameters[-1].bias)

    def adapt_init_state(self, params: dict) -> dict:
        """Also start from a plain mean-scale hyperprior: its weights are kept and the context
        layers this model adds keep their fresh initialisation (a zero residual)."""
        params = super().adapt_init_state(params)
        own = self.state_dict()
        added = [k for k in own if k.startswith(("context.", "entropy_parameters."))]
        if not any(k in params for k in added):
            params = {**params, **{k: own[k].clone() for k in added}}
        return params

    def context_features(self, y_hat: torch.Tensor) -> torch.Tensor:
        """Context of every non-anchor from the anchors of ``y_hat`` (zero at anchors)."""
        anchors = anchor_mask(*y_hat.shape[2:], device=y_hat.device)
        weight = self.context.weight * self.context_mask.to(self.context.weight.dtype)
        ctx = F.conv2d(y_hat * anchors, weight, self.context.bias,
                       padding=CONTEXT_KERNEL // 2)
        return ctx * (1 - anchors)

    def entropy_params(self, hyper: torch.Tensor, ctx: torch.Tensor):
        """(means, scales) from the hyper-synthesis output and the context features."""
        params = hyper + self.entropy_parameters(torch.cat([hyper, ctx], dim=1))
        scales, means = params.chunk(2, dim=1)
        return means, scales

    def latent_params(self, y: torch.Tensor, z_hat: torch.Tensor):
        hyper = self.h_s(z_hat)
        # pass 1: the anchors' parameters, then their quantised values (as the decoder sees them)
        means_a, _ = self.entropy_params(hyper, torch.zeros_like(hyper))
        y_hat_a = round_ste(y - means_a) + means_a
        # pass 2: every parameter; at anchors the context is zero, so they equal pass 1's
        return self.entropy_params(hyper, self.context_features(y_hat_a))
