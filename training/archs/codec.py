"""Mean-scale hyperprior codec (Minnen et al. 2018, without autoregressive context) with
asymmetric gain units (Cui et al. 2021) so one model covers a continuous range of rates.

Contract shared by every codec here: ``g_a``/``g_s`` (analysis/synthesis), ``h_a``/``h_s``
(hyper analysis/synthesis), and ``forward(x, level) -> {"x_hat", "likelihoods": {"y", "z"}}``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .entropy import EntropyBottleneck, gaussian_likelihood
from .layers import GDN, conv, deconv


def round_ste(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.round(x) - x).detach()


class MeanScaleHyperprior(nn.Module):
    downsample = 64

    def __init__(self, N: int = 128, M: int = 192, lambdas=(0.0018, 0.0035, 0.0067, 0.013,
                                                             0.025, 0.0483, 0.0932)):
        super().__init__()
        self.N, self.M = N, M
        self.register_buffer("lambdas", torch.tensor(lambdas, dtype=torch.float32))
        self.g_a = nn.Sequential(conv(3, N), GDN(N), conv(N, N), GDN(N), conv(N, N), GDN(N),
                                 conv(N, M))
        self.g_s = nn.Sequential(deconv(M, N), GDN(N, True), deconv(N, N), GDN(N, True),
                                 deconv(N, N), GDN(N, True), deconv(N, 3))
        self.h_a = nn.Sequential(conv(M, N, 3, 1), nn.LeakyReLU(inplace=True), conv(N, N),
                                 nn.LeakyReLU(inplace=True), conv(N, N))
        self.h_s = nn.Sequential(deconv(N, M), nn.LeakyReLU(inplace=True),
                                 deconv(M, M * 3 // 2), nn.LeakyReLU(inplace=True),
                                 conv(M * 3 // 2, M * 2, 3, 1))
        self.entropy_bottleneck = EntropyBottleneck(N)
        # Gain units: one gain vector per trained rate point, initialised so that higher
        # lambdas quantise more finely (step size ~ lambda^-1/2).
        ref = math.log(lambdas[len(lambdas) // 2])
        init = torch.tensor([0.5 * (math.log(l) - ref) for l in lambdas]).unsqueeze(1)
        self.log_gain = nn.Parameter(init.repeat(1, M))
        self.log_inv_gain = nn.Parameter(-init.repeat(1, M))

    @property
    def levels(self) -> int:
        return len(self.lambdas)

    def adapt_init_state(self, params: dict) -> dict:
        """Map gain vectors trained for other rate points onto this model's ``lambdas``.

        Lets a model with more rate points (for example lower lambdas, for lower bit rates)
        start from one trained with fewer: a lambda both share keeps its trained gains, a new
        one gets the gains linear in log(lambda) through its two nearest trained neighbours
        (extrapolated beyond the ends). Weights with the same rate points pass unchanged.
        """
        # Shipped weights are fp16, lambdas included: compare them with fp16's precision.
        theirs = params.get("lambdas")
        if theirs is None or (theirs.shape == self.lambdas.shape
                              and torch.allclose(theirs.float(), self.lambdas, rtol=1e-3)):
            return params
        src = torch.log(theirs.double())
        params = dict(params)
        for name in ("log_gain", "log_inv_gain"):
            rows = params[name].double()
            out = []
            for lam in torch.log(self.lambdas.double()):
                dist = torch.abs(src - lam)
                if dist.min() < 1e-3:  # a rate point both models share
                    out.append(rows[int(dist.argmin())])
                    continue
                i, j = sorted(int(k) for k in torch.argsort(dist)[:2])
                a = (lam - src[i]) / (src[j] - src[i])
                out.append((1 - a) * rows[i] + a * rows[j])
            params[name] = torch.stack(out).to(params[name].dtype)
        params["lambdas"] = self.lambdas.clone()
        return params

    def gains(self, level: torch.Tensor):
        g = torch.exp(self.log_gain[level])[:, :, None, None]
        ig = torch.exp(self.log_inv_gain[level])[:, :, None, None]
        return g, ig

    def hyper_params(self, z_hat: torch.Tensor):
        scales, means = self.h_s(z_hat).chunk(2, dim=1)
        return means, scales

    def latent_params(self, y: torch.Tensor, z_hat: torch.Tensor):
        """(means, scales) of the latent ``y`` (the hyperprior's alone here; a context model
        also reads the parts of ``y`` a decoder has by then)."""
        return self.hyper_params(z_hat)

    def forward(self, x: torch.Tensor, level: torch.Tensor) -> dict:
        gain, inv_gain = self.gains(level)
        y = self.g_a(x) * gain
        z = self.h_a(y)
        if self.training:
            z_tilde = z + torch.empty_like(z).uniform_(-0.5, 0.5)
        else:  # as the codec quantises it: integer steps from each channel's median
            med = torch.from_numpy(self.entropy_bottleneck.medians()).to(z)[None, :, None, None]
            z_tilde = torch.round(z - med) + med
        means, scales = self.latent_params(y, z_tilde)
        y_noisy = y + torch.empty_like(y).uniform_(-0.5, 0.5)
        y_lik = gaussian_likelihood(y_noisy if self.training else round_ste(y - means) + means,
                                    means, scales)
        y_hat = round_ste(y - means) + means
        x_hat = self.g_s(y_hat * inv_gain)
        return {"x_hat": x_hat,
                "likelihoods": {"y": y_lik, "z": self.entropy_bottleneck.likelihood(z_tilde)}}


class PlainAutoencoder(nn.Module):
    """The classic tutorial autoencoder: conv encoder, conv decoder, sigmoid output, MSE only.

    Used as a baseline row in the codec benchmark: its latent is stored as 8-bit values with zlib.
    Same output contract (its likelihoods are empty: it has no entropy model).
    """

    downsample = 16

    def __init__(self, N: int = 64, M: int = 16):
        super().__init__()
        self.N, self.M = N, M
        self.g_a = nn.Sequential(conv(3, N), nn.ReLU(True), conv(N, N), nn.ReLU(True),
                                 conv(N, N), nn.ReLU(True), conv(N, M), nn.Sigmoid())
        self.g_s = nn.Sequential(deconv(M, N), nn.ReLU(True), deconv(N, N), nn.ReLU(True),
                                 deconv(N, N), nn.ReLU(True), deconv(N, 3), nn.Sigmoid())

    def forward(self, x: torch.Tensor, level: torch.Tensor | None = None) -> dict:
        y = self.g_a(x)
        y_hat = y + (torch.round(y * 255) / 255 - y).detach()
        return {"x_hat": self.g_s(y_hat), "likelihoods": {}}
