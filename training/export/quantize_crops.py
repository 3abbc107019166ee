"""Calibration and check crops for ``python -m training quantize``: what the denoiser is fed.

A crop is ``(feed, clean, label)``: ``feed`` the denoise graph's inputs (``image`` and
``sigma``, NCHW float32), ``clean`` the target, and ``label`` the group its PSNR change is
reported under. Two kinds of input (a config's ``calibration``):

- ``gauss``: white Gaussian noise, clipped and rounded to 8 bits, with the true sigma as the
  map (labels: the sigma), as a Gaussian denoiser is run with a user's or an estimated sigma;
- ``realnoise``: the degradations the real-noise denoiser was trained on
  (:func:`training.realnoise.degrade`: camera noise through a mosaic, demosaic and JPEG;
  Gaussian noise; Gaussian noise then JPEG; a clean JPEG; a clean crop), one kind after the
  other, each with the map the model's own estimator graph reads from the noisy crop,
  upsampled and clipped as the app does (``app/core/restore/noise_map.py``). Activation ranges
  calibrated on Gaussian noise alone would miss the JPEG blocks and the coloured noise of real
  photos. Labels: the kind (``camera_jpeg`` when the camera crop was saved as a JPEG).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data import CropSampler

Crop = tuple[dict[str, np.ndarray], np.ndarray, str]
MAX_LEVEL = 75 / 255  # the app clips the map (times the strength) to this sigma
REALNOISE_KINDS = ("camera", "gauss", "gauss_jpeg", "jpeg", "clean")


def gauss_crops(images: list[np.ndarray], count: int, patch: int, sigmas: list[float],
                seed: int) -> list[Crop]:
    sampler = CropSampler(images, patch, 1, seed=seed)
    rng = np.random.default_rng(seed + 1)
    out = []
    for i in range(count):
        clean = sampler()
        sigma = float(sigmas[i % len(sigmas)])
        noisy = np.round(np.clip(clean + rng.standard_normal(clean.shape) * sigma / 255, 0, 1)
                         * 255) / 255
        smap = np.full((1, 1, patch, patch), sigma / 255, np.float32)
        out.append(({"image": noisy.astype(np.float32), "sigma": smap}, clean, f"{sigma:g}"))
    return out


def realnoise_crops(images: list[np.ndarray], count: int, patch: int, kinds: list[str],
                    seed: int, estimator: Path, scale: int) -> list[Crop]:
    """Crops degraded kind by kind (seeded), each with its estimated and upsampled map."""
    import onnxruntime as ort
    import torch
    from torch.nn import functional as F

    from ..realnoise import degrade

    if patch % scale:
        raise ValueError(f"crop size {patch} is not a multiple of the map scale {scale}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(estimator), opts, providers=["CPUExecutionProvider"])
    sampler = CropSampler(images, patch, 1, seed=seed)
    gen = torch.Generator().manual_seed(seed + 1)
    out = []
    for i in range(count):
        clean = sampler()
        noisy, _, kind = degrade(torch.from_numpy(clean[0]), gen, {kinds[i % len(kinds)]: 1.0})
        noisy = ((noisy.clamp(0, 1) * 255).round() / 255)[None].numpy().astype(np.float32)
        small = sess.run(None, {sess.get_inputs()[0].name: noisy})[0]
        level = F.interpolate(torch.from_numpy(small), scale_factor=scale, mode="bilinear",
                              align_corners=False).clamp(0, MAX_LEVEL)
        out.append(({"image": noisy, "sigma": level.numpy().astype(np.float32)}, clean, kind))
    return out
