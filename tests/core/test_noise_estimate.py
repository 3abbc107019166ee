"""The blind noise estimate on 8-bit images: clipped noise is corrected back to the σ added."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.restore.noise_level import estimate_sigma, raw_sigma_estimate
from tests.conftest import smooth_image


# smooth_image carries mild texture of its own: Gaussian, sigma 3.
OWN_SIGMA = 3.0


@pytest.mark.parametrize("sigma, rel", [(5, 0.05), (10, 0.05), (25, 0.05), (50, 0.08)])
def test_estimate_recovers_the_added_sigma_despite_clipping(sigma, rel):
    clean = smooth_image(320, 480, seed=3)
    rng = np.random.default_rng(sigma)
    noisy = np.clip(np.rint(clean + rng.normal(0, sigma, clean.shape)), 0, 255).astype(np.uint8)
    est = estimate_sigma(noisy)
    assert est == pytest.approx(np.hypot(sigma, OWN_SIGMA), rel=rel)
    if sigma == 50:  # clipping hides noise: the raw estimate alone is low
        assert raw_sigma_estimate(noisy) < 0.95 * sigma < est


def test_grey_image_is_estimated_like_colour():
    clean = smooth_image(320, 480, seed=5)[..., 1]
    rng = np.random.default_rng(7)
    noisy = np.clip(np.rint(clean + rng.normal(0, 15, clean.shape)), 0, 255).astype(np.uint8)
    assert estimate_sigma(noisy) == pytest.approx(np.hypot(15, OWN_SIGMA), rel=0.05)


def test_clean_image_is_estimated_nearly_noise_free():
    # Its own texture (sigma 3) plus a little for the discs' hard, aliased edges.
    assert estimate_sigma(smooth_image(320, 480, seed=4)) < OWN_SIGMA + 2.0


def test_tiny_images_get_an_estimate_without_error():
    assert estimate_sigma(np.full((5, 5, 3), 3, np.uint8)) == 0.0
    flat = np.random.default_rng(1).normal(128, 10, (12, 40)).clip(0, 255).astype(np.uint8)
    assert 5.0 < estimate_sigma(flat) < 15.0


def test_estimate_is_monotone_beyond_the_measured_range():
    rng = np.random.default_rng(0)
    flat = np.full((256, 256, 3), 128.0)
    values = []
    for sigma in (40, 60, 80):
        noisy = np.clip(np.rint(flat + rng.normal(0, sigma, flat.shape)), 0, 255)
        values.append(estimate_sigma(noisy.astype(np.uint8)))
    assert values == sorted(values) and values[-1] > 60
