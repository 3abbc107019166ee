"""The torch hole fills the inpainter trains with equal the numpy ones the app runs."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from app.core.restore.hole_fill import prefill  # noqa: E402
from app.spec.manifest import HOLE_FILLS  # noqa: E402
from training.data import random_mask  # noqa: E402
from training.hole_fill import fill_holes  # noqa: E402


@pytest.mark.parametrize("method", list(HOLE_FILLS))
@pytest.mark.parametrize("size", [(160, 160), (97, 130), (33, 200)])
def test_training_and_app_fills_agree(size, method, monkeypatch):
    h, w = size
    rng = np.random.default_rng(h)
    rgb = rng.integers(0, 256, (2, h, w, 3), dtype=np.uint8)
    masks = np.stack([random_mask(h, w, rng) for _ in range(2)])
    image = torch.from_numpy(rgb.transpose(0, 3, 1, 2) / 255.0).float()
    got = fill_holes(image, torch.from_numpy(masks)[:, None], method)
    got = got.numpy().transpose(0, 2, 3, 1)
    # Small bands, so that the app's full-resolution rows are filled in several overlapping
    # bands (the relaxation reaches 2 * sweeps + 1 rows beyond each).
    monkeypatch.setattr("app.core.restore.hole_fill.BAND", 16)
    for i in range(2):
        app = prefill(rgb[i], masks[i] > 0, method).array()
        # the app rounds its fill to 8 bits; training keeps floats
        assert np.abs(got[i] * 255 - app).max() <= 0.51
        assert np.array_equal(app[masks[i] == 0], rgb[i][masks[i] == 0])


@pytest.mark.parametrize("prefill_arg, method", [(True, "push-pull"), ("harmonic", "harmonic")])
def test_a_prefill_inpainter_starts_as_its_parent_and_the_app_feeds_it_the_fill(
        tiny_models, tmp_path, prefill_arg, method):
    """From a shipped model without a first guess, the prefill model begins as exactly that
    model; once exported, its manifest asks for its fill and the app's output is the network
    run on the app's fill (known pixels unchanged)."""
    import shutil

    from app.core.engine import Engine
    from app.spec.manifest import Manifest
    from training.archs import build
    from training.config import TrainConfig
    from training.engine import load_weights
    from training.export import export_model

    parent = Manifest.load(tiny_models / "tiny-inpaint")
    args = parent.params["arch_args"]
    old = build("inpainter_unet", **args).eval()
    new = build("inpainter_unet", **args, prefill=prefill_arg).eval()
    weights = tiny_models / "tiny-inpaint" / "weights.safetensors"
    load_weights(old, weights)
    load_weights(new, weights)
    rng = np.random.default_rng(5)
    x = torch.rand(1, 3, 64, 80)
    m = torch.from_numpy(random_mask(64, 80, rng))[None, None]
    with torch.no_grad():
        assert torch.allclose(old(x, m), new(fill_holes(x, m, method), m), atol=1e-6)
        torch.nn.init.normal_(new.guess.weight, std=0.2)  # make the fill matter
        torch.nn.init.normal_(new.net.tail.weight, std=0.2)

    run = tmp_path / "runs" / "tiny-prefill"
    run.mkdir(parents=True)
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in new.state_dict().items()},
              str(run / "weights.safetensors"), metadata={"step": "1", "elapsed_s": "1"})
    cfg = TrainConfig(name="tiny-prefill", task="inpaint", arch="inpainter_unet",
                      arch_args={**args, "prefill": prefill_arg})
    models = tmp_path / "models"
    models.mkdir()
    export_model(cfg, runs=str(tmp_path / "runs"), models=str(models))
    assert Manifest.load(models / "tiny-prefill").params["hole_fill"] == method
    shutil.copytree(tiny_models / "tiny-inpaint", models / "tiny-inpaint")

    rgb = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    hole = random_mask(64, 80, rng) > 0
    engine = Engine(models_dir=models, provider="cpu")
    # one pass: the network once on the app's fill (the default averages mirrored copies)
    got = engine.inpaint(rgb, hole.astype(np.uint8), model_id="tiny-prefill", passes=1)
    assert np.array_equal(got[~hole], rgb[~hole])
    guess = prefill(rgb, hole, method).array().transpose(2, 0, 1)[None] / 255.0
    guess = torch.from_numpy(guess).float()
    with torch.no_grad():
        ref = new.eval()(guess, torch.from_numpy(hole[None, None].astype(np.float32)))
    ref = np.clip(np.rint(ref[0].numpy().transpose(1, 2, 0) * 255), 0, 255)
    assert np.abs(got.astype(int) - ref).max() <= 1
    # the parent, which ignores hole pixels, gives another result on the same input
    other = engine.inpaint(rgb, hole.astype(np.uint8), model_id="tiny-inpaint", passes=1)
    assert np.abs(other.astype(int) - got).max() > 5


def test_an_unknown_fill_is_refused_by_the_model_and_the_torch_fill():
    from training.archs import build

    with pytest.raises(ValueError, match="unknown hole fill"):
        build("inpainter_unet", prefill="telea")
    with pytest.raises(ValueError, match="unknown hole fill"):
        fill_holes(torch.zeros(1, 3, 8, 8), torch.ones(1, 1, 8, 8), "telea")
