"""Hole filling (app/core/restore/hole_fill.py): the first guess of prefill inpainters, for every
fill a manifest can name."""

import numpy as np
import pytest

from app.core.restore import hole_fill
from app.core.restore.hole_fill import prefill
from app.spec.manifest import HOLE_FILLS


@pytest.fixture(params=list(HOLE_FILLS))
def fill(request):
    return lambda rgb, hole: prefill(rgb, hole, request.param).array()


def _strokes(h, w, seed=0):
    rng = np.random.default_rng(seed)
    hole = np.zeros((h, w), bool)
    for _ in range(6):
        y, x = rng.integers(h), rng.integers(w)
        hole[max(0, y - 9):y + 9, max(0, x - 30):x + 30] = True
    return hole


def test_known_pixels_are_kept_and_a_constant_image_fills_with_its_colour(fill):
    rgb = np.empty((37, 53, 3), np.uint8)
    rgb[:] = (200, 17, 90)
    hole = _strokes(37, 53)
    out = fill(rgb, hole)
    assert np.array_equal(out, rgb)
    noisy = np.random.default_rng(1).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    filled = fill(noisy, hole)
    assert np.array_equal(filled[~hole], noisy[~hole])
    assert not np.array_equal(filled[hole], noisy[hole])


def test_a_hole_in_a_smooth_gradient_is_filled_close_to_the_gradient(fill):
    """Far better than any constant: the fill follows the gradient across a wide hole."""
    y, x = np.mgrid[0:96, 0:128]
    rgb = np.stack([x * 2, y * 2, 255 - x], -1).astype(np.uint8)
    hole = np.zeros((96, 128), bool)
    hole[30:66, 40:90] = True
    err = np.abs(fill(rgb, hole)[hole].astype(int) - rgb[hole]).mean()
    flat = np.abs(rgb[~hole].mean(0) - rgb[hole]).mean()
    assert err < 12 and err < flat / 3


def test_bands_give_the_same_fill_as_one_pass(fill, monkeypatch):
    """Rows are summed and filled in bands (and relaxed a few rows at a time) to bound
    memory; neither size ever shows."""
    rgb = np.random.default_rng(2).integers(0, 256, (75, 61, 3), dtype=np.uint8)
    hole = _strokes(75, 61, seed=3)
    whole = fill(rgb, hole)
    monkeypatch.setattr(hole_fill, "BAND", 8)
    monkeypatch.setattr(hole_fill, "BLOCK_ROWS", 3)
    assert np.array_equal(fill(rgb, hole), whole)


def test_odd_thin_and_tiny_images_fill_every_hole(fill):
    for h, w in ((1, 9), (9, 1), (2, 2), (5, 3)):
        rgb = np.full((h, w, 3), 77, np.uint8)
        hole = np.zeros((h, w), bool)
        hole.flat[: hole.size - 1] = True  # one known pixel
        assert np.array_equal(fill(rgb, hole), rgb), (h, w)


def test_relaxation_moves_the_fill_towards_the_harmonic_one():
    """The "harmonic" fill is closer than push-pull to the solution of Laplace's equation
    (each hole pixel the mean of its four neighbours): its discrete Laplacian over the holes
    is much smaller, and it stays within the known pixels' range."""
    yy, xx = np.mgrid[:96, :128]
    rgb = np.stack([yy * 2, xx * 2, (yy + xx)], axis=-1).astype(np.uint8)
    hole = _strokes(96, 128, seed=8)

    def laplacian(fill):
        f = np.pad(fill.astype(np.float64), [(1, 1), (1, 1), (0, 0)], mode="edge")
        lap = f[:-2, 1:-1] + f[2:, 1:-1] + f[1:-1, :-2] + f[1:-1, 2:] - 4 * f[1:-1, 1:-1]
        return np.abs(lap[hole]).mean()

    pushed = prefill(rgb, hole, "push-pull").array()
    relaxed = prefill(rgb, hole, "harmonic").array()
    assert laplacian(relaxed) < 0.5 * laplacian(pushed)
    assert relaxed.min() >= rgb[~hole].min() and relaxed.max() <= rgb[~hole].max()


def test_a_mask_over_everything_or_an_unknown_method_is_refused():
    rgb = np.zeros((8, 8, 3), np.uint8)
    for method in HOLE_FILLS:
        with pytest.raises(ValueError, match="no known pixel"):
            prefill(rgb, np.ones((8, 8), bool), method)
    with pytest.raises(ValueError, match="newer AE Studio"):
        prefill(rgb, np.zeros((8, 8), bool), "telea-v9")
    assert prefill(rgb, np.ones((8, 8), bool), None) is None


def test_crops_of_the_filled_image_are_crops_of_the_whole():
    """Tiles read the fill values of their own hole pixels, whatever rows and columns."""
    rgb = np.random.default_rng(4).integers(0, 256, (70, 90, 3), dtype=np.uint8)
    hole = _strokes(70, 90, seed=5)
    filled = prefill(rgb, hole, "push-pull")
    assert filled.values.shape == (hole.sum(), 3)
    whole = filled.array()
    for y0, y1, x0, x1 in ((0, 70, 0, 90), (13, 41, 7, 66), (69, 70, 0, 1), (5, 5, 3, 9)):
        assert np.array_equal(filled.crop(y0, y1, x0, x1), whole[y0:y1, x0:x1])
    # Tiles in row-major order share a band (kept between calls); going back to a band
    # read before must still give that band's values.
    for y0, y1 in ((0, 32), (24, 56), (0, 32), (48, 70)):
        for x0, x1 in ((0, 32), (24, 56), (48, 90)):
            assert np.array_equal(filled.crop(y0, y1, x0, x1), whole[y0:y1, x0:x1])
