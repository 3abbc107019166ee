"""The one numpy <-> QImage conversion of the GUI.

Pixels are ``HxW`` or ``HxWxC`` uint8 arrays with C in (1, 3, 4): grey, RGB or RGBA, as
returned by :func:`app.core.io.imageio.load_image`. Both directions copy, so the QImage owns its
memory and the array returned never aliases Qt's buffer.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap

from app.core.io.pixels import check_pixels

__all__ = ["array_to_pixmap", "array_to_qimage", "qimage_to_array"]

_FORMATS = {
    1: QImage.Format.Format_Grayscale8,
    3: QImage.Format.Format_RGB888,
    4: QImage.Format.Format_RGBA8888,
}


def _as_hwc(pixels: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(check_pixels(pixels))


def array_to_qimage(pixels: np.ndarray) -> QImage:
    """A QImage (Grayscale8, RGB888 or RGBA8888) holding its own copy of ``pixels``."""
    arr = _as_hwc(pixels)
    h, w, c = arr.shape
    view = QImage(arr.data, w, h, w * c, _FORMATS[c])
    return view.copy()  # detach from the numpy buffer


def array_to_pixmap(pixels: np.ndarray) -> QPixmap:
    """Shortcut for ``QPixmap.fromImage(array_to_qimage(pixels))``."""
    return QPixmap.fromImage(array_to_qimage(pixels))


def qimage_to_array(image: QImage) -> np.ndarray:
    """An ``HxWxC`` uint8 copy of ``image``: C=1 for grey, 4 with alpha, else 3."""
    if image.isNull():
        raise ValueError("image is empty")
    if image.format() == QImage.Format.Format_Grayscale8:
        img, c = image, 1
    elif image.hasAlphaChannel():
        img, c = image.convertToFormat(QImage.Format.Format_RGBA8888), 4
    else:
        img, c = image.convertToFormat(QImage.Format.Format_RGB888), 3
    h, w, stride = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=stride * h)
    return buf.reshape(h, stride)[:, : w * c].reshape(h, w, c).copy()
