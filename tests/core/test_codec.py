import numpy as np
import pytest

from app.core.runtime.registry import ModelIntegrityError, ModelNotFoundError, Registry
from app.spec import bitstream as bsf
from tests.conftest import smooth_image


def test_round_trip_any_size_through_a_real_file(tiny_engine, tmp_path):
    img = smooth_image(70, 101, seed=3)           # not a multiple of the downsampling factor
    res = tiny_engine.compress(img, quality=60)
    path = tmp_path / "x.aei"
    path.write_bytes(res.data)
    out = tiny_engine.decompress(path.read_bytes())
    assert out.shape == img.shape and out.dtype == np.uint8
    bs = bsf.unpack(res.data)
    assert (bs.width, bs.height, bs.channels, bs.quality) == (101, 70, 3, 60.0)
    assert bs.model_id == "tiny-codec"


def test_encoding_is_deterministic_and_decoding_repeatable(tiny_engine):
    img = smooth_image(64, 80, seed=4)
    a = tiny_engine.compress(img, 50).data
    b = tiny_engine.compress(img, 50).data
    assert a == b
    np.testing.assert_array_equal(tiny_engine.decompress(a), tiny_engine.decompress(a))


def test_quality_interpolates_the_trained_gains(tiny_engine):
    tables = tiny_engine.codec().tables
    g1, ig1 = tables.gain_vectors(1)
    g100, ig100 = tables.gain_vectors(100)
    np.testing.assert_allclose(g1, tables.gains[0], rtol=1e-6)
    np.testing.assert_allclose(ig100, tables.inv_gains[-1], rtol=1e-6)
    mid, _ = tables.gain_vectors(50.5)  # halfway: the geometric mean of the middle gains
    np.testing.assert_allclose(mid, tables.gains[1], rtol=1e-5)
    assert (g100 > g1).all()            # higher quality quantises more finely


def test_grey_and_alpha_survive(tiny_engine):
    grey = smooth_image(40, 52, seed=6, channels=1)
    out = tiny_engine.decompress(tiny_engine.compress(grey, 80).data)
    assert out.shape == grey.shape
    rgba = np.concatenate([smooth_image(40, 52, seed=7),
                           np.random.default_rng(0).integers(0, 256, (40, 52, 1), np.uint8)], 2)
    out = tiny_engine.decompress(tiny_engine.compress(rgba, 80).data)
    assert out.shape == rgba.shape
    np.testing.assert_array_equal(out[..., 3], rgba[..., 3])  # alpha is lossless


def test_target_size_fits_the_budget(tiny_engine):
    img = smooth_image(128, 160, seed=8)
    small = len(tiny_engine.compress(img, 1).data)
    big = len(tiny_engine.compress(img, 100).data)
    budget = (small + big) // 2
    res = tiny_engine.compress(img, target_bytes=budget)
    assert len(res.data) <= budget
    assert 1 <= res.quality <= 100
    with pytest.raises(ValueError, match="too small"):
        tiny_engine.compress(img, target_bytes=10)


def test_file_from_a_model_that_is_not_installed_names_the_model(tiny_engine):
    data = bsf.pack(bsf.Bitstream(model_id="codec-from-the-future", model_hash=b"\0" * 8,
                                  width=8, height=8, channels=3, quality=50))
    with pytest.raises(ModelNotFoundError, match="codec-from-the-future"):
        tiny_engine.decompress(data)


def test_corrupt_file_gives_a_typed_error(tiny_engine):
    data = bytearray(tiny_engine.compress(smooth_image(64, 64), 50).data)
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(bsf.CorruptFileError):
        tiny_engine.decompress(bytes(data))


def test_tampered_model_file_is_refused_by_name(tiny_models, tmp_path):
    import shutil

    copy = tmp_path / "models"
    shutil.copytree(tiny_models, copy)
    onnx_file = copy / "tiny-codec" / "synthesis.onnx"
    blob = bytearray(onnx_file.read_bytes())
    blob[-10] ^= 1
    onnx_file.write_bytes(bytes(blob))
    reg = Registry(copy)
    with pytest.raises(ModelIntegrityError, match="synthesis.onnx"):
        reg.verify(reg.get("tiny-codec"))
    onnx_file.unlink()
    with pytest.raises(ModelIntegrityError, match="missing"):
        Registry(copy).verify(reg.get("tiny-codec"))


