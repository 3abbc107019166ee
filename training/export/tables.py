"""Freeze entropy models into probability tables the app codes with ``constriction``.

Every table row is a pmf over integer symbols ``-K .. K`` followed by one escape bin that
holds the tail mass; symbols outside ``-K .. K`` are coded as the escape and stored apart.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..archs.entropy import scale_table

TAIL_MASS = 1e-7


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
    grid = torch.linspace(-search, search, 2 ** 16 + 1)
    cdf = bottleneck.cdf(grid.repeat(c, 1)).double().numpy()
    gridn = grid.double().numpy()
    medians = np.array([np.interp(0.5, cdf[i], gridn) for i in range(c)])
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


def codec_tables(model) -> dict[str, np.ndarray]:
    tables = {
        "gains": torch.exp(model.log_gain).detach().double().numpy(),
        "inv_gains": torch.exp(model.log_inv_gain).detach().double().numpy(),
        "lambdas": model.lambdas.double().numpy(),
    }
    tables.update(gaussian_tables())
    tables.update(factorized_tables(model.entropy_bottleneck))
    return tables
