"""Freeze a checkerboard codec's context and entropy-parameter layers as integers.

The app (``app.core.checkerboard``) evaluates them in exact fixed point, in the same units as
the fixed-point ``h_s`` (``F = hyper_frac_bits`` fractional bits), so that the scale indexes of
the second pass are bit-identical on every machine too.  The rules, which
:func:`run_checkerboard_fixed` implements with torch and the app with numpy:

- ``P``: the integer ``h_s`` output (scales then means), clamped to ``+-context_clamp[1]``
  (at most ``2**31 - 1``);
- context input: ``y_sym * 2**F + means_q`` at anchors (clamped to ``+-context_clamp[0]``),
  zero elsewhere; ``cx`` layer, floor shift; zero at anchors, and zero everywhere in pass 1;
- ``ep`` layers on ``concat(P, context)`` clamped to ``+-context_clamp[1]``: after each layer
  but the last, clamp to ``+-context_clamp[l + 2]`` and the integer LeakyReLU of ``h_s``;
- result ``P + ep``, clamped to ``+-PARAM_LIMIT``: scales then means, in units of ``2**-F``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..archs.checkerboard import CheckerboardHyperprior, anchor_mask
from .tables import (HYPER_CLAMP_CAP, clamp_leaky, compare_fixed, quantise_conv, run_fixed_layer,
                     run_hyper_fixed)

CONTEXT_VERSION = CheckerboardHyperprior.context_version  # the manifest's params["context"]
# |means_q|, |scales_q| < 2**24: a mean in float32 (means_q / 2**F) is exact, so the app's
# float32 means give back the integers the context needs. Means beyond +-4096 (F = 12) only
# cost bits: encoder and decoder clamp alike.
PARAM_LIMIT = 2 ** 24 - 1
INPUT_CAP = 2 ** 31 - 1


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
    out["context_param_limit"] = np.array(PARAM_LIMIT, np.int64)
    return out


@torch.no_grad()
def run_checkerboard_fixed(tables: dict[str, np.ndarray], hyper_q: torch.Tensor,
                           y_sym: torch.Tensor | None = None,
                           means_q: torch.Tensor | None = None) -> torch.Tensor:
    """Integer parameters (1, 2M, H, W), scales then means, from the integer ``h_s`` output
    ``hyper_q``: pass 1 without ``y_sym`` (context zero), pass 2 with the anchors' symbols
    ``y_sym`` and their means ``means_q`` (pass 1's) (values at non-anchors are ignored)."""
    f = int(tables["hyper_frac_bits"])
    clamp = [float(a) for a in tables["context_clamp"]]
    p = hyper_q.double().clamp(-clamp[1], clamp[1])
    if y_sym is None:
        ctx = torch.zeros_like(p)
    else:
        anchors = anchor_mask(*p.shape[2:]).double()
        x = (y_sym.double().clamp(-2.0 ** 31, 2.0 ** 31) * 2.0 ** f + means_q.double())
        ctx = run_fixed_layer(tables, "cx", x.clamp(-clamp[0], clamp[0]) * anchors)
        ctx = ctx.clamp(-clamp[1], clamp[1]) * (1 - anchors)
    x = torch.cat([p, ctx], dim=1)
    n = len(clamp) - 1
    for i in range(n):
        x = run_fixed_layer(tables, f"ep{i}", x)
        if i < n - 1:
            x = clamp_leaky(tables, x, clamp[i + 2])
    limit = float(tables["context_param_limit"])
    return (p + x).clamp(-limit, limit)


@torch.no_grad()
def check_checkerboard_fixed(model, tables: dict[str, np.ndarray], size: tuple[int, int] = (6, 8),
                             seed: int = 0) -> dict[str, float]:
    """Both passes in fixed point against the float model on random hyper-latents and latent
    symbols: mean absolute differences of means and scales relative to the float values'
    mean magnitude, and the fraction of scale indexes that agree."""
    unit = 2.0 ** -int(tables["hyper_frac_bits"])
    g = torch.Generator().manual_seed(seed)
    z_sym = torch.round(torch.randn(1, model.N, *size, generator=g, dtype=torch.float64) * 2)
    med = torch.from_numpy(tables["z_medians_q"] * unit)
    hyper = model.h_s((z_sym + med[None, :, None, None]).float())
    means_q, scales_q = run_hyper_fixed(tables, z_sym)
    hyper_q = torch.cat([scales_q, means_q], dim=1)
    m = model.M
    means_a, _ = model.entropy_params(hyper, torch.zeros_like(hyper))
    first = run_checkerboard_fixed(tables, hyper_q)
    y_sym = torch.round(torch.randn(means_a.shape, generator=g, dtype=torch.float64) * 3)
    ctx = model.context_features((y_sym + means_a.double()).float())
    ref_means, ref_scales = (t.double().numpy() for t in model.entropy_params(hyper, ctx))
    got = run_checkerboard_fixed(tables, hyper_q, y_sym, first[:, m:]).numpy()
    return compare_fixed(tables, got[:, m:], got[:, :m], ref_means, ref_scales)
