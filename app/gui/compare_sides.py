"""The controls of one compared side in Compress mode, and saving a side.

A side picks Original, AE Studio or a classic codec (a codec whose encoder is not installed
is listed disabled with the reason). A classic side also has its own quality and "Same size
as the other side"; every side can be saved as the file it shows (the original file, the
.aei, or the classic codec's file). The choices live in the document
(:attr:`app.core.document.Document.sides`); these widgets only edit and mirror them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QWidget,
)

from app.core.io.atomic_write import atomic_write_bytes
from app.core.compare.sides import KIND_LABELS, SUFFIXES, SideChoice
from app.core.io.image_save import encode_image_bytes
from app.core.compare.same_size import format_status

if TYPE_CHECKING:
    from app.core.document import Document

__all__ = ["SideControls", "kind_combo", "side_file", "side_file_name"]


class _QualitySpin(QSpinBox):
    """A side's own quality; while "same size" chooses it, the box shows the quality in use
    ("q 17", or "auto" until it is found), never the own quality it does not use."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.in_use: str | None = None

    def textFromValue(self, value: int) -> str:  # noqa: N802 - Qt override
        return self.in_use if self.in_use is not None else super().textFromValue(value)

    def valueFromText(self, text: str) -> int:  # noqa: N802 - Qt override
        # the quality in use is shown, never read back as the side's own quality
        return self.value() if self.in_use is not None else super().valueFromText(text)

    def validate(self, text: str, pos: int):  # noqa: D102 - Qt override
        if self.in_use is not None:
            return QValidator.State.Acceptable, text, pos
        return super().validate(text, pos)

    def show_in_use(self, text: str | None) -> None:
        self.in_use = text
        self.setPrefix("q " if text is None else "")  # "auto" and "q 17" carry their own
        self.lineEdit().setText(self.prefix() + self.textFromValue(self.value()))


def kind_combo(parent: QWidget, labels: dict[str, str] | None = None) -> QComboBox:
    """Original, AE Studio and each classic codec; codecs not installed listed disabled."""
    combo = QComboBox(parent)
    for key, text in (labels or KIND_LABELS).items():
        combo.addItem(text, key)
        reason = format_status(key) if key not in ("original", "aestudio") else None
        if reason is not None:  # listed, so the user learns what to install
            item = combo.model().item(combo.count() - 1)
            item.setEnabled(False)
            item.setToolTip(reason)
    # a list that drops down below the box: its items never move with the choice
    combo.setStyleSheet("QComboBox { combobox-popup: 0; }")
    return combo


