"""Issue 28: a compress and a decode count their steps (tiles, entropy coding passes) for a
determinate progress bar, and stop between two steps once cancelled, with the same bytes
and pixels as without a callback."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.batch.engine_proxies import LockedEngine
from app.core.engine import Engine
from app.core.runtime.tiling import Cancelled, rescaling_tile_count, run_rescaling_tiles
from tests.conftest import smooth_image


def counted() -> tuple[list[tuple[int, int]], object]:
    seen: list[tuple[int, int]] = []
    return seen, lambda done, total: seen.append((done, total))


def assert_counts_up_to_the_end(seen: list[tuple[int, int]]) -> None:
    total = seen[-1][1]
    assert seen == [(i, total) for i in range(1, total + 1)]


# ------------------------------------------------------------------ tiling
def test_rescaling_tiles_report_each_tile_up_to_the_total():
    x = np.arange(2 * 40 * 56, dtype=np.float32).reshape(1, 2, 40, 56)
    seen, progress = counted()
    out = run_rescaling_tiles(x, lambda t: t[:, :, ::8, ::8], tile=16, overlap=8, den=8,
                              progress=progress)
    assert_counts_up_to_the_end(seen)
    assert seen[-1][1] == rescaling_tile_count(40, 56, 16) == 3 * 4
    np.testing.assert_array_equal(out, x[:, :, ::8, ::8])


def test_rescaling_tiles_stop_before_the_next_tile_once_cancelled():
    x = np.zeros((1, 1, 64, 64), np.float32)
    ran: list[tuple[int, ...]] = []
    seen, progress = counted()
    with pytest.raises(Cancelled):
        run_rescaling_tiles(x, lambda t: ran.append(t.shape) or t, tile=16, overlap=0,
                            progress=progress, cancel=lambda: len(ran) >= 3)
    assert len(ran) == 3 and seen == [(1, 16), (2, 16), (3, 16)]


# ------------------------------------------------------------------ the real codec
@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(provider="cpu")


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return smooth_image(512, 768, seed=28)  # 2 analysis tiles: a small image


def test_compress_counts_tiles_then_coding_steps_and_keeps_its_bytes(engine, photo):
    codec = engine.codec()
    expected = codec.encode(photo, 40)  # no callback, no kept analysis
    seen, progress = counted()
    res = engine.compress(photo.copy(), 40, progress=progress)
    assert res.data == expected
    assert_counts_up_to_the_end(seen)
    assert seen[-1][1] == codec.analysis_steps(512, 768) + codec.coding_steps
    assert codec.analysis_steps(512, 768) == 2 and codec.coding_steps > 1  # passes count
    # the analysis is kept: another quality counts only its coding
    seen, progress = counted()
    assert engine.compress(photo.copy(), 60, progress=progress).data == codec.encode(photo, 60)
    assert_counts_up_to_the_end(seen)
    assert seen[-1][1] == codec.coding_steps


def test_a_target_size_search_ends_at_its_total(engine, photo):
    plain = engine.compress(photo, target_bytes=6000)
    seen, progress = counted()
    res = engine.compress(photo, target_bytes=6000, progress=progress)
    assert (res.data, res.quality) == (plain.data, plain.quality)
    assert [d for d, _ in seen] == sorted(set(d for d, _ in seen))  # only goes up
    assert seen[-1][0] == seen[-1][1] and {t for _, t in seen} == {seen[-1][1]}


def test_decompress_counts_its_steps_and_keeps_its_pixels(engine, photo):
    data = engine.compress(photo, 50).data
    expected = engine.decompress(data)
    seen, progress = counted()
    pixels = engine.decompress(data, progress=progress)
    np.testing.assert_array_equal(pixels, expected)
    assert_counts_up_to_the_end(seen)
    codec, bs = engine.codec_for(data)
    assert seen[-1][1] == codec.decode_steps(bs) == codec.symbol_steps + 2


def test_a_cancelled_compress_stops_between_two_steps_and_keeps_nothing(engine):
    img = smooth_image(512, 768, seed=29)
    seen, progress = counted()
    with pytest.raises(Cancelled):
        engine.compress(img, 40, progress=progress, cancel=lambda: len(seen) >= 1)
    assert seen == [(1, engine.codec().analysis_steps(512, 768) + engine.codec().coding_steps)]
    # the half-done analysis was not kept: the next compress analyses again
    seen, progress = counted()
    engine.compress(img, 40, progress=progress)
    assert seen[-1][1] > engine.codec().coding_steps


def test_a_cancelled_decode_stops_between_two_steps(engine, photo):
    data = engine.compress(photo, 50).data
    seen, progress = counted()
    with pytest.raises(Cancelled):
        engine.decompress(data, progress=progress, cancel=lambda: len(seen) >= 2)
    assert [d for d, _ in seen] == [1, 2]


def test_a_batch_engine_facade_forwards_progress_and_cancel(engine, photo):
    seen, progress = counted()
    LockedEngine(engine).compress(photo, 45, progress=progress)
    assert_counts_up_to_the_end(seen)
    with pytest.raises(Cancelled):
        LockedEngine(engine).decompress(engine.compress(photo, 45).data, cancel=lambda: True)
