"""Reading a file to open off the UI thread: a large image is read, decoded and made into its
screen image (:func:`app.gui.screen_images.prepare`) in a worker; a large .aei file is read
there and decoded by the controller. Opening a 12 MP PNG on the UI thread froze the window
for 0.6 s or more.

Most files are small: one whose header says it has at most ``SMALL_PIXELS`` (and that is at
most ``SMALL_BYTES`` long) is read at once, in a few milliseconds, as before: the window
shows it before ``open`` returns, and a broken one is an error there and then. A larger one
is announced through the signals later. Every ``open`` starts a new generation, so a file
still being read when another one is opened is dropped.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QImage

from app.core.io.bounded_read import InputFileError, read_head
from app.core.io.imageio import load_image
from app.core.jobs import read_aei

from .files import FILE_ERRORS, error_reason, is_aei
from .qimage import qimage_to_array
from .screen_images import prepare
from .worker import Worker

__all__ = ["SMALL_BYTES", "SMALL_PIXELS", "FileOpener", "Opened", "is_small", "read_for_screen"]

# read on the UI thread: a few milliseconds (a 12 MP PNG takes about a second to decode)
SMALL_PIXELS = 1_000_000
SMALL_BYTES = 1 << 20
_HEAD_BYTES = 64 * 1024  # where an image's header says its size


@dataclass(frozen=True)
class Opened:
    """What was read: an image's pixels (their screen image made) or an .aei file's bytes."""

    name: str
    path: Path | None = None  # None: the clipboard
    pixels: np.ndarray | None = None
    aei: bytes | None = None
    notes: tuple[str, ...] = ()
    file_bytes: int | None = None


def read_for_screen(path: Path) -> Opened:
    """Read ``path`` in the calling thread; raises what :data:`FILE_ERRORS` names."""
    if is_aei(path):
        return Opened(path.name, path, aei=read_aei(path))
    loaded = load_image(path)
    prepare(loaded.pixels)
    return Opened(path.name, path, loaded.pixels, notes=tuple(loaded.notes),
                  file_bytes=loaded.file_bytes)


def is_small(path: Path, small_pixels: int = SMALL_PIXELS) -> bool:
    """Whether ``path`` is quick to read: at most ``SMALL_BYTES`` long and, for an image, at
    most ``small_pixels`` by its header. A file that cannot be examined counts as small (its
    error is then reported at once); so does one whose header is unreadable, if it is no
    longer than the bytes looked at."""
    try:
        size = path.stat().st_size
        head = read_head(path, _HEAD_BYTES)
    except (OSError, InputFileError):
        return True
    if size > SMALL_BYTES:
        return False
    if is_aei(path):
        return True
    try:
        with Image.open(io.BytesIO(head)) as im:
            w, h = im.size
    except Exception:  # noqa: BLE001 - any header Pillow cannot read here
        return size <= len(head)
    return w * h <= small_pixels


def _pasted(image: QImage, name: str) -> Opened:
    pixels = qimage_to_array(image)
    if pixels.shape[2] == 4 and bool((pixels[:, :, 3] == 255).all()):
        pixels = np.ascontiguousarray(pixels[:, :, :3])  # opaque: plain RGB
    prepare(pixels)
    return Opened(name, pixels=pixels)


class FileOpener(QObject):
    """Reads one file at a time for the window; the newest :meth:`open` wins.

    ``opened(Opened)`` or ``failed(message)`` follow an ``open`` that returned None;
    ``message`` is the one line to show ("Cannot open x.png: file is truncated").
    """

    opened = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, small_pixels: int = SMALL_PIXELS) -> None:
        """``small_pixels``: images up to this size are read at once (-1: none is)."""
        super().__init__(parent)
        self.small_pixels = small_pixels
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)  # a replaced read may still be running
        self._generation = 0
        self._workers: list[Worker] = []
        self.loading: str = ""  # the name being read in the background

    def open(self, path: Path) -> Opened | str | None:
        """Read ``path``: what was read, or the error message, for a small file; else None,
        and a signal comes later."""
        quick = self.small_pixels >= 0 and is_small(path, self.small_pixels)
        return self._start(lambda: read_for_screen(path), path.name, path, quick)

    def paste(self, image: QImage, name: str) -> Opened | str | None:
        """Like :meth:`open` for an image from the clipboard."""
        quick = image.width() * image.height() <= self.small_pixels
        return self._start(lambda: _pasted(image, name), name, None, quick)

    def cancel(self) -> None:
        """Drop whatever is being read."""
        self._generation += 1
        self.loading = ""

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        self.cancel()
        return self.pool.waitForDone(timeout_ms)

    def _start(self, read: Callable[[], Opened], name: str, path: Path | None,
               quick: bool) -> Opened | str | None:
        self.cancel()

        def job(_progress=None, _cancel=None) -> Opened | str:
            try:
                return read()
            except FILE_ERRORS as exc:
                return f"Cannot open {name}: {error_reason(exc, path)}"

        if quick:
            return job()
        gen = self._generation
        worker = Worker(job, f"open {name}")
        worker.signals.finished.connect(lambda result, g=gen: self._on_done(g, result))
        worker.signals.errored.connect(
            lambda message, g=gen: self._on_done(g, f"Cannot open {name}: {message}"))
        self._workers = [w for w in self._workers if not w.done.is_set()] + [worker]
        self.pool.start(worker)
        self.loading = name
        return None

    def _on_done(self, gen: int, outcome: Opened | str) -> None:
        if gen != self._generation:
            return
        self.loading = ""
        if isinstance(outcome, Opened):
            self.opened.emit(outcome)
        else:
            self.failed.emit(outcome)
