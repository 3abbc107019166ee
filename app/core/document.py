"""The open document of the desktop app, without Qt: one place for what is shown and why.

In the spirit of napari's ``ViewerModel``: the image and where it came from, the current
result of each mode (compress, denoise, inpaint) with its measures, the inpainting mask, the
classic codec shown at the same size, and whether each of these is being computed (busy) or
no longer matches its inputs (stale). Widgets never keep their own copy of this state: they
bind to the change events and redraw from the document, so opening another image, cancelling
or a failure cannot leave an old readout behind. Every transition is a method here and each
one is unit-tested (tests/core/test_document.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .compare.sides import DEFAULT_SIDES, SIDES, SideChoice, other
from .compare.metrics import bits_per_pixel

__all__ = ["MODES", "SOURCE_KINDS", "Document", "Event", "ModeState", "Source"]

MODES = ("compress", "denoise", "inpaint")
# file: an image file; aei: a decoded .aei file (no original exists); sample: the bundled
# sample; pasted: the clipboard; decoding: an .aei file being decoded (named, no pixels yet);
# none: nothing open
SOURCE_KINDS = ("none", "file", "aei", "sample", "pasted", "decoding")
CANCELLED_NOTE = "Cancelled."
# How a preview's caption ends while the full result is computed (cut when the job stops).
PREVIEW_PENDING = " · the full result is on its way…"


class Event:
    """A list of callbacks called with the event's arguments (a Qt-free signal)."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            callback(*args)


@dataclass(frozen=True)
class Source:
    """Where the image came from."""

    kind: str = "none"
    name: str = ""
    path: Path | None = None
    file_bytes: int | None = None  # size of the opened file (the compression ratio's base)
    step: int = 0  # inpainting steps continued on ("Continue on result"): 0 is the file itself

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"unknown source kind {self.kind!r}")

    @property
    def is_decoded(self) -> bool:
        """A decoded .aei: the image shown is itself a reconstruction, not an original."""
        return self.kind == "aei"

    @property
    def role(self) -> str:
        """What the image is, for captions: "Inpainted", "Decoded" or "Original"."""
        if self.step:
            return "Inpainted"
        return "Decoded" if self.is_decoded else "Original"

    @property
    def belongs_in_recent_files(self) -> bool:
        """Only files the user opened (never the bundled sample or the clipboard)."""
        return self.kind in ("file", "aei") and self.path is not None


@dataclass
class ModeState:
    """One mode's result and what is happening to it."""

    result: np.ndarray | None = None  # the pixels shown on the right
    info: dict[str, Any] | None = None  # measures of ``result`` (bytes, PSNR, σ, seconds…)
    busy: bool = False  # a job for this mode runs or is about to
    busy_text: str = ""  # what the job does ("Compressing at quality 40…")
    stale: bool = False  # ``result`` was made from other settings or another mask
    note: str = ""  # the last thing to tell about this mode ("Cancelled.", an error…)
    # while busy: a quick result on a downscaled copy, shown labelled "Preview"
    preview: np.ndarray | None = None
    preview_text: str = ""

    @property
    def computed(self) -> bool:
        return self.result is not None


@dataclass
class SameSize:
    """A classic codec shown on one side in Compress mode (at its own quality or at the other
    side's size). ``result`` holds ``format, quality, bytes, fits, pixels, psnr, ms_ssim`` and
    ``data`` (the encoded file, for saving)."""

    format: str = ""
    busy: bool = False
    result: dict[str, Any] | None = None
    note: str = ""


