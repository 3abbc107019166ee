"""BD-rate math (benchmarks/bdrate.py) on curves with known answers."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.bdrate import METHODS, bd_rate  # noqa: E402

# A JPEG-like curve: PSNR rises ~6 dB per doubling of rate, slightly concave.
BPP = np.array([0.15, 0.25, 0.4, 0.6, 0.9, 1.3, 1.9, 2.8])
PSNR = 24.0 + 6.0 * np.log2(BPP / 0.15) - 0.15 * np.log2(BPP / 0.15) ** 2


@pytest.mark.parametrize("method", METHODS)
def test_ten_percent_fewer_bits_is_minus_ten(method):
    assert bd_rate(BPP, PSNR, 0.9 * BPP, PSNR, method) == pytest.approx(-10.0, abs=0.1)


@pytest.mark.parametrize("method", METHODS)
def test_twenty_percent_more_bits_is_plus_twenty(method):
    assert bd_rate(BPP, PSNR, 1.2 * BPP, PSNR, method) == pytest.approx(20.0, abs=0.1)


@pytest.mark.parametrize("method", METHODS)
def test_identical_curves_give_zero(method):
    assert bd_rate(BPP, PSNR, BPP, PSNR, method) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_swapping_curves_inverts_ratio(method):
    up = bd_rate(BPP, PSNR, 1.25 * BPP, PSNR, method)
    down = bd_rate(1.25 * BPP, PSNR, BPP, PSNR, method)
    assert (1 + up / 100) * (1 + down / 100) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_shifted_points_and_partial_overlap(method):
    # Test curve sampled at other qualities, over a narrower range: log-rate is linear in
    # PSNR for both, so each fit is exact and the answer is analytic.
    ref_p = np.linspace(25, 40, 7)
    test_p = np.linspace(28, 45, 6)
    ref_r = np.exp(0.2 * ref_p - 6)
    test_r = np.exp(0.2 * test_p - 6 + 0.01 * (test_p - 30))  # extra log-rate 0.01*(p-30)
    lo, hi = 28.0, 40.0
    mean = 0.01 * ((hi + lo) / 2 - 30)
    expected = (np.exp(mean) - 1) * 100
    assert bd_rate(ref_r, ref_p, test_r, test_p, method) == pytest.approx(expected, abs=1e-6)


def test_methods_agree_on_smooth_curves():
    test_psnr = PSNR + 0.8  # ~0.8 dB better everywhere
    a = bd_rate(BPP, PSNR, BPP, test_psnr, "pchip")
    b = bd_rate(BPP, PSNR, BPP, test_psnr, "cubic")
    assert a < -5 and b < -5
    assert a == pytest.approx(b, abs=0.5)


def test_order_of_points_does_not_matter():
    perm = np.array([3, 0, 7, 5, 1, 6, 2, 4])
    assert bd_rate(BPP[perm], PSNR[perm], 0.9 * BPP, PSNR) == pytest.approx(
        bd_rate(BPP, PSNR, 0.9 * BPP, PSNR), abs=1e-12)


def test_non_overlapping_curves_raise():
    with pytest.raises(ValueError, match="do not overlap"):
        bd_rate(BPP, PSNR, BPP, PSNR + 100)


@pytest.mark.parametrize("kwargs, match", [
    ({"test_rate": BPP[:3]}, "3 rates but"),
    ({"test_rate": -BPP}, "positive"),
    ({"test_metric": np.full(8, 30.0)}, "distinct"),
    ({"test_metric": np.r_[PSNR[:7], np.inf]}, "finite"),
    ({"method": "linear"}, "unknown BD-rate method"),
])
def test_bad_input_raises(kwargs, match):
    args = {"ref_rate": BPP, "ref_metric": PSNR, "test_rate": BPP, "test_metric": PSNR}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        bd_rate(**args)


def test_cubic_needs_four_points():
    with pytest.raises(ValueError, match="at least 4"):
        bd_rate(BPP[:3], PSNR[:3], BPP[:3], PSNR[:3], "cubic")
    assert bd_rate(BPP[:3], PSNR[:3], BPP[:3], PSNR[:3], "pchip") == pytest.approx(0.0)
