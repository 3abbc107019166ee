"""Shared fixtures: small test images made here, and tiny models trained and exported by the
real training package (so core tests do not depend on the shipped weights)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"


def smooth_image(h: int, w: int, seed: int = 0, channels: int = 3) -> np.ndarray:
    """A photo-like test image: gradients, a few discs and mild texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        img[..., c] = 60 + 120 * (xx / w) * (c + 1) / 3 + 60 * (yy / h)
    for _ in range(4):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(5, min(h, w) / 3)
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        img[disc] = rng.uniform(0, 255, 3)
    img += rng.normal(0, 3, img.shape)
    img = np.clip(img, 0, 255).astype(np.uint8)
    return img[..., :1] if channels == 1 else img


def assert_round_trips_any_size(codec, model_id: str) -> None:
    """A codec decodes odd-sized RGB, grey and RGBA images to their shape, alpha exact."""
    from app.spec import bitstream as bsf

    for img in (smooth_image(70, 101, seed=3), smooth_image(40, 52, seed=6, channels=1)):
        data = codec.encode(img, 60)
        out = codec.decode(data)
        assert out.shape == img.shape and out.dtype == np.uint8
        assert bsf.unpack(data).model_id == model_id
    rgba = np.concatenate([smooth_image(40, 52, seed=7),
                           np.random.default_rng(0).integers(0, 256, (40, 52, 1), np.uint8)], 2)
    out = codec.decode(codec.encode(rgba, 80))
    np.testing.assert_array_equal(out[..., 3], rgba[..., 3])


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    """Train each architecture for two steps and export it, with the real pipeline."""
    pytest.importorskip("torch")
    from PIL import Image

    from training.config import DataSource, TrainConfig
    from training.engine import train
    from training.export import export_model

    root = tmp_path_factory.mktemp("tiny")
    data = root / "photos"
    data.mkdir()
    for i in range(3):
        Image.fromarray(smooth_image(96, 112, seed=i)).save(data / f"p{i}.png")
    configs = [
        TrainConfig(name="tiny-codec", task="codec", arch="mean_scale_hyperprior",
                    arch_args={"N": 8, "M": 12, "lambdas": [0.005, 0.02, 0.08]}),
        TrainConfig(name="tiny-denoise", task="denoise", arch="denoiser_unet",
                    arch_args={"widths": [8, 16], "blocks": 1}),
        TrainConfig(name="tiny-inpaint", task="inpaint", arch="inpainter_unet",
                    arch_args={"widths": [8, 16], "blocks": 1, "bottleneck_dilations": [2]}),
    ]
    for cfg in configs:
        cfg.data = [DataSource(str(data))]
        cfg.patch, cfg.batch, cfg.steps, cfg.threads, cfg.bf16 = 64, 2, 2, 1, False
        train(cfg, root=root / "runs")
        export_model(cfg, runs=str(root / "runs"), models=str(root / "models"))
    return root / "models"


def _tiny_prefill_model(tiny_models: Path, name: str, prefill, folder: str) -> Path:
    """A folder with one tiny inpainter that refines a first guess of the holes (``prefill``),
    started from the tiny inpainter and trained for two steps."""
    from training.config import DataSource, TrainConfig
    from training.engine import train
    from training.export import export_model

    root = tiny_models.parent
    cfg = TrainConfig(name=name, task="inpaint", arch="inpainter_unet",
                      arch_args={"widths": [8, 16], "blocks": 1, "bottleneck_dilations": [2],
                                 "prefill": prefill},
                      data=[DataSource(str(root / "photos"))], patch=64, batch=2, steps=2,
                      threads=1, init=str(tiny_models / "tiny-inpaint"),
                      lr_scale={"guess.": 10})
    train(cfg, root=root / "runs")
    export_model(cfg, runs=str(root / "runs"), models=str(root / folder))
    return root / folder


@pytest.fixture(scope="session")
def tiny_fill_models(tiny_models) -> Path:
    """A tiny inpainter that refines a push-pull first guess (``prefill: true``)."""
    return _tiny_prefill_model(tiny_models, "tiny-inpaint-fill", True, "fill-models")


@pytest.fixture(scope="session")
def tiny_harmonic_models(tiny_models) -> Path:
    """A tiny inpainter that refines a harmonic first guess (``prefill: "harmonic"``)."""
    return _tiny_prefill_model(tiny_models, "tiny-inpaint-harmonic", "harmonic", "harmonic-models")


@pytest.fixture(scope="session")
def tiny_checkerboard_models(tiny_models) -> Path:
    """A folder with a tiny checkerboard codec started from the tiny hyperprior codec (its
    context layers trained two steps, fast enough to matter), one exported right at its start
    (a zero residual: the hyperprior's parameters) and that hyperprior from the same weights."""
    from training.config import DataSource, TrainConfig
    from training.engine import train
    from training.export import export_model

    root = tiny_models.parent
    out = root / "checkerboard-models"
    common = dict(task="codec", arch="checkerboard_hyperprior",
                  arch_args={"N": 8, "M": 12, "lambdas": [0.005, 0.02, 0.08]},
                  data=[DataSource(str(root / "photos"))], patch=64, batch=2, steps=2,
                  threads=1, init=str(tiny_models / "tiny-codec"))
    cfg = TrainConfig(name="tiny-checkerboard", lr_scale={"context.": 300,
                                                          "entropy_parameters.": 300}, **common)
    train(cfg, root=root / "runs")
    export_model(cfg, runs=str(root / "runs"), models=str(out))
    # the parent as shipped (fp16 weights), and the checkerboard started from those weights
    for name, arch in (("tiny-codec-shipped", "mean_scale_hyperprior"),
                       ("tiny-checkerboard-start", "checkerboard_hyperprior")):
        export_started_from(TrainConfig(name=name, **{**common, "arch": arch}),
                            tiny_models / "tiny-codec", root / "runs", out)
    return out


def export_started_from(cfg, parent: Path, runs: Path, out: Path) -> None:
    """Export ``cfg``'s model as built from ``parent``'s shipped weights, before any step."""
    from safetensors.torch import save_file

    from training.engine import build_model, load_weights
    from training.export import export_model

    model = build_model(cfg)
    load_weights(model, parent / "weights.safetensors")
    weights = runs / f"{cfg.name}.safetensors"
    save_file(dict(model.state_dict()), str(weights), metadata={"step": "0", "elapsed_s": "0"})
    export_model(cfg, weights=str(weights), models=str(out))


@pytest.fixture(scope="session")
def tiny_engine(tiny_models):
    from app.core.engine import Engine

    return Engine(models_dir=tiny_models, provider="cpu")
