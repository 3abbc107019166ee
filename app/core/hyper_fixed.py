"""Fixed-point hyper-synthesis: the same means and scale indexes on every machine.

The decoder must derive every latent's scale index from the hyper-latent exactly as the encoder
did; a float network can land on the other side of a scale-table boundary on another machine,
thread count or execution provider, and then the range decoder desynchronises.  Models whose
manifest says ``params["hyper"] == "fixed-point-v1"`` therefore ship their hyper-synthesis as
integers in ``tables.npz`` and this module evaluates it in integer arithmetic:

- activations are integers with ``F = hyper_frac_bits`` fractional bits; the decoded hyper-latent
  enters as ``z_sym * 2**F + z_medians_q`` (clamped to ``hyper_clamp[0]``);
- layer ``l`` has integer weights ``hs{l}_w`` (``|w| <= 2**15``, ``hs{l}_shift`` = W fractional
  bits, torch layout), integer biases ``hs{l}_b`` in the accumulator scale (F + W bits, with the
  rounding offset ``2**(W-1)`` folded in) and a geometry ``hs{l}_geom`` =
  (transposed, stride, padding, output_padding);
- after each layer: ``floor(acc / 2**W)``; between layers the result is clamped to
  ``+-hyper_clamp[l+1]`` and passed through an integer LeakyReLU
  (``a < 0: floor(a * num / 2**shift)``, ``hyper_leaky = (num, shift)``);
- the last layer gives ``2M`` channels: scales then means; a scale's index is the first entry of
  the integer thresholds ``scale_table_q = floor(scale_table * 2**F)`` that is not smaller,
  which is exactly the first ``scale_table`` entry not smaller than ``scales_q / 2**F``.

Everything is computed with float64 BLAS matrix products holding integers.  The export chose the
clamps so that, for every output, ``sum|w| * clamp + |b| < 2**52``: every partial sum in any
order is then an integer below ``2**53``, which float64 represents exactly, so the summation
order, blocking, FMA and thread count cannot change a single bit.  The loader re-checks this bound.

Convolutions are im2col + matmul on row bands (bounded memory for large images); transposed
convolutions use the polyphase (sub-pixel) form instead of inserting zeros.
"""

from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np

VERSION = "fixed-point-v1"
EXACT_LIMIT = 2 ** 52
# Memory budget: activations of one band of rows, and one im2col block.
BAND_BYTES = 24 << 20
BLOCK_BYTES = 32 << 20


class HyperTablesError(ValueError):
    """The fixed-point tables are missing, inconsistent or not provably exact."""