@dataclass
class Document:
    """The current image and everything derived from it. See the module docstring."""

    image: np.ndarray | None = None
    source: Source = field(default_factory=Source)
    modes: dict[str, ModeState] = field(default_factory=lambda: {m: ModeState() for m in MODES})
    mask: np.ndarray | None = None
    aei_data: bytes | None = None  # the compressed file (made here, or the opened .aei)
    # the comparison in Compress mode: what each side shows and each side's classic codec
    sides: dict[str, SideChoice] = field(default_factory=lambda: dict(DEFAULT_SIDES))
    classic: dict[str, SameSize] = field(default_factory=lambda: {s: SameSize() for s in SIDES})
    # while an .aei is decoded: what was open before, back if the decode stops
    _before: tuple | None = field(default=None, repr=False)

    @property
    def same_size(self) -> SameSize:
        """The left side's classic codec (the usual "same size" comparison)."""
        return self.classic["left"]

    @same_size.setter
    def same_size(self, value: SameSize) -> None:
        self.classic["left"] = value

    def __post_init__(self) -> None:
        # image(): a new image or source; mode(name): that mode's state changed;
        # same_size(): the classic-codec comparison changed
        self.image_changed = Event()
        self.mode_changed = Event()
        self.same_size_changed = Event()

    # ------------------------------------------------------------------ reading
    def state(self, mode: str) -> ModeState:
        return self.modes[mode]

    def result(self, mode: str) -> np.ndarray | None:
        return self.modes[mode].result

    @property
    def has_image(self) -> bool:
        return self.image is not None

    @property
    def busy(self) -> bool:
        return any(s.busy for s in self.modes.values()) or any(
            c.busy for c in self.classic.values())

    @property
    def decoding(self) -> bool:
        """An .aei file is being decoded: it is named, but has no pixels yet."""
        return self.source.kind == "decoding"

    @property
    def can_compare_classic(self) -> bool:
        """A classic codec at the same size needs an original: not for a decoded .aei."""
        return self.image is not None and not self.source.is_decoded

    # ------------------------------------------------------------------ opening
    def open(self, pixels: np.ndarray, source: Source) -> None:
        """A new image: every result, measure, note, mask and comparison is forgotten."""
        self.image = pixels
        self.source = source
        self.modes = {m: ModeState() for m in MODES}
        self.mask = None
        self.aei_data = None
        self.classic = {s: SameSize() for s in SIDES}
        self._before = None
        self._emit_all()

    def start_decoding(self, name: str, path: Path | None = None) -> None:
        """An .aei file starts decoding: from now on it is what the window names, with no
        pixels yet. The image open before is put aside: a decode that stops (cancelled,
        failed, or replaced by a file being read) brings it back (:meth:`stop_all`)."""
        if not self.decoding:
            self.stop_all(f"Stopped to open {name}.")
            self._before = (self.image, self.source, self.modes, self.mask, self.aei_data,
                            self.classic)
        self.image, self.source = None, Source("decoding", name, path)
        self.modes = {m: ModeState() for m in MODES}
        self.modes["compress"] = ModeState(busy=True, busy_text=f"Decoding {name}…")
        self.mask, self.aei_data = None, None
        self.classic = {s: SameSize() for s in SIDES}
        self._emit_all()

    def open_decoded(self, pixels: np.ndarray, source: Source, data: bytes,
                     decode_seconds: float, model_id: str = "",
                     quality: float | None = None) -> None:
        """A decoded .aei: the decoded pixels are both the image and Compress's result. Its
        measures carry the *decode* time only (nothing was encoded here) and the quality its
        header names."""
        self.open(pixels, replace(source, kind="aei"))
        h, w = pixels.shape[:2]
        self.aei_data = data
        self.modes["compress"] = ModeState(result=pixels, info={
            "bytes": len(data), "bpp": bits_per_pixel(len(data), w, h), "psnr": None,
            "ms_ssim": None, "seconds": None, "decode_seconds": float(decode_seconds),
            "model_id": model_id, "quality": quality, "decoded_file": True})
        self.mode_changed.emit("compress")

    def close(self) -> None:
        """Nothing open (the empty state)."""
        self.image = None
        self.source = Source()
        self.modes = {m: ModeState() for m in MODES}
        self.mask = None
        self.aei_data = None
        self.classic = {s: SameSize() for s in SIDES}
        self._before = None
        self._emit_all()

    # ------------------------------------------------------------------ jobs of a mode
    def start(self, mode: str, text: str) -> None:
        """A job for ``mode`` starts (or is pending): its old result, if any, is stale. The
        app runs one job at a time, so a job of another mode still marked busy was replaced."""
        self.stop_all(f"Stopped when {mode.capitalize()} started.", keep=mode)
        s = self.modes[mode]
        s.busy, s.busy_text, s.note = True, text, ""
        s.preview, s.preview_text = None, ""
        s.stale = s.result is not None
        if mode == "compress":  # the file it was measured against is being replaced
            self._drop_matched()
        self.mode_changed.emit(mode)

    def finish(self, mode: str, result: np.ndarray, info: dict[str, Any] | None = None,
               aei_data: bytes | None = None) -> None:
        """A job of ``mode`` delivered ``result``: fresh, not busy."""
        self.modes[mode] = ModeState(result=result, info=dict(info or {}))
        if mode == "compress":
            self.aei_data = aei_data
            self._drop_matched()
        self.mode_changed.emit(mode)

    def cancel(self) -> None:
        """Every job stops: busy flags clear and say so; results made earlier stay (stale
        ones are still marked stale)."""
        self.stop_all(CANCELLED_NOTE)

    def fail(self, message: str) -> None:
        """The running job failed: like :meth:`cancel`, with ``message`` as the note."""
        self.stop_all(message)

    def show_preview(self, mode: str, pixels: np.ndarray, text: str) -> bool:
        """A quick preview of the running job of ``mode`` (ignored once it is not busy)."""
        s = self.modes[mode]
        if not s.busy:
            return False
        s.preview, s.preview_text = pixels, text
        self.mode_changed.emit(mode)
        return True

    def set_note(self, mode: str, text: str) -> None:
        self.modes[mode].note = text
        self.mode_changed.emit(mode)

    def mark_stale(self, mode: str) -> None:
        """The settings of ``mode`` changed after its result was made."""
        s = self.modes[mode]
        if s.result is not None and not s.stale:
            s.stale = True
            self.mode_changed.emit(mode)

    def set_mask(self, mask: np.ndarray | None) -> None:
        """The inpainting mask changed: an inpainted result no longer matches it."""
        self.mask = mask
        self.mark_stale("inpaint")

    # ------------------------------------------------------------------ the compared sides
    def set_side(self, side: str, choice: SideChoice) -> None:
        """``side`` shows something else: its classic result goes, and so does the other
        side's if that one was encoded at this side's size."""
        if self.sides[side] == choice:
            return
        self.sides[side] = choice
        self.classic[side] = SameSize(format=choice.kind if choice.is_codec else "")
        mate = self.sides[other(side)]
        if mate.is_codec and mate.match:
            self.classic[other(side)] = SameSize(format=mate.kind)
        self.same_size_changed.emit()

    def side_bytes(self, side: str) -> int | None:
        """The file size of what ``side`` shows (None while unknown)."""
        kind = self.sides[side].kind
        if kind == "original":
            return self.source.file_bytes
        if kind == "aestudio":
            return None if self.aei_data is None else len(self.aei_data)
        result = self.classic[side].result
        return None if result is None else int(result["bytes"])

    def _drop_matched(self) -> None:
        """A new AE Studio file: classic results encoded at another side's size go."""
        for side in SIDES:
            if self.sides[side].match or not self.sides[side].is_codec:
                self.classic[side] = SameSize(format=self.classic[side].format)
        self.same_size_changed.emit()

    # ------------------------------------------------------------------ classic codecs
    def start_same_size(self, fmt: str, side: str = "left") -> None:
        self.classic[side] = SameSize(format=fmt, busy=True)
        self.same_size_changed.emit()

    def finish_same_size(self, result: dict[str, Any], side: str = "left") -> None:
        self.classic[side] = SameSize(format=result["format"], result=result)
        self.same_size_changed.emit()

    def fail_same_size(self, note: str, side: str = "left") -> None:
        self.classic[side] = SameSize(format=self.classic[side].format, note=note)
        self.same_size_changed.emit()

    def clear_same_size(self, fmt: str = "", side: str = "left") -> None:
        self.classic[side] = SameSize(format=fmt)
        self.same_size_changed.emit()

    def stop_all(self, note: str, keep: str | None = None) -> None:
        """Clear every busy flag (but ``keep``'s) with ``note`` saying why. A decode that
        stops brings back what was open before it (nothing, if nothing was)."""
        if self.decoding:
            before, self._before = self._before, None
            if before is None:
                self.close()
                return
            (self.image, self.source, self.modes, self.mask, self.aei_data,
             self.classic) = before
            self._emit_all()
            return
        for mode, s in self.modes.items():
            if s.busy and mode != keep:
                s.busy, s.busy_text, s.note = False, "", note
                if s.result is None and s.preview is not None:
                    # a stopped job keeps its quick preview, said to be one that stopped
                    s.preview_text = s.preview_text.split(PREVIEW_PENDING)[0] + " · stopped"
                else:
                    s.preview, s.preview_text = None, ""
                self.mode_changed.emit(mode)
        for side, same in self.classic.items():
            if same.busy:
                self.classic[side] = SameSize(format=same.format, note=note)
                self.same_size_changed.emit()

    # ------------------------------------------------------------------ plumbing
    def _emit_all(self) -> None:
        self.image_changed.emit()
        for mode in MODES:
            self.mode_changed.emit(mode)
        self.same_size_changed.emit()
