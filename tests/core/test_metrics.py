"""Tests for app.core.compare.metrics."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from app.core.compare import metrics
from app.core.compare.metrics import MS_SSIM_WEIGHTS, bits_per_pixel, ms_ssim, ms_ssim_scales, psnr, ssim


def _image(h: int = 96, w: int = 128, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A smooth-ish natural-looking test image (uint8)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / 16.0
    base = 120 + 60 * np.sin(xx) * np.cos(yy * 0.7) + 40 * np.sin(xx * 0.3 + yy)
    img = np.stack([base + 10 * c for c in range(channels)], axis=2)
    img += rng.normal(0, 4, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def _noisy(img: np.ndarray, sigma: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


def test_psnr_known_mse() -> None:
    a = np.zeros((8, 8, 3), np.uint8)
    b = np.full((8, 8, 3), 10, np.uint8)  # MSE 100
    assert psnr(a, b) == pytest.approx(10 * math.log10(255 ** 2 / 100))
    assert psnr(b, a) == pytest.approx(psnr(a, b))
    c = a.copy()
    c[0, 0, 0] = 16  # MSE = 256 / 192
    assert psnr(a, c) == pytest.approx(10 * math.log10(255 ** 2 * 192 / 256))


def test_psnr_float_and_identical() -> None:
    x = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    assert psnr(x, x, data_range=1.0) == math.inf
    assert psnr(x, x + 0.1, data_range=1.0) == pytest.approx(20.0, abs=1e-4)


def test_shape_mismatch() -> None:
    a = np.zeros((8, 8, 3), np.uint8)
    for fn in (psnr, ssim, ms_ssim):
        with pytest.raises(ValueError, match="same shape"):
            fn(a, np.zeros((8, 9, 3), np.uint8))
        with pytest.raises(ValueError):
            fn(np.zeros((0, 4)), np.zeros((0, 4)))


@pytest.mark.parametrize("channels", [1, 3])
def test_ssim_identical_and_decreasing(channels: int) -> None:
    img = _image(channels=channels)
    assert ssim(img, img) == pytest.approx(1.0, abs=1e-12)
    grey = img[:, :, 0]
    assert ssim(grey, grey) == pytest.approx(1.0, abs=1e-12)
    scores = [ssim(img, _noisy(img, s)) for s in (2, 8, 20, 50)]
    assert all(a > b for a, b in zip(scores, scores[1:]))
    assert 0 < scores[-1] < scores[0] < 1


def test_ssim_constant_images_closed_form() -> None:
    a = np.full((20, 20), 100.0)
    b = np.full((20, 20), 150.0)
    c1 = (0.01 * 255) ** 2
    expected = (2 * 100 * 150 + c1) / (100 ** 2 + 150 ** 2 + c1)
    assert ssim(a, b) == pytest.approx(expected, rel=1e-9)


def test_ssim_float_range_and_tiny_images() -> None:
    img = _image(32, 32)
    f = img.astype(np.float64) / 255
    g = _noisy(img, 10).astype(np.float64) / 255
    assert ssim(f, g, data_range=1.0) == pytest.approx(ssim(img, _noisy(img, 10)), abs=1e-9)
    tiny = _image(5, 7)
    assert ssim(tiny, tiny) == pytest.approx(1.0)
    assert ssim(tiny, _noisy(tiny, 30)) < 1.0


def test_ms_ssim_identical_and_decreasing() -> None:
    img = _image(192, 200)
    assert ms_ssim_scales(192, 200) == 5
    assert ms_ssim(img, img) == pytest.approx(1.0, abs=1e-12)
    scores = [ms_ssim(img, _noisy(img, s)) for s in (2, 8, 20, 50)]
    assert all(a > b for a, b in zip(scores, scores[1:]))
    assert 0 < scores[-1] < 1
    assert ms_ssim(img[:, :, 0], _noisy(img, 8)[:, :, 0]) < 1


def test_ms_ssim_small_images_use_fewer_scales() -> None:
    assert ms_ssim_scales(175, 400) == 4
    assert ms_ssim_scales(40, 40) == 2
    assert ms_ssim_scales(8, 8) == 1
    for h, w in ((40, 40), (8, 8), (60, 30)):
        img = _image(h, w)
        assert ms_ssim(img, img) == pytest.approx(1.0, abs=1e-12)
        assert ms_ssim(img, _noisy(img, 20)) < 1
    # one scale is plain SSIM
    img = _image(16, 16)
    assert ms_ssim(img, _noisy(img, 10)) == pytest.approx(ssim(img, _noisy(img, 10)))
    assert sum(MS_SSIM_WEIGHTS) == pytest.approx(1.0, abs=1e-3)


def test_bits_per_pixel() -> None:
    assert bits_per_pixel(1000, 100, 80) == pytest.approx(1.0)
    assert bits_per_pixel(0, 3, 3) == 0.0
    with pytest.raises(ValueError):
        bits_per_pixel(10, 0, 5)
    with pytest.raises(ValueError):
        bits_per_pixel(-1, 5, 5)


def test_ssim_matches_brute_force_reference() -> None:
    """Separable filtering equals an explicit 11x11 Gaussian window loop."""
    a = _image(16, 18, channels=1)[:, :, 0].astype(np.float64)
    b = _noisy(_image(16, 18, channels=1), 15)[:, :, 0].astype(np.float64)
    r = np.arange(11) - 5.0
    g = np.exp(-(r ** 2) / (2 * 1.5 ** 2))
    win = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    vals = []
    for i in range(16 - 10):
        for j in range(18 - 10):
            pa, pb = a[i:i + 11, j:j + 11], b[i:i + 11, j:j + 11]
            ma, mb = (win * pa).sum(), (win * pb).sum()
            va = (win * pa * pa).sum() - ma ** 2
            vb = (win * pb * pb).sum() - mb ** 2
            cov = (win * pa * pb).sum() - ma * mb
            vals.append((2 * ma * mb + c1) * (2 * cov + c2)
                        / ((ma ** 2 + mb ** 2 + c1) * (va + vb + c2)))
    assert ssim(a, b) == pytest.approx(float(np.mean(vals)), rel=1e-9)


# Values of the whole-image float64 implementation these metrics replaced (computed in one
# block before they worked in bands of rows): the bands must not change the numbers.
_BEFORE_BANDS = {"psnr": 26.55003805293031, "ssim": 0.4827768754826818,
                 "ms_ssim": 0.9146063142508655}


@pytest.mark.parametrize("name", sorted(_BEFORE_BANDS))
def test_metrics_equal_the_whole_image_values(name: str) -> None:
    a = _image(181, 237)
    b = _noisy(a, 12)
    fn = {"psnr": psnr, "ssim": ssim, "ms_ssim": ms_ssim}[name]
    assert fn(a, b) == pytest.approx(_BEFORE_BANDS[name], abs=1e-12)
    as_float = fn(a / 255.0, b / 255.0, data_range=1.0)
    assert as_float == pytest.approx(_BEFORE_BANDS[name], abs=1e-12)


@pytest.mark.parametrize("band", [1, 7, 500, 5000])
@pytest.mark.parametrize("shape", [(181, 237, 3), (64, 45), (40, 33, 4)])
def test_band_size_does_not_change_the_result(monkeypatch, band: int,
                                              shape: tuple[int, ...]) -> None:
    a = _image(shape[0], shape[1], channels=shape[2] if len(shape) == 3 else 1)
    a = a.reshape(shape)
    b = _noisy(a, 9)
    whole = {fn: fn(a, b) for fn in (psnr, ssim, ms_ssim)}
    f32 = (a / 255.0).astype(np.float32), (b / 255.0).astype(np.float32)
    whole_f32 = {fn: fn(*f32, data_range=1.0) for fn in (psnr, ssim, ms_ssim)}
    monkeypatch.setattr(metrics, "_BAND_ELEMENTS", band)
    for fn in (psnr, ssim, ms_ssim):
        assert fn(a, b) == pytest.approx(whole[fn], abs=1e-12), fn.__name__
        assert fn(*f32, data_range=1.0) == pytest.approx(whole_f32[fn], abs=1e-12), fn.__name__


@pytest.mark.parametrize("fn", [psnr, ssim, ms_ssim])
def test_metrics_never_hold_a_whole_image_float_copy(monkeypatch, fn) -> None:
    """A 12 MP photo once took 3 GB here: float64 copies of both images and of every
    filtered map. Now the working set is one band of rows (small bands here, so that a
    modest image shows it) plus the 8-bit images' float32 downscaled copies."""
    monkeypatch.setattr(metrics, "_BAND_ELEMENTS", 1 << 14)
    a = _image(400, 600)
    b = _noisy(a, 6)
    one_float_copy = a.size * 8
    tracemalloc.start()
    try:
        fn(a, b)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < one_float_copy, f"{fn.__name__} peaked at {peak / one_float_copy:.2f} copies"
