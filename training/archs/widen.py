"""Start a wider network from a narrower trained one without changing what it computes.

Each convolution keeps the trained weights in its first channels. The channels that widening
adds take the wider model's fresh initialisation, except the weights that carry a new channel
into an old one, which start at zero: the old channels then compute exactly what they did, and
the new ones join through gradients that are not zero (their inputs are live). This is the
"add units whose outgoing weights are zero" form of Net2WiderNet (Chen et al. 2016), which works
through residual additions and skip connections without tracking which channel feeds which.
"""

from __future__ import annotations

import torch
from torch import nn


def _input_dim(module: nn.Module) -> int | None:
    """Which weight axis holds a layer's input channels (ConvTranspose stores them first)."""
    if isinstance(module, nn.ConvTranspose2d):
        return 0
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        return 1
    return None


def widen_state(model: nn.Module, params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``params`` (a narrower model's state) embedded in ``model``'s own fresh state.

    Entries whose shapes already match pass through; a smaller entry fills the leading corner
    of the fresh tensor. Any other shape mismatch (a different kernel size, more dimensions) is
    left for ``load_state_dict`` to report.
    """
    fresh = model.state_dict()
    modules = dict(model.named_modules())
    out = dict(params)
    for name, old in params.items():
        new = fresh.get(name)
        if new is None or new.shape == old.shape or new.dim() != old.dim():
            continue
        if any(o > n for o, n in zip(old.shape, new.shape)):
            continue
        grown = new.detach().clone()
        corner = tuple(slice(0, o) for o in old.shape)
        grown[corner] = old
        owner, _, leaf = name.rpartition(".")
        in_dim = _input_dim(modules.get(owner)) if leaf == "weight" else None
        if in_dim is not None and old.shape[in_dim] < new.shape[in_dim]:
            # weights from new input channels into old output channels start at zero
            out_dim = 1 - in_dim
            block = [slice(None)] * new.dim()
            block[in_dim] = slice(old.shape[in_dim], None)
            block[out_dim] = slice(0, old.shape[out_dim])
            grown[tuple(block)] = 0
        out[name] = grown
    return out
