"""Push-pull hole filling (app/core/hole_fill.py): the first guess of prefill inpainters."""

import numpy as np
import pytest

from app.core import hole_fill
from app.core.hole_fill import prefill
from app.core.hole_fill import push_pull as _push_pull


def push_pull(rgb, hole):
    return _push_pull(rgb, hole).array()


def _strokes(h, w, seed=0):
    rng = np.random.default_rng(seed)
    hole = np.zeros((h, w), bool)
    for _ in range(6):
        y, x = rng.integers(h), rng.integers(w)
        hole[max(0, y - 9):y + 9, max(0, x - 30):x + 30] = True
    return hole


def test_known_pixels_are_kept_and_a_constant_image_fills_with_its_colour():
    rgb = np.empty((37, 53, 3), np.uint8)
    rgb[:] = (200, 17, 90)
    hole = _strokes(37, 53)
    out = push_pull(rgb, hole)
    assert np.array_equal(out, rgb)
    noisy = np.random.default_rng(1).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    filled = push_pull(noisy, hole)
    assert np.array_equal(filled[~hole], noisy[~hole])
    assert not np.array_equal(filled[hole], noisy[hole])


def test_a_hole_in_a_smooth_gradient_is_filled_close_to_the_gradient():
    """Far better than any constant: the fill follows the gradient across a wide hole."""
    y, x = np.mgrid[0:96, 0:128]
    rgb = np.stack([x * 2, y * 2, 255 - x], -1).astype(np.uint8)
    hole = np.zeros((96, 128), bool)
    hole[30:66, 40:90] = True
    err = np.abs(push_pull(rgb, hole)[hole].astype(int) - rgb[hole]).mean()
    flat = np.abs(rgb[~hole].mean(0) - rgb[hole]).mean()
    assert err < 12 and err < flat / 3


def test_bands_give_the_same_fill_as_one_pass(monkeypatch):
    """Rows are summed and filled in bands to bound memory; the band size never shows."""
    rgb = np.random.default_rng(2).integers(0, 256, (75, 61, 3), dtype=np.uint8)
    hole = _strokes(75, 61, seed=3)
    whole = push_pull(rgb, hole)
    monkeypatch.setattr(hole_fill, "BAND", 8)
    assert np.array_equal(push_pull(rgb, hole), whole)


def test_odd_thin_and_tiny_images_fill_every_hole():
    for h, w in ((1, 9), (9, 1), (2, 2), (5, 3)):
        rgb = np.full((h, w, 3), 77, np.uint8)
        hole = np.zeros((h, w), bool)
        hole.flat[: hole.size - 1] = True  # one known pixel
        assert np.array_equal(push_pull(rgb, hole), rgb), (h, w)


def test_a_mask_over_everything_or_an_unknown_method_is_refused():
    rgb = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="no known pixel"):
        push_pull(rgb, np.ones((8, 8), bool))
    with pytest.raises(ValueError, match="newer AE Studio"):
        prefill(rgb, np.zeros((8, 8), bool), "telea-v9")
    assert prefill(rgb, np.ones((8, 8), bool), None) is None


def test_crops_of_the_filled_image_are_crops_of_the_whole():
    """Tiles read the fill values of their own hole pixels, whatever rows and columns."""
    rgb = np.random.default_rng(4).integers(0, 256, (70, 90, 3), dtype=np.uint8)
    hole = _strokes(70, 90, seed=5)
    filled = _push_pull(rgb, hole)
    assert filled.values.shape == (hole.sum(), 3)
    whole = filled.array()
    for y0, y1, x0, x1 in ((0, 70, 0, 90), (13, 41, 7, 66), (69, 70, 0, 1), (5, 5, 3, 9)):
        assert np.array_equal(filled.crop(y0, y1, x0, x1), whole[y0:y1, x0:x1])
