"""``python -m training quantize``: an int8 copy of a denoiser, only the chosen convolutions."""

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from app.spec.manifest import Manifest, sha256_file
from tests.conftest import smooth_image
from tests.training.test_realnoise_export import realnoise_models  # noqa: F401 (fixture)


@pytest.fixture
def quantize_setup(tiny_models, tmp_path):
    from training.config import DataSource
    from training.export.quantize import QuantizeConfig

    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        Image.fromarray(smooth_image(80, 96, seed=10 + i)).save(photos / f"q{i}.png")
    cfg = QuantizeConfig(name="tiny-denoise-int8", source=str(tiny_models / "tiny-denoise"),
                         nodes=["/net/bottleneck/"], data=[DataSource(str(photos))], seed=1,
                         calib_crops=6, calib_patch=32, check_crops=3, check_patch=48,
                         description="the bottleneck")
    return cfg, tmp_path / "models"


def _weight_is_int8(graph: onnx.GraphProto, node: onnx.NodeProto) -> bool:
    producers = {out: n for n in graph.node for out in n.output}
    weight = producers.get(node.input[1])
    return weight is not None and weight.op_type == "DequantizeLinear"


def test_quantize_writes_a_verified_model_with_only_the_chosen_convolutions_in_int8(
        quantize_setup, tiny_models, capsys):
    from training.export.quantize import quantize_model

    cfg, models = quantize_setup
    out = quantize_model(cfg, models=str(models))
    assert sorted(p.name for p in models.iterdir()) == ["tiny-denoise-int8"]
    m = Manifest.load(out)
    src = Manifest.load(tiny_models / "tiny-denoise")
    assert m.task == "denoise" and m.graphs == src.graphs
    assert sha256_file(out / "denoise.onnx") == m.files["denoise"].sha256
    q = m.params["quantization"]
    assert q["from"] == "tiny-denoise" and q["from_hash"] == src.model_hash()[:16]
    assert set(q["check_psnr_fp32"]) == {"15", "25", "50"}
    graph = onnx.load(str(out / "denoise.onnx")).graph
    convs = [n for n in graph.node if n.op_type in ("Conv", "ConvTranspose")]
    int8 = {n.name for n in convs if _weight_is_int8(graph, n)}
    assert int8 == set(q["nodes"]) and int8
    assert all("/net/bottleneck/" in n for n in int8)
    assert len(convs) > len(int8)  # the other convolutions stay in float
    assert f"{len(int8)} convolutions in int8" in capsys.readouterr().out


def test_the_int8_model_denoises_like_its_source_in_the_app(quantize_setup, tiny_models):
    import shutil

    from app.core.engine import Engine
    from training.export.quantize import quantize_model

    cfg, models = quantize_setup
    quantize_model(cfg, models=str(models))
    shutil.copytree(tiny_models / "tiny-denoise", models / "tiny-denoise")
    engine = Engine(models_dir=models, provider="cpu")
    noisy = np.clip(smooth_image(64, 72, seed=3).astype(np.float64)
                    + np.random.default_rng(0).normal(0, 20, (64, 72, 3)), 0, 255)
    noisy = noisy.astype(np.uint8)
    fp32, _ = engine.denoise(noisy, sigma=20, model_id="tiny-denoise")
    int8, _ = engine.denoise(noisy, sigma=20, model_id="tiny-denoise-int8")
    assert int8.shape == noisy.shape and int8.dtype == np.uint8
    assert np.abs(int8.astype(int) - fp32).max() <= 3


def test_the_int8_copy_is_the_default_on_cpu_and_the_float_model_on_a_gpu(quantize_setup,
                                                                          tiny_models):
    import shutil

    from app.core.engine import Engine
    from app.core.runtime.registry import Registry
    from training.export.quantize import quantize_model

    cfg, models = quantize_setup
    quantize_model(cfg, models=str(models))
    shutil.copytree(tiny_models / "tiny-denoise", models / "tiny-denoise")
    registry = Registry(models)
    assert registry.default("denoise").id == "tiny-denoise-int8"
    assert registry.default("denoise", prefer_float=True).id == "tiny-denoise"
    assert Engine(models_dir=models, provider="cpu").resolve("denoise").id == "tiny-denoise-int8"
    gpu = Engine(models_dir=models, provider="cpu")
    gpu.sessions.providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]  # as on a GPU
    assert gpu.resolve("denoise").id == "tiny-denoise"
    assert gpu.resolve("denoise", "tiny-denoise-int8").id == "tiny-denoise-int8"  # asked for


def test_a_quantisation_that_loses_too_much_leaves_nothing_behind(quantize_setup):
    from training.export.quantize import quantize_model

    cfg, models = quantize_setup
    cfg.max_psnr_drop = -1.0  # any int8 graph "loses" more than this
    with pytest.raises(RuntimeError, match="quantise fewer nodes"):
        quantize_model(cfg, models=str(models))
    assert not models.exists() or not any(models.iterdir())


def test_quantize_refuses_other_tasks_and_unmatched_nodes(quantize_setup, tiny_models):
    from training.export.quantize import quantize_model

    cfg, models = quantize_setup
    cfg.source = str(tiny_models / "tiny-codec")
    with pytest.raises(ValueError, match="only denoise models"):
        quantize_model(cfg, models=str(models))
    cfg.source, cfg.nodes = str(tiny_models / "tiny-denoise"), ["/no/such/layer/"]
    with pytest.raises(ValueError, match="no convolution node matches"):
        quantize_model(cfg, models=str(models))
    assert not models.exists() or not any(models.iterdir())


