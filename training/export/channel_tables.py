"""Freeze a channel-group + checkerboard codec's group layers as integers.

The app (``app.core.channel_context``) evaluates them in exact fixed point, in the units of
the fixed-point ``h_s`` (``F = hyper_frac_bits`` fractional bits), on top of the integer
checkerboard parameters ``B`` (:mod:`.context_tables`).  Tables, per pass ``i`` of ``2K``
(anchors of groups ``0..K-1``, then the other positions of groups ``0..K-1``):

- ``cc{i}_cx_*``: the ``k x k`` context convolution of the symbols decoded before the pass
  (``y_sym * 2**F + means_q``, zero where not decoded yet); absent where nothing was;
- ``cc{i}_ep{l}_*``: the 1x1 layers on ``concat(B, context)``, the last one giving the
  group's residual (scales then means);
- ``cc_clamp[i]``: the clamp of the context input, of ``concat(B, context)``, and of each
  later layer's input (0 for a missing context); ``cc_groups``: the group sizes.

:func:`run_channel_fixed` implements the rules with torch, the app with numpy; the tests
check that both agree bit for bit.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..archs.channel_context import ChannelCheckerboardHyperprior
from ..archs.checkerboard import anchor_mask
from .context_tables import INPUT_CAP, run_checkerboard_fixed
from .tables import (HYPER_CLAMP_CAP, clamp_leaky, compare_fixed, quantise_conv, run_fixed_layer,
                     run_hyper_fixed)

CONTEXT_VERSION = ChannelCheckerboardHyperprior.context_version  # params["context"]


@torch.no_grad()
def channel_fixed_tables(model, frac_bits: int) -> dict[str, np.ndarray]:
    """The integer ``cc{i}_*`` layers of every pass, ``cc_clamp`` and ``cc_groups``."""
    hyper_slopes = {m.negative_slope for m in model.h_s if isinstance(m, nn.LeakyReLU)}
    out: dict[str, np.ndarray] = {"cc_groups": np.array(model.groups, np.int64)}
    clamps = []
    for i, res in enumerate(model.channel_context):
        convs = [m for m in res.params if isinstance(m, nn.Conv2d)]
        acts = [m for m in res.params if not isinstance(m, nn.Conv2d)]
        if not all(isinstance(a, nn.LeakyReLU) for a in acts) or len(acts) != len(convs) - 1 \
                or any(c.kernel_size != (1, 1) for c in convs) or \
                not {a.negative_slope for a in acts} <= hyper_slopes:
            raise ValueError("fixed-point export needs each pass's parameter layers = 1x1 conv, "
                             "LeakyReLU (the slope of h_s), ..., 1x1 conv")
        row = [0]
        if res.context is not None:
            layer, row[0] = quantise_conv(res.context, frac_bits, f"channel context pass {i}")
            out.update({f"cc{i}_cx_{k}": v for k, v in layer.items()})
        for j, c in enumerate(convs):
            layer, clamp = quantise_conv(c, frac_bits, f"channel context pass {i} layer {j}",
                                         clamp_cap=INPUT_CAP if j == 0 else HYPER_CLAMP_CAP)
            row.append(clamp)
            out.update({f"cc{i}_ep{j}_{k}": v for k, v in layer.items()})
        clamps.append(row)
    out["cc_clamp"] = np.array(clamps, np.int64)
    return out


@torch.no_grad()
def run_channel_fixed(tables: dict[str, np.ndarray], hyper_q: torch.Tensor,
                      y_sym: torch.Tensor) -> torch.Tensor:
    """Integer parameters (1, 2M, H, W), scales then means, of every latent element as the
    decoder of the symbols ``y_sym`` derives them, pass by pass, from the integer ``h_s``
    output ``hyper_q`` (a pass reads only the symbols of earlier passes)."""
    f = int(tables["hyper_frac_bits"])
    groups = [int(c) for c in tables["cc_groups"]]
    offsets = [int(v) for v in np.cumsum([0, *groups])[:-1]]
    clamp = tables["cc_clamp"].astype(np.float64)
    limit = float(tables["context_param_limit"])
    m, k = sum(groups), len(groups)
    h, w = hyper_q.shape[2:]
    anchors = anchor_mask(h, w).double()
    ys = y_sym.double().clamp(-2.0 ** 31, 2.0 ** 31)
    out = torch.zeros(1, 2 * m, h, w, dtype=torch.float64)
    base = run_checkerboard_fixed(tables, hyper_q)                    # the anchors' B
    for i in range(2 * k):
        g = i % k
        o, c = offsets[g], groups[g]
        if i == k:  # the others' B reads the anchors of every channel, decoded by now
            base = run_checkerboard_fixed(tables, hyper_q, y_sym, out[:, m:])
        x = base.clamp(-clamp[i, 1], clamp[i, 1])
        if f"cc{i}_cx_w" in tables:
            done = anchors.expand(1, m, h, w).clone()
            if i >= k:
                done[:, :o] = 1
            cin = o if i < k else m
            d = (ys * 2.0 ** f + out[:, m:]).clamp(-clamp[i, 0], clamp[i, 0]) * done
            ctx = run_fixed_layer(tables, f"cc{i}_cx", d[:, :cin])
            x = torch.cat([x, ctx.clamp(-clamp[i, 1], clamp[i, 1])], dim=1)
        n_layers = clamp.shape[1] - 1
        for j in range(n_layers):
            x = run_fixed_layer(tables, f"cc{i}_ep{j}", x)
            if j < n_layers - 1:
                x = clamp_leaky(tables, x, clamp[i, j + 2])
        own = torch.cat([base[:, o:o + c], base[:, m + o:m + o + c]], dim=1)
        params = (own + x).clamp(-limit, limit)
        here = anchors if i < k else 1 - anchors
        for dst, src in ((slice(o, o + c), params[:, :c]),
                         (slice(m + o, m + o + c), params[:, c:])):
            out[:, dst] = out[:, dst] * (1 - here) + src * here
    return out


@torch.no_grad()
def check_channel_fixed(model, tables: dict[str, np.ndarray], size: tuple[int, int] = (128, 192),
                        seed: int = 0) -> dict[str, float]:
    """All passes in fixed point against the float model, on the symbols of a synthetic
    picture (a smooth random field with fine noise) at the middle rate level: the same
    comparison as the checkerboard's.  Random symbols, as the checkerboard check uses, are far
    outside what the group layers were trained on; there a trained residual amplifies the
    fixed point's small rounding differences pass after pass, which says nothing about the
    symbols a real encoder writes."""
    unit = 2.0 ** -int(tables["hyper_frac_bits"])
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, size[0] // 32, size[1] // 32, generator=g)
    x = F.interpolate(coarse, size=size, mode="bicubic", align_corners=False)
    x = (x + 0.03 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    gain, _ = model.gains(torch.tensor([model.levels // 2]))
    y = model.g_a(x) * gain
    med = torch.from_numpy(tables["z_medians_q"] * unit)[None, :, None, None]
    z_sym = torch.round(model.h_a(y).double() - med)
    hyper = model.h_s((z_sym + med).float())
    means, _ = model.run_passes(hyper, lambda k, mu: torch.round(
        y[:, model.offsets[k]:model.offsets[k] + model.groups[k]] - mu) + mu)
    y_sym = torch.round(y - means).double()
    means_q, scales_q = run_hyper_fixed(tables, z_sym)
    hyper_q = torch.cat([scales_q, means_q], dim=1)
    ref_means, ref_scales = (t.double().numpy()
                             for t in model.params_from_symbols(hyper, y_sym.float()))
    got = run_channel_fixed(tables, hyper_q, y_sym).numpy()
    m = model.M
    return compare_fixed(tables, got[:, m:], got[:, :m], ref_means, ref_scales)
