"""The fixed-point hyper-synthesis (``params["hyper"] == "fixed-point-v1"``): the latent's means
and scale indexes from the decoded hyper-latent, the same on every machine.

The decoder must derive every latent's scale index exactly as the encoder did; a float network
can land on the other side of a scale-table boundary on another machine, thread count or
execution provider, and then the range decoder desynchronises.  So ``h_s`` ships as integers in
``tables.npz`` and runs in integer arithmetic:

- activations are integers with ``F = hyper_frac_bits`` fractional bits; the decoded hyper-latent
  enters as ``z_sym * 2**F + z_medians_q`` (clamped to ``+-hyper_clamp[0]``);
- layer ``l`` is the integer layer ``hs{l}_w``, ``hs{l}_b``, ``hs{l}_shift``, ``hs{l}_geom``
  (:mod:`app.fixedpoint.layers`); between layers the result is clamped to
  ``+-hyper_clamp[l+1]`` and passed through the integer LeakyReLU
  (``a < 0: floor(a * num / 2**shift)``, ``hyper_leaky = (num, shift)``);
- the last layer gives ``2M`` channels: scales then means; a scale's index is the first entry of
  the integer thresholds ``scale_table_q = floor(scale_table * 2**F)`` that is not smaller,
  which is exactly the first ``scale_table`` entry not smaller than ``scales_q / 2**F``; a
  mean is the exact binary fraction ``means_q / 2**F``.

The loader checks that every layer keeps its float64 sums exact.  The output is computed band
of rows by band of rows (bounded memory for large images).
"""

from __future__ import annotations

from typing import Iterator, Mapping

import numpy as np

from .layers import EXACT_LIMIT, MAX_SHIFT, FixedLayer, clamp_leaky, floor_shift
from .tables import TablesError

BAND_BYTES = 24 << 20   # memory of the activations of one band of rows


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
            raise TablesError(f"fixed-point hyper-synthesis table {exc} is missing") from None
        self.leaky = (num, shift)
        self.leaky_factor = num * 2.0 ** -shift           # exact: num / 2**shift
        self._check()
        self.hyper_channels = self.layers[0].cin
        self.latent_channels = self.layers[-1].cout // 2
        self.scale_thresholds = self.scale_table_q.astype(np.float64)
        self.index_dtype = np.uint8 if len(self.scale_table_q) <= 256 else np.int32

    def _check(self) -> None:
        if not self.layers:
            raise TablesError("no hyper-synthesis layers")
        if not 0 <= self.frac_bits <= 24 or not 0 <= self.leaky[1] <= 30 or \
                not 0 <= self.leaky[0] <= 2 ** self.leaky[1]:
            raise TablesError("bad fixed-point parameters")
        if len(self.medians_q) != self.layers[0].cin:
            raise TablesError("z_medians_q does not match the first layer")
        if self.layers[-1].cout % 2 or len(self.scale_table_q) == 0 or \
                np.any(np.diff(self.scale_table_q) < 0):
            raise TablesError("bad output layer or scale thresholds")
        for i, (layer, shift) in enumerate(zip(self.layers, self.shifts)):
            a = int(self.clamp[i])
            if i and layer.cin != self.layers[i - 1].cout:
                raise TablesError(f"layer {i} input channels do not chain")
            if not 0 <= shift <= MAX_SHIFT or a < 0 or a * max(self.leaky[0], 1) >= EXACT_LIMIT:
                raise TablesError(f"layer {i}: bad shift or clamp")
            if not layer.keeps_exact(a):
                raise TablesError(f"layer {i}: clamp {a} does not keep float64 sums exact")

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
        means, scales = (np.empty(self._out_shape(z_sym), np.int64) for _ in range(2))
        for a, b, scales_q, means_q in self._rows(z_sym):
            scales[0, :, a:b], means[0, :, a:b] = scales_q, means_q
        return means, scales

    def fixed_hwc(self, z_sym: np.ndarray, clip: int) -> np.ndarray:
        """The integer outputs as one (H, W, 2M) int32 array, scales then means, clipped to
        ``[-clip, clip]``: filled band by band, so a 12 MP image's latent never has whole
        int64 or float64 copies (0.5 GB of temporaries)."""
        _, m, h, w = self._out_shape(z_sym)
        out = np.empty((h, w, 2 * m), np.int32)
        for a, b, band in self._bands(z_sym):
            np.clip(band, -clip, clip, out=band)
            out[a:b] = band
        return out

    def __call__(self, z_sym: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(means as float32, scale indexes) for integer hyper-latent symbols (1, N, h, w)."""
        shape = self._out_shape(z_sym)
        means, index = np.empty(shape, np.float32), np.empty(shape, self.index_dtype)
        for a, b, scales_q, means_q in self._rows(z_sym):
            index[0, :, a:b] = self.scale_index(scales_q)
            means[0, :, a:b] = means_q * self.unit
        return means, index

    @property
    def unit(self) -> float:
        """The value of one integer step: 2**-F."""
        return 2.0 ** -self.frac_bits

    def scale_index(self, scales_q: np.ndarray) -> np.ndarray:
        """The scale-table index of integer scales: the first threshold not smaller, clipped
        to the table."""
        idx = np.searchsorted(self.scale_thresholds, scales_q, side="left")
        return np.minimum(idx, len(self.scale_thresholds) - 1)

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

    def _rows(self, z_sym) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """Output rows [a, b) band by band, with their (scales_q, means_q), each (M, b - a, W)
        float64 holding integers."""
        m = self.latent_channels
        for a, b, band in self._bands(z_sym):
            band = band.transpose(2, 0, 1)
            yield a, b, band[:m], band[m:]

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
                acc = floor_shift(layer.forward_rows(x, x0, sizes[i][0], r0, r1), self.shifts[i])
                if i < last:
                    clamp_leaky(acc, float(self.clamp[i + 1]), self.leaky_factor)
                x, x0 = acc, r0
            yield a, b, x[a - x0:b - x0]
