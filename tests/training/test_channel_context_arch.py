"""The channel-group + checkerboard model: each pass reads only earlier passes, it starts as the
checkerboard model it is warm-started from, and its residuals can learn."""

import pytest

torch = pytest.importorskip("torch")

from training.archs import build  # noqa: E402
from tests.training.warm_start import assert_starts_as_parent_then_learns  # noqa: E402
from training.archs.checkerboard import anchor_mask  # noqa: E402

ARGS = {"N": 8, "M": 12, "lambdas": [0.005, 0.02, 0.08]}
CHANNEL = {**ARGS, "groups": [2, 2, 4, 4], "ctx_channels": 6, "hidden": 8}


def _trained_residuals(model, seed=0):
    """Give every pass's zero-initialised last layer random weights (a trained model)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for res in model.channel_context:
            last = res.params[-1]
            last.weight.copy_(torch.randn(last.weight.shape, generator=g) * 0.3)
            last.bias.copy_(torch.randn(last.bias.shape, generator=g) * 0.3)


def _pass_of(model, h, w):
    """(M, h, w) tensor: the index of the pass that codes each latent element."""
    a = anchor_mask(h, w)[0, 0].bool()
    out = torch.zeros(model.M, h, w, dtype=torch.long)
    k = len(model.groups)
    for g, (o, c) in enumerate(zip(model.offsets, model.groups)):
        out[o:o + c] = torch.where(a, g, k + g)
    return out


def test_every_pass_reads_only_the_symbols_of_earlier_passes():
    torch.manual_seed(0)
    model = build("channel_checkerboard_hyperprior", **CHANNEL).eval()
    _trained_residuals(model)
    hyper = torch.randn(1, 24, 6, 7)
    y = torch.round(torch.randn(1, 12, 6, 7) * 3)
    passes = _pass_of(model, 6, 7)
    with torch.no_grad():
        ref_means, ref_scales = model.params_from_symbols(hyper, y)
        for p in range(2 * len(model.groups)):
            moved = y.clone()
            moved[0][passes >= p] += 7.0          # change this pass's symbols and all later ones
            means, scales = model.params_from_symbols(hyper, moved)
            upto = (passes <= p)[None]
            assert torch.equal(means[upto], ref_means[upto]), p
            assert torch.equal(scales[upto], ref_scales[upto]), p
            if p + 1 < 2 * len(model.groups):     # ... and the passes after it do see them
                later = (passes > p)[None]
                assert not torch.equal(means[later], ref_means[later]), p


def test_started_from_a_checkerboard_it_is_that_checkerboard_until_trained(tmp_path):
    torch.manual_seed(1)
    parent = build("checkerboard_hyperprior", **ARGS)
    with torch.no_grad():                      # a parent whose own context is not zero
        parent.entropy_parameters[-1].weight.normal_(0, 0.1)
    child = assert_starts_as_parent_then_learns(
        parent, build("channel_checkerboard_hyperprior", **CHANNEL), tmp_path)
    for res in child.channel_context:           # every pass's residual can learn
        assert res.params[-1].weight.grad.abs().sum() > 0


def test_groups_must_split_the_latent():
    with pytest.raises(ValueError, match="add up"):
        build("channel_checkerboard_hyperprior", **{**CHANNEL, "groups": [4, 4, 2]})


def test_a_frozen_base_trains_only_the_group_residuals_on_the_rate():
    torch.manual_seed(2)
    free = build("channel_checkerboard_hyperprior", **CHANNEL)
    frozen = build("channel_checkerboard_hyperprior", **CHANNEL, frozen_base=True)
    frozen.load_state_dict(free.state_dict())
    _trained_residuals(free)
    _trained_residuals(frozen)
    x, level = torch.rand(2, 3, 64, 64), torch.tensor([0, 2])
    with torch.no_grad():                         # eval: one model, frozen or not
        a, b = free.eval()(x, level), frozen.eval()(x, level)
    assert torch.equal(a["likelihoods"]["y"], b["likelihoods"]["y"])
    frozen.train()
    out = frozen(x, level)
    loss = (-torch.log2(out["likelihoods"]["y"]).sum() + out["x_hat"].square().sum()
            - torch.log2(out["likelihoods"]["z"]).sum())
    loss.backward()
    grads = {n for n, p in frozen.named_parameters() if p.grad is not None}
    assert grads and all(n.startswith("channel_context.") for n in grads)
    assert all(frozen.channel_context[i].params[-1].weight.grad.abs().sum() > 0
               for i in range(len(frozen.channel_context)))
