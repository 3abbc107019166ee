"""The channel-group + checkerboard codec (``channel-checkerboard-v1``): 2K coding passes in one
stream, every parameter in exact fixed point."""

import shutil

import numpy as np
import pytest

from app.core.runtime.registry import ModelIntegrityError
from app.spec import bitstream as bsf
from app.spec.manifest import FileEntry, Manifest, sha256_file
from tests.conftest import assert_round_trips_any_size, export_started_from, smooth_image

GROUPS = [2, 2, 4, 4]


@pytest.fixture(scope="module")
def channel_models(tiny_checkerboard_models):
    """tiny-channel: the tiny checkerboard codec plus channel groups, trained two steps;
    tiny-channel-start: the same right at its start (zero residuals), and
    tiny-checkerboard-shipped: its parent, both from the parent's shipped (fp16) weights."""
    from training.config import DataSource, TrainConfig
    from training.engine import train
    from training.export import export_model

    root = tiny_checkerboard_models.parent
    out = root / "channel-models"
    parent = tiny_checkerboard_models / "tiny-checkerboard"
    common = dict(task="codec", arch="channel_checkerboard_hyperprior",
                  arch_args={"N": 8, "M": 12, "lambdas": [0.005, 0.02, 0.08], "groups": GROUPS,
                             "ctx_channels": 6, "hidden": 8},
                  data=[DataSource(str(root / "photos"))], patch=64, batch=2, steps=2,
                  threads=1, init=str(parent))
    cfg = TrainConfig(name="tiny-channel", lr_scale={"channel_context.": 300}, **common)
    train(cfg, root=root / "runs")
    export_model(cfg, runs=str(root / "runs"), models=str(out))
    for name, arch in (("tiny-checkerboard-shipped", "checkerboard_hyperprior"),
                       ("tiny-channel-start", "channel_checkerboard_hyperprior")):
        args = common["arch_args"] if arch == common["arch"] else \
            {k: common["arch_args"][k] for k in ("N", "M", "lambdas")}
        export_started_from(TrainConfig(name=name, **{**common, "arch": arch, "arch_args": args}),
                            parent, root / "runs", out)
    return out


@pytest.fixture(scope="module")
def engine(channel_models):
    from app.core.engine import Engine

    return Engine(models_dir=channel_models, provider="cpu")


def _symbols(codec, img, quality):
    return codec.decode_symbols(bsf.unpack(codec.encode(img, quality)))


def _latent(codec, img, quality):
    """(gained latent y, hyper-latent symbols) as the encoder computes them."""
    a = codec.analyse(img)
    gain, _ = codec.tables.gain_vectors(quality)
    y = a.y * gain[None, :, None, None]
    (z,) = codec.sessions.run(codec.model, "hyper_analysis", y=y)
    return y, np.round(z - codec.tables.z_medians[None, :, None, None])


def test_round_trip_any_size_grey_and_alpha(engine):
    codec = engine.codec("tiny-channel")
    assert codec.channels is not None and codec.channels.groups == GROUPS
    assert_round_trips_any_size(codec, "tiny-channel")


def test_decoder_derives_exactly_the_encoders_parameters(engine):
    codec = engine.codec("tiny-channel")
    img = smooth_image(96, 160, seed=13)
    y, z = _latent(codec, img, 70)
    seen = []

    def take(i, ch, sel, means, index):                  # the encoder's rounding
        seen.append(i)
        return np.round(y[0, ch][:, sel] - means[0, ch][:, sel])

    means, index, y_sym = codec.channels.run(z, take)
    assert seen == list(range(2 * len(GROUPS)))
    sym = codec.decode_symbols(bsf.unpack(codec.encode(img, 70)))
    assert sym.means.tobytes() == means.tobytes() and sym.scale_index.tobytes() == index.tobytes()
    np.testing.assert_array_equal(sym.y, y_sym)
    np.testing.assert_array_equal(sym.y, np.round(y - means))


def test_decoded_parameters_equal_the_integer_reference(engine, channel_models):
    """The decoder's means and scale indexes, from the exported tables of a trained model, are
    those of the rules written directly in integers."""
    from tests.fixedpoint import reference

    reference.assert_decoder_follows_the_rules(engine.codec("tiny-channel"), channel_models / "tiny-channel",
                                               reference.channel_groups, smooth_image(128, 192, seed=5), 90)


