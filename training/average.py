"""Average the weights of several checkpoints of one run: ``python -m training average``.

Late in a run, at a small learning rate, successive checkpoints scatter around a minimum that
a batch of four crops only ever sees noisily; their mean usually lies closer to it than any
one of them (stochastic weight averaging, Izmailov et al. 2018). The result is an ordinary
weights file that ``probe`` can score and ``export --weights`` can ship. It carries the
metadata of the newest checkpoint (its step and time are what the run cost), plus the steps
it averages.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file


def _metadata(path: Path) -> dict[str, str]:
    with safe_open(str(path), framework="pt") as f:
        return dict(f.metadata() or {})


def average_weights(paths: list[str | Path], out: str | Path) -> Path:
    """Write the mean of the weights files ``paths`` (same names and shapes) to ``out``.

    Floating-point tensors are averaged in float64 and stored in the newest file's dtype;
    other tensors must be equal in every file. The newest file is the one with the highest
    ``step`` in its metadata.
    """
    paths = [Path(p) for p in paths]
    if len(paths) < 2:
        raise ValueError("average needs at least two weights files")
    metas = [_metadata(p) for p in paths]
    steps = [int(m.get("step", -1)) for m in metas]
    newest = max(range(len(paths)), key=lambda i: steps[i])
    tensors = [load_file(str(p)) for p in paths]
    names = set(tensors[newest])
    for p, t in zip(paths, tensors):
        if set(t) != names or any(t[k].shape != tensors[newest][k].shape for k in names):
            raise ValueError(f"{p} does not hold the same tensors as {paths[newest]}")
    mean = {}
    for k in sorted(names):
        ref = tensors[newest][k]
        if ref.is_floating_point():
            total = sum(t[k].double() for t in tensors)
            mean[k] = (total / len(tensors)).to(ref.dtype).contiguous()
        elif all(torch.equal(t[k], ref) for t in tensors):
            mean[k] = ref.contiguous()
        else:
            raise ValueError(f"tensor {k} is not floating point and differs between the files")
    meta = {**metas[newest], "averaged_steps": ",".join(map(str, sorted(steps)))}
    out = Path(out)
    tmp = out.with_suffix(".tmp")
    save_file(mean, str(tmp), metadata=meta)
    tmp.replace(out)
    return out