def test_denoise_and_inpaint_keep_size_and_known_pixels(tiny_engine):
    img = smooth_image(70, 90, seed=9)
    out, sigma = tiny_engine.denoise(img, sigma=10)
    assert out.shape == img.shape and sigma == 10
    mask = np.zeros(img.shape[:2], np.uint8)
    mask[20:40, 30:60] = 1
    filled = tiny_engine.inpaint(img, mask)
    np.testing.assert_array_equal(filled[mask == 0], img[mask == 0])


def test_fixed_point_codec_decodes_with_exactly_the_encoders_indexes(tiny_engine):
    codec = tiny_engine.codec()
    assert codec.model.manifest.params["hyper"] == "fixed-point-v1"
    assert "hyper_synthesis" not in codec.model.manifest.graphs
    img = smooth_image(96, 160, seed=13)
    a = codec.analyse(img)
    gain, _ = codec.tables.gain_vectors(70)
    (z,) = codec.sessions.run(codec.model, "hyper_analysis", y=a.y * gain[None, :, None, None])
    z_sym = np.round(z - codec.tables.z_medians[None, :, None, None])
    means, index = codec.hyper_fixed(z_sym)                # what the encoder used
    bs = bsf.unpack(codec.encode_analysis(a, 70))
    from app.core.codec import entropy
    z_idx = np.broadcast_to(np.arange(z.shape[1])[None, :, None, None], z.shape)
    decoded = entropy.decode(bs.chunks["ZSTR"], bs.chunks["ZESC"], z_idx, codec.tables.z)
    means_d, index_d = codec.hyper_fixed(decoded)          # what the decoder derives
    assert means_d.tobytes() == means.tobytes() and index_d.tobytes() == index.tobytes()
    assert means.dtype == np.float32 and means.shape == (1, 12, 8, 12)   # padded to 128x192


def test_manifest_naming_fixed_point_without_its_tables_is_refused(tiny_models, tmp_path):
    import shutil

    from app.core.engine import Engine
    from app.core.runtime.registry import ModelIntegrityError
    from app.spec.manifest import FileEntry, Manifest, sha256_file

    d = tmp_path / "models" / "tiny-codec"
    shutil.copytree(tiny_models / "tiny-codec", d)
    with np.load(d / "tables.npz", allow_pickle=False) as t:
        kept = {k: t[k] for k in t.files if not k.startswith("hs")}
    np.savez_compressed(d / "tables.npz", **kept)
    m = Manifest.load(d)
    m.files["tables"] = FileEntry("tables.npz", sha256_file(d / "tables.npz"))
    m.save(d)
    with pytest.raises(ModelIntegrityError, match="hs0_w"):
        Engine(models_dir=tmp_path / "models", provider="cpu").codec()


@pytest.mark.parametrize("hyper", [None, "float-graph"])
def test_codec_without_the_fixed_point_hyper_synthesis_is_refused_in_one_line(
        tiny_models, tmp_path, hyper):
    """Only the integer hyper-synthesis gives the decoder the encoder's exact scale indexes."""
    import shutil

    from app.core.engine import Engine
    from app.core.runtime.registry import ModelError
    from app.spec.manifest import Manifest

    d = tmp_path / "models" / "tiny-codec"
    shutil.copytree(tiny_models / "tiny-codec", d)
    m = Manifest.load(d)
    del m.params["hyper"]
    if hyper is not None:
        m.params["hyper"] = hyper
    m.save(d)
    with pytest.raises(ModelError) as caught:
        Engine(models_dir=tmp_path / "models", provider="cpu").codec()
    message = str(caught.value)
    assert "'tiny-codec'" in message and "fixed-point-v1" in message and "\n" not in message
    assert (hyper or "names none") in message


def test_the_default_model_is_the_highest_version_not_the_last_string(tiny_models, tmp_path):
    import json
    import shutil

    copy = tmp_path / "models"
    for version in ("v2", "v10", "v9"):
        shutil.copytree(tiny_models / "tiny-denoise", copy / f"tiny-denoise-{version}")
        manifest = copy / f"tiny-denoise-{version}" / "manifest.json"
        raw = json.loads(manifest.read_text())
        raw["id"] = f"tiny-denoise-{version}"
        manifest.write_text(json.dumps(raw))
    reg = Registry(copy)
    assert [m.id for m in reg.list("denoise")] == [
        "tiny-denoise-v2", "tiny-denoise-v9", "tiny-denoise-v10"]
    assert reg.default("denoise").id == "tiny-denoise-v10"