def test_a_perturbed_float_latent_keeps_symbols_means_and_scale_indexes(engine):
    """The float networks may differ in the last bits between machines: only the rounded
    symbols reach the parameters, so the scale indexes and means stay identical."""
    codec = engine.codec("tiny-channel")
    y, z = _latent(codec, smooth_image(128, 128, seed=12), 60)
    results = []
    for eps in (0.0, 1e-6, -1e-6):
        yp = y * np.float32(1 + eps)
        (zp,) = codec.sessions.run(codec.model, "hyper_analysis", y=yp)
        zs = np.round(zp - codec.tables.z_medians[None, :, None, None])
        out = codec.channels.run(zs, lambda i, ch, sel, means, index:
                                 np.round(yp[0, ch][:, sel] - means[0, ch][:, sel]))
        results.append((zs.tobytes(), *(a.tobytes() for a in out), yp.tobytes()))
    assert results[0][-1] != results[1][-1]                    # the latent did move
    for r in results[1:]:
        assert r[:-1] == results[0][:-1]


def test_zero_residuals_decode_as_the_checkerboard_parent(engine):
    parent = engine.codec("tiny-checkerboard-shipped")
    child = engine.codec("tiny-channel-start")
    trained = engine.codec("tiny-channel")
    img = smooth_image(128, 160, seed=21)
    ps, cs, ts = (_symbols(c, img, 50) for c in (parent, child, trained))
    assert ps.means.tobytes() == cs.means.tobytes()
    assert ps.scale_index.tobytes() == cs.scale_index.tobytes()
    np.testing.assert_array_equal(ps.y, cs.y)
    np.testing.assert_array_equal(parent.decode(parent.encode(img, 50)),
                                  child.decode(child.encode(img, 50)))
    assert ps.means.tobytes() != ts.means.tobytes()   # two training steps move the parameters


def _copy_model(src, dest, edit_tables):
    shutil.copytree(src, dest)
    with np.load(dest / "tables.npz", allow_pickle=False) as t:
        kept = edit_tables({k: t[k] for k in t.files})
    np.savez_compressed(dest / "tables.npz", **kept)
    m = Manifest.load(dest)
    m.files["tables"] = FileEntry("tables.npz", sha256_file(dest / "tables.npz"))
    m.save(dest)


def test_missing_or_unsafe_tables_are_refused(channel_models, tmp_path):
    from app.core.engine import Engine

    src = channel_models / "tiny-channel"

    def refused(tag, edit, match):
        _copy_model(src, tmp_path / tag / "tiny-channel", edit)
        with pytest.raises(ModelIntegrityError, match=match):
            Engine(models_dir=tmp_path / tag, provider="cpu").codec("tiny-channel")

    refused("a", lambda d: {k: v for k, v in d.items() if not k.startswith("cc")},
            "channel context")
    refused("b", lambda d: {k: v for k, v in d.items() if k != "cc3_ep1_w"}, "cc3_ep1_w")
    refused("c", lambda d: {**d, "cc_groups": np.array([4, 4, 4, 4], np.int64)}, "do not split")

    def loosen(d):
        d["cc_clamp"] = d["cc_clamp"].copy()
        d["cc_clamp"][5, 0] = 2 ** 51                  # sums no longer provably exact
        return d
    refused("d", loosen, "exact")


def test_one_and_two_threads_give_identical_files_and_symbols(channel_models, tmp_path):
    from PIL import Image

    from tests.hardening.test_determinism import _child

    models = tmp_path / "models"
    shutil.copytree(channel_models / "tiny-channel", models / "tiny-channel")
    Image.fromarray(smooth_image(128, 192, seed=31)).save(tmp_path / "a.png")
    one, two = (_child(tmp_path, models, n, [tmp_path / "a.png"], f"t{n}") for n in (1, 2))
    for key in one:
        if not key.startswith("pixels"):      # the float synthesis is compared elsewhere
            assert one[key].tobytes() == two[key].tobytes(), key
