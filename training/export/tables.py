"""Freeze entropy models into probability tables the app codes with ``constriction``.

Every table row is a pmf over integer symbols ``-K .. K`` followed by one escape bin that
holds the tail mass; symbols outside ``-K .. K`` are coded as the escape and stored apart.

The hyper-synthesis ``h_s`` is frozen too, as integers (``hyper_fixed_tables``), for the
exact fixed-point evaluation whose rules :mod:`app.fixedpoint` states and runs, here to check
the export as in the app to decode.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from app.fixedpoint.hyper import FixedHyperSynthesis
from app.fixedpoint.layers import EXACT_LIMIT

from ..archs.entropy import grid_medians, scale_table

TAIL_MASS = 1e-7
HYPER_FRAC_BITS = 12          # F: fractional bits of every activation (2**-12 ~ 2.4e-4)
HYPER_WEIGHT_LIMIT = 2 ** 15  # |w_q| <= 2**15
HYPER_LEAKY_SHIFT = 12        # LeakyReLU slope as num / 2**12 (0.01 -> 41/4096)
HYPER_CLAMP_CAP = 2 ** 40     # no activation clamp above this (keeps every product tiny)


def _pad_rows(rows: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    width = max(len(r) for r in rows)
    out = np.zeros((len(rows), width), np.float64)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out, np.array([len(r) for r in rows], np.int32)


def gaussian_tables(levels: int = 64) -> dict[str, np.ndarray]:
    """One zero-mean quantised Gaussian pmf per entry of the scale table."""
    table = scale_table(levels)
    ncdf = np.vectorize(lambda v: 0.5 * math.erfc(-v / math.sqrt(2)))
    rows = []
    for s in table:
        k = max(1, math.ceil(s * 5.5))
        edges = (np.arange(-k, k + 2) - 0.5) / s
        cdf = ncdf(edges)
        pmf = np.diff(cdf)
        tail = 2 * ncdf(-(k + 0.5) / s)
        rows.append(np.append(pmf, max(tail, TAIL_MASS)))
    pmf, lens = _pad_rows(rows)
    return {"scale_table": table, "y_pmf": pmf, "y_len": lens}


@torch.no_grad()
def factorized_tables(bottleneck, search: float = 512.0) -> dict[str, np.ndarray]:
    """Per-channel pmfs of the learned factorized density, centred on each channel's median."""
    c = bottleneck.channels
    gridn, cdf = bottleneck.cdf_grid(search)
    medians = grid_medians(gridn, cdf)
    rows = []
    for i in range(c):
        lo = np.interp(TAIL_MASS / 2, cdf[i], gridn)
        hi = np.interp(1 - TAIL_MASS / 2, cdf[i], gridn)
        k = int(min(255, max(1, math.ceil(max(medians[i] - lo, hi - medians[i])))))
        pts = torch.tensor(medians[i] + np.arange(-k, k + 2) - 0.5, dtype=torch.float32)
        cdf_i = bottleneck.cdf(pts.repeat(c, 1))[i].double().numpy()
        pmf = np.clip(np.diff(cdf_i), 0, None)
        tail = max(1.0 - (cdf_i[-1] - cdf_i[0]), TAIL_MASS)
        rows.append(np.append(pmf, tail))
    pmf, lens = _pad_rows(rows)
    return {"z_pmf": pmf, "z_len": lens, "z_medians": medians.astype(np.float32)}


