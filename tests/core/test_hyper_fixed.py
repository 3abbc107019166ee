"""The codec's fixed-point hyper-synthesis gives the same bytes with one and two threads, and
only the integer z symbols reach it (the kernel's own exactness: tests/fixedpoint)."""

import os
import subprocess
import sys

import numpy as np

from tests.conftest import REPO, smooth_image
from tests.fixedpoint.reference import random_hyper

_CHILD = r"""
import sys, numpy as np
from app.fixedpoint.hyper import FixedHyperSynthesis
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
    d = random_hyper(n=32, m=48, seed=8)             # big enough for threaded BLAS products
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
    a = codec.analyse(smooth_image(128, 128, seed=12))
    gain, _ = codec.tables.gain_vectors(60)
    med = codec.tables.z_medians[None, :, None, None]
    results = []
    for eps in (0.0, 1e-6, -1e-6):
        y = a.y * gain[None, :, None, None] * np.float32(1 + eps)   # tiny float differences
        (z,) = codec.sessions.run(codec.model, "hyper_analysis", y=y)
        z_sym = np.round(z - med)
        means, index = codec.hyper_fixed(z_sym)
        results.append((z_sym.tobytes(), means.tobytes(), index.tobytes(), z.tobytes()))
    assert results[0][3] != results[1][3]                     # z itself did move
    for r in results[1:]:
        assert r[:3] == results[0][:3]
