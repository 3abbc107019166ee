"""Feedback within a second: a preview of a compress while the full one runs.

The full encode and decode of a 12 MP photo take tens of seconds on two cores. As soon as
a compress starts, this object compresses a copy of the image downscaled to
``PREVIEW_SIDE`` pixels on its longest side, at the same quality, with the same model,
decodes it, scales it back to the image's size and hands it to the document
(:meth:`~app.core.document.Document.show_preview`), which shows it on the right captioned
"Preview" until the real result replaces it. Everything heavy, the scaling and the QImage
conversion included, happens in this object's own thread; a generation counter drops a
preview whose compress was replaced, finished or cancelled meanwhile.

The downscaled copy and its analysis transform are kept for the image they were made from, so
the next quality costs only the entropy coding and the decode. They are kept here, not in the
engine's one-image cache, which must keep the full image's analysis for the full compress.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image
from PySide6.QtCore import QObject, QThreadPool, QTimer
from PySide6.QtGui import QImage

from app.core.document import PREVIEW_PENDING

from .screen_images import prepare, prepared
from .worker import Worker

if TYPE_CHECKING:
    from app.core.document import Document
    from app.core.engine_protocol import EngineProtocol

__all__ = ["PREVIEW_SIDE", "CompressPreview", "downscaled"]

PREVIEW_SIDE = 384  # the longest side of the preview's copy (about 0.1 MP)
DEBOUNCE_MS = 60  # slider drags: only the last position gets a preview
# The full compress waits up to this long for its preview (:meth:`CompressPreview.wait_turn`).
# Run side by side on two cores, the two shared them, and with another program busy on one
# core the preview came after the result or not at all; run first, it costs the result about
# its own 0.3 s at 768x512 and nothing that shows at 12 MP.
TURN_WAIT_S = 1.5


def downscaled(pixels: np.ndarray, side: int = PREVIEW_SIDE) -> np.ndarray | None:
    """``pixels`` with its longest side ``side`` (None when it is not larger than that)."""
    h, w = pixels.shape[:2]
    scale = side / max(h, w)
    if scale >= 1:
        return None
    size = (max(16, round(w * scale)), max(16, round(h * scale)))
    im = Image.fromarray(pixels[..., 0] if pixels.ndim == 3 and pixels.shape[2] == 1
                         else pixels)
    small = np.asarray(im.resize(size, Image.Resampling.BOX))
    return small[..., None] if pixels.ndim == 3 and small.ndim == 2 else small


def _upscaled(pixels: np.ndarray, w: int, h: int) -> np.ndarray:
    im = Image.fromarray(pixels[..., 0] if pixels.ndim == 3 and pixels.shape[2] == 1
                         else pixels)
    big = np.asarray(im.resize((w, h), Image.Resampling.BILINEAR))
    return big[..., None] if pixels.ndim == 3 and big.ndim == 2 else big


class _SmallCopy:
    """The downscaled copy of the last image (thread-safe: the preview pool has one thread,
    but a stale job may still run). The engine keeps the analysis of the last two images, so
    encoding the copy at another quality costs only its entropy coding."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: weakref.ref | None = None
        self._small: np.ndarray | None = None

    def encoded(self, engine: EngineProtocol, pixels: np.ndarray,
                quality: float) -> tuple[np.ndarray, bytes] | None:
        """(the small copy, its file at ``quality``), or None for an image already small."""
        with self._lock:
            same = self._source is not None and self._source() is pixels
            small = self._small if same else None
        if small is None:
            small = downscaled(pixels)
            if small is None:
                return None
            with self._lock:
                self._source, self._small = weakref.ref(pixels), small
        return small, engine.compress(small, quality).data


class CompressPreview(QObject):
    """Starts a preview for every compress the document reports as started."""

    def __init__(self, document: Document, engine: EngineProtocol,
                 quality: Callable[[], float],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.engine = engine
        self.quality = quality  # the quality the running compress uses
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._generation = 0
        self._jobs: dict[int, Worker] = {}
        self._retired: list[Worker] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._start)
        self.made = 0  # previews delivered (tests, benchmark)
        self._copy = _SmallCopy()
        self._turn = threading.Event()  # clear while a preview is due or running
        self._turn.set()
        document.mode_changed.connect(self._on_mode)
        document.image_changed.connect(self._drop)

    def image_for(self, pixels: np.ndarray) -> QImage | None:
        """The screen-ready QImage made in the worker for a preview array, if any."""
        return prepared(pixels)

    def _on_mode(self, mode: str) -> None:
        if mode != "compress":
            return
        s = self.document.modes["compress"]
        if s.busy and s.preview is None and "bytes" not in s.busy_text:
            self._generation += 1  # a new compress: an older preview is out of date
            self._turn.clear()
            self._timer.start()
        elif not s.busy:
            self._drop()

    def _drop(self) -> None:
        self._generation += 1
        self._timer.stop()
        for worker in self._jobs.values():
            worker.cancel()
        self._turn.set()

    def wait_turn(self, cancel=None, timeout: float = TURN_WAIT_S) -> None:
        """Called by the full compress's job before it starts: wait until this compress's
        preview is shown or given up (``timeout`` at most, less once ``cancel()``)."""
        deadline = time.monotonic() + timeout
        while not self._turn.wait(0.02):
            if time.monotonic() >= deadline or (cancel is not None and cancel()):
                return

    def _start(self) -> None:
        doc = self.document
        if doc.image is None or not doc.modes["compress"].busy:
            self._turn.set()
            return
        pixels, engine, quality = doc.image, self.engine, float(self.quality())
        h, w = pixels.shape[:2]
        gen, copy = self._generation, self._copy

        def job(_progress, cancel):
            try:
                made = copy.encoded(engine, pixels, quality)
                if made is None or cancel():
                    return None
                small, data = made
                rec = engine.decompress(data)
            finally:  # the full compress may start: the preview's networks are done
                if gen == self._generation:
                    self._turn.set()
            if cancel():
                return None
            big = _upscaled(rec, w, h)
            prepare(big)
            return big, small.shape[1], small.shape[0], quality

        worker = Worker(job, "preview")
        worker.signals.finished.connect(lambda r, g=gen: self._on_done(g, r))
        worker.signals.errored.connect(lambda _m, g=gen: self._on_done(g, None))
        self._jobs[gen] = worker
        self.pool.start(worker)

    def _on_done(self, gen: int, made) -> None:
        worker = self._jobs.pop(gen, None)
        self._retired = [w for w in self._retired if not w.done.is_set()]
        if worker is not None:
            self._retired.append(worker)
        if made is None or gen != self._generation:
            return
        big, sw, sh, quality = made
        text = f"Preview · quality {quality:.0f}, computed at {sw}×{sh}{PREVIEW_PENDING}"
        if self.document.show_preview("compress", big, text):
            self.made += 1

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        self._drop()
        return self.pool.waitForDone(timeout_ms)
