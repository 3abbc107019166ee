"""The models shipped in models/ do their jobs on the bundled sample photo (Kodak kodim23)."""

import numpy as np
import pytest

from app.core.demo import SAMPLE, demo_mask
from app.core.engine import Engine
from app.core.io.imageio import load_image
from app.core.compare.metrics import bits_per_pixel, psnr
from tests.conftest import MODELS


@pytest.fixture(scope="module")
def engine():
    return Engine(models_dir=MODELS, provider="cpu")


@pytest.fixture(scope="module")
def sample():
    return load_image(SAMPLE).pixels


def test_every_task_has_a_verified_model(engine):
    for task in ("codec", "denoise", "inpaint"):
        model = engine.model(task)        # verifies every file's sha256
        assert (model.directory / "card.md").exists()


def test_codec_reconstructs_the_sample_above_27_db_under_2_bpp(engine, sample):
    data = engine.compress(sample, 100).data
    assert bits_per_pixel(len(data), 768, 512) < 2.0
    assert psnr(sample, engine.decompress(data)) > 27.0


def test_codec_rate_grows_with_quality(engine, sample):
    crop = sample[:256, :384]
    sizes = [len(engine.compress(crop, q).data) for q in (1, 40, 70, 100)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


def test_denoiser_gains_more_than_5_db_at_sigma_25(engine, sample):
    crop = sample[128:384, 256:512]
    rng = np.random.default_rng(25)
    noisy = np.clip(np.round(crop + rng.normal(0, 25, crop.shape)), 0, 255).astype(np.uint8)
    out, sigma = engine.denoise(noisy)
    assert 15 < sigma < 35                      # estimated blind
    assert psnr(crop, out) > psnr(crop, noisy) + 5


def test_inpainter_fills_far_better_than_black(engine, sample):
    mask = demo_mask(*sample.shape[:2])
    black = sample.copy()
    black[mask > 0] = 0
    out = engine.inpaint(sample, mask)
    np.testing.assert_array_equal(out[mask == 0], sample[mask == 0])
    assert psnr(sample, out) > psnr(sample, black) + 7   # 5x less squared error


def test_target_size_finds_a_quality_that_fits(engine, sample):
    low, high = (len(engine.compress(sample, q).data) for q in (1, 100))
    budget = (low + high) // 2
    res = engine.compress(sample, target_bytes=budget)
    assert len(res.data) <= budget and 1 < res.quality < 100
    # the next quality step up would not have fitted
    assert len(engine.compress(sample, min(100, res.quality + 1)).data) > budget
