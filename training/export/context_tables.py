"""Freeze a checkerboard codec's context and entropy-parameter layers as integers, in the units
of the fixed-point ``h_s``; :mod:`app.fixedpoint.checkerboard` states the rules and runs them,
here to check the export as in the app to decode."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from app.fixedpoint.checkerboard import INPUT_CAP, PARAM_LIMIT_MAX, FixedCheckerboard
from app.fixedpoint.hyper import FixedHyperSynthesis

from .tables import HYPER_CLAMP_CAP, compare_fixed, quantise_conv


@torch.no_grad()
def checkerboard_fixed_tables(model, frac_bits: int) -> dict[str, np.ndarray]:
    """The integer ``cx_*`` (masked context kernel) and ``ep{l}_*`` layers, their clamps and
    the parameter limit, in the units of the fixed-point ``h_s`` (whose LeakyReLU they share)."""
    convs = [m for m in model.entropy_parameters if isinstance(m, nn.Conv2d)]
    acts = [m for m in model.entropy_parameters if not isinstance(m, nn.Conv2d)]
    hyper_slopes = {m.negative_slope for m in model.h_s if isinstance(m, nn.LeakyReLU)}
    if not all(isinstance(a, nn.LeakyReLU) for a in acts) or len(acts) != len(convs) - 1 or \
            any(c.kernel_size != (1, 1) for c in convs) or \
            not {a.negative_slope for a in acts} <= hyper_slopes:
        raise ValueError("fixed-point export needs entropy_parameters = 1x1 conv, LeakyReLU "
                         "(the slope of h_s), ..., 1x1 conv")
    weight = model.context.weight * model.context_mask
    cx, cx_clamp = quantise_conv(model.context, frac_bits, "context", weight=weight)
    out = {f"cx_{k}": v for k, v in cx.items()}
    clamps = [cx_clamp]
    for i, c in enumerate(convs):
        layer, clamp = quantise_conv(c, frac_bits, f"entropy_parameters layer {i}",
                                     clamp_cap=INPUT_CAP if i == 0 else HYPER_CLAMP_CAP)
        clamps.append(clamp)
        out.update({f"ep{i}_{k}": v for k, v in layer.items()})
    out["context_clamp"] = np.array(clamps, np.int64)
    # the largest limit: means beyond +-4096 (F = 12) only cost bits, encoder and decoder
    # clamp alike
    out["context_param_limit"] = np.array(PARAM_LIMIT_MAX, np.int64)
    return out


@torch.no_grad()
def check_checkerboard_fixed(model, tables: dict[str, np.ndarray], size: tuple[int, int] = (6, 8),
                             seed: int = 0) -> dict[str, float]:
    """Both passes in fixed point against the float model on random hyper-latents and latent
    symbols: mean absolute differences of means and scales relative to the float values'
    mean magnitude, and the fraction of scale indexes that agree."""
    hyper = FixedHyperSynthesis(tables)
    g = torch.Generator().manual_seed(seed)
    z_sym = torch.round(torch.randn(1, model.N, *size, generator=g, dtype=torch.float64) * 2)
    med = torch.from_numpy(tables["z_medians_q"] * hyper.unit)
    hyper_float = model.h_s((z_sym + med[None, :, None, None]).float())
    means_a, _ = model.entropy_params(hyper_float, torch.zeros_like(hyper_float))
    y_sym = torch.round(torch.randn(means_a.shape, generator=g, dtype=torch.float64) * 3)
    ctx = model.context_features((y_sym + means_a.double()).float())
    ref_means, ref_scales = (t.double().numpy() for t in model.entropy_params(hyper_float, ctx))
    means_q, scales_q = FixedCheckerboard(tables, hyper).fixed(z_sym.numpy(), y_sym.numpy())
    return compare_fixed(hyper, tables["scale_table"], means_q, scales_q, ref_means, ref_scales)
