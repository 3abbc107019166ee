"""Channel-group context (Minnen & Singh 2020) with uneven groups (ELIC, He et al. 2022), on top
of the checkerboard context.

The latent's ``M`` channels are cut into groups of uneven size (small first: the first
channels carry most of the energy, and a small group decoded early informs every later one).
Decoding runs ``2K`` parallel passes, in this order::

    anchors of group 0, ..., anchors of group K-1, non-anchors of group 0, ..., of group K-1

so the checkerboard model this one starts from (:class:`CheckerboardHyperprior`) keeps working
unchanged inside it: its anchor parameters need only the hyperprior, its non-anchor
parameters need the anchors of every channel, which all passes of the second half have.

Pass ``i`` (half ``h``, group ``k``) adds a residual to that model's parameters ``B`` (scales
then means, ``B`` = its anchor or non-anchor parameters) for the channels of group ``k``::

    params_k = B_k + R_i(concat(B, conv_i(D_i)))

where ``D_i`` is the latent as decoded *before* pass ``i`` (every symbol of an earlier pass,
zero elsewhere; an anchor pass reads only the channels of the earlier groups).  ``conv_i`` is
an ordinary ``k x k`` convolution: causality comes from the zeros in its input, not from a
masked kernel, so it reads the already-decoded groups at every position it covers and, in the
second half, the anchors of its own group and of the later groups (the checkerboard).
``R_i`` is 1x1 convolutions with LeakyReLUs whose last layer starts at zero, so a model
warm-started from a checkerboard codec begins exactly at that codec.  The app evaluates all of
this in exact fixed point (``app.fixedpoint.channel_groups``).
"""

from __future__ import annotations

import torch
from torch import nn

from app.fixedpoint import versions

from .checkerboard import CheckerboardHyperprior, anchor_mask
from .codec import round_ste
from .entropy import gaussian_likelihood

GROUPS = (16, 16, 32, 64, 64)


def group_offsets(groups) -> list[int]:
    out, o = [], 0
    for c in groups:
        out.append(o)
        o += c
    return out


