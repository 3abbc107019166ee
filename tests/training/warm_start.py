"""The check every context model shares: warm-started from its parent it is exactly the
parent, keeps the one output contract, and its rate reaches the new layers."""

from __future__ import annotations

from pathlib import Path


def assert_starts_as_parent_then_learns(parent, child, tmp_path: Path):
    """Load ``parent``'s weights into ``child``, check both give the same ``x_hat`` and ``y``
    likelihoods, then backpropagate ``child``'s rate in train mode and return ``child`` (its
    gradients set) for the caller to check the new layers."""
    import torch
    from safetensors.torch import save_file

    from training.engine import load_weights

    save_file(dict(parent.state_dict()), str(tmp_path / "p.safetensors"))
    load_weights(child, tmp_path / "p.safetensors")
    parent.eval(), child.eval()
    x, level = torch.rand(2, 3, 64, 64), torch.tensor([0, 2])
    with torch.no_grad():
        p, c = parent(x, level), child(x, level)
    assert set(c) == {"x_hat", "likelihoods"} and set(c["likelihoods"]) == {"y", "z"}
    for got, ref in ((c["x_hat"], p["x_hat"]), (c["likelihoods"]["y"], p["likelihoods"]["y"])):
        assert torch.equal(got, ref)
    child.train()
    out = child(x, level)
    (-torch.log2(out["likelihoods"]["y"]).sum()).backward()
    return child
