"""The fixed-point hyper-synthesis is exact: it equals the all-integer reference, and does not
depend on summation order, band size or block size."""

import numpy as np
import pytest

from app.fixedpoint import hyper as hyper_module
from app.fixedpoint import layers
from app.fixedpoint.hyper import FixedHyperSynthesis
from app.fixedpoint.tables import TablesError
from tests.fixedpoint import reference as ref

F = ref.F


def test_float64_evaluation_equals_the_integer_reference():
    d = ref.random_hyper()
    z = np.random.default_rng(1).integers(-6, 7, (1, 16, 5, 7))
    means_q, scales_q = FixedHyperSynthesis(d).fixed(z)
    ref_means, ref_scales = ref.hyper(d, z)
    assert means_q.shape == (1, 24, 20, 28)
    np.testing.assert_array_equal(means_q, ref_means)
    np.testing.assert_array_equal(scales_q, ref_scales)
    assert np.abs(ref_means).max() > 2 ** F                    # the values are not trivial


def test_exact_at_the_bound_with_saturated_inputs():
    # channel 0 of every layer sums 2**15 * clamp over all its inputs: close to 2**52
    d = ref.random_hyper(n=8, m=12, seed=2, saturate=True)
    fixed = FixedHyperSynthesis(d)
    assert fixed.layers[0].abs_sum * int(d["hyper_clamp"][0]) > 2 ** 51
    z = np.full((1, 8, 4, 3), 2 ** 31 - 1, np.int64)              # huge escapes hit the clamp
    z[0, :, 1] = -(2 ** 31)
    means_q, scales_q = fixed.fixed(z)
    ref_means, ref_scales = ref.hyper(d, z)
    np.testing.assert_array_equal(means_q, ref_means)
    np.testing.assert_array_equal(scales_q, ref_scales)


def test_reversed_summation_order_is_bit_identical():
    d = ref.random_hyper(saturate=True)
    rng = np.random.default_rng(3)
    for i in range(3):
        w = d[f"hs{i}_w"]
        transposed = bool(d[f"hs{i}_geom"][0])
        cin = w.shape[0] if transposed else w.shape[1]
        lim = int(d["hyper_clamp"][i])
        x = rng.integers(-lim // 8, lim + 1, (6, 5, cin)).astype(np.float64)
        layer = layers.FixedLayer(w, d[f"hs{i}_b"], d[f"hs{i}_geom"])
        w_rev = w[::-1] if transposed else w[:, ::-1]
        layer_rev = layers.FixedLayer(np.ascontiguousarray(w_rev), d[f"hs{i}_b"],
                                      d[f"hs{i}_geom"])
        out_h = layer.out_size(6)
        a = layer.forward_rows(x, 0, 6, 0, out_h)
        b = layer_rev.forward_rows(np.ascontiguousarray(x[..., ::-1]), 0, 6, 0, out_h)
        assert np.abs(a).max() > 2 ** 48                        # sums near the bound
        assert a.tobytes() == b.tobytes()


def test_bands_and_blocks_do_not_change_the_result(monkeypatch):
    d = ref.random_hyper(n=8, m=12, seed=4)
    z = np.random.default_rng(5).integers(-5, 6, (1, 8, 9, 6))
    whole = FixedHyperSynthesis(d)(z)
    monkeypatch.setattr(hyper_module, "BAND_BYTES", 1)  # 4 rows per band: many halos
    monkeypatch.setattr(layers, "BLOCK_BYTES", 1)       # one im2col row per matrix product
    banded = FixedHyperSynthesis(d)(z)
    for a, b in zip(whole, banded):
        assert a.tobytes() == b.tobytes()
    np.testing.assert_array_equal(FixedHyperSynthesis(d).fixed(z)[0], ref.hyper(d, z)[0])


def test_scale_indexes_follow_the_float_table_exactly():
    d = ref.random_hyper(n=8, m=12, seed=6)
    fixed = FixedHyperSynthesis(d)
    z = np.random.default_rng(7).integers(-8, 9, (1, 8, 4, 4))
    means, index = fixed(z)
    means_q, scales_q = fixed.fixed(z)
    assert means.dtype == np.float32 and index.dtype == np.uint8
    np.testing.assert_array_equal(means, (means_q / 2 ** F).astype(np.float32))
    # "first entry of the scale table not smaller than the scale", on exact binary fractions
    table = np.exp(np.linspace(np.log(0.11), np.log(256), 64))
    want = np.clip(np.searchsorted(table, scales_q / 2 ** F, side="left"), 0, 63)
    np.testing.assert_array_equal(index, want)
    assert len(np.unique(index)) > 5


def test_tables_that_could_round_are_refused():
    d = ref.random_hyper(n=8, m=12)
    d["hyper_clamp"] = d["hyper_clamp"] * 2                       # past the 2**52 bound
    with pytest.raises(TablesError, match="exact"):
        FixedHyperSynthesis(d)
    d = ref.random_hyper(n=8, m=12)
    del d["hs1_b"]
    with pytest.raises(TablesError, match="hs1_b"):
        FixedHyperSynthesis(d)


def test_convolutions_follow_the_direct_definitions():
    """The polyphase transposed convolution and the im2col convolution against the direct
    integer definitions, over sizes, strides, paddings and output paddings."""
    rng = np.random.default_rng(0)
    for h, w in [(1, 1), (2, 3), (5, 4), (7, 9)]:
        x = rng.integers(-99, 100, (6, h, w))
        hwc = x.transpose(1, 2, 0).astype(np.float64)
        b = rng.integers(-9, 10, 5)
        for k, s, p, op in [(5, 2, 2, 1), (3, 2, 1, 1), (4, 2, 1, 0), (5, 3, 2, 2)]:
            wt = rng.integers(-30, 31, (6, 5, k, k))
            got = layers.conv_transpose2d(hwc, wt, b, s, p, op).transpose(2, 0, 1)
            np.testing.assert_array_equal(got, ref.conv_transpose(x, wt, b, s, p, op))
        for k in (1, 3, 5):
            wc = rng.integers(-30, 31, (5, 6, k, k))
            got = layers.conv2d(hwc, wc, b, k // 2).transpose(2, 0, 1)
            np.testing.assert_array_equal(got, ref.conv(x, wc, b, k // 2))
