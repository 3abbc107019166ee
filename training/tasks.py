"""Per-task batch preparation and losses: one function per task, one loop for all."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from .data import add_noise, mask_batch
from .hole_fill import fill_holes
from .realnoise_step import realnoise_step

# Batch preparation is numpy and PIL: kept out of torch.compile's tracing of the step, which
# would otherwise try to trace the mask drawing on every call.
_add_noise = torch.compiler.disable(add_noise)
_mask_batch = torch.compiler.disable(mask_batch)
_fill_holes = torch.compiler.disable(fill_holes)  # its level count depends on the mask


def bits(likelihoods: dict) -> torch.Tensor:
    """Total bits per image (B,) from the likelihoods contract."""
    total = 0
    for lik in likelihoods.values():
        total = total + (-torch.log2(lik)).flatten(1).sum(1)
    return total


def psnr(mse: torch.Tensor) -> float:
    return float(10 * torch.log10(1 / mse.detach().clamp_min(1e-10)).mean())


def codec_step(model, clean: torch.Tensor, rng: np.random.Generator):
    b, _, h, w = clean.shape
    levels = getattr(model, "levels", 1)
    level = torch.from_numpy(rng.integers(0, levels, size=b))
    out = model(clean, level)
    mse = F.mse_loss(out["x_hat"].float(), clean, reduction="none").flatten(1).mean(1)
    if not out["likelihoods"]:
        return mse.mean(), {"psnr": psnr(mse)}
    bpp = bits(out["likelihoods"]) / (h * w)
    lam = model.lambdas[level]
    loss = (lam * 255 ** 2 * mse + bpp).mean()
    return loss, {"psnr": psnr(mse), "bpp": float(bpp.detach().mean())}


def denoise_step(model, clean: torch.Tensor, rng: np.random.Generator):
    noisy, sigma = _add_noise(clean.numpy(), rng)
    noisy_t = torch.from_numpy(noisy)
    sigma_map = torch.from_numpy(sigma)[:, None, None, None].expand(-1, 1, *clean.shape[2:])
    out = model(noisy_t.contiguous(memory_format=torch.channels_last),
                sigma_map.contiguous(memory_format=torch.channels_last)).float()
    loss = F.l1_loss(out, clean)
    mse = F.mse_loss(out.clamp(0, 1), clean, reduction="none").flatten(1).mean(1)
    mse_in = F.mse_loss(noisy_t.clamp(0, 1), clean, reduction="none").flatten(1).mean(1)
    return loss, {"psnr": psnr(mse), "psnr_in": psnr(mse_in)}


INPAINT_LOSSES = ("l1", "l2", "psnr")


def inpaint_step(model, clean: torch.Tensor, rng: np.random.Generator,
                 stroke_px: tuple[int, int] | None = None, loss: str = "l1"):
    """Loss over the hole pixels only: "l1" (sharper fills, the conditional median), "l2" (the
    conditional mean, but a batch's mean squared error is ruled by its hardest crops) or
    "psnr" (minus the mean over crops of each crop's PSNR in its holes: the conditional mean
    within a crop, every crop weighted alike, as a mean PSNR over images weighs them)."""
    if loss not in INPAINT_LOSSES:
        raise ValueError(f"inpaint loss must be one of {', '.join(INPAINT_LOSSES)}, not {loss!r}")
    b, _, h, w = clean.shape
    mask = torch.from_numpy(_mask_batch(b, h, w, rng, stroke_px))
    method = getattr(model, "hole_fill", None)
    image = _fill_holes(clean, mask, method) if method else clean
    out = model(image, mask).float()
    hole = mask.expand_as(clean)
    err = torch.abs(out - clean) if loss == "l1" else (out - clean) ** 2
    if loss == "psnr":
        per_crop = (err * hole).flatten(1).sum(1) / hole.flatten(1).sum(1).clamp_min(1)
        loss_value = (10 * torch.log10(per_crop.clamp_min(1e-10))).mean()
    else:
        loss_value = (err * hole).sum() / hole.sum().clamp_min(1)
    mse = F.mse_loss(out.clamp(0, 1), clean, reduction="none").flatten(1).mean(1)
    return loss_value, {"psnr": psnr(mse), "hole": float(mask.mean())}


# "autoencoder" is the plain benchmark baseline: the codec loss (MSE only, no likelihoods), but
# a task of its own so that the app never lists it as a codec.
STEPS = {"codec": codec_step, "autoencoder": codec_step, "denoise": denoise_step,
         "inpaint": inpaint_step, "denoise_realnoise": realnoise_step}
