"""The real-noise denoiser exports two graphs, and the app feeds the estimator's map, scaled by
the strength, to the denoiser when no sigma is given."""

import numpy as np
import pytest

pytest.importorskip("torch")

from app.core.engine import Engine  # noqa: E402
from app.spec.manifest import Manifest  # noqa: E402


@pytest.fixture(scope="module")
def realnoise_models(tmp_path_factory, tiny_models):
    from PIL import Image

    from tests.conftest import smooth_image
    from training.config import DataSource, TrainConfig
    from training.engine import train
    from training.export import export_model

    root = tmp_path_factory.mktemp("realnoise")
    (root / "photos").mkdir()
    for i in range(2):
        Image.fromarray(smooth_image(96, 112, seed=i)).save(root / "photos" / f"p{i}.png")
    cfg = TrainConfig(name="tiny-realnoise", task="denoise_realnoise",
                      arch="realnoise_denoiser_unet",
                      arch_args={"widths": [8, 16], "blocks": 1, "estimator_width": 8},
                      data=[DataSource(str(root / "photos"))], patch=72, batch=2, steps=2,
                      threads=1, task_args={"crop": 64},
                      init=str(tiny_models / "tiny-denoise"))
    train(cfg, root=root / "runs")
    export_model(cfg, runs=str(root / "runs"), models=str(root / "models"))
    # the old kind of denoiser beside it, to check it still runs as before
    import shutil

    shutil.copytree(tiny_models / "tiny-denoise", root / "models" / "tiny-denoise")
    return root / "models"


def test_manifest_is_a_denoiser_with_a_noise_map_graph(realnoise_models):
    m = Manifest.load(realnoise_models / "tiny-realnoise")
    assert m.task == "denoise"
    assert set(m.graphs) == {"denoise", "noise_map"}
    assert m.params["noise_map"] == {"graph": "noise_map", "scale": 4}
    assert m.params["training"]["init_from"] == "tiny-denoise"


def _noisy(h=70, w=90, seed=0):
    rng = np.random.default_rng(seed)
    base = np.linspace(30, 220, w)[None, :, None] * np.ones((h, 1, 3))
    return np.clip(np.round(base + rng.normal(0, 8, base.shape)), 0, 255).astype(np.uint8)


def test_blind_denoise_uses_the_map_and_strength_scales_it(realnoise_models):
    from app.core.restore import noise_map

    engine = Engine(models_dir=realnoise_models, provider="cpu")
    model = engine.model("denoise", "tiny-realnoise")
    x = _noisy()
    level = noise_map.estimate_map(engine.sessions, model, x)
    assert level.shape == x.shape[:2] and (level > 0).all()
    out, sigma = engine.denoise(x, model_id="tiny-realnoise")
    assert out.shape == x.shape
    assert sigma == pytest.approx(float(level.mean()) * 255, rel=1e-4)
    _, doubled = engine.denoise(x, model_id="tiny-realnoise", strength=2.0)
    assert doubled == pytest.approx(2 * sigma, rel=1e-4)
    _, zero = engine.denoise(x, model_id="tiny-realnoise", strength=0.0)
    assert zero == 0.0
    # a given sigma still wins over the map
    _, given = engine.denoise(x, sigma=12.0, model_id="tiny-realnoise")
    assert given == 12.0


def test_map_is_the_same_whatever_the_estimator_tiling(realnoise_models, monkeypatch):
    from app.core.restore import noise_map

    engine = Engine(models_dir=realnoise_models, provider="cpu")
    model = engine.model("denoise", "tiny-realnoise")
    x = _noisy(130, 150, seed=3)
    whole = noise_map.estimate_map(engine.sessions, model, x)
    monkeypatch.setattr(noise_map, "_CORE", 64)  # many windows, each with its 64 px margin
    tiled = noise_map.estimate_map(engine.sessions, model, x)
    # the estimator sees about 40 px around each pixel, less than the 64 px margin, so the
    # windows agree with one pass over the whole image up to float rounding
    np.testing.assert_allclose(tiled, whole, atol=1e-5)


def test_old_denoiser_keeps_its_single_sigma_and_strength_scales_it(realnoise_models):
    engine = Engine(models_dir=realnoise_models, provider="cpu")
    x = _noisy()
    _, sigma = engine.denoise(x, model_id="tiny-denoise")
    _, half = engine.denoise(x, model_id="tiny-denoise", strength=0.5)
    assert sigma > 3 and half == pytest.approx(sigma / 2, rel=1e-6)
    with pytest.raises(ValueError):
        engine.denoise(x, model_id="tiny-denoise", strength=float("nan"))