class GroupResidual(nn.Module):
    """The context convolution and residual entropy-parameter layers of one pass.

    ``cin``: how many leading latent channels the context convolution reads (an anchor pass
    reads only the groups before its own, which are all it could see; none for the first)."""

    def __init__(self, M: int, cin: int, channels: int, ctx: int, hidden: int, kernel: int):
        super().__init__()
        self.cin = cin
        self.context = nn.Conv2d(cin, ctx, kernel, padding=kernel // 2) if cin else None
        self.params = nn.Sequential(
            nn.Conv2d(2 * M + (ctx if cin else 0), hidden, 1), nn.LeakyReLU(inplace=True),
            nn.Conv2d(hidden, hidden, 1), nn.LeakyReLU(inplace=True),
            nn.Conv2d(hidden, 2 * channels, 1))
        nn.init.zeros_(self.params[-1].weight)
        nn.init.zeros_(self.params[-1].bias)

    def forward(self, base: torch.Tensor, decoded: torch.Tensor) -> torch.Tensor:
        if self.context is None:
            return self.params(base)
        return self.params(torch.cat([base, self.context(decoded[:, :self.cin])], dim=1))


class ChannelCheckerboardHyperprior(CheckerboardHyperprior):
    context_version = versions.CHANNEL_CHECKERBOARD

    def __init__(self, N: int = 128, M: int = 192, lambdas=(0.0018, 0.0035, 0.0067, 0.013,
                                                             0.025, 0.0483, 0.0932),
                 groups=GROUPS, ctx_channels: int = 64, hidden: int = 96,
                 ctx_kernel: int = 3, frozen_base: bool = False):
        super().__init__(N, M, lambdas)
        if sum(groups) != M or min(groups) < 1:
            raise ValueError(f"channel groups {groups} must be positive and add up to M={M}")
        self.groups = tuple(int(c) for c in groups)
        self.offsets = group_offsets(self.groups)
        self.ctx_kernel = ctx_kernel
        cins = [*self.offsets, *[M] * len(self.groups)]  # anchors: the earlier groups only
        self.channel_context = nn.ModuleList(
            GroupResidual(M, cin, c, ctx_channels, hidden, ctx_kernel)
            for cin, c in zip(cins, [*self.groups, *self.groups]))
        # frozen_base: train the group residuals alone on top of a fixed parent.  Only the rate
        # of y depends on them (y_hat = round(y - mean) + mean passes no gradient to the
        # mean), so the transforms and hyperprior run without autograd: steps are cheaper and
        # the parent's distortion cannot drift.
        self.frozen_base = frozen_base
        if frozen_base:
            for name, p in self.named_parameters():
                if not name.startswith("channel_context."):
                    p.requires_grad_(False)

    def adapt_init_state(self, params: dict) -> dict:
        """Also start from a checkerboard (or plain) hyperprior: the group residuals it lacks
        keep their fresh initialisation, a zero residual."""
        params = super().adapt_init_state(params)
        own = self.state_dict()
        added = [k for k in own if k.startswith("channel_context.")]
        if not any(k in params for k in added):
            params = {**params, **{k: own[k].clone() for k in added}}
        return params

    def pass_params(self, i: int, base: torch.Tensor, decoded: torch.Tensor):
        """(means, scales) of group ``i % K`` from pass ``i``'s residual on ``base``."""
        k = i % len(self.groups)
        o, c, m = self.offsets[k], self.groups[k], self.M
        r = self.channel_context[i](base, decoded)
        return base[:, m + o:m + o + c] + r[:, c:], base[:, o:o + c] + r[:, :c]

    def forward(self, x: torch.Tensor, level: torch.Tensor) -> dict:
        if not (self.training and self.frozen_base):
            return super().forward(x, level)
        with torch.no_grad():
            gain, inv_gain = self.gains(level)
            y = self.g_a(x) * gain
            z_tilde = self.h_a(y)
            z_tilde = z_tilde + torch.empty_like(z_tilde).uniform_(-0.5, 0.5)
            hyper = self.h_s(z_tilde)
            z_lik = self.entropy_bottleneck.likelihood(z_tilde)
        slices = [y[:, o:o + c] for o, c in zip(self.offsets, self.groups)]
        means, scales = self.run_passes(hyper, lambda k, mu: round_ste(slices[k] - mu) + mu)
        y_lik = gaussian_likelihood(y + torch.empty_like(y).uniform_(-0.5, 0.5), means, scales)
        with torch.no_grad():
            x_hat = self.g_s((torch.round(y - means) + means) * inv_gain)
        return {"x_hat": x_hat, "likelihoods": {"y": y_lik, "z": z_lik}}

    def latent_params(self, y: torch.Tensor, z_hat: torch.Tensor):
        slices = [y[:, o:o + c] for o, c in zip(self.offsets, self.groups)]
        return self.run_passes(self.h_s(z_hat), lambda k, mu: round_ste(slices[k] - mu) + mu)

    def params_from_symbols(self, hyper: torch.Tensor, y_sym: torch.Tensor):
        """(means, scales) as a decoder of the integer symbols ``y_sym`` derives them (the
        reference the fixed-point export is checked against)."""
        slices = [y_sym[:, o:o + c] for o, c in zip(self.offsets, self.groups)]
        return self.run_passes(hyper, lambda k, mu: slices[k] + mu)

    def run_passes(self, hyper: torch.Tensor, quantise):
        """(means, scales) of the latent, pass by pass; ``quantise(k, means)`` gives group
        ``k``'s decoded latent (``y_hat``) once its means are known."""
        h, w = hyper.shape[2:]
        anchors = anchor_mask(h, w, device=hyper.device).to(hyper.dtype)
        others = 1 - anchors
        n = len(self.groups)
        zeros = [hyper.new_zeros(hyper.shape[0], c, h, w) for c in self.groups]
        dec_a, dec_n = list(zeros), list(zeros)
        out_a, out_n = [None] * n, [None] * n

        def decoded():
            return torch.cat([a + b for a, b in zip(dec_a, dec_n)], dim=1)

        means_b, scales_b = self.entropy_params(hyper, torch.zeros_like(hyper))
        base = torch.cat([scales_b, means_b], dim=1)
        for k in range(n):  # anchors, group by group
            mu, sc = self.pass_params(k, base, decoded())
            out_a[k] = (mu, sc)
            dec_a[k] = quantise(k, mu) * anchors
        means_b, scales_b = self.entropy_params(hyper, self.context_features(decoded()))
        base = torch.cat([scales_b, means_b], dim=1)
        for k in range(n):  # then the other half, group by group
            mu, sc = self.pass_params(n + k, base, decoded())
            out_n[k] = (mu, sc)
            dec_n[k] = quantise(k, mu) * others
        means = torch.cat([a[0] * anchors + b[0] * others for a, b in zip(out_a, out_n)], 1)
        scales = torch.cat([a[1] * anchors + b[1] * others for a, b in zip(out_a, out_n)], 1)
        return means, scales
