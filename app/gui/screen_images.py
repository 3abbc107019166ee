"""QImages made off the UI thread for arrays that are about to be shown.

Turning a 12 MP array into a QPixmap on the UI thread takes 0.1-0.25 s (a copy into a QImage,
then a conversion to the screen's 32-bit format): a visible freeze each time a result
arrives. Doing the same Qt calls in a worker does not help: PySide6 holds the GIL through
them, so the UI thread waits just as long. Here a worker that makes pixels for display calls
:func:`prepare`, which fills a QImage in the screen's format with numpy, a band of rows at a
time (numpy lets go of the GIL while it works); the view's :func:`pixmap_for` then finds that
QImage, and ``QPixmap.fromImage`` shares its buffer instead of converting it.

Entries are keyed by the array's identity: an entry goes when its array is garbage-collected
or when :func:`pixmap_for` has made its pixmap (the view keeps that pixmap), so a prepared
image never outlives the pixels it shows.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np
from PySide6.QtGui import QImage, QPixmap

from app.core.io.pixels import check_pixels

from .qimage import array_to_pixmap

__all__ = ["pixmap_for", "prepare", "prepared", "screen_image"]

_lock = threading.RLock()  # the weakref callback may run while this thread holds it
_prepared: dict[int, tuple[weakref.ref, QImage]] = {}


def _forget(key: int, ref: weakref.ref) -> None:
    with _lock:
        entry = _prepared.get(key)
        if entry is not None and entry[0] is ref:
            del _prepared[key]


_BAND_ROWS = 128


def screen_image(pixels: np.ndarray) -> QImage:
    """``pixels`` (grey, RGB or RGBA uint8) as an RGB32 or premultiplied ARGB32 QImage that
    owns its memory, the same pixels Qt's own conversion gives, made with numpy."""
    arr = check_pixels(pixels)
    h, w, c = arr.shape
    image = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied if c == 4
                   else QImage.Format.Format_RGB32)
    out = np.frombuffer(image.bits(), np.uint32).reshape(h, image.bytesPerLine() // 4)[:, :w]
    for r0 in range(0, h, _BAND_ROWS):
        band = arr[r0:r0 + _BAND_ROWS].astype(np.uint32)
        if c == 4:  # premultiplied with Qt's rounding (qPremultiply)
            alpha = band[..., 3:]
            band = band[..., :3] * alpha
            band = (band + (band >> 8) + 0x80) >> 8
            top = alpha[..., 0] << 24
        else:
            top = np.uint32(0xFF000000)
        if c == 1:
            rgb = band[..., 0] * np.uint32(0x010101)
        else:
            rgb = (band[..., 0] << 16) | (band[..., 1] << 8) | band[..., 2]
        out[r0:r0 + _BAND_ROWS] = rgb | top
    return image


def prepare(pixels: np.ndarray) -> QImage:
    """Make the screen image of ``pixels`` (in the calling thread, see :func:`screen_image`)
    and keep it for :func:`prepared` and :func:`pixmap_for` while ``pixels`` lives."""
    image = screen_image(pixels)
    key = id(pixels)
    ref = weakref.ref(pixels, lambda r, k=key: _forget(k, r))
    with _lock:
        _prepared[key] = (ref, image)
    return image


def _entry(pixels: np.ndarray, take: bool) -> QImage | None:
    with _lock:
        key = id(pixels)
        entry = _prepared.get(key)
        if entry is None or entry[0]() is not pixels:
            return None
        if take:
            del _prepared[key]
        return entry[1]


def prepared(pixels: np.ndarray) -> QImage | None:
    """The QImage :func:`prepare` made for exactly this array, if any."""
    return _entry(pixels, take=False)


def pixmap_for(pixels: np.ndarray) -> QPixmap:
    """The pixmap of ``pixels``: from its prepared QImage (which is then let go: the pixmap
    shares its buffer), else converted here."""
    image = _entry(pixels, take=True)
    return array_to_pixmap(pixels) if image is None else QPixmap.fromImage(image)
