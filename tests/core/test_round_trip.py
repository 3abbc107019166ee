"""Compress -> decode -> metrics, the one round trip of the GUI, `compress --metrics` and the
demo (app.core.round_trip), on a scripted engine."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.compare.metrics import psnr
from app.core.round_trip import DECODE, ENCODE, compress_and_measure, measure, ms_ssim_or_none
from app.core.runtime.tiling import Cancelled
from tests.conftest import smooth_image
from tests.core.fake_engine import FakeEngine


def test_measure_decodes_and_compares():
    engine = FakeEngine(error=2)
    px = smooth_image(64, 80, seed=1)
    encoded = engine.compress(px, 50)
    trip = measure(engine, px, encoded)
    assert engine.calls == ["compress", "decompress"]
    assert trip.encoded is encoded and trip.bytes == 50
    assert trip.bpp == pytest.approx(50 * 8 / (64 * 80))
    assert trip.psnr == pytest.approx(psnr(px, trip.reconstruction))
    assert 30 < trip.psnr < 50                      # off by 2 almost everywhere
    assert trip.ms_ssim is None and trip.decode_seconds >= 0


def test_ms_ssim_only_when_asked():
    engine = FakeEngine()
    for size in (192, 16):                           # small images use fewer scales
        trip = compress_and_measure(engine, smooth_image(size, size, seed=2), 40,
                                    with_ms_ssim=True)
        assert trip is not None and 0.9 < trip.ms_ssim < 1.0
    assert ms_ssim_or_none(np.zeros((8, 8, 3)), np.zeros((8, 9, 3))) is None


def test_target_size_progress_by_stage_and_cancel():
    engine = FakeEngine()
    px = smooth_image(32, 32)
    seen: list[tuple[str, int, int]] = []
    trip = compress_and_measure(engine, px, 75, target_bytes=30,
                                progress=lambda *step: seen.append(step))
    assert trip.bytes == 30 and seen == [(ENCODE, 1, 1), (DECODE, 1, 1)]
    engine.calls.clear()
    with pytest.raises(Cancelled):
        compress_and_measure(engine, px, 75, cancel=lambda: True)
    assert "decompress" not in engine.calls          # never decoded once cancelled
