"""Tests for app.core.runtime.tiling."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.runtime.tiling import Cancelled, plan_tiles, run_tiled


def _random(h: int, w: int, c: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((h, w, c), dtype=np.float32)


def _gradient(h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([yy / h, xx / w, (yy + xx) / (h + w)], axis=2).astype(np.float32)


@pytest.mark.parametrize("h,w,tile,overlap", [(37, 53, 16, 4), (100, 61, 32, 8),
                                              (130, 257, 64, 16), (33, 33, 32, 31),
                                              (50, 20, 24, 0), (191, 40, 100, 10)])
def test_plan_tiles_cover_and_overlap(h: int, w: int, tile: int, overlap: int) -> None:
    tiles = plan_tiles(h, w, tile, overlap)
    cover = np.zeros((h, w), int)
    for y0, y1, x0, x1 in tiles:
        assert 0 <= y0 < y1 <= h and 0 <= x0 < x1 <= w
        assert (y1 - y0) * (x1 - x0) <= tile * tile
        if len(tiles) > 1:
            assert y1 - y0 <= tile and x1 - x0 <= tile
        cover[y0:y1, x0:x1] += 1
    assert len({(t[1] - t[0], t[3] - t[2]) for t in tiles}) == 1  # one window size
    assert cover.min() >= 1
    ys = sorted({(t[0], t[1]) for t in tiles})
    for (a0, a1), (b0, b1) in zip(ys, ys[1:]):
        assert a1 - b0 >= overlap and b0 > a0


def test_windows_shrink_to_what_the_overlap_needs() -> None:
    """A side a little longer than a tile takes two short windows, not two full tiles."""
    tiles = plan_tiles(500, 500, 448, 32)
    assert len(tiles) == 4
    y0, y1, x0, x1 = tiles[0]
    assert y1 - y0 < 300 and x1 - x0 < 300
    computed = sum((t[1] - t[0]) * (t[3] - t[2]) for t in tiles)
    assert computed < 1.2 * 500 * 500  # full 448-pixel tiles would compute 3.2x the image
    for n in (449, 900, 3000, 4000):
        spans = sorted({(t[0], t[1]) for t in plan_tiles(n, 10, 448, 32)})
        assert spans[0][0] == 0 and spans[-1][1] == n
        assert all(a1 - b0 >= 32 for (_, a1), (b0, _) in zip(spans, spans[1:]))


def test_plan_tiles_single_and_invalid() -> None:
    assert plan_tiles(20, 30, 32, 8) == [(0, 20, 0, 30)]
    assert plan_tiles(32, 32, 32, 8) == [(0, 32, 0, 32)]
    # no more pixels than one tile: one window even when a side is longer than the tile
    assert plan_tiles(481, 321, 448, 32) == [(0, 481, 0, 321)]
    assert plan_tiles(4000, 50, 448, 32) == [(0, 4000, 0, 50)]
    assert len(plan_tiles(449, 449, 448, 32)) == 4
    for tile, overlap in ((0, 0), (16, 16), (16, -1)):
        with pytest.raises(ValueError):
            plan_tiles(10, 10, tile, overlap)


@pytest.mark.parametrize("h,w", [(37, 53), (100, 61), (130, 257), (20, 20), (1, 70)])
def test_identity_is_exact(h: int, w: int) -> None:
    img = _random(h, w)
    before = img.copy()
    out = run_tiled(img, lambda t: t, tile=32, overlap=8)
    assert out.dtype == np.float32 and out.shape == img.shape
    np.testing.assert_allclose(out, img, atol=1e-6, rtol=0)
    np.testing.assert_array_equal(img, before)
    assert out is not img


def test_gradient_position_independent_fn_has_no_seam() -> None:
    img = _gradient(150, 230)
    out = run_tiled(img, lambda t: t * 0.5 + 0.1, tile=48, overlap=12)
    assert np.abs(out - (img * 0.5 + 0.1)).max() < 1e-5


def test_blending_hides_tile_dependent_offsets() -> None:
    """Tiles that disagree by a constant blend smoothly: no jump larger than the ramp step."""
    img = np.zeros((40, 100, 1), np.float32)
    calls = iter(range(100))
    out = run_tiled(img, lambda t: t + float(next(calls)), tile=40, overlap=20)
    row = out[0, :, 0]
    assert row[0] == 0.0 and np.isclose(row[-1], len(plan_tiles(40, 100, 40, 20)) - 1)
    assert np.all(np.diff(row) >= -1e-6) and np.abs(np.diff(row)).max() < 0.2


@pytest.mark.parametrize("h,w,tile,multiple", [(45, 70, 24, 8), (45, 70, 20, 8), (3, 3, 32, 8),
                                               (17, 100, 32, 16)])
def test_multiple_respected(h: int, w: int, tile: int, multiple: int) -> None:
    shapes: list[tuple[int, ...]] = []

    def fn(t: np.ndarray) -> np.ndarray:
        assert t.shape[0] % multiple == 0 and t.shape[1] % multiple == 0
        assert t.flags.c_contiguous and t.dtype == np.float32
        shapes.append(t.shape)
        return t[:, :, :2] * 2

    img = _random(h, w)
    out = run_tiled(img, fn, tile=tile, overlap=6 if tile > 6 else 0, multiple=multiple)
    assert out.shape == (h, w, 2)
    np.testing.assert_allclose(out, img[:, :, :2] * 2, atol=2e-6, rtol=0)
    assert shapes


def test_progress_called_per_tile() -> None:
    calls: list[tuple[int, int]] = []
    img = _random(70, 90)
    run_tiled(img, lambda t: t, tile=32, overlap=8, progress=lambda d, n: calls.append((d, n)))
    total = len(plan_tiles(70, 90, 32, 8))
    assert total > 1
    assert calls == [(i, total) for i in range(1, total + 1)]
    one: list[tuple[int, int]] = []
    run_tiled(_random(10, 10), lambda t: t, tile=32, overlap=8,
              progress=lambda d, n: one.append((d, n)))
    assert one == [(1, 1)]


def test_cancel_raises() -> None:
    ran = []
    checks = []

    def cancel() -> bool:
        checks.append(1)
        return len(checks) > 2

    with pytest.raises(Cancelled):
        run_tiled(_random(70, 90), lambda t: ran.append(1) or t, tile=32, overlap=8,
                  cancel=cancel)
    assert len(ran) == 2
    with pytest.raises(Cancelled):
        run_tiled(_random(8, 8), lambda t: t, tile=32, overlap=8, cancel=lambda: True)


def test_extra_channels_aligned() -> None:
    h, w = 67, 83
    img = _random(h, w, 3)
    yy, xx = np.mgrid[0:h, 0:w]
    extra = np.stack([yy * 1000.0 + xx, (xx % 7 == 0) * 1.0], axis=2).astype(np.float32)

    def fn(t: np.ndarray) -> np.ndarray:
        assert t.shape[2] == 5
        return np.concatenate([t[:, :, 3:5], t[:, :, :3]], axis=2)

    out = run_tiled(img, fn, tile=32, overlap=8, multiple=8, extra=extra)
    np.testing.assert_allclose(out[:, :, 0], extra[:, :, 0], rtol=1e-6)
    np.testing.assert_allclose(out[:, :, 1], extra[:, :, 1], atol=1e-6)
    np.testing.assert_allclose(out[:, :, 2:], img, atol=1e-6)
    with pytest.raises(ValueError):
        run_tiled(img, fn, tile=32, overlap=8, extra=extra[:-1])


def test_bad_inputs_and_outputs() -> None:
    img = _random(40, 40)
    with pytest.raises(ValueError):
        run_tiled(img[:, :, 0], lambda t: t, tile=32, overlap=8)
    with pytest.raises(ValueError):
        run_tiled(img, lambda t: t[1:], tile=32, overlap=8)
    with pytest.raises(ValueError):
        run_tiled(img, lambda t: t, tile=32, overlap=8, multiple=0)


def _tile_dependent(t: np.ndarray) -> np.ndarray:
    """A tile function whose result depends on the tile's content and size, not on the call."""
    return np.sin(t * 3.0) + np.float32(t.shape[0] * 0.01 - t.shape[1] * 0.003)


