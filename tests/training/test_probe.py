import math

import pytest

pytest.importorskip("torch")


def _config(tiny_models, name):
    from training.config import TrainConfig

    return TrainConfig.load(tiny_models.parent / "runs" / name / "config.json")


@pytest.mark.parametrize("name,size,keys", [("tiny-codec", 64, {"loss", "psnr", "bpp"}),
                                            ("tiny-denoise", 48, {"loss", "psnr", "psnr_in"}),
                                            ("tiny-inpaint", 48, {"loss", "psnr", "hole"})])
def test_probe_scores_every_task_the_same_way_each_time(tiny_models, name, size, keys):
    from training.probe import probe

    cfg = _config(tiny_models, name)
    weights = tiny_models.parent / "runs" / name / "weights.safetensors"
    first, shipped = probe(cfg, [weights, tiny_models / name], crops=5, size=size, batch=2)
    again = probe(cfg, [weights], crops=5, size=size, batch=2)[0]
    assert set(first) == keys | {"weights"}
    assert all(math.isfinite(first[k]) for k in keys)
    assert {k: first[k] for k in keys} == {k: again[k] for k in keys}  # same crops and draws
    # the shipped folder keeps fp16 copies of the same weights: nearly the same scores
    assert shipped["psnr"] == pytest.approx(first["psnr"], abs=0.05)


def test_probe_tells_different_weights_apart(tiny_models, tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    from training.probe import format_table, probe

    cfg = _config(tiny_models, "tiny-denoise")
    weights = tiny_models.parent / "runs" / "tiny-denoise" / "weights.safetensors"
    params = load_file(str(weights))
    params["net.tail.bias"] = params["net.tail.bias"] + 0.2  # every output pixel shifted
    worse = tmp_path / "worse.safetensors"
    save_file(params, str(worse))
    good, bad = probe(cfg, [weights, worse], crops=4, size=48, batch=4)
    assert bad["psnr"] < good["psnr"] - 3
    table = format_table([good, bad]).splitlines()
    assert len(table) == 3 and table[2].startswith(str(worse))
    assert torch.isfinite(torch.tensor(bad["loss"]))


def test_probe_refuses_crops_it_cannot_make_or_the_model_cannot_take(tiny_models):
    from training.probe import probe

    cfg = _config(tiny_models, "tiny-inpaint")
    with pytest.raises(ValueError, match="at least 256px"):
        probe(cfg, [tiny_models / "tiny-inpaint"], size=256)
    with pytest.raises(ValueError, match="multiple of"):
        probe(_config(tiny_models, "tiny-codec"), [tiny_models / "tiny-codec"], size=48)


def test_eval_forward_quantises_the_hyper_latent_as_the_codec_does(tiny_models):
    """The probe scores what the codec codes: ``z`` in integer steps from each channel's
    median (the exported ``z_medians``), not rounded to integers."""
    import numpy as np
    import torch

    from training.engine import build_model, load_weights

    cfg = _config(tiny_models, "tiny-codec")
    model = build_model(cfg).eval()
    load_weights(model, tiny_models.parent / "runs" / "tiny-codec" / "weights.safetensors")
    shipped = np.load(tiny_models / "tiny-codec" / "tables.npz")["z_medians"]
    med = model.entropy_bottleneck.medians()
    np.testing.assert_allclose(med, shipped, atol=1e-3)
    assert np.abs(med - np.round(med)).max() > 0.05  # rounding z alone would differ
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model(x, torch.tensor([0]))
        z = model.h_a(model.g_a(x) * model.gains(torch.tensor([0]))[0])
        m = torch.from_numpy(med).float()[None, :, None, None]
        expected = model.entropy_bottleneck.likelihood(torch.round(z - m) + m)
    torch.testing.assert_close(out["likelihoods"]["z"], expected)


def test_the_hyper_latent_medians_follow_every_change_of_the_weights():
    """``medians`` keeps its half-second grid between calls, but never past a weight change."""
    import numpy as np
    import torch

    from training.archs.entropy import EntropyBottleneck, grid_medians

    torch.manual_seed(0)
    eb = EntropyBottleneck(4)
    first = eb.medians()
    assert eb.medians() is first  # nothing changed: the grid is not computed again

    def fresh():
        return grid_medians(*eb.cdf_grid())

    with torch.no_grad():
        eb.biases[-1].add_(0.2)  # an in-place edit
    np.testing.assert_allclose(eb.medians(), fresh())
    assert np.abs(eb.medians() - first).max() > 0.1
    state = {k: v + 0.1 if "biases" in k else v for k, v in eb.state_dict().items()}
    before = eb.medians()
    eb.load_state_dict(state)  # loading weights
    np.testing.assert_allclose(eb.medians(), fresh())
    assert np.abs(eb.medians() - before).max() > 0.05
    before = eb.medians()
    optim = torch.optim.Adam(eb.parameters(), lr=1e-2)
    eb.likelihood(torch.randn(1, 4, 3, 3)).log().sum().backward()
    optim.step()  # a training step
    np.testing.assert_allclose(eb.medians(), fresh())
    assert np.abs(eb.medians() - before).max() > 1e-3
