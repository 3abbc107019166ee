"""Channel groups on top of the checkerboard, in fixed point
(``params["context"] == "channel-checkerboard-v1"``).

The latent's ``M`` channels are cut into ``K`` groups (``cc_groups``, e.g. 16, 16, 32, 64, 64)
and coded in ``2K`` passes, one stream, in this order::

    pass k      (k < K): the anchors ((row + col) even) of group k
    pass K + k:          the other positions of group k

Every pass starts from the checkerboard model's integer parameters ``B`` (scales then means,
``2M`` channels, :mod:`app.fixedpoint.checkerboard`): its anchor parameters in passes
``0..K-1``, its other-position parameters in passes ``K..2K-1`` (their context reads the
anchors of every channel, all decoded by then, with the anchor means of this model).  Pass
``i`` adds, for the ``c`` channels of its group at offset ``o``, in units of ``2**-F``:

- the decoded input ``D``: ``y_sym * 2**F + means_q`` of every symbol decoded by an earlier
  pass (clamped to ``+-cc_clamp[i, 0]``), zero elsewhere; anchor passes read the first ``o``
  channels, the others all ``M``;
- ``cc{i}_cx``: a ``k x k`` convolution of ``D`` (padding ``k // 2``, zeros outside), floor
  shift, clamp to ``+-cc_clamp[i, 1]`` (absent in a pass with nothing decoded before it);
- ``cc{i}_ep{l}``: 1x1 layers on ``concat(B clamped to +-cc_clamp[i, 1], context)``: floor
  shift after each, and between two layers clamp to ``+-cc_clamp[i, l + 2]`` and the integer
  LeakyReLU of ``h_s``; the last gives ``2c`` values, scales then means;
- parameters of the group: ``(B[o:o+c] + r[:c], B[M+o:M+o+c] + r[c:])`` clamped to
  ``+-context_param_limit``; scale index and float32 mean as ``h_s``'s.

Within a pass the symbols are taken channel by channel, each channel's positions in raster
order (the entropy coder then groups them by scale index).  Sums are exact in float64 by the
bound of every layer (checked on load).
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from .checkerboard import FixedCheckerboard, anchor_mask, position_bands
from .layers import MAX_SHIFT, FixedLayer, clamp_leaky, floor_shift
from .tables import TablesError

# take(pass, channels, sel, means, index) -> the pass's symbols, (c, n) int64: the encoder
# rounds its latent, the decoder reads them from the stream.
Take = Callable[[int, slice, np.ndarray, np.ndarray, np.ndarray], np.ndarray]


class FixedChannelCheckerboard:
    """The integer channel-group layers of one ``channel-checkerboard-v1`` codec."""

    def __init__(self, arrays: Mapping[str, np.ndarray], base: FixedCheckerboard):
        self.base = base
        self.hyper = base.hyper
        self.m = base.m
        try:
            self.groups = [int(c) for c in np.asarray(arrays["cc_groups"]).ravel()]
            self.clamp = np.asarray(arrays["cc_clamp"], np.int64)
            n = 2 * len(self.groups)
            self.cx: list[FixedLayer | None] = []
            self.cx_shift: list[int] = []
            self.ep: list[list[FixedLayer]] = []
            self.ep_shifts: list[list[int]] = []
            for i in range(n):
                has_cx = f"cc{i}_cx_w" in arrays
                self.cx.append(FixedLayer(arrays[f"cc{i}_cx_w"], arrays[f"cc{i}_cx_b"],
                                          arrays[f"cc{i}_cx_geom"]) if has_cx else None)
                self.cx_shift.append(int(arrays[f"cc{i}_cx_shift"]) if has_cx else 0)
                layers = self.clamp.shape[1] - 1 if self.clamp.ndim == 2 else 0
                self.ep.append([FixedLayer(arrays[f"cc{i}_ep{j}_w"], arrays[f"cc{i}_ep{j}_b"],
                                           arrays[f"cc{i}_ep{j}_geom"]) for j in range(layers)])
                self.ep_shifts.append([int(arrays[f"cc{i}_ep{j}_shift"]) for j in range(layers)])
        except KeyError as exc:
            raise TablesError(f"channel context table {exc} is missing") from None
        self.offsets = [int(v) for v in np.cumsum([0, *self.groups])[:-1]]
        self._check()

    def _check(self) -> None:
        k, m = len(self.groups), self.m
        if not self.groups or min(self.groups) < 1 or sum(self.groups) != m:
            raise TablesError(f"channel groups {self.groups} do not split {m} channels")
        if self.clamp.ndim != 2 or self.clamp.shape[0] != 2 * k or self.clamp.shape[1] < 2 or \
                np.any(self.clamp < 0) or np.any(self.clamp[:, 1] > 2 ** 31 - 1):
            raise TablesError("bad channel context clamps")
        for i in range(2 * k):
            cin = self.offsets[i] if i < k else m
            cx, ep, c = self.cx[i], self.ep[i], self.groups[i % k]
            if (cx is None) != (cin == 0) or (cx is not None and (
                    cx.transposed or cx.s != 1 or cx.k % 2 == 0 or cx.p != cx.k // 2 or
                    cx.cin != cin)):
                raise TablesError(f"channel context pass {i}: bad context layer")
            width = 2 * m + (cx.cout if cx is not None else 0)
            if any(e.k != 1 or e.transposed or e.s != 1 for e in ep) or ep[0].cin != width or \
                    ep[-1].cout != 2 * c or any(a.cout != b.cin for a, b in zip(ep, ep[1:])):
                raise TablesError(f"channel context pass {i}: layers do not chain")
            layers = ([cx] if cx is not None else []) + ep
            clamps = list(self.clamp[i][0 if cx is not None else 1:])
            shifts = ([self.cx_shift[i]] if cx is not None else []) + self.ep_shifts[i]
            for layer, a, shift in zip(layers, clamps, shifts):
                if not 0 <= shift <= MAX_SHIFT or not layer.keeps_exact(int(a)):
                    raise TablesError(f"channel context pass {i}: clamp {a} does not keep "
                                      f"float64 sums exact")

    # -- the 2K passes ----------------------------------------------------------------------
    def run(self, z_sym: np.ndarray, take: Take, params: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(means float32, scale indexes, symbols int64), each (1, M, H, W), pass by pass;
        ``take`` gives each pass's symbols once its parameters are known.  ``params``
        (1, 2M, H, W) int64, if given, receives the integer parameters, scales then means."""
        base = self.base
        p = base.hyper_params(z_sym)
        h, w = p.shape[:2]
        means = np.zeros((1, self.m, h, w), np.float32)
        index = np.zeros((1, self.m, h, w), self.hyper.index_dtype)
        y_sym = np.zeros((1, self.m, h, w), np.int64)
        # B, exact in float32 (|B| < 2**24): the anchors' now, the others' after the anchors
        b_all = np.zeros((h, w, 2 * self.m), np.float32)
        anchors = anchor_mask(h, w)
        k = len(self.groups)
        for half in range(2):
            rows = base.anchor_params(p) if half == 0 else base.other_params(p, y_sym, means)
            for a, sel, band in rows:
                b_all[a:a + len(sel)][sel] = band
            sel_half = anchors if half == 0 else ~anchors
            for g in range(k):
                i = half * k + g
                ch = slice(self.offsets[g], self.offsets[g] + self.groups[g])
                self._pass(i, b_all, y_sym, means, index, anchors, params)
                y_sym[0, ch][:, sel_half] = take(i, ch, sel_half, means, index)
        return means, index, y_sym

    def fixed(self, z_sym: np.ndarray, y_sym: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Integer (means_q, scales_q), each (1, M, H, W) int64, of every pass as a decoder of
        the latent symbols ``y_sym`` derives them."""
        h, w = y_sym.shape[2:]
        params = np.zeros((1, 2 * self.m, h, w), np.int64)
        self.run(z_sym, lambda i, ch, sel, means, index: y_sym[0, ch][:, sel], params)
        return params[:, self.m:], params[:, :self.m]

    def _pass(self, i: int, b_all: np.ndarray, y_sym: np.ndarray, means: np.ndarray,
              index: np.ndarray, anchors: np.ndarray, out: np.ndarray | None) -> None:
        """Pass ``i``'s means and scale indexes (and integer parameters into ``out``), stored
        at its group and positions."""
        k, m = len(self.groups), self.m
        g = i % k
        o, c = self.offsets[g], self.groups[g]
        cx = self.cx[i]
        h, w = anchors.shape
        f = 2.0 ** self.hyper.frac_bits
        lim0, lim1 = float(self.clamp[i, 0]), float(self.clamp[i, 1])
        cin = o if i < k else m
        for a, b in position_bands(h, w):
            sel = anchors[a:b] if i < k else ~anchors[a:b]
            base = np.clip(b_all[a:b][sel].astype(np.float64), -lim1, lim1)
            x = base
            if cx is not None:
                half = cx.k // 2
                g0, g1 = max(0, a - half), min(h, b + half)
                ys = np.clip(y_sym[0, :cin, g0:g1].astype(np.float64), -2.0 ** 31, 2.0 ** 31)
                d = np.clip(ys * f + means[0, :cin, g0:g1].astype(np.float64) * f, -lim0, lim0)
                # decoded before this pass: the earlier groups at the positions of earlier
                # passes (anchors: the anchors only; others: every position), later groups'
                # anchors in the second half
                done = np.zeros((cin, g1 - g0, w), bool)
                done[:, anchors[g0:g1]] = True
                if i >= k:
                    done[:o] = True
                d = (d * done).transpose(1, 2, 0)
                ctx = cx.at_positions(d, g0 - a + half, sel) * 2.0 ** -self.cx_shift[i]
                ctx = np.clip(np.floor(ctx), -lim1, lim1)
                x = np.concatenate([base, ctx], axis=1)
            for j, layer in enumerate(self.ep[i]):
                x = floor_shift(x @ layer.matrix + layer.bias, self.ep_shifts[i][j])
                if j < len(self.ep[i]) - 1:
                    clamp_leaky(x, float(self.clamp[i, j + 2]), self.hyper.leaky_factor)
            b_rows = b_all[a:b][sel].astype(np.float64)
            own = np.concatenate([b_rows[:, o:o + c], b_rows[:, m + o:m + o + c]], axis=1)
            params = np.clip(own + x, -self.base.limit, self.base.limit)
            r, col = np.nonzero(sel)
            r = r + a
            # (n, c) on the left too: numpy puts the advanced (row, col) axis first
            index[0, o:o + c, r, col] = self.hyper.scale_index(params[:, :c])
            means[0, o:o + c, r, col] = params[:, c:] * self.base.unit
            if out is not None:
                out[0, o:o + c, r, col] = params[:, :c]
                out[0, m + o:m + o + c, r, col] = params[:, c:]