def test_the_shipped_int8_config_names_its_source_and_layers():
    from training.export.quantize import QuantizeConfig

    cfg = QuantizeConfig.load("training/configs/denoise-unet-v4-int8.json")
    assert cfg.source == "models/denoise-unet-v4" and cfg.nodes and cfg.description
    shipped = json.loads(Path("models/denoise-unet-v4-int8/manifest.json").read_text())
    assert shipped["params"]["quantization"]["match"] == cfg.nodes


def _float_nodes_read_rounded_floats(graph: onnx.GraphProto, int8: set[str]) -> list[str]:
    """Float nodes that read an 8-bit copy of a tensor a float node made."""
    producers = {out: n for n in graph.node for out in n.output}
    bad = []
    for node in graph.node:
        if node.op_type in ("QuantizeLinear", "DequantizeLinear") or node.name in int8:
            continue
        for name in node.input:
            dq = producers.get(name)
            if dq is None or dq.op_type != "DequantizeLinear":
                continue
            q = producers.get(dq.input[0])
            if q is not None and q.op_type == "QuantizeLinear":
                made_by = producers.get(q.input[0])
                if made_by is None or made_by.name not in int8:
                    bad.append(node.name)
    return bad


def test_float_inputs_give_the_skip_connections_their_float_tensors(quantize_setup, tiny_models):
    from training.export.quantize import quantize_model

    cfg, models = quantize_setup
    cfg.nodes = ["/net/downs."]  # its input is also the U-Net's skip connection
    graph = onnx.load(str(quantize_model(cfg, models=str(models)) / "denoise.onnx")).graph
    int8 = {n.name for n in graph.node if n.op_type == "Conv" and _weight_is_int8(graph, n)}
    assert _float_nodes_read_rounded_floats(graph, int8)  # the quantiser's own graph
    cfg.name, cfg.float_inputs = "tiny-denoise-int8-float-inputs", True
    out = quantize_model(cfg, models=str(models))
    graph = onnx.load(str(out / "denoise.onnx")).graph
    assert {n.name for n in graph.node if n.op_type == "Conv"
            and _weight_is_int8(graph, n)} == int8  # the same convolutions in int8
    assert _float_nodes_read_rounded_floats(graph, int8) == []
    assert not any(n.op_type == "DequantizeLinear" and n.output[0] not in
                   {i for m in graph.node for i in m.input} for n in graph.node)


def test_a_realnoise_denoiser_is_calibrated_on_real_noise_and_keeps_its_estimator(
        realnoise_models, tmp_path, capsys):
    from training.config import DataSource
    from training.export.quantize import QuantizeConfig, quantize_model
    from training.export.quantize_crops import REALNOISE_KINDS, realnoise_crops

    import onnxruntime as ort

    from app.core.engine import Engine
    from app.core.restore import noise_map

    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        Image.fromarray(smooth_image(80, 96, seed=20 + i)).save(photos / f"r{i}.png")
    source = realnoise_models / "tiny-realnoise"
    cfg = QuantizeConfig(name="tiny-realnoise-int8", source=str(source),
                         nodes=["/net/bottleneck/"], data=[DataSource(str(photos))], seed=2,
                         calib_crops=5, calib_patch=32, check_crops=5, check_patch=48,
                         calibration="realnoise", float_inputs=True)
    models = tmp_path / "models"
    out = quantize_model(cfg, models=str(models))
    m, src = Manifest.load(out), Manifest.load(source)
    assert m.graphs == src.graphs and m.params["noise_map"] == src.params["noise_map"]
    assert m.files["noise_map"].sha256 == src.files["noise_map"].sha256
    assert sha256_file(out / m.files["noise_map"].path) == src.files["noise_map"].sha256
    q = m.params["quantization"]
    assert q["calibration"]["inputs"] == "realnoise" and "sigmas" not in q["calibration"]
    assert q["float_inputs"] is True
    kinds = set(q["check_psnr_fp32"])
    assert len(kinds) == 5 and kinds <= set(REALNOISE_KINDS) | {"camera_jpeg"}
    assert "gauss_jpeg: " in capsys.readouterr().out

    # the crops: one kind after the other, 8-bit inputs, and the estimator's own map
    images = [np.asarray(Image.open(p)) for p in sorted(photos.glob("*.png"))]
    crops = realnoise_crops(images, 5, 32, list(REALNOISE_KINDS), 3,
                            source / src.files["noise_map"].path, 4)
    assert [c[2].split("_jpeg")[0] if c[2] == "camera_jpeg" else c[2] for c in crops] == \
        list(REALNOISE_KINDS)
    estimator = ort.InferenceSession(str(source / src.files["noise_map"].path),
                                     providers=["CPUExecutionProvider"])
    for feed, clean, _ in crops:
        assert feed["image"].shape == clean.shape == (1, 3, 32, 32)
        np.testing.assert_allclose(feed["image"] * 255, np.round(feed["image"] * 255), atol=1e-3)
        small = estimator.run(None, {"image": feed["image"]})[0][0, 0]
        np.testing.assert_allclose(feed["sigma"][0, 0], noise_map.upsample(small, 4),
                                   rtol=0, atol=2e-8)  # the tiny map varies by 1e-6

    shutil.copytree(source, models / "tiny-realnoise")
    engine = Engine(models_dir=models, provider="cpu")
    noisy = np.clip(smooth_image(64, 72, seed=4).astype(np.float64)
                    + np.random.default_rng(1).normal(0, 12, (64, 72, 3)), 0, 255)
    noisy = noisy.astype(np.uint8)
    fp32, s32 = engine.denoise(noisy, model_id="tiny-realnoise")
    int8, s8 = engine.denoise(noisy, model_id="tiny-realnoise-int8")
    assert s8 == s32  # the same estimator
    assert np.abs(int8.astype(int) - fp32).max() <= 3
