"""The ONNX graphs each task exports: which sub-module, with which inputs and outputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn


class _Call(nn.Module):
    """Wraps one entry point of a model so that its parameters stay registered."""

    def __init__(self, model: nn.Module, select: Callable[[nn.Module], Callable]):
        super().__init__()
        self.model = model
        self.select = select

    def forward(self, *args):
        return self.select(self.model)(*args)


@dataclass(frozen=True)
class GraphSpec:
    select: Callable[[nn.Module], Callable]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    example: Callable[[nn.Module, int, int], tuple[torch.Tensor, ...]]

    def module(self, model: nn.Module) -> nn.Module:
        return _Call(model, self.select)


def _img(c):
    return lambda m, h, w: (torch.rand(1, c, h, w),)


def _synth(m, h, w):
    return (torch.randn(1, m.M, h // 16, w // 16) * 4,)


# The codec's hyper-synthesis is no graph: it ships as integers in tables.npz and runs in exact
# fixed point (``tables.hyper_fixed_tables``, ``app.fixedpoint.hyper``).
GRAPHS: dict[str, dict[str, GraphSpec]] = {
    "codec": {
        "analysis": GraphSpec(lambda m: m.g_a, ("x",), ("y",), _img(3)),
        "hyper_analysis": GraphSpec(
            lambda m: m.h_a, ("y",), ("z",),
            lambda m, h, w: (torch.randn(1, m.M, h // 16, w // 16) * 4,)),
        "synthesis": GraphSpec(lambda m: (lambda y: m.g_s(y).clamp(0, 1)), ("y_hat",), ("x_hat",),
                               _synth),
    },
    # the plain autoencoder baseline (benchmarks only): its latent is stored as round(y * 255)
    "autoencoder": {
        "encoder": GraphSpec(lambda m: m.g_a, ("x",), ("y",), _img(3)),
        "decoder": GraphSpec(
            lambda m: m.g_s, ("y",), ("x_hat",),
            lambda m, h, w: (torch.randint(0, 256, (1, m.M, h // m.downsample,
                                                    w // m.downsample)) / 255,)),
    },
    "denoise": {
        "denoise": GraphSpec(
            lambda m: (lambda x, s: m(x, s).clamp(0, 1)), ("image", "sigma"), ("output",),
            lambda m, h, w: (torch.rand(1, 3, h, w), torch.full((1, 1, h, w), 0.1))),
    },
    # the real-noise denoiser: the same denoiser graph, and its noise-map estimator (quarter
    # resolution, sigma / 255) as a graph of its own, so the app can scale the map in between
    "denoise_realnoise": {
        "denoise": GraphSpec(
            lambda m: (lambda x, s: m(x, s).clamp(0, 1)), ("image", "sigma"), ("output",),
            lambda m, h, w: (torch.rand(1, 3, h, w), torch.full((1, 1, h, w), 0.1))),
        "noise_map": GraphSpec(lambda m: m.estimator, ("image",), ("noise_map",), _img(3)),
    },
    "inpaint": {
        "inpaint": GraphSpec(
            lambda m: m, ("image", "mask"), ("output",),
            lambda m, h, w: (torch.rand(1, 3, h, w),
                             (torch.rand(1, 1, h, w) > 0.7).float())),
    },
}


def export_graph(model: nn.Module, spec: GraphSpec, path: Path) -> None:
    axes = {name: {2: "height", 3: "width"} for name in (*spec.inputs, *spec.outputs)}
    mode = model.training
    torch.onnx.export(spec.module(model), spec.example(model, 128, 192), str(path),
                      input_names=list(spec.inputs), output_names=list(spec.outputs),
                      dynamic_axes=axes, opset_version=17, dynamo=False)
    # The TorchScript exporter leaves the module in training mode; the parity check and the
    # entropy tables that follow must see the model as it was exported.
    model.train(mode)


@torch.no_grad()
def check_parity(model: nn.Module, spec: GraphSpec, path: Path) -> float:
    """Max abs difference between torch and onnxruntime, at another size than exported."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    example = spec.example(model, 192, 256)
    ref = spec.module(model)(*example)
    ref = ref if isinstance(ref, (tuple, list)) else (ref,)
    got = sess.run(list(spec.outputs), {n: t.numpy() for n, t in zip(spec.inputs, example)})
    return max(float(np.abs(g - r.numpy()).max()) for g, r in zip(got, ref))
