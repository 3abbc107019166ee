"""The checkerboard context in fixed point (``params["context"] == "checkerboard-v1"``): the
means and scale indexes of both coding passes.

The latent is coded in two passes (He et al. 2021): the *anchors*, where ``(row + col)`` is
even, first, with parameters from the hyper-latent alone; then the rest, whose parameters also
see the decoded anchors around them.  ``tables.npz`` holds, besides the fixed-point ``h_s``
(:mod:`app.fixedpoint.hyper`), an integer 5x5 context layer ``cx_*``, integer 1x1
entropy-parameter layers ``ep{l}_*`` (:mod:`app.fixedpoint.layers`), ``context_clamp`` and
``context_param_limit``; the rules, in units of ``2**-F`` (``F = hyper_frac_bits``):

- ``P`` = the ``h_s`` output (scales then means), clamped to ``+-context_clamp[1]`` (at most
  ``INPUT_CAP``);
- pass 2 context: the anchors' ``y_sym * 2**F + means_q`` (clamped to ``+-context_clamp[0]``,
  zero at the other positions) through ``cx``, floor shift, clamped to ``+-context_clamp[1]``;
  pass 1 has no context (zero), and an anchor's context is zero in both passes;
- ``ep`` layers on ``concat(P, context)``: floor shift after each; between layers clamp to
  ``+-context_clamp[l + 2]`` and the integer LeakyReLU of ``h_s``;
- parameters = ``P + ep`` clamped to ``+-context_param_limit`` (< 2**24, so a mean is exact in
  float32 and gives back the integer the context reads); scale index and mean as ``h_s``'s.

An anchor's parameters are therefore the same in both passes: pass 1 computes the anchors',
pass 2 the others'.  Sums are exact in float64 by the bound of every layer (checked on load).
"""

from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np

from .hyper import FixedHyperSynthesis
from .layers import MAX_SHIFT, FixedLayer, clamp_leaky, floor_shift
from .tables import TablesError

INPUT_CAP = 2 ** 31 - 1          # largest clamp of P and of the context
PARAM_LIMIT_MAX = 2 ** 24 - 1    # largest context_param_limit: float32 means stay exact
BAND_POSITIONS = 4096            # latent positions per band of rows (bounded memory)

# One band of a pass: (first row, positions of the band's rows it covers, their integer
# parameters (n, 2M) float64, scales then means).
ParamRows = Iterator[tuple[int, np.ndarray, np.ndarray]]


def anchor_mask(h: int, w: int) -> np.ndarray:
    """(h, w) bool: True at the anchors, where ``(row + col)`` is even."""
    return (np.add.outer(np.arange(h), np.arange(w)) % 2) == 0