class SideControls(QWidget):
    """``[kind ▾] [quality] [☑ same size as the other side] [Save…]`` for one side."""

    changed = Signal(object)  # the SideChoice the controls now describe
    saveRequested = Signal()

    def __init__(self, side: str, combo: QComboBox | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.side = side
        self.combo = combo if combo is not None else kind_combo(self)
        self.combo.setParent(self)
        self.quality_spin = _QualitySpin(self)
        self.quality_spin.setRange(1, 100)
        self.quality_spin.setValue(75)
        # short enough not to be cut at the minimum window size, with both sides' controls
        self.match_check = QCheckBox("same size", self)
        self.match_check.setChecked(True)
        self.match_check.setToolTip("Same size as the other side: encode at the highest "
                                    "quality whose file is no larger than the other side's "
                                    "(the fair comparison)")
        # a tool button: a push button's minimum width left no room for both sides' controls
        # at the minimum window size
        self.save_button = QToolButton(self)
        self.save_button.setText("Save…")
        self.save_button.setToolTip(f"Save the {side} side's file")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        label = QLabel(side.capitalize(), self)
        label.setToolTip(f"What the {side} side of the comparison shows")
        lay.addWidget(label)
        lay.addWidget(self.combo)
        lay.addWidget(self.quality_spin)
        lay.addWidget(self.match_check)
        for widget in (self.match_check, self.save_button):  # shrunk, they were cut off
            widget.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        lay.addWidget(self.save_button)
        self.combo.currentIndexChanged.connect(self._emit)
        self.quality_spin.valueChanged.connect(self._emit)
        self.match_check.toggled.connect(self._emit)
        self.save_button.clicked.connect(self.saveRequested)
        self._update_enabled()

    def choice(self) -> SideChoice:
        return SideChoice(self.combo.currentData() or "original", self.quality_spin.value(),
                          self.match_check.isChecked())

    def show_choice(self, choice: SideChoice) -> None:
        """Mirror ``choice`` without emitting ``changed``."""
        for w in (self.combo, self.quality_spin, self.match_check):
            w.blockSignals(True)
        index = self.combo.findData(choice.kind)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        self.quality_spin.setValue(int(choice.quality))
        self.match_check.setChecked(choice.match)
        for w in (self.combo, self.quality_spin, self.match_check):
            w.blockSignals(False)
        self._update_enabled()

    def show_in_use(self, quality: int | None) -> None:
        """The quality the side's file was encoded at (None: not known yet); shown in the box
        while "same size" chooses it."""
        self._in_use = quality
        self._update_enabled()

    def _update_enabled(self) -> None:
        codec = self.choice().is_codec
        matched = codec and self.match_check.isChecked()
        self.match_check.setVisible(codec)
        self.quality_spin.setVisible(codec)
        self.quality_spin.setEnabled(codec and not matched)
        in_use = getattr(self, "_in_use", None)
        self.quality_spin.show_in_use(
            (f"q {in_use}" if in_use is not None else "auto") if matched else None)
        self.quality_spin.setToolTip(
            "The quality that makes the file the other side's size" if matched
            else "This codec's own quality (1–100)")

    def _emit(self, *_args) -> None:
        self._update_enabled()
        self.changed.emit(self.choice())


def side_file(doc: Document, side: str) -> bytes | None:
    """The bytes of the file ``side`` shows, or None while there is none."""
    kind = doc.sides[side].kind
    if kind == "original":
        if doc.image is None:
            return None
        path = doc.source.path
        if path is not None and doc.source.kind == "file" and Path(path).is_file():
            return Path(path).read_bytes()  # the original file itself, untouched
        return encode_image_bytes(doc.image, "png", 100)
    if kind == "aestudio":
        return doc.aei_data
    result = doc.classic[side].result
    return None if result is None else result.get("data")


def side_file_name(doc: Document, side: str) -> str:
    """A suggested name: ``photo-webp-q62.webp``, ``photo.aei``, ``photo-original.png``."""
    kind = doc.sides[side].kind
    stem = Path(doc.source.name or "image").stem
    if kind == "original":
        path = doc.source.path
        return Path(path).name if path is not None and doc.source.kind == "file" else \
            f"{stem}-original.png"
    if kind == "aestudio":
        return f"{stem}.aei"
    result = doc.classic[side].result or {}
    q = f"-q{result['quality']}" if "quality" in result else ""
    return f"{stem}-{kind}{q}{SUFFIXES[kind]}"


def save_side(doc: Document, side: str, path: str | Path) -> int:
    """Write ``side``'s file to ``path``; its size. ValueError when there is nothing yet."""
    data = side_file(doc, side)
    if data is None:
        raise ValueError(f"The {side} side has no file yet.")
    return atomic_write_bytes(path, data, overwrite=True)


def save_side_dialog(win, side: str) -> None:
    """Ask where to save ``side``'s file (its suffix matches its format), then save it."""
    doc = win.document
    if side_file(doc, side) is None:
        win.show_error(f"Nothing to save on the {side} side yet.")
        return
    name = side_file_name(doc, side)
    folder = win.settings.last_folder() if hasattr(win, "settings") else ""
    path, _ = QFileDialog.getSaveFileName(win, f"Save the {side} side", str(Path(folder) / name),
                                          f"{KIND_LABELS[doc.sides[side].kind]} "
                                          f"(*{Path(name).suffix})")
    if path:
        try:
            n = save_side(doc, side, path)
        except (OSError, ValueError) as exc:
            win.show_error(f"Cannot save {Path(path).name}: {exc}")
            return
        win.statusBar().showMessage(f"Saved {Path(path).name} ({n:,} bytes)", 8000)
