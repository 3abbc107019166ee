"""The checkerboard model: causal context, a zero residual at the start, one output contract."""

import pytest

torch = pytest.importorskip("torch")

from training.archs import build  # noqa: E402
from tests.training.warm_start import assert_starts_as_parent_then_learns  # noqa: E402
from training.archs.checkerboard import anchor_mask  # noqa: E402

ARGS = {"N": 8, "M": 12, "lambdas": [0.005, 0.02, 0.08]}


def test_context_reads_only_anchors_and_reaches_only_the_others():
    torch.manual_seed(0)
    model = build("checkerboard_hyperprior", **ARGS)
    y = torch.randn(1, 12, 6, 7)
    a = anchor_mask(6, 7).bool()
    moved = y.clone()
    moved[:, :, ~a[0, 0]] += 5.0                 # change every non-anchor value
    ctx, ctx_moved = model.context_features(y), model.context_features(moved)
    assert torch.equal(ctx, ctx_moved)
    assert torch.count_nonzero(ctx[:, :, a[0, 0]]) == 0      # anchors get no context
    moved = y.clone()
    moved[:, :, a[0, 0]] += 5.0                  # the anchors do reach the others
    assert not torch.equal(model.context_features(moved), ctx)


def test_started_from_a_hyperprior_it_is_that_hyperprior_until_trained(tmp_path):
    torch.manual_seed(1)
    parent = build("mean_scale_hyperprior", **ARGS)
    child = assert_starts_as_parent_then_learns(
        parent, build("checkerboard_hyperprior", **ARGS), tmp_path)
    assert child.entropy_parameters[-1].weight.grad.abs().sum() > 0   # the residual can learn
