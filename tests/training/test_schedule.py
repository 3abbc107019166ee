"""The learning-rate schedule: linear warm-up, then a cosine decay over the step or time budget."""

from __future__ import annotations

import itertools

import pytest

pytest.importorskip("torch")

from training.config import TrainConfig  # noqa: E402
from training.engine import learning_rate  # noqa: E402


def cfg(**kw) -> TrainConfig:
    base = dict(name="s", task="codec", arch="mean_scale_hyperprior", steps=1000,
                max_minutes=10.0, lr=1e-3, lr_min=1e-5)
    return TrainConfig(**{**base, **kw})


def test_cosine_runs_from_lr_to_lr_min_over_the_step_budget():
    c = cfg()
    assert learning_rate(c, 0, 0.0) == pytest.approx(1e-3)
    assert learning_rate(c, 500, 0.0) == pytest.approx((1e-3 + 1e-5) / 2)
    assert learning_rate(c, 1000, 0.0) == pytest.approx(1e-5)
    rates = [learning_rate(c, s, 0.0) for s in range(0, 1001, 50)]
    assert all(a > b for a, b in itertools.pairwise(rates))


def test_the_time_budget_ends_the_decay_when_it_runs_out_first():
    c = cfg()
    assert learning_rate(c, 10, 300.0) == pytest.approx((1e-3 + 1e-5) / 2)  # half of 10 min
    assert learning_rate(c, 10, 600.0) == pytest.approx(1e-5)


def test_warm_up_ramps_linearly_then_joins_the_cosine():
    c = cfg(warmup_steps=100)
    assert learning_rate(c, 0, 0.0) == pytest.approx(1e-3 / 100, rel=1e-3)
    assert learning_rate(c, 49, 0.0) == pytest.approx(0.5 * learning_rate(cfg(), 49, 0.0))
    assert learning_rate(c, 99, 0.0) == pytest.approx(learning_rate(cfg(), 99, 0.0))
    assert learning_rate(c, 400, 0.0) == learning_rate(cfg(), 400, 0.0)


def test_lr_scale_trains_a_new_layer_faster_and_resumes_with_its_groups(tmp_path):
    """``lr_scale`` gives the parameters under a prefix their own multiple of the learning
    rate; a restart from the checkpoint keeps the groups; a prefix that names nothing is
    refused instead of silently training everything at 1x."""
    import numpy as np
    import torch
    from PIL import Image

    from training.archs import build
    from training.config import DataSource
    from training.engine import param_groups, train

    model = build("inpainter_unet", widths=[8, 16], blocks=1, bottleneck_dilations=[2],
                  prefill=True)
    groups = param_groups(model, {"guess.": 25})
    assert [g["scale"] for g in groups] == [1.0, 25.0]
    assert groups[1]["params"] == [model.guess.weight]
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    with pytest.raises(ValueError, match="nothing|no parameter"):
        param_groups(model, {"gues.": 2})

    data = tmp_path / "photos"
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (80, 80, 3), dtype=np.uint8)).save(data / f"{i}.png")
    c = TrainConfig(name="scaled", task="inpaint", arch="inpainter_unet",
                    arch_args={"widths": [8, 16], "blocks": 1, "bottleneck_dilations": [2],
                               "prefill": True},
                    data=[DataSource(str(data))], patch=64, batch=2, steps=2, threads=1,
                    lr=1e-4, lr_min=1e-4, lr_scale={"guess.": 25})
    ckpt = train(c, root=tmp_path / "runs")
    saved = torch.load(ckpt, weights_only=True)["optim"]["param_groups"]
    assert [g["lr"] for g in saved] == pytest.approx([1e-4, 2.5e-3])
    c.steps = 3
    train(c, root=tmp_path / "runs")  # resumes with the same two groups
    saved = torch.load(ckpt, weights_only=True)
    assert saved["state"]["step"] == 3 and len(saved["optim"]["param_groups"]) == 2
