"""The checkerboard-context codec: two coding passes in one stream, in exact fixed point."""

import shutil

import numpy as np
import pytest

from app.core.codec import entropy
from app.core.runtime.registry import ModelError, ModelIntegrityError
from app.spec import bitstream as bsf
from app.spec.manifest import FileEntry, Manifest, sha256_file
from tests.conftest import assert_round_trips_any_size, smooth_image


@pytest.fixture(scope="module")
def engine(tiny_checkerboard_models):
    from app.core.engine import Engine

    return Engine(models_dir=tiny_checkerboard_models, provider="cpu")


def _symbols(codec, img, quality):
    return codec.decode_symbols(bsf.unpack(codec.encode(img, quality)))


def test_round_trip_any_size_grey_and_alpha(engine):
    codec = engine.codec("tiny-checkerboard")
    assert codec.context is not None
    assert_round_trips_any_size(codec, "tiny-checkerboard")


def test_decoder_derives_exactly_the_encoders_parameters(engine):
    codec = engine.codec("tiny-checkerboard")
    img = smooth_image(96, 160, seed=13)
    a = codec.analyse(img)
    gain, _ = codec.tables.gain_vectors(70)
    y = a.y * gain[None, :, None, None]
    (z,) = codec.sessions.run(codec.model, "hyper_analysis", y=y)
    z_sym = np.round(z - codec.tables.z_medians[None, :, None, None])
    p = codec.context.hyper_params(z_sym)
    means, index = codec.context.first_pass(p)
    codec.context.second_pass(p, np.round(y - means), means, index)   # what the encoder used
    sym = codec.decode_symbols(bsf.unpack(codec.encode_analysis(a, 70)))
    assert sym.means.tobytes() == means.tobytes() and sym.scale_index.tobytes() == index.tobytes()
    np.testing.assert_array_equal(sym.y, np.round(y - means))


def test_decoded_parameters_equal_the_integer_reference(engine, tiny_checkerboard_models):
    """The decoder's means and scale indexes, from the exported tables of a trained model, are
    those of the rules written directly in integers."""
    from tests.fixedpoint import reference

    reference.assert_decoder_follows_the_rules(engine.codec("tiny-checkerboard"), tiny_checkerboard_models / "tiny-checkerboard",
                                               reference.checkerboard, smooth_image(128, 192, seed=5), 90)


def test_a_checkerboard_started_from_a_hyperprior_decodes_as_that_hyperprior(engine):
    """The context's residual starts at zero: same parameters, same pixels as the parent, in
    a stream that now holds the anchors first."""
    parent = engine.codec("tiny-codec-shipped")
    child = engine.codec("tiny-checkerboard-start")
    trained = engine.codec("tiny-checkerboard")
    img = smooth_image(128, 160, seed=21)
    ps, cs, ts = (_symbols(c, img, 50) for c in (parent, child, trained))
    assert ps.means.tobytes() == cs.means.tobytes()
    assert ps.scale_index.tobytes() == cs.scale_index.tobytes()
    np.testing.assert_array_equal(parent.decode(parent.encode(img, 50)),
                                  child.decode(child.encode(img, 50)))
    # two training steps of the context layers already move the parameters
    assert ps.means.tobytes() != ts.means.tobytes()


def test_two_passes_round_trip_losslessly_in_one_stream():
    rng = np.random.default_rng(3)
    from app.core.codec.entropy import TableSet

    pmf = np.array([[0.1, 0.2, 0.4, 0.2, 0.09, 0.01], [0.3, 0.3, 0.3, 0.09, 0.01, 0.0]])
    tables = TableSet(pmf, np.array([6, 5]))
    passes = [(rng.integers(-4, 5, (3, 7)), rng.integers(0, 2, (3, 7))),
              (rng.integers(-300, 300, (5,)), rng.integers(0, 2, (5,)))]   # escapes too
    stream, esc = entropy.encode_passes(passes, tables)
    decoder = entropy.StreamDecoder(stream, esc, 26, tables)
    for symbols, indexes in passes:
        np.testing.assert_array_equal(decoder.decode(indexes), symbols)
    decoder.finish()
    decoder = entropy.StreamDecoder(stream, esc, 26, tables)
    decoder.decode(passes[0][1])
    with pytest.raises(bsf.CorruptFileError, match="escape list"):
        decoder.finish()                                   # the second pass was never read


def _copy_model(src, dest, edit_tables=None, edit_params=None):
    shutil.copytree(src, dest)
    if edit_tables:
        with np.load(dest / "tables.npz", allow_pickle=False) as t:
            kept = edit_tables({k: t[k] for k in t.files})
        np.savez_compressed(dest / "tables.npz", **kept)
    m = Manifest.load(dest)
    m.files["tables"] = FileEntry("tables.npz", sha256_file(dest / "tables.npz"))
    if edit_params:
        edit_params(m.params)
    m.save(dest)


def test_unknown_context_or_missing_tables_are_refused_by_name(tiny_checkerboard_models,
                                                                tmp_path):
    from app.core.engine import Engine

    src = tiny_checkerboard_models / "tiny-checkerboard"
    _copy_model(src, tmp_path / "a" / "tiny-checkerboard",
                edit_params=lambda p: p.update(context="channel-slices-v9"))
    with pytest.raises(ModelError, match="channel-slices-v9"):
        Engine(models_dir=tmp_path / "a", provider="cpu").codec()
    _copy_model(src, tmp_path / "b" / "tiny-checkerboard",
                edit_tables=lambda d: {k: v for k, v in d.items() if not k.startswith("ep")})
    with pytest.raises(ModelIntegrityError, match="ep0_w"):
        Engine(models_dir=tmp_path / "b", provider="cpu").codec()

    def loosen(d):
        d["context_clamp"] = d["context_clamp"].copy()
        d["context_clamp"][0] *= 2 ** 20                  # sums no longer provably exact
        return d
    _copy_model(src, tmp_path / "c" / "tiny-checkerboard", edit_tables=loosen)
    with pytest.raises(ModelIntegrityError, match="exact"):
        Engine(models_dir=tmp_path / "c", provider="cpu").codec()


def test_one_and_two_threads_give_identical_files_and_symbols(tiny_checkerboard_models,
                                                              tmp_path):
    from PIL import Image

    from tests.hardening.test_determinism import _child

    models = tmp_path / "models"
    shutil.copytree(tiny_checkerboard_models / "tiny-checkerboard", models / "tiny-checkerboard")
    Image.fromarray(smooth_image(128, 192, seed=31)).save(tmp_path / "a.png")
    one, two = (_child(tmp_path, models, n, [tmp_path / "a.png"], f"t{n}") for n in (1, 2))
    for key in one:
        if not key.startswith("pixels"):      # the float synthesis is compared elsewhere
            assert one[key].tobytes() == two[key].tobytes(), key
