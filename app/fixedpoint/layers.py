"""One integer layer of the fixed-point networks, evaluated exactly with float64 matrix products.

A layer is ``w`` (integer weights, torch layout, ``shift`` = W fractional bits), ``b`` (integer
biases in the accumulator scale F + W, the rounding offset ``2**(W-1)`` folded in) and ``geom`` =
(transposed, stride, padding, output_padding).  Its output is ``floor(acc / 2**W)``; between two
layers the result is clamped and passed through the integer LeakyReLU (:func:`clamp_leaky`).

Exactness: inputs are clamped to ``+-A`` with ``sum|w| * A + |b| < 2**52`` for every output
channel (:meth:`FixedLayer.keeps_exact`), so every partial sum in any order is an integer below
``2**53``, which float64 holds exactly: summation order, blocking, FMA and thread count cannot
change a bit.

Convolutions are im2col + matmul; transposed convolutions use the polyphase (sub-pixel) form
instead of inserting zeros.
"""

from __future__ import annotations

import numpy as np

from .tables import TablesError

EXACT_LIMIT = 2 ** 52
MAX_SHIFT = 48           # fractional bits of a layer's weights
BLOCK_BYTES = 32 << 20   # memory of one im2col block


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
            raise TablesError(f"layer weights must be square kernels, got {w.shape}")
        k = w.shape[2]
        if stride < 1 or padding < 0 or out_pad < 0 or (transposed and out_pad >= stride) or \
                (not transposed and (stride, out_pad) != (1, 0)):
            raise TablesError(f"unsupported layer geometry {tuple(np.ravel(geom))}")
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
            raise TablesError(f"bias has {self.bias.shape}, expected ({self.cout},)")

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

    def at_positions(self, x: np.ndarray, top: int, sel: np.ndarray) -> np.ndarray:
        """Accumulators (with bias) of this stride-1 convolution at the positions ``sel``
        (rows, w) of a band only: ``x`` (HWC) holds the input rows from ``top`` rows below the
        padded band's first row; zeros outside.  The same taps and matrix as
        :meth:`forward_rows`, so the same exact integers."""
        pad = self.p
        rows, w = sel.shape
        xp = np.zeros((rows + 2 * pad, w + 2 * pad, x.shape[2]), np.float64)
        xp[top:top + len(x), pad:pad + w] = x
        r, c = np.nonzero(sel)
        patches = np.concatenate([xp[r + pad + dy, c + pad + dx] for dy, dx in self.taps], -1)
        return patches @ self.matrix + self.bias


def clamp_leaky(acc: np.ndarray, lim: float, factor: float) -> None:
    """Between two integer layers, in place: clamp to ``+-lim``, then the integer LeakyReLU
    (a negative value times ``factor`` = num / 2**shift, floored; exact: below 2**53)."""
    np.clip(acc, -lim, lim, out=acc)
    neg = acc < 0
    np.multiply(acc, factor, out=acc, where=neg)
    np.floor(acc, out=acc, where=neg)


def floor_shift(acc: np.ndarray, shift: int) -> np.ndarray:
    """``floor(acc / 2**shift)`` in place (exact: scaling by a power of two)."""
    acc *= 2.0 ** -shift
    return np.floor(acc, out=acc)


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, padding: int) -> np.ndarray:
    """Stride-1 convolution of an HWC float64 array (torch weight layout (cout, cin, k, k))."""
    layer = FixedLayer(weight, bias, (0, 1, padding, 0))
    return layer.forward_rows(x, 0, len(x), 0, layer.out_size(len(x)))


def conv_transpose2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int,
                     padding: int, output_padding: int) -> np.ndarray:
    """Transposed convolution of an HWC float64 array (torch layout (cin, cout, k, k))."""
    layer = FixedLayer(weight, bias, (1, stride, padding, output_padding))
    return layer.forward_rows(x, 0, len(x), 0, layer.out_size(len(x)))
