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
