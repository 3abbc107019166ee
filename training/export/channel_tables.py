"""Freeze a channel-group + checkerboard codec's group layers as integers, in the units of the
fixed-point ``h_s``; :mod:`app.fixedpoint.channel_groups` states the rules and runs them, here
to check the export as in the app to decode."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from app.fixedpoint.channel_groups import FixedChannelCheckerboard
from app.fixedpoint.checkerboard import INPUT_CAP, FixedCheckerboard
from app.fixedpoint.hyper import FixedHyperSynthesis

from .tables import HYPER_CLAMP_CAP, compare_fixed, quantise_conv


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
def check_channel_fixed(model, tables: dict[str, np.ndarray], size: tuple[int, int] = (128, 192),
                        seed: int = 0) -> dict[str, float]:
    """All passes in fixed point against the float model, on the symbols of a synthetic
    picture (a smooth random field with fine noise) at the middle rate level: the same
    comparison as the checkerboard's.  Random symbols, as the checkerboard check uses, are far
    outside what the group layers were trained on; there a trained residual amplifies the
    fixed point's small rounding differences pass after pass, which says nothing about the
    symbols a real encoder writes."""
    hyper = FixedHyperSynthesis(tables)
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, size[0] // 32, size[1] // 32, generator=g)
    x = F.interpolate(coarse, size=size, mode="bicubic", align_corners=False)
    x = (x + 0.03 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    gain, _ = model.gains(torch.tensor([model.levels // 2]))
    y = model.g_a(x) * gain
    med = torch.from_numpy(tables["z_medians_q"] * hyper.unit)[None, :, None, None]
    z_sym = torch.round(model.h_a(y).double() - med)
    hyper_float = model.h_s((z_sym + med).float())
    means, _ = model.run_passes(hyper_float, lambda k, mu: torch.round(
        y[:, model.offsets[k]:model.offsets[k] + model.groups[k]] - mu) + mu)
    y_sym = torch.round(y - means).double()
    ref_means, ref_scales = (t.double().numpy()
                             for t in model.params_from_symbols(hyper_float, y_sym.float()))
    groups = FixedChannelCheckerboard(tables, FixedCheckerboard(tables, hyper))
    means_q, scales_q = groups.fixed(z_sym.numpy(), y_sym.numpy())
    return compare_fixed(hyper, tables["scale_table"], means_q, scales_q, ref_means, ref_scales)
