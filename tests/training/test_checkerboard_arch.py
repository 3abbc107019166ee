"""The checkerboard model: causal context, a zero residual at the start, one output contract."""

import pytest

torch = pytest.importorskip("torch")

from training.archs import build  # noqa: E402
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
    from safetensors.torch import save_file

    from training.engine import load_weights

    torch.manual_seed(1)
    parent = build("mean_scale_hyperprior", **ARGS).eval()
    save_file(dict(parent.state_dict()), str(tmp_path / "p.safetensors"))
    child = build("checkerboard_hyperprior", **ARGS).eval()
    load_weights(child, tmp_path / "p.safetensors")
    x, level = torch.rand(2, 3, 64, 64), torch.tensor([0, 2])
    with torch.no_grad():
        p, c = parent(x, level), child(x, level)
    assert set(c) == {"x_hat", "likelihoods"} and set(c["likelihoods"]) == {"y", "z"}
    for got, ref in ((c["x_hat"], p["x_hat"]), (c["likelihoods"]["y"], p["likelihoods"]["y"])):
        assert torch.equal(got, ref)
    child.train()
    out = child(x, level)
    (-torch.log2(out["likelihoods"]["y"]).sum()).backward()
    assert child.entropy_parameters[-1].weight.grad.abs().sum() > 0   # the residual can learn
