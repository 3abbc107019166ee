"""Name -> architecture registry; configs refer to architectures by these names."""

from __future__ import annotations

from .checkerboard import CheckerboardHyperprior
from .codec import MeanScaleHyperprior, PlainAutoencoder
from .restoration import Denoiser, Inpainter

ARCHS = {
    "mean_scale_hyperprior": MeanScaleHyperprior,
    "checkerboard_hyperprior": CheckerboardHyperprior,
    "plain_autoencoder": PlainAutoencoder,
    "denoiser_unet": Denoiser,
    "inpainter_unet": Inpainter,
}


def build(name: str, **kwargs):
    try:
        return ARCHS[name](**kwargs)
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; known: {sorted(ARCHS)}") from None
