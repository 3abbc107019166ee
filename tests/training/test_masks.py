"""Training masks for the inpainter: coverage and stroke width as the config asks."""

import numpy as np
import pytest

pytest.importorskip("torch")
from scipy import ndimage  # noqa: E402

from training.config import TrainConfig  # noqa: E402
from training.data import random_mask  # noqa: E402


def test_masks_cover_the_asked_fraction():
    rng = np.random.default_rng(0)
    cover = [random_mask(160, 160, rng).mean() for _ in range(40)]
    assert min(cover) >= 0.15 and np.median(cover) < 0.4


def test_stroke_width_in_pixels_does_not_shrink_with_the_crop():
    """With ``stroke_px`` strokes keep a brush's width on a small crop; without it they scale
    with the crop (w/40 .. w/8), so the thickest possible stroke of a 160 px crop is 20 px."""
    rng = np.random.default_rng(1)
    # Boxes are drawn either way: compare the median depth of hole pixels (distance to the
    # nearest known pixel), which the strokes dominate.
    depth_scaled, depth_px = [], []
    for _ in range(30):
        m = random_mask(160, 160, rng)
        depth_scaled.append(np.median(ndimage.distance_transform_edt(m)[m > 0]))
        m = random_mask(160, 160, rng, stroke_px=(30, 40))
        depth_px.append(np.median(ndimage.distance_transform_edt(m)[m > 0]))
    assert np.median(depth_px) > 1.5 * np.median(depth_scaled)
    assert np.median(depth_px) >= 8.0


def test_the_shipped_inpaint_config_drives_a_training_step():
    """``task_args`` of the config file are keyword arguments the task's step accepts."""
    import torch

    from training.archs import build
    from training.tasks import STEPS

    cfg = TrainConfig.load("training/configs/inpaint-unet-v3.json")
    assert cfg.task_args == {"stroke_px": [8, 44]}
    model = build(cfg.arch, **cfg.arch_args)
    clean = torch.rand(2, 3, 64, 64)
    loss, metrics = STEPS[cfg.task](model, clean, np.random.default_rng(0), **cfg.task_args)
    loss.backward()
    assert torch.isfinite(loss) and 0.15 <= metrics["hole"] <= 0.6


def test_the_inpaint_loss_is_the_mean_l1_l2_or_log_error_over_the_hole_pixels():
    """``loss: "l2"`` trains for the conditional mean that PSNR rewards, ``"psnr"`` weighs
    each crop alike (minus its PSNR in the holes); errors outside the holes never count; an
    unknown loss name is refused."""
    import torch

    from training import tasks
    from training.tasks import STEPS

    class Grey(torch.nn.Module):
        """Known pixels kept, holes filled with 0.5: errors are known exactly."""

        def forward(self, image, mask):
            return image * (1 - mask) + 0.5 * mask

    clean = torch.rand(2, 3, 48, 48)
    clean[1] = 0.5 + 0.1 * (clean[1] - 0.5)  # the second crop errs far less than the first
    mask = torch.from_numpy(tasks.mask_batch(2, 48, 48, np.random.default_rng(3)))
    hole = mask.expand_as(clean).bool()
    for name, err in (("l1", (clean - 0.5).abs()), ("l2", (clean - 0.5) ** 2)):
        loss, _ = STEPS["inpaint"](Grey(), clean, np.random.default_rng(3), loss=name)
        assert torch.allclose(loss, err[hole].mean(), rtol=1e-5), name
    loss, _ = STEPS["inpaint"](Grey(), clean, np.random.default_rng(3), loss="psnr")
    sq = (clean - 0.5) ** 2
    hole_psnr = [-10 * torch.log10(sq[i][hole[i]].mean()) for i in range(2)]
    assert torch.allclose(loss, -(hole_psnr[0] + hole_psnr[1]) / 2, rtol=1e-5)
    pooled = 10 * torch.log10(sq[hole].mean())  # what "l2" would see, in dB
    assert abs(loss - pooled) > 5  # the crops' PSNRs are far apart: each counts alike
    with pytest.raises(ValueError, match="l1"):
        STEPS["inpaint"](Grey(), clean, np.random.default_rng(3), loss="ssim")
