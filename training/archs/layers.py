"""Small building blocks shared by the architectures."""

from __future__ import annotations

import torch
from torch import nn


class LowerBound(torch.autograd.Function):
    """max(x, bound) whose gradient still flows when it pushes x upwards (as in CompressAI)."""

    @staticmethod
    def forward(ctx, x, bound):
        ctx.save_for_backward(x)
        ctx.bound = bound
        return torch.clamp_min(x, bound)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        pass_through = (x >= ctx.bound) | (grad < 0)
        return grad * pass_through, None


def lower_bound(x: torch.Tensor, bound: float) -> torch.Tensor:
    if torch.onnx.is_in_onnx_export() or not x.requires_grad:
        return torch.clamp_min(x, bound)
    return LowerBound.apply(x, bound)


class GDN(nn.Module):
    """Generalized divisive normalization (Balle 2016); ``inverse=True`` gives IGDN.

    Parameters are stored as square roots so they stay non-negative; the normalisation pool is
    a 1x1 convolution over squared activations, which exports to plain ONNX operators.
    """

    def __init__(self, channels: int, inverse: bool = False):
        super().__init__()
        self.inverse = inverse
        self.beta_sqrt = nn.Parameter(torch.ones(channels))
        self.gamma_sqrt = nn.Parameter(torch.sqrt(0.1 * torch.eye(channels) + 1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        beta = self.beta_sqrt.square() + 1e-6
        gamma = self.gamma_sqrt.square().view(c, c, 1, 1)
        norm = torch.sqrt(nn.functional.conv2d(x * x, gamma.to(x.dtype), beta.to(x.dtype)))
        return x * norm if self.inverse else x / norm


def conv(cin: int, cout: int, k: int = 5, stride: int = 2) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)


def deconv(cin: int, cout: int, k: int = 5, stride: int = 2) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(cin, cout, k, stride=stride, padding=k // 2,
                              output_padding=stride - 1)


class ResBlock(nn.Module):
    def __init__(self, ch: int, dilation: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(ch, ch, 3, padding=dilation, dilation=dilation), nn.LeakyReLU(0.1),
            nn.Conv2d(ch, ch, 3, padding=1))

    def forward(self, x):
        return x + self.body(x)


def kaiming_init(module: nn.Module) -> None:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, a=0.1, nonlinearity="leaky_relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
