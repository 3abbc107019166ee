"""The blind noise estimate on 8-bit images: clipped noise is corrected back to the σ added."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.restore import estimate_sigma, raw_sigma_estimate
from tests.conftest import smooth_image


@pytest.mark.parametrize("sigma", [10, 25, 50])
def test_estimate_recovers_the_added_sigma_despite_clipping(sigma):
    clean = smooth_image(320, 480, seed=3)
    rng = np.random.default_rng(sigma)
    noisy = np.clip(np.rint(clean + rng.normal(0, sigma, clean.shape)), 0, 255).astype(np.uint8)
    est = estimate_sigma(noisy)
    assert est == pytest.approx(sigma, rel=0.12)
    if sigma == 50:  # clipping hides noise: the raw MAD estimate alone is clearly low
        assert raw_sigma_estimate(noisy) < 0.9 * sigma < est


def test_clean_image_is_estimated_nearly_noise_free():
    assert estimate_sigma(smooth_image(320, 480, seed=4)) < 3.0


def test_estimate_is_monotone_beyond_the_measured_range():
    rng = np.random.default_rng(0)
    flat = np.full((256, 256, 3), 128.0)
    values = []
    for sigma in (40, 60, 80):
        noisy = np.clip(np.rint(flat + rng.normal(0, sigma, flat.shape)), 0, 255)
        values.append(estimate_sigma(noisy.astype(np.uint8)))
    assert values == sorted(values) and values[-1] > 60
