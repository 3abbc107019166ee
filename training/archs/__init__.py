"""Name -> architecture registry; configs refer to architectures by these names."""

from __future__ import annotations

from .channel_context import ChannelCheckerboardHyperprior
from .checkerboard import CheckerboardHyperprior
from .codec import MeanScaleHyperprior, PlainAutoencoder
from .noise_estimator import RealNoiseDenoiser
from .restoration import Denoiser, Inpainter

ARCHS = {
    "mean_scale_hyperprior": MeanScaleHyperprior,
    "checkerboard_hyperprior": CheckerboardHyperprior,
    "channel_checkerboard_hyperprior": ChannelCheckerboardHyperprior,
    "plain_autoencoder": PlainAutoencoder,
    "denoiser_unet": Denoiser,
    "inpainter_unet": Inpainter,
    "realnoise_denoiser_unet": RealNoiseDenoiser,
}


def build(name: str, **kwargs):
    try:
        return ARCHS[name](**kwargs)
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; known: {sorted(ARCHS)}") from None