def position_bands(h: int, w: int) -> list[tuple[int, int]]:
    """Row ranges [a, b) of about ``BAND_POSITIONS`` positions each."""
    rows = max(1, BAND_POSITIONS // max(w, 1))
    return [(a, min(h, a + rows)) for a in range(0, h, rows)]


class FixedCheckerboard:
    """The integer context and entropy-parameter layers of one checkerboard codec."""

    def __init__(self, arrays: Mapping[str, np.ndarray], hyper: FixedHyperSynthesis):
        self.hyper = hyper
        try:
            self.clamp = np.asarray(arrays["context_clamp"], np.int64).ravel()
            self.limit = int(arrays["context_param_limit"])
            self.cx = FixedLayer(arrays["cx_w"], arrays["cx_b"], arrays["cx_geom"])
            self.cx_shift = int(arrays["cx_shift"])
            self.ep = [FixedLayer(arrays[f"ep{i}_w"], arrays[f"ep{i}_b"], arrays[f"ep{i}_geom"])
                       for i in range(len(self.clamp) - 1)]
            self.ep_shifts = [int(arrays[f"ep{i}_shift"]) for i in range(len(self.ep))]
        except KeyError as exc:
            raise TablesError(f"checkerboard context table {exc} is missing") from None
        self._check()
        self.m = hyper.latent_channels
        self.unit = hyper.unit

    def _check(self) -> None:
        m2 = 2 * self.hyper.latent_channels
        layers = [self.cx, *self.ep]
        if not self.ep or self.cx.transposed or self.cx.s != 1 or self.cx.k % 2 == 0 or \
                self.cx.p != self.cx.k // 2 or (self.cx.cin, self.cx.cout) != (m2 // 2, m2):
            raise TablesError("bad context layer")
        if any(e.k != 1 or e.transposed or e.s != 1 for e in self.ep) or \
                self.ep[0].cin != 2 * m2 or self.ep[-1].cout != m2 or \
                any(a.cout != b.cin for a, b in zip(self.ep, self.ep[1:])):
            raise TablesError("entropy-parameter layers do not chain")
        if not 0 < self.limit <= PARAM_LIMIT_MAX or not 0 < self.clamp[1] <= INPUT_CAP or \
                np.any(self.clamp < 0):
            raise TablesError("bad context clamps")
        shifts = [self.cx_shift, *self.ep_shifts]
        for i, (layer, a, shift) in enumerate(zip(layers, self.clamp, shifts)):
            if not 0 <= shift <= MAX_SHIFT or not layer.keeps_exact(a):
                raise TablesError(f"context layer {i}: clamp {a} does not keep float64 "
                                  f"sums exact")

    def hyper_params(self, z_sym: np.ndarray) -> np.ndarray:
        """``P``: the clamped integer ``h_s`` output, HWC int32 (scales then means)."""
        return self.hyper.fixed_hwc(z_sym, int(self.clamp[1]))

    def first_pass(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(means float32, scale indexes), each (1, M, H, W), valid at the anchors."""
        h, w = p.shape[:2]
        means = np.zeros((1, self.m, h, w), np.float32)
        index = np.zeros((1, self.m, h, w), self.hyper.index_dtype)
        for a, sel, params in self.anchor_params(p):
            self._store(means, index, a, sel, params)
        return means, index

    def second_pass(self, p: np.ndarray, y_sym: np.ndarray, means: np.ndarray,
                    index: np.ndarray) -> None:
        """Fill the other positions of ``means`` and ``index`` (pass 1's, in place) from the
        anchors' symbols ``y_sym`` (1, M, H, W)."""
        for a, sel, params in self.other_params(p, y_sym, means):
            self._store(means, index, a, sel, params)

    def fixed(self, z_sym: np.ndarray, y_sym: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Integer (means_q, scales_q), each (1, M, H, W) int64, of both passes as a decoder
        of the latent symbols ``y_sym`` derives them."""
        p = self.hyper_params(z_sym)
        means, _ = self.first_pass(p)
        out = np.zeros(p.shape, np.int64)
        fill_params(out, self.anchor_params(p))
        fill_params(out, self.other_params(p, y_sym, means))
        out = out.transpose(2, 0, 1)[None]
        return out[:, self.m:], out[:, :self.m]

    def anchor_params(self, p: np.ndarray) -> ParamRows:
        """Pass 1, band by band: the anchors' integer parameters."""
        h, w = p.shape[:2]
        anchors = anchor_mask(h, w)
        for a, b in position_bands(h, w):
            sel = anchors[a:b]
            yield a, sel, self._params(p[a:b][sel], None)

    def other_params(self, p: np.ndarray, y_sym: np.ndarray, means: np.ndarray) -> ParamRows:
        """Pass 2, band by band: the other positions' integer parameters, from the anchors'
        symbols ``y_sym`` and means ``means`` (1, M, H, W); only anchors are read."""
        h, w = p.shape[:2]
        half = self.cx.k // 2
        f, lim0, lim1 = 2.0 ** self.hyper.frac_bits, float(self.clamp[0]), float(self.clamp[1])
        anchors = anchor_mask(h, w)
        for a, b in position_bands(h, w):
            g0, g1 = max(0, a - half), min(h, b + half)
            ys = np.clip(y_sym[0, :, g0:g1].astype(np.float64), -2.0 ** 31, 2.0 ** 31)
            x = np.clip(ys * f + means[0, :, g0:g1].astype(np.float64) * f, -lim0, lim0)
            x = (x * anchors[None, g0:g1]).transpose(1, 2, 0)
            ctx = self.cx.forward_rows(x, g0, h, a, b) * 2.0 ** -self.cx_shift
            sel = ~anchors[a:b]
            ctx = np.clip(np.floor(ctx[sel]), -lim1, lim1)
            yield a, sel, self._params(p[a:b][sel], ctx)

    # -- internals --------------------------------------------------------------------------
    def _params(self, p: np.ndarray, ctx: np.ndarray | None) -> np.ndarray:
        """(n, 2M) float64 integer parameters of ``n`` positions from their ``P`` and context."""
        p = p.astype(np.float64)
        first = self.ep[0].matrix
        m2 = p.shape[1]
        x = p @ first[:m2] + self.ep[0].bias
        if ctx is not None:
            x += ctx @ first[m2:]
        for i, layer in enumerate(self.ep):
            if i:
                x = x @ layer.matrix + layer.bias
            floor_shift(x, self.ep_shifts[i])
            if i < len(self.ep) - 1:
                clamp_leaky(x, float(self.clamp[i + 2]), self.hyper.leaky_factor)
        return np.clip(p + x, -self.limit, self.limit)

    def _store(self, means, index, row0: int, sel: np.ndarray, params: np.ndarray) -> None:
        rows, cols = np.nonzero(sel)
        rows = rows + row0
        index[0, :, rows, cols] = self.hyper.scale_index(params[:, :self.m])
        means[0, :, rows, cols] = params[:, self.m:] * self.unit


def fill_params(out: np.ndarray, rows: ParamRows) -> None:
    """Write a pass's integer parameters into ``out`` (H, W, 2M) at their positions."""
    for a, sel, params in rows:
        out[a:a + len(sel)][sel] = params