class FixedLayer:
    """One integer convolution (stride 1) or transposed convolution (stride s).

    A transposed convolution is run in its sub-pixel (polyphase) form: output ``o = s*q + r``
    only receives the kernel taps ``kk = r + p - s*d`` that land on it, from input ``q + d``.
    Every phase reads the same small neighbourhood of offsets ``d``, so one matrix product of
    the im2col of that neighbourhood with a ``(taps*cin, s*s*cout)`` matrix (zero where a
    phase has no tap) gives all phases at once, and a depth-to-space interleaves them.  No
    zeros are inserted into the input; a convolution is the single phase of stride 1.
    Activations are HWC float64 arrays holding integers.
    """

    def __init__(self, weight: np.ndarray, bias: np.ndarray, geom) -> None:
        w = np.asarray(weight)
        transposed, stride, padding, out_pad = (int(v) for v in np.asarray(geom).ravel())
        if w.ndim != 4 or w.shape[2] != w.shape[3] or w.shape[2] < 1:
            raise HyperTablesError(f"layer weights must be square kernels, got {w.shape}")
        k = w.shape[2]
        if stride < 1 or padding < 0 or out_pad < 0 or (transposed and out_pad >= stride) or \
                (not transposed and (stride, out_pad) != (1, 0)):
            raise HyperTablesError(f"unsupported layer geometry {tuple(np.ravel(geom))}")
        if transposed:
            self.cin, self.cout = w.shape[:2]
            wt = w                                   # (cin, cout, k, k)
        else:
            self.cout, self.cin = w.shape[:2]
            wt = w.transpose(1, 0, 2, 3)             # (cin, cout, k, k)
        self.transposed, self.s, self.p, self.op, self.k = bool(transposed), stride, padding, \
            out_pad, k
        self.bias = np.asarray(bias, np.float64).reshape(-1)
        if self.bias.shape != (self.cout,):
            raise HyperTablesError(f"bias has {self.bias.shape}, expected ({self.cout},)")

        def kernel_index(r: int, d: int) -> int | None:
            kk = r + padding - stride * d if transposed else d + padding
            return kk if 0 <= kk < k else None

        if transposed:
            ds = [(r + padding - kk) // stride for r in range(stride) for kk in range(k)
                  if (kk - r - padding) % stride == 0]
        else:
            ds = [kk - padding for kk in range(k)]
        self.dmin, self.dmax = min(ds), max(ds)
        offsets = range(self.dmin, self.dmax + 1)
        self.taps = [(dy, dx) for dy in offsets for dx in offsets]
        mat = np.zeros((len(self.taps), self.cin, stride, stride, self.cout), np.float64)
        for t, (dy, dx) in enumerate(self.taps):
            for ry in range(stride):
                for rx in range(stride):
                    ky, kx = kernel_index(ry, dy), kernel_index(rx, dx)
                    if ky is not None and kx is not None:
                        mat[t, :, ry, rx] = wt[:, :, ky, kx]
        # taps whose weights are all zero (a masked kernel) add nothing: leave them out
        used = [t for t in range(len(self.taps)) if mat[t].any()] or [0]
        self.taps = [self.taps[t] for t in used]
        self.matrix = mat[used].reshape(len(used) * self.cin, stride * stride * self.cout)
        self.phase_bias = np.tile(self.bias, stride * stride)
        # exactness bound: the largest sum of |w| feeding one output channel
        self.abs_sum = int(np.abs(wt.astype(np.float64)).sum(axis=(0, 2, 3)).max())

    def keeps_exact(self, clamp: int) -> bool:
        """Whether inputs clamped to ``+-clamp`` keep every partial sum below 2**52."""
        return bool(np.all(np.abs(self.bias) < EXACT_LIMIT)) and \
            self.abs_sum * int(clamp) + int(np.abs(self.bias).max(initial=0)) < EXACT_LIMIT

    def out_size(self, n: int) -> int:
        if self.transposed:
            return (n - 1) * self.s - 2 * self.p + self.k + self.op
        return n + 2 * self.p - self.k + 1

    def align(self, o0: int, o1: int, out_n: int) -> tuple[int, int]:
        """Widen an output row range so that it starts on phase 0."""
        return o0 - o0 % self.s, min(out_n, o1 + (-o1) % self.s)

    def input_rows(self, o0: int, o1: int) -> tuple[int, int]:
        """Input rows [g0, g1) that output rows [o0, o1) read (o0 aligned); may lie outside."""
        return o0 // self.s + self.dmin, (o1 - 1) // self.s + self.dmax + 1

    def forward_rows(self, x: np.ndarray, x0: int, in_h: int, o0: int, o1: int) -> np.ndarray:
        """Accumulators (with bias) of output rows [o0, o1) from the band ``x`` (HWC float64
        holding input rows [x0, x0 + len(x))); rows outside [0, in_h) count as zeros."""
        s, cin = self.s, self.cin
        in_w = x.shape[1]
        out_w = self.out_size(in_w)
        rows, cols = -(-(o1 - o0) // s), -(-out_w // s)       # grid of q (per phase)
        g0, g1 = o0 // s + self.dmin, o0 // s + rows - 1 + self.dmax + 1
        c0, c1 = self.dmin, cols - 1 + self.dmax + 1
        xp = np.zeros((g1 - g0, c1 - c0, cin), np.float64)
        r_lo, r_hi = max(g0, x0, 0), min(g1, x0 + len(x), in_h)
        if r_hi > r_lo:
            cl, ch = max(c0, 0), min(c1, in_w)
            xp[r_lo - g0:r_hi - g0, cl - c0:ch - c0] = x[r_lo - x0:r_hi - x0, cl:ch]
        kdim = self.matrix.shape[0]
        step = max(1, BLOCK_BYTES // (cols * kdim * 8))
        out = None if step >= rows else np.empty((rows * s, cols * s, self.cout), np.float64)
        for j0 in range(0, rows, step):
            j1 = min(rows, j0 + step)
            patches = np.concatenate([xp[j0 + dy - self.dmin:j1 + dy - self.dmin,
                                         dx - c0:dx - c0 + cols] for dy, dx in self.taps], -1)
            acc = patches.reshape(-1, kdim) @ self.matrix
            del patches
            acc += self.phase_bias
            acc = acc.reshape(j1 - j0, cols, s, s, self.cout)     # depth to space
            if out is None:                                        # one block: no extra copy
                out = acc.transpose(0, 2, 1, 3, 4).reshape(rows * s, cols * s, self.cout)
            else:
                out[s * j0:s * j1] = acc.transpose(0, 2, 1, 3, 4).reshape(
                    (j1 - j0) * s, cols * s, self.cout)
        return out[:o1 - o0, :out_w]


class FixedHyperSynthesis:
    """The integer hyper-synthesis of one codec model (arrays from its ``tables.npz``)."""

    def __init__(self, arrays: Mapping[str, np.ndarray]):
        try:
            self.frac_bits = int(arrays["hyper_frac_bits"])
            self.clamp = np.asarray(arrays["hyper_clamp"], np.int64).ravel()
            num, shift = (int(v) for v in np.asarray(arrays["hyper_leaky"]).ravel())
            self.medians_q = np.asarray(arrays["z_medians_q"], np.int64).ravel()
            self.scale_table_q = np.asarray(arrays["scale_table_q"], np.int64).ravel()
            n_layers = len(self.clamp)
            self.layers, self.shifts = [], []
            for i in range(n_layers):
                self.layers.append(FixedLayer(arrays[f"hs{i}_w"], arrays[f"hs{i}_b"],
                                              arrays[f"hs{i}_geom"]))
                self.shifts.append(int(arrays[f"hs{i}_shift"]))
        except KeyError as exc:
            raise HyperTablesError(f"fixed-point hyper-synthesis table {exc} is missing") from None
        self.leaky = (num, shift)
        self.leaky_factor = num * 2.0 ** -shift           # exact: num / 2**shift
        self._check()
        self.hyper_channels = self.layers[0].cin
        self.latent_channels = self.layers[-1].cout // 2
        self.scale_thresholds = self.scale_table_q.astype(np.float64)
        self.index_dtype = np.uint8 if len(self.scale_table_q) <= 256 else np.int32

    def _check(self) -> None:
        if not self.layers:
            raise HyperTablesError("no hyper-synthesis layers")
        if not 0 <= self.frac_bits <= 24 or not 0 <= self.leaky[1] <= 30 or \
                not 0 <= self.leaky[0] <= 2 ** self.leaky[1]:
            raise HyperTablesError("bad fixed-point parameters")
        if len(self.medians_q) != self.layers[0].cin:
            raise HyperTablesError("z_medians_q does not match the first layer")
        if self.layers[-1].cout % 2 or len(self.scale_table_q) == 0 or \
                np.any(np.diff(self.scale_table_q) < 0):
            raise HyperTablesError("bad output layer or scale thresholds")
        for i, (layer, shift) in enumerate(zip(self.layers, self.shifts)):
            a = int(self.clamp[i])
            if i and layer.cin != self.layers[i - 1].cout:
                raise HyperTablesError(f"layer {i} input channels do not chain")
            if not 0 <= shift <= 48 or a < 0 or a * max(self.leaky[0], 1) >= EXACT_LIMIT:
                raise HyperTablesError(f"layer {i}: bad shift or clamp")
            if not layer.keeps_exact(a):
                raise HyperTablesError(f"layer {i}: clamp {a} does not keep float64 sums exact")

    # -- entry points -----------------------------------------------------------------------
    def fixed_input(self, z_sym: np.ndarray) -> np.ndarray:
        """(1, N, h, w) integer symbols -> HWC float64 fixed-point z_hat, clamped."""
        z = np.asarray(z_sym)
        if z.ndim != 4 or z.shape[0] != 1 or z.shape[1] != self.hyper_channels:
            raise ValueError(f"z symbols must be (1, {self.hyper_channels}, h, w), got {z.shape}")
        zq = np.clip(z[0].astype(np.float64), -2.0 ** 31, 2.0 ** 31) * 2.0 ** self.frac_bits
        zq += self.medians_q.astype(np.float64)[:, None, None]
        a = float(self.clamp[0])
        return np.clip(zq, -a, a).transpose(1, 2, 0).copy()

    def fixed(self, z_sym: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Integer (means_q, scales_q), each (1, M, H, W) int64, in units of 2**-F."""
        m = self.latent_channels
        shape = self._out_shape(z_sym)
        means = np.empty(shape, np.int64)
        scales = np.empty(shape, np.int64)
        for a, b, band in self._bands(z_sym):
            scales[0, :, a:b] = band[..., :m].transpose(2, 0, 1)
            means[0, :, a:b] = band[..., m:].transpose(2, 0, 1)
        return means, scales

    def __call__(self, z_sym: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(means as float32, scale indexes) for integer hyper-latent symbols (1, N, h, w).

        The means are exact binary fractions ``means_q / 2**F``; the indexes are
        ``searchsorted(scale_table_q, scales_q, 'left')`` clipped to the table."""
        m = self.latent_channels
        shape = self._out_shape(z_sym)
        means = np.empty(shape, np.float32)
        index = np.empty(shape, self.index_dtype)
        unit = 2.0 ** -self.frac_bits
        top = len(self.scale_thresholds) - 1
        for a, b, band in self._bands(z_sym):
            idx = np.searchsorted(self.scale_thresholds, band[..., :m], side="left")
            index[0, :, a:b] = np.minimum(idx, top).transpose(2, 0, 1)
            means[0, :, a:b] = (band[..., m:] * unit).transpose(2, 0, 1)
        return means, index

    # -- internals --------------------------------------------------------------------------
    def _sizes(self, h: int, w: int) -> list[tuple[int, int]]:
        sizes = [(h, w)]
        for layer in self.layers:
            sizes.append((layer.out_size(sizes[-1][0]), layer.out_size(sizes[-1][1])))
        return sizes

    def _out_shape(self, z_sym) -> tuple[int, int, int, int]:
        h, w = np.shape(z_sym)[2:]
        oh, ow = self._sizes(h, w)[-1]
        return 1, self.latent_channels, oh, ow

    def _band_rows(self, sizes) -> int:
        out_h = max(sizes[-1][0], 1)
        per_row = max((oh / out_h) * ow * layer.cout * 8
                      for layer, (oh, ow) in zip(self.layers, sizes[1:]))
        return max(4, int(BAND_BYTES // max(per_row, 1)))

    def _bands(self, z_sym) -> Iterator[tuple[int, int, np.ndarray]]:
        """Final fixed-point outputs (HWC float64 integers), band of rows by band of rows."""
        z = self.fixed_input(z_sym)
        sizes = self._sizes(*z.shape[:2])
        out_h = sizes[-1][0]
        step = self._band_rows(sizes)
        last = len(self.layers) - 1
        for a in range(0, out_h, step):
            b = min(out_h, a + step)
            # rows each layer must produce, from the last layer back to the input
            ranges = [None] * len(self.layers)
            o0, o1 = a, b
            for i in range(last, -1, -1):
                o0, o1 = self.layers[i].align(o0, o1, sizes[i + 1][0])
                ranges[i] = (o0, o1)
                g0, g1 = self.layers[i].input_rows(o0, o1)
                o0, o1 = max(0, g0), min(sizes[i][0], g1)
            x, x0 = z[o0:o1], o0
            for i, layer in enumerate(self.layers):
                r0, r1 = ranges[i]
                acc = layer.forward_rows(x, x0, sizes[i][0], r0, r1)
                acc *= 2.0 ** -self.shifts[i]                # exact: power-of-two scaling
                np.floor(acc, out=acc)
                if i < last:
                    clamp_leaky(acc, float(self.clamp[i + 1]), self.leaky_factor)
                x, x0 = acc, r0
            yield a, b, x[a - x0:b - x0]


def clamp_leaky(acc: np.ndarray, lim: float, factor: float) -> None:
    """Between two integer layers, in place: clamp to ``+-lim``, then the integer LeakyReLU
    (a negative value times ``factor`` = num / 2**shift, floored; exact: below 2**53)."""
    np.clip(acc, -lim, lim, out=acc)
    neg = acc < 0
    np.multiply(acc, factor, out=acc, where=neg)
    np.floor(acc, out=acc, where=neg)


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, padding: int) -> np.ndarray:
    """Stride-1 convolution of an HWC float64 array (torch weight layout (cout, cin, k, k))."""
    layer = FixedLayer(weight, bias, (0, 1, padding, 0))
    return layer.forward_rows(x, 0, len(x), 0, layer.out_size(len(x)))


def conv_transpose2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int,
                     padding: int, output_padding: int) -> np.ndarray:
    """Transposed convolution of an HWC float64 array (torch layout (cin, cout, k, k))."""
    layer = FixedLayer(weight, bias, (1, stride, padding, output_padding))
    return layer.forward_rows(x, 0, len(x), 0, layer.out_size(len(x)))
