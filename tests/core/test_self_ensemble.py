"""Self-ensemble (app/core/restore/self_ensemble.py) and its use by restoration: every copy is turned
back before averaging, and inpainting runs the network only on tiles that hold holes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from app.core.restore import network as restore
from app.core.restore.self_ensemble import DEFAULT_PASSES, PASSES, check_passes, self_ensemble
from app.core.runtime.tiling import plan_tiles
from tests.conftest import smooth_image


def _ramp_x(tile: np.ndarray) -> np.ndarray:
    """A tile function that is not mirror-symmetric: adds the column index to every pixel."""
    return tile + np.arange(tile.shape[1], dtype=np.float32)[None, :, None]


def test_one_pass_is_the_function_itself() -> None:
    assert self_ensemble(_ramp_x, 1) is _ramp_x


@pytest.mark.parametrize("passes", PASSES)
def test_an_equivariant_function_is_unchanged(passes: int) -> None:
    rng = np.random.default_rng(0)
    tile = rng.random((24, 40, 3), dtype=np.float32)

    def blur(x: np.ndarray) -> np.ndarray:  # symmetric 3x3 box blur: commutes with every turn
        p = np.pad(x, ((1, 1), (1, 1), (0, 0)), mode="edge")
        return sum(p[i:i + x.shape[0], j:j + x.shape[1]] for i in range(3) for j in range(3)) / 9

    np.testing.assert_allclose(self_ensemble(blur, passes)(tile), blur(tile), atol=1e-6)


def test_copies_are_turned_back_before_averaging() -> None:
    h, w = 6, 10  # not square: transposed copies have the other shape
    tile = np.zeros((h, w, 2), np.float32)
    # mirrored left-right, the column ramp runs the other way: the two average to a constant
    np.testing.assert_allclose(self_ensemble(_ramp_x, 2)(tile), (w - 1) / 2)
    np.testing.assert_allclose(self_ensemble(_ramp_x, 4)(tile), (w - 1) / 2)
    # the transposed copies add a ramp over rows instead: half of each
    np.testing.assert_allclose(self_ensemble(_ramp_x, 8)(tile), ((w - 1) / 2 + (h - 1) / 2) / 2,
                               rtol=1e-6)


@pytest.mark.parametrize("passes", PASSES)
def test_the_network_runs_once_per_pass_on_every_symmetry(passes: int) -> None:
    seen = []

    def fn(x: np.ndarray) -> np.ndarray:
        seen.append(x.copy())
        return x

    tile = np.arange(4 * 6 * 1, dtype=np.float32).reshape(4, 6, 1)
    np.testing.assert_array_equal(self_ensemble(fn, passes)(tile), tile)
    assert len(seen) == passes
    assert len({x.tobytes() + bytes(x.shape) for x in seen}) == passes  # all different copies
    assert {x.shape for x in seen} == ({(4, 6, 1)} if passes < 8 else {(4, 6, 1), (6, 4, 1)})


@pytest.mark.parametrize("bad", [0, 3, 16, -1])
def test_other_pass_counts_are_refused(bad: int) -> None:
    with pytest.raises(ValueError, match="passes must be one of 1, 2, 4, 8"):
        check_passes(bad)
    with pytest.raises(ValueError, match="passes must be one of"):
        restore.inpaint(None, None, np.zeros((8, 8, 3), np.uint8), np.ones((8, 8), np.uint8),
                        passes=bad)


class CountingSessions:
    """The real session pool, counting the network runs and the tiles they get."""

    tile_workers = 1  # one tile at a time: the counts come in order

    def __init__(self, sessions) -> None:
        self.sessions, self.shapes = sessions, []

    def run_tile(self, model, graph, **inputs):
        self.shapes.append(next(iter(inputs.values())).shape)
        return self.sessions.run_tile(model, graph, **inputs)


def _small_tiles(model, tile: int = 64, overlap: int = 16):
    manifest = dataclasses.replace(model.manifest, tile_size=tile, tile_overlap=overlap)
    return dataclasses.replace(model, manifest=manifest)


def test_inpainting_runs_only_the_tiles_that_hold_holes(tiny_engine) -> None:
    img = smooth_image(150, 200, seed=3)
    model = _small_tiles(tiny_engine.model("inpaint"))
    tiles = plan_tiles(150, 200, 64, 16)
    mask = np.zeros(img.shape[:2], np.uint8)
    mask[5:15, 5:20] = 1  # inside the first tile only
    holed = [t for t in tiles if mask[t[0]:t[1], t[2]:t[3]].any()]
    assert len(holed) == 1 < len(tiles)

    counting = CountingSessions(tiny_engine.sessions)
    out = restore.inpaint(counting, model, img, mask, passes=2)
    assert len(counting.shapes) == 2  # one tile, two passes
    np.testing.assert_array_equal(out[mask == 0], img[mask == 0])
    assert not np.array_equal(out[mask == 1], img[mask == 1])

    counting.shapes.clear()
    np.testing.assert_array_equal(restore.inpaint(counting, model, img, mask * 0), img)
    assert counting.shapes == []  # no hole: no network run at all


def test_default_passes_and_what_the_job_reports(tiny_engine, tmp_path) -> None:
    from PIL import Image

    from app.core.jobs import Job, run

    img = smooth_image(60, 80, seed=4)
    mask = np.zeros(img.shape[:2], np.uint8)
    mask[20:30, 20:40] = 255
    Image.fromarray(img).save(tmp_path / "in.png")
    Image.fromarray(mask).save(tmp_path / "mask.png")
    counting = CountingSessions(tiny_engine.sessions)
    model = tiny_engine.model("inpaint")
    restore.inpaint(counting, model, img, mask)
    assert len(counting.shapes) == DEFAULT_PASSES["inpaint"] == 4  # one tile

    res = run(Job("inpaint", tmp_path / "in.png", tmp_path / "a.png", mask=tmp_path / "mask.png",
                  passes=1), tiny_engine)
    assert res.extra["passes"] == 1
    res = run(Job("inpaint", tmp_path / "in.png", tmp_path / "b.png", mask=tmp_path / "mask.png"),
              tiny_engine)
    assert res.extra["passes"] == DEFAULT_PASSES["inpaint"]
    res = run(Job("denoise", tmp_path / "in.png", tmp_path / "c.png"), tiny_engine)
    assert res.extra["passes"] == DEFAULT_PASSES["denoise"]
