"""Entropy models, kept apart from the networks (as in CompressAI).

``EntropyBottleneck`` is Balle's non-parametric factorized density for the hyper-latent;
``gaussian_likelihood`` gives the probability mass of a quantised Gaussian.  Both have a
``freeze`` counterpart in ``training.export.tables`` that turns them into integer-indexed
probability tables for the app's ``constriction`` coder.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .layers import lower_bound

LIKELIHOOD_BOUND = 1e-9
SCALE_BOUND = 0.11


def scale_table(levels: int = 64, lo: float = SCALE_BOUND, hi: float = 256.0) -> np.ndarray:
    return np.exp(np.linspace(math.log(lo), math.log(hi), levels))


class EntropyBottleneck(nn.Module):
    """Per-channel learned CDF: a small monotone network of softplus matrices per channel."""

    def __init__(self, channels: int, filters=(3, 3, 3), init_scale: float = 10.0):
        super().__init__()
        self.channels = channels
        self._medians_key = None  # what ``medians`` was last computed for
        dims = (1, *filters, 1)
        scale = init_scale ** (1 / (len(filters) + 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for i in range(len(filters) + 1):
            init = math.log(math.expm1(1 / scale / dims[i + 1]))
            self.matrices.append(nn.Parameter(torch.full((channels, dims[i + 1], dims[i]), init)))
            self.biases.append(nn.Parameter(torch.rand(channels, dims[i + 1], 1) - 0.5))
            if i < len(filters):
                self.factors.append(nn.Parameter(torch.zeros(channels, dims[i + 1], 1)))

    def logits_cdf(self, x: torch.Tensor) -> torch.Tensor:
        """x: (C, 1, L) -> logits of the cumulative distribution, same shape."""
        for i, (m, b) in enumerate(zip(self.matrices, self.biases)):
            x = torch.matmul(F.softplus(m), x) + b
            if i < len(self.factors):
                x = x + torch.tanh(self.factors[i]) * torch.tanh(x)
        return x

    def likelihood(self, z: torch.Tensor) -> torch.Tensor:
        """Probability mass of the unit interval around each value of z (B, C, H, W)."""
        b, c, h, w = z.shape
        flat = z.permute(1, 0, 2, 3).reshape(c, 1, -1).float()
        lower = self.logits_cdf(flat - 0.5)
        upper = self.logits_cdf(flat + 0.5)
        sign = -torch.sign(lower + upper).detach()
        lik = torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))
        lik = lik.reshape(c, b, h, w).permute(1, 0, 2, 3)
        return lower_bound(lik, LIKELIHOOD_BOUND)

    @torch.no_grad()
    def cdf(self, x: torch.Tensor) -> torch.Tensor:
        """CDF at points x (C, L) for every channel."""
        return torch.sigmoid(self.logits_cdf(x.unsqueeze(1).float())).squeeze(1)

    @torch.no_grad()
    def cdf_grid(self, search: float = 512.0) -> tuple[np.ndarray, np.ndarray]:
        """(grid (L,), CDF of every channel on it (C, L)), float64, over ``[-search, search]``."""
        grid = torch.linspace(-search, search, 2 ** 16 + 1)
        cdf = self.cdf(grid.repeat(self.channels, 1)).double().numpy()
        return grid.double().numpy(), cdf

    def medians(self, search: float = 512.0) -> np.ndarray:
        """(C,) each channel's median: where its CDF crosses 1/2 (read linearly on the grid).

        The codec quantises ``z`` around these (``round(z - median) + median``). The grid costs
        about half a second, so the result is kept until a parameter changes: an optimiser step
        or ``load_state_dict`` bumps the in-place version counter of the tensors it writes."""
        key = (search, *((p.data_ptr(), p._version) for p in self.parameters()))
        if self._medians_key != key:
            self._medians, self._medians_key = grid_medians(*self.cdf_grid(search)), key
        return self._medians


def grid_medians(grid: np.ndarray, cdf: np.ndarray) -> np.ndarray:
    """(C,) where each row of ``cdf`` (C, L) crosses 1/2 on ``grid`` (L,), read linearly."""
    return np.array([np.interp(0.5, row, grid) for row in cdf])


def gaussian_likelihood(y: torch.Tensor, means: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    scales = lower_bound(scales.float(), SCALE_BOUND)
    v = torch.abs(y.float() - means.float())
    # Using the lower tail for both sides is numerically stable far from the mean.
    upper = 0.5 * torch.erfc(-((0.5 - v) / scales) / math.sqrt(2))
    lower = 0.5 * torch.erfc(-((-0.5 - v) / scales) / math.sqrt(2))
    return lower_bound(upper - lower, LIKELIHOOD_BOUND)
