"""The fixed-point hyper-synthesis is exact: it equals an all-integer reference, does not depend
on summation order, band size or thread count, and only the integer z symbols reach it."""

import os
import subprocess
import sys

import numpy as np
import pytest

from app.core import hyper_fixed as hf
from app.core.hyper_fixed import FixedHyperSynthesis, HyperTablesError
from tests.conftest import REPO, smooth_image

F = 12
LEAKY = (41, 12)


def random_tables(n=16, m=24, seed=0, saturate=False) -> dict[str, np.ndarray]:
    """Tables shaped like an exported h_s (deconv, deconv, conv3) with random integers.

    ``saturate`` makes every weight of output channel 0 of each layer +2**15, so that inputs
    at the clamp push that channel's sums right up to the 2**52 exactness bound."""
    rng = np.random.default_rng(seed)
    layers = [(1, n, m, 5), (1, m, m * 3 // 2, 5), (0, m * 3 // 2, 2 * m, 3)]
    d, clamps = {}, []
    for i, (transposed, cin, cout, k) in enumerate(layers):
        fan = cin * k * k // (4 if transposed else 1)
        shift = 15 + int(np.ceil(np.log2(np.sqrt(fan)))) + 1     # |w| ~ 1 / sqrt(fan)
        w = rng.integers(-2 ** 15, 2 ** 15 + 1, (cin, cout, k, k) if transposed
                         else (cout, cin, k, k))
        if saturate:
            if transposed:
                w[:, 0] = 2 ** 15
            else:
                w[0] = 2 ** 15
        b = rng.integers(-2 ** (F + shift), 2 ** (F + shift), cout) + 2 ** (shift - 1)
        per_out = np.abs(w).sum(axis=(0, 2, 3) if transposed else (1, 2, 3))
        clamps.append(min(2 ** 40, (2 ** 52 - 1 - int(np.abs(b).max())) // int(per_out.max())))
        d[f"hs{i}_w"] = w.astype(np.int32)
        d[f"hs{i}_b"] = b.astype(np.int64)
        d[f"hs{i}_shift"] = np.array(shift)
        d[f"hs{i}_geom"] = np.array([transposed, 2 if transposed else 1, k // 2, transposed])
    d["hyper_frac_bits"] = np.array(F)
    d["hyper_clamp"] = np.array(clamps, np.int64)
    d["hyper_leaky"] = np.array(LEAKY)
    d["z_medians_q"] = rng.integers(-3 * 2 ** F, 3 * 2 ** F, n)
    d["scale_table_q"] = np.floor(np.exp(np.linspace(np.log(0.11), np.log(256), 64)) * 2 ** F
                                 ).astype(np.int64)
    return d


# -- an independent all-int64 reference (direct definitions, numpy einsum on integers) ---------
def ref_conv(x, w, b, p):
    cout, cin, k, _ = w.shape
    _, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (p, p), (p, p)))
    oh, ow = h + 2 * p - k + 1, wd + 2 * p - k + 1
    out = np.zeros((cout, oh, ow), np.int64) + b[:, None, None]
    for ky in range(k):
        for kx in range(k):
            out += np.einsum("oi,ihw->ohw", w[:, :, ky, kx], xp[:, ky:ky + oh, kx:kx + ow])
    return out


def ref_conv_transpose(x, w, b, s, p, op):
    cin, cout, k, _ = w.shape
    _, h, wd = x.shape
    oh, ow = (h - 1) * s - 2 * p + k + op, (wd - 1) * s - 2 * p + k + op
    full = np.zeros((cout, (h - 1) * s + k + op, (wd - 1) * s + k + op), np.int64)
    for ky in range(k):
        for kx in range(k):
            full[:, ky:ky + (h - 1) * s + 1:s, kx:kx + (wd - 1) * s + 1:s] += \
                np.einsum("io,ihw->ohw", w[:, :, ky, kx], x)
    return full[:, p:p + oh, p:p + ow] + b[:, None, None]


def ref_hyper(d, z_sym):
    n_layers = len(d["hyper_clamp"])
    x = np.clip(z_sym[0].astype(np.int64) * 2 ** F + d["z_medians_q"][:, None, None],
                -d["hyper_clamp"][0], d["hyper_clamp"][0])
    for i in range(n_layers):
        w, b = d[f"hs{i}_w"].astype(np.int64), d[f"hs{i}_b"]
        transposed, s, p, op = d[f"hs{i}_geom"]
        acc = ref_conv_transpose(x, w, b, s, p, op) if transposed else ref_conv(x, w, b, p)
        x = acc >> int(d[f"hs{i}_shift"])                      # arithmetic shift = floor
        if i < n_layers - 1:
            x = np.clip(x, -d["hyper_clamp"][i + 1], d["hyper_clamp"][i + 1])
            x = np.where(x < 0, (x * LEAKY[0]) >> LEAKY[1], x)
    m = x.shape[0] // 2
    return x[m:][None], x[:m][None]                            # means_q, scales_q


def test_float64_evaluation_equals_the_integer_reference():
    d = random_tables()
    z = np.random.default_rng(1).integers(-6, 7, (1, 16, 5, 7))
    means_q, scales_q = FixedHyperSynthesis(d).fixed(z)
    ref_means, ref_scales = ref_hyper(d, z)
    assert means_q.shape == (1, 24, 20, 28)
    np.testing.assert_array_equal(means_q, ref_means)
    np.testing.assert_array_equal(scales_q, ref_scales)
    assert np.abs(ref_means).max() > 2 ** F                    # the values are not trivial


def test_exact_at_the_bound_with_saturated_inputs():
    # channel 0 of every layer sums 2**15 * clamp over all its inputs: close to 2**52
    d = random_tables(n=8, m=12, seed=2, saturate=True)
    fixed = FixedHyperSynthesis(d)
    layer = fixed.layers[0]
    assert layer.abs_sum * int(d["hyper_clamp"][0]) > 2 ** 51
    z = np.full((1, 8, 4, 3), 2 ** 31 - 1, np.int64)              # huge escapes hit the clamp
    z[0, :, 1] = -(2 ** 31)
    means_q, scales_q = fixed.fixed(z)
    ref_means, ref_scales = ref_hyper(d, z)
    np.testing.assert_array_equal(means_q, ref_means)
    np.testing.assert_array_equal(scales_q, ref_scales)


def test_reversed_summation_order_is_bit_identical():
    d = random_tables(saturate=True)
    rng = np.random.default_rng(3)
    for i in range(3):
        w = d[f"hs{i}_w"]
        transposed = bool(d[f"hs{i}_geom"][0])
        cin = w.shape[0] if transposed else w.shape[1]
        lim = int(d["hyper_clamp"][i])
        x = rng.integers(-lim // 8, lim + 1, (6, 5, cin)).astype(np.float64)
        layer = hf.FixedLayer(w, d[f"hs{i}_b"], d[f"hs{i}_geom"])
        w_rev = w[::-1] if transposed else w[:, ::-1]
        layer_rev = hf.FixedLayer(np.ascontiguousarray(w_rev), d[f"hs{i}_b"], d[f"hs{i}_geom"])
        out_h = layer.out_size(6)
        a = layer.forward_rows(x, 0, 6, 0, out_h)
        b = layer_rev.forward_rows(np.ascontiguousarray(x[..., ::-1]), 0, 6, 0, out_h)
        assert np.abs(a).max() > 2 ** 48                        # sums near the bound
        assert a.tobytes() == b.tobytes()


def test_bands_and_blocks_do_not_change_the_result(monkeypatch):
    d = random_tables(n=8, m=12, seed=4)
    z = np.random.default_rng(5).integers(-5, 6, (1, 8, 9, 6))
    whole = FixedHyperSynthesis(d)(z)
    monkeypatch.setattr(hf, "BAND_BYTES", 1)          # 4 rows per band: many halos
    monkeypatch.setattr(hf, "BLOCK_BYTES", 1)         # one im2col row per matrix product
    banded = FixedHyperSynthesis(d)(z)
    for a, b in zip(whole, banded):
        assert a.tobytes() == b.tobytes()
    np.testing.assert_array_equal(FixedHyperSynthesis(d).fixed(z)[0], ref_hyper(d, z)[0])


def test_scale_indexes_follow_the_float_table_exactly():
    d = random_tables(n=8, m=12, seed=6)
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
    d = random_tables(n=8, m=12)
    d["hyper_clamp"] = d["hyper_clamp"] * 2                       # past the 2**52 bound
    with pytest.raises(HyperTablesError, match="exact"):
        FixedHyperSynthesis(d)
    d = random_tables(n=8, m=12)
    del d["hs1_b"]
    with pytest.raises(HyperTablesError, match="hs1_b"):
        FixedHyperSynthesis(d)


_CHILD = r"""
import sys, numpy as np
from app.core.hyper_fixed import FixedHyperSynthesis
with np.load(sys.argv[1]) as f:
    d = {k: f[k] for k in f.files}
z = d.pop("z")
means, index = FixedHyperSynthesis(d)(z)
out = {"means": means, "index": index}
if len(sys.argv) > 3:   # also decode a real file with the tiny codec, ORT threads as BLAS
    from app.core.engine import Engine
    threads = int(sys.argv[4])
    eng = Engine(models_dir=sys.argv[3], provider="cpu", threads=threads)
    data = open(sys.argv[5], "rb").read()
    codec, bs = eng.codec_for(data)
    _, m, idx, y_sym = codec.decode_symbols(bs)
    out.update(codec_means=m, codec_index=idx, y_sym=y_sym, pixels=eng.decompress(data))
np.savez(sys.argv[2], **out)
"""


def _run_child(tmp_path, threads, *extra):
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    out = tmp_path / f"out{threads}.npz"
    args = [str(tmp_path / "in.npz"), str(out)]
    if extra:
        args += [str(extra[0]), str(threads), str(extra[1])]
    subprocess.run([sys.executable, "-c", _CHILD, *args], check=True, env=env, cwd=REPO,
                   timeout=300)
    with np.load(out) as f:
        return {k: f[k] for k in f.files}


def test_threads_one_and_two_give_identical_bytes(tmp_path, tiny_engine, tiny_models):
    d = random_tables(n=32, m=48, seed=8)            # big enough for threaded BLAS products
    z = np.random.default_rng(9).integers(-6, 7, (1, 32, 6, 9))
    np.savez(tmp_path / "in.npz", z=z, **d)
    data = tiny_engine.compress(smooth_image(128, 192, seed=11), 70).data
    (tmp_path / "x.aei").write_bytes(data)
    one = _run_child(tmp_path, 1, tiny_models, tmp_path / "x.aei")
    two = _run_child(tmp_path, 2, tiny_models, tmp_path / "x.aei")
    for key in ("means", "index", "codec_means", "codec_index", "y_sym"):
        assert one[key].tobytes() == two[key].tobytes(), key
    # the synthesis transform is a float graph: pixels may differ by rounding, never more
    diff = np.abs(one["pixels"].astype(int) - two["pixels"].astype(int))
    assert diff.max() <= 1


def test_only_the_rounded_hyper_latent_reaches_the_hyper_synthesis(tiny_engine):
    codec = tiny_engine.codec()
    assert codec.hyper_fixed is not None                  # tiny-codec is a fixed-point model
    a = codec.analyse(smooth_image(128, 128, seed=12))
    gain, _ = codec.tables.gain_vectors(60)
    med = codec.tables.z_medians[None, :, None, None]
    results = []
    for eps in (0.0, 1e-6, -1e-6):
        y = a.y * gain[None, :, None, None] * np.float32(1 + eps)   # tiny float differences
        (z,) = codec.sessions.run(codec.model, "hyper_analysis", y=y)
        z_sym = np.round(z - med)
        means, index = codec._hyper(z_sym)
        results.append((z_sym.tobytes(), means.tobytes(), index.tobytes(), z.tobytes()))
    assert results[0][3] != results[1][3]                     # z itself did move
    for r in results[1:]:
        assert r[:3] == results[0][:3]