def _hyper_layers(h_s: nn.Sequential) -> tuple[list[nn.Module], float]:
    """The convolutions of ``h_s`` and the slope of the LeakyReLU between them."""
    mods = list(h_s)
    convs = [m for m in mods if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    acts = [m for m in mods if not isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    expected = []
    for conv in convs[:-1]:
        expected += [conv, "leaky"]
    expected.append(convs[-1] if convs else None)
    got = [m if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) else
           ("leaky" if isinstance(m, nn.LeakyReLU) else m) for m in mods]
    if got != expected:
        raise ValueError("fixed-point export needs h_s = conv, LeakyReLU, ..., conv")
    slopes = {float(m.negative_slope) for m in acts}
    if len(slopes) > 1:
        raise ValueError("fixed-point export needs one LeakyReLU slope")
    for c in convs:
        if c.groups != 1 or len(set(c.kernel_size)) != 1 or len(set(c.stride)) != 1 or \
                len(set(c.padding)) != 1 or set(c.dilation) != {1} or c.bias is None or \
                (isinstance(c, nn.Conv2d) and c.stride[0] != 1) or \
                (isinstance(c, nn.ConvTranspose2d) and len(set(c.output_padding)) != 1):
            raise ValueError(f"fixed-point export does not support {c}")
    return convs, slopes.pop() if slopes else 0.0


def quantise_conv(c: nn.Module, frac_bits: int, what: str, weight: torch.Tensor | None = None,
                  clamp_cap: int = HYPER_CLAMP_CAP) -> tuple[dict[str, np.ndarray], int]:
    """One convolution as integers for exact fixed-point evaluation: ``w`` (W fractional bits,
    the most with ``|w_q| <= 2**15``), ``b`` (in the accumulator scale F + W, plus ``2**(W-1)``
    so the floor shift rounds), ``shift`` (W) and ``geom``; and the largest input clamp A
    (at most ``clamp_cap``) with ``max_c sum|w_q| * A + |b_q| < 2**52``.  ``weight``
    replaces the layer's own weights (a masked kernel)."""
    w = (c.weight if weight is None else weight).detach().double().numpy()
    b = c.bias.detach().double().numpy()
    peak = float(np.abs(w).max())
    shift = int(np.floor(np.log2(HYPER_WEIGHT_LIMIT / peak))) if peak > 0 else 30
    shift = min(shift, 30)
    while np.abs(np.round(w * 2.0 ** shift)).max() > HYPER_WEIGHT_LIMIT:
        shift -= 1
    if shift < 1:
        raise ValueError(f"{what}: weights up to {peak:g} are too large to quantise")
    w_q = np.round(w * 2.0 ** shift).astype(np.int64)
    b_q = np.round(b * 2.0 ** (frac_bits + shift)).astype(np.int64) + 2 ** (shift - 1)
    transposed = isinstance(c, nn.ConvTranspose2d)
    per_out = np.abs(w_q).sum(axis=(0, 2, 3) if transposed else (1, 2, 3))
    budget = EXACT_LIMIT - 1 - int(np.abs(b_q).max())
    clamp = min(clamp_cap, budget // max(int(per_out.max()), 1))
    if clamp < 2 ** (frac_bits + 8):
        raise ValueError(f"{what}: activations would be clamped below 256")
    assert int(per_out.max()) * clamp + int(np.abs(b_q).max()) < EXACT_LIMIT
    geom = [int(transposed), c.stride[0], c.padding[0], c.output_padding[0] if transposed else 0]
    return {"w": w_q.astype(np.int32), "b": b_q, "shift": np.array(shift, np.int64),
            "geom": np.array(geom, np.int64)}, clamp


@torch.no_grad()
def hyper_fixed_tables(h_s: nn.Sequential, frac_bits: int = HYPER_FRAC_BITS
                       ) -> dict[str, np.ndarray]:
    """Quantise ``h_s`` for exact fixed-point evaluation (:mod:`app.fixedpoint.hyper`): every
    layer as :func:`quantise_conv` gives it, the clamps and the integer LeakyReLU."""
    convs, slope = _hyper_layers(h_s)
    out: dict[str, np.ndarray] = {}
    clamps = []
    for i, c in enumerate(convs):
        layer, clamp = quantise_conv(c, frac_bits, f"h_s layer {i}")
        clamps.append(clamp)
        out.update({f"hs{i}_{k}": v for k, v in layer.items()})
    out["hyper_frac_bits"] = np.array(frac_bits, np.int64)
    out["hyper_clamp"] = np.array(clamps, np.int64)
    out["hyper_leaky"] = np.array([round(slope * 2 ** HYPER_LEAKY_SHIFT), HYPER_LEAKY_SHIFT],
                                  np.int64)
    return out


@torch.no_grad()
def check_hyper_fixed(model, tables: dict[str, np.ndarray], size: tuple[int, int] = (6, 8),
                      seed: int = 0) -> dict[str, float]:
    """Compare the fixed-point h_s with the float torch h_s on random hyper-latents.

    Returns the mean absolute differences of means and scales relative to the mean magnitude
    of the float values, and the fraction of scale indexes that agree."""
    unit = 2.0 ** -int(tables["hyper_frac_bits"])
    g = torch.Generator().manual_seed(seed)
    z_sym = torch.round(torch.randn(1, model.N, *size, generator=g, dtype=torch.float64) * 2)
    med = torch.from_numpy(tables["z_medians_q"] * unit)
    z_hat = (z_sym + med[None, :, None, None]).float()
    ref_means, ref_scales = (t.double().numpy() for t in model.hyper_params(z_hat))
    hyper = FixedHyperSynthesis(tables)
    means_q, scales_q = hyper.fixed(z_sym.numpy())
    return compare_fixed(hyper, tables["scale_table"], means_q, scales_q, ref_means, ref_scales)


def compare_fixed(hyper: FixedHyperSynthesis, scale_table: np.ndarray, means_q: np.ndarray,
                  scales_q: np.ndarray, ref_means: np.ndarray, ref_scales: np.ndarray
                  ) -> dict[str, float]:
    """Fixed-point (means_q, scales_q) of the integer network whose ``h_s`` is ``hyper``
    against float (means, scales): the mean absolute differences relative to the mean
    magnitude of the float values, and the fraction of scale indexes that agree."""
    idx = hyper.scale_index(scales_q)
    ref_idx = np.minimum(np.searchsorted(scale_table, ref_scales, side="left"),
                         len(scale_table) - 1)

    def rel(got, ref):
        return float(np.abs(got - ref).mean() / max(np.abs(ref).mean(), 1e-3))

    return {"means": rel(means_q * hyper.unit, ref_means),
            "scales": rel(scales_q * hyper.unit, ref_scales),
            "index_agreement": float((idx == ref_idx).mean())}


def codec_tables(model) -> dict[str, np.ndarray]:
    tables = {
        "gains": torch.exp(model.log_gain).detach().double().numpy(),
        "inv_gains": torch.exp(model.log_inv_gain).detach().double().numpy(),
        "lambdas": model.lambdas.double().numpy(),
    }
    tables.update(gaussian_tables())
    tables.update(factorized_tables(model.entropy_bottleneck))
    tables.update(hyper_fixed_tables(model.h_s))
    f = int(tables["hyper_frac_bits"])
    # floor: scale_table[i] >= s_q / 2**F  <=>  floor(scale_table[i] * 2**F) >= s_q
    tables["scale_table_q"] = np.floor(tables["scale_table"] * 2.0 ** f).astype(np.int64)
    tables["z_medians_q"] = np.round(tables["z_medians"].astype(np.float64) * 2.0 ** f
                                     ).astype(np.int64)
    return tables
