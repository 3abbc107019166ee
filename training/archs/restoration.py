"""Restoration networks: a noise-level-conditioned residual U-Net denoiser and a U-Net
inpainter with a dilated bottleneck.  Both take and return images in [0, 1], NCHW.
"""

from __future__ import annotations

import torch
from torch import nn

from ..hole_fill import fill_name
from .layers import ResBlock, kaiming_init


class _UNet(nn.Module):
    def __init__(self, cin: int, cout: int, widths=(32, 64, 128), blocks: int = 2,
                 bottleneck_dilations=(1,)):
        super().__init__()
        self.head = nn.Conv2d(cin, widths[0], 3, padding=1)
        self.down_blocks = nn.ModuleList()
        self.downs = nn.ModuleList()
        for i, w in enumerate(widths[:-1]):
            self.down_blocks.append(nn.Sequential(*[ResBlock(w) for _ in range(blocks)]))
            self.downs.append(nn.Conv2d(w, widths[i + 1], 2, stride=2))
        self.bottleneck = nn.Sequential(*[ResBlock(widths[-1], d) for d in bottleneck_dilations
                                          for _ in range(1)],
                                        *[ResBlock(widths[-1]) for _ in range(blocks)])
        self.ups = nn.ModuleList()
        self.up_blocks = nn.ModuleList()
        for i in reversed(range(len(widths) - 1)):
            self.ups.append(nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2))
            self.up_blocks.append(nn.Sequential(*[ResBlock(widths[i]) for _ in range(blocks)]))
        self.tail = nn.Conv2d(widths[0], cout, 3, padding=1)
        self.factor = 2 ** (len(widths) - 1)
        kaiming_init(self)
        for m in self.modules():  # residual branches start as identity (Fixup-style)
            if isinstance(m, ResBlock):
                nn.init.zeros_(m.body[-1].weight)
        nn.init.zeros_(self.tail.weight)

    def forward(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        """``extra``: features added to the head's (a second input seen through its own
        convolution)."""
        h = self.head(x) if extra is None else self.head(x) + extra
        skips = []
        for block, down in zip(self.down_blocks, self.downs):
            h = block(h)
            skips.append(h)
            h = down(h)
        h = self.bottleneck(h)
        for up, block in zip(self.ups, self.up_blocks):
            h = block(up(h) + skips.pop())
        return self.tail(h)


class Denoiser(nn.Module):
    """Input: noisy image and a per-pixel noise level map (sigma / 255); output: clean image."""

    def __init__(self, widths=(32, 64, 128), blocks: int = 2, bottleneck_dilations=(1,)):
        super().__init__()
        self.net = _UNet(4, 3, widths, blocks, bottleneck_dilations)
        self.downsample = self.net.factor

    def forward(self, noisy: torch.Tensor, sigma_map: torch.Tensor) -> torch.Tensor:
        return noisy - self.net(torch.cat([noisy, sigma_map], dim=1))


class Inpainter(nn.Module):
    """Input: image with holes and the mask (1 = hole); output: the image, known pixels kept.

    ``prefill``: the image comes with its holes already filled by a smooth first guess
    (a name of ``app.spec.manifest.HOLE_FILLS``, ``True`` meaning ``"push-pull"``; computed by
    ``training/hole_fill.py``, and the app fills them the same way) and the network sees both
    that guess and the known pixels alone, so it refines the guess instead of painting the
    holes from black. Without it, hole pixels are ignored (set to 0).
    """

    def __init__(self, widths=(32, 64, 128, 192), blocks: int = 1,
                 bottleneck_dilations=(2, 4, 8), prefill: bool | str = False):
        super().__init__()
        # The fill the holes arrive with (asked by the training step and the export), or None.
        self.hole_fill = fill_name(prefill)
        self.net = _UNet(4, 3, widths, blocks, bottleneck_dilations)
        # The first guess enters through a convolution of its own beside the head, so that a
        # prefill model can start as a trained model without one (its weights at zero) and
        # train it at a learning rate of its own (a config's ``lr_scale``).
        self.guess = nn.Conv2d(3, widths[0], 3, padding=1, bias=False) if self.hole_fill else None
        if self.guess is not None:
            nn.init.zeros_(self.guess.weight)
        self.downsample = self.net.factor

    def adapt_init_state(self, params: dict) -> dict:
        """Start a prefill model from one without: the first guess's convolution starts at
        zero, so the new model begins as exactly the old one and learns to use the guess."""
        if self.guess is None or "guess.weight" in params:
            return params
        return {**params, "guess.weight": torch.zeros_like(self.guess.weight)}

    def forward(self, image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        known = image * (1 - mask)
        extra = None if self.guess is None else self.guess(image)
        fill = known + self.net(torch.cat([known, mask], dim=1), extra)
        if not self.training:
            fill = fill.clamp(0, 1)
        return known + mask * fill
