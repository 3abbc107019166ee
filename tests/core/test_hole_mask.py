"""The one rule for which pixels of a mask image are holes (CLI, batch and GUI alike)."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.restore.hole_mask import HOLE_THRESHOLD, hole_mask


def test_a_channel_over_half_way_is_a_hole():
    px = np.zeros((2, 3, 3), np.uint8)
    px[0, 0] = (HOLE_THRESHOLD, HOLE_THRESHOLD, HOLE_THRESHOLD)  # not over: kept
    px[0, 1, 2] = HOLE_THRESHOLD + 1                             # blue alone: a hole
    px[1, 2] = 255
    m = hole_mask(px, (2, 3, 3))
    assert m.dtype == np.uint8 and m.shape == (2, 3)
    np.testing.assert_array_equal(m, [[0, 1, 0], [0, 0, 1]])


def test_grey_and_alpha():
    assert hole_mask(np.full((2, 2, 1), 200, np.uint8), (2, 2)).all()
    assert hole_mask(np.full((2, 2), 200, np.uint8), (2, 2)).all()
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 3] = 255                                           # opaque black: no hole
    assert not hole_mask(rgba, (2, 2)).any()


def test_a_mask_of_another_size_is_refused_naming_it():
    with pytest.raises(ValueError, match=r"^mask m\.png is 3x2, the image is 5x4$"):
        hole_mask(np.zeros((2, 3), np.uint8), (4, 5, 3), what="mask m.png")
    with pytest.raises(ValueError, match=r"^the mask is 3x2"):
        hole_mask(np.zeros((2, 3), np.uint8), (4, 5))
