"""numpy <-> QImage conversion: formats, round trips and memory ownership."""

import numpy as np
import pytest
from PySide6.QtGui import QImage

from app.gui.qimage import array_to_pixmap, array_to_qimage, qimage_to_array


@pytest.mark.parametrize("channels, fmt", [
    (1, QImage.Format.Format_Grayscale8),
    (3, QImage.Format.Format_RGB888),
    (4, QImage.Format.Format_RGBA8888),
])
def test_round_trip_keeps_pixels(channels, fmt):
    rng = np.random.default_rng(channels)
    arr = rng.integers(0, 256, (7, 5, channels), dtype=np.uint8)  # odd width: padded rows
    if channels == 4:
        arr[..., 3] = 255
        arr[0, 0, 3] = 17
    img = array_to_qimage(arr)
    assert img.format() == fmt
    assert (img.width(), img.height()) == (5, 7)
    back = qimage_to_array(img)
    assert back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)


def test_two_dimensional_grey_is_accepted():
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_array_equal(qimage_to_array(array_to_qimage(arr))[..., 0], arr)


def test_qimage_owns_its_memory():
    arr = np.full((4, 6, 3), 100, np.uint8)
    img = array_to_qimage(arr)
    arr[:] = 0
    del arr
    assert qimage_to_array(img).min() == 100


def test_non_contiguous_input():
    base = np.random.default_rng(0).integers(0, 256, (8, 10, 3), dtype=np.uint8)
    view = base[::2, ::-1]
    np.testing.assert_array_equal(qimage_to_array(array_to_qimage(view)), view)


def test_returned_array_is_independent():
    img = array_to_qimage(np.zeros((2, 2, 3), np.uint8))
    out = qimage_to_array(img)
    out[:] = 255
    assert qimage_to_array(img).max() == 0


@pytest.mark.parametrize("bad", [
    np.zeros((4, 4, 3), np.float32),
    np.zeros((4, 4, 2), np.uint8),
    np.zeros((0, 4, 3), np.uint8),
    np.zeros((4,), np.uint8),
])
def test_rejects_bad_arrays(bad):
    with pytest.raises(ValueError):
        array_to_qimage(bad)


def test_pixmap(qapp):
    pm = array_to_pixmap(np.zeros((3, 9, 3), np.uint8))
    assert (pm.width(), pm.height()) == (9, 3)
