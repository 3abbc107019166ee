"""Encodes the classic-codec sides of the comparison in Compress mode, off the UI thread.

Each side that shows a classic codec (see :mod:`app.core.compare.sides`) is encoded at its
own quality or at the other side's size, in this object's own thread pool, so it never
replaces the controller's compress job and the two sides can run at once. One generation
counter per side drops a result whose inputs changed while it was computed (a new image, a
new AE Studio file, another choice). Results go into the document (``finish_same_size``);
the widgets redraw from there.

A side is shown as soon as its file is encoded and decoded (with its bytes and PSNR); its
MS-SSIM, which takes several times as long as a WebP encode, follows from a second job and is
added to the same result if that is still the one shown. A same-size search starts from the
quality it found last time for the same image and format: moving the AE Studio quality slider
changes the target a little, so two or three probes find the new quality.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QThreadPool

from app.core.compare.sides import SIDES, SideChoice, encode_plan, other
from app.core.compare.metrics import psnr
from app.core.compare.same_size import encode_at_quality, encode_at_size
from app.core.round_trip import ms_ssim_or_none

from .screen_images import prepare
from .worker import CANCELLED_MESSAGE, Worker

if TYPE_CHECKING:
    from app.core.document import Document

__all__ = ["ClassicEncoder", "encode_side"]

MS_SSIM_MAX_PIXELS = 4_000_000  # above this MS-SSIM costs seconds: PSNR only


def _reference(pixels: np.ndarray) -> np.ndarray:
    """What a classic side is compared with: ``pixels`` without alpha."""
    return pixels[:, :, :3] if pixels.ndim == 3 and pixels.shape[2] == 4 else pixels


def encode_side(pixels: np.ndarray, fmt: str, plan: tuple[str, int], cancel=None,
                guess: int | None = None) -> dict[str, Any]:
    """The classic encoding of ``pixels`` for a plan from :func:`encode_plan`, with its PSNR
    (``ms_ssim`` None: :func:`side_ms_ssim` measures it). ``guess``: a same-size search's
    first quality."""
    how, value = plan
    if how == "size":
        res = encode_at_size(pixels, fmt, value, cancel=cancel, guess=guess)
    else:
        res = encode_at_quality(pixels, fmt, value)
    ref = _reference(pixels)
    out = res.pixels.reshape(ref.shape)
    prepare(out)  # its screen image, made here in the encoder's thread, not on the UI thread
    return {"format": fmt, "quality": res.quality, "bytes": len(res.data), "fits": res.fits,
            "pixels": out, "psnr": psnr(ref, out), "ms_ssim": None, "seconds": res.seconds,
            "data": res.data, "match": how == "size"}


def side_ms_ssim(pixels: np.ndarray, result: dict[str, Any]) -> float | None:
    """MS-SSIM of a classic side against ``pixels`` (None above ``MS_SSIM_MAX_PIXELS``, where
    it costs seconds, and for images too small for its five scales)."""
    ref = _reference(pixels)
    if ref.shape[0] * ref.shape[1] > MS_SSIM_MAX_PIXELS:
        return None
    return ms_ssim_or_none(ref, result["pixels"])


class ClassicEncoder(QObject):
    """Keeps the document's classic sides computed for its current image and choices."""

    def __init__(self, document: Document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._generation = {s: 0 for s in SIDES}
        self._workers: list[Worker] = []
        self._found: dict[str, int] = {}  # format -> the quality its last search found
        document.image_changed.connect(self._forget_found)
        document.image_changed.connect(self.refresh)
        document.mode_changed.connect(lambda mode: mode == "compress" and self.refresh())

    def set_choice(self, side: str, choice: SideChoice) -> None:
        """Show ``choice`` on ``side`` and encode what it needs. Two classic sides cannot
        each take the other's size: ticking "same size" on one unticks it on the other,
        which then keeps its own quality."""
        mate = self.document.sides[other(side)]
        if choice.is_codec and choice.match and mate.is_codec and mate.match:
            self.document.set_side(other(side), replace(mate, match=False))
        self.document.set_side(side, choice)
        self.refresh()

    def refresh(self) -> None:
        """Start every classic side that has no result, is not running and can be planned."""
        for side in SIDES:
            self._maybe_start(side)

    def _forget_found(self) -> None:
        self._found.clear()  # another image: the qualities found say nothing about it

    def _target(self, side: str) -> int | None:
        doc = self.document
        mate = other(side)
        if doc.sides[mate].kind == "aestudio" and doc.modes["compress"].busy:
            return None  # the AE Studio file is being replaced
        if doc.sides[mate].is_codec and doc.classic[mate].busy:
            return None
        return doc.side_bytes(mate)

    def _maybe_start(self, side: str) -> None:
        doc = self.document
        choice, same = doc.sides[side], doc.classic[side]
        if same.busy:
            return
        self._generation[side] += 1  # whatever still runs for this side is out of date
        if (not choice.is_codec or not doc.can_compare_classic or same.result is not None
                or same.note):
            return
        plan = encode_plan(side, doc.sides, self._target(side))
        if plan is None:
            return
        gen = self._generation[side]
        pixels, fmt, guess = doc.image, choice.kind, self._found.get(choice.kind)
        doc.start_same_size(fmt, side)

        def job(_progress, cancel):
            return encode_side(pixels, fmt, plan, cancel, guess)

        self._start(f"classic-{side}", job,
                    lambda r, s=side, g=gen: self._on_done(s, g, r, None),
                    lambda m, s=side, g=gen: self._on_done(s, g, None, m))

    def _start(self, name: str, job, done, errored=None) -> None:
        worker = Worker(job, name)
        worker.signals.finished.connect(done)
        if errored is not None:
            worker.signals.errored.connect(errored)
        # kept until its run() has returned (the pool does not own it)
        self._workers = [w for w in self._workers if not w.done.is_set()] + [worker]
        self.pool.start(worker)

    def _on_done(self, side: str, gen: int, result: dict | None, message: str | None) -> None:
        if gen != self._generation[side] or not self.document.classic[side].busy:
            return
        if result is not None:
            if result["match"]:
                self._found[result["format"]] = result["quality"]
            self.document.finish_same_size(result, side)
            self._measure(side, result)
            self.refresh()  # a side matching this one's size can start now
        elif message != CANCELLED_MESSAGE:
            self.document.fail_same_size(message or "failed", side)

    def _measure(self, side: str, result: dict[str, Any]) -> None:
        """The side's MS-SSIM, added to ``result`` if it is still the one shown then."""
        pixels = self.document.image

        def added(score: float | None) -> None:
            doc = self.document
            if score is not None and doc.classic[side].result is result:
                result["ms_ssim"] = score
                doc.same_size_changed.emit()

        self._start(f"classic-{side}-ms-ssim", lambda _p, _c: side_ms_ssim(pixels, result),
                    added)

    @property
    def is_busy(self) -> bool:
        return any(c.busy for c in self.document.classic.values())

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        for side in SIDES:
            self._generation[side] += 1
        for worker in self._workers:
            worker.cancel()
        return self.pool.waitForDone(timeout_ms)