@pytest.mark.parametrize("workers", [2, 3])
def test_workers_blend_the_same_result_as_one(workers: int) -> None:
    """Tiles run at once on worker threads are blended in order: the same bits as one by one."""
    img = _random(150, 230)
    calls: list[tuple[int, int]] = []
    one = run_tiled(img, _tile_dependent, tile=48, overlap=12, multiple=8)
    many = run_tiled(img, _tile_dependent, tile=48, overlap=12, multiple=8,
                     workers=workers, progress=lambda d, n: calls.append((d, n)))
    np.testing.assert_array_equal(many, one)
    total = len(plan_tiles(150, 230, 48, 12))
    assert calls == [(i, total) for i in range(1, total + 1)]


def test_workers_run_tiles_at_once_and_stop_at_cancel_or_error() -> None:
    import threading

    barrier = threading.Barrier(2, timeout=10)

    def meet(t: np.ndarray) -> np.ndarray:
        barrier.wait()  # returns only when two tiles run at the same time
        return t

    img = _random(70, 90)
    np.testing.assert_allclose(run_tiled(img, meet, tile=32, overlap=8, workers=2), img,
                               atol=1e-6)
    ran: list[int] = []
    checks: list[int] = []

    def cancel() -> bool:
        checks.append(1)
        return len(checks) > 3

    with pytest.raises(Cancelled):
        run_tiled(img, lambda t: ran.append(1) or t, tile=32, overlap=8, workers=2,
                  cancel=cancel)
    # no tile starts after cancel() said so (queued ones may be dropped before they start)
    assert len(ran) <= 3 < len(plan_tiles(70, 90, 32, 8))

    def fail(t: np.ndarray) -> np.ndarray:
        raise RuntimeError("tile failed")

    with pytest.raises(RuntimeError, match="tile failed"):
        run_tiled(img, fail, tile=32, overlap=8, workers=2)
