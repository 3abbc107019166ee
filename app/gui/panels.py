"""The mode panels under the comparison view: Compress, Denoise and Inpaint.

Panels only hold controls and show text; they emit intents as signals and never talk to the
engine (the main window wires them to the controller).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.compare.sides import KIND_LABELS, SideChoice, times_smaller

from .compare_sides import SideControls, kind_combo
from app.core.restore.self_ensemble import DEFAULT_PASSES, PASSES
from app.core.units import parse_size

__all__ = [
    "COMPARE_CHOICES", "CompressPanel", "DenoisePanel", "InpaintPanel",
    "format_compress_result", "format_same_size",
]

DEFAULT_QUALITY = 75
MAX_SIGMA = 50
SIGMA_LABEL_WIDEST = "auto (88.8)"  # the σ label's widest text: "auto (1.9)", "26"
# what the left side of the comparison shows in Compress mode (app/core/compare/sides.py)
COMPARE_CHOICES = dict(KIND_LABELS)


def _passes_combo(task: str, parent: QWidget) -> QComboBox:
    """Network passes per tile (app/core/restore/self_ensemble.py), the task's default selected."""
    combo = QComboBox(parent)
    for n in PASSES:
        combo.addItem({1: "1 pass (fastest)", PASSES[-1]: f"{n} passes (best)"}.get(
            n, f"{n} passes"), n)
    combo.setCurrentIndex(PASSES.index(DEFAULT_PASSES[task]))
    combo.setToolTip("The network runs on mirrored and turned copies of the image and averages "
                     "them: more passes give a slightly cleaner result and take proportionally "
                     "longer")
    return combo


def _save_button(what: str, parent: QWidget) -> QPushButton:
    button = QPushButton("Save…", parent)
    button.setToolTip(f"Save the {what} image (Ctrl+S)")
    button.setEnabled(False)  # until there is a result
    return button


def _passes_text(result: dict[str, Any]) -> str:
    passes = result.get("passes")
    return f" ({passes} pass{'es' if passes != 1 else ''})" if passes else ""


def _quality_text(value: float | None) -> str:
    if value is None:
        return ""
    return "lossless (PSNR ∞)" if math.isinf(value) else f"{value:.2f} dB PSNR"


def format_compress_result(result: dict[str, Any]) -> str:
    """``"12,345 bytes · 0.512 bpp · 1:42.0 · 31.20 dB PSNR · MS-SSIM 0.9712 · ..."``."""
    parts = [f"{result['bytes']:,} bytes", f"{result['bpp']:.3f} bpp"]
    original = result.get("original_bytes")
    if original:
        parts.append(f"{times_smaller(result['bytes'], original)} than the "
                     f"{original:,}-byte original")
    if result.get("psnr") is not None:
        parts.append(_quality_text(result["psnr"]))
    if result.get("ms_ssim") is not None:
        parts.append(f"MS-SSIM {result['ms_ssim']:.4f}")
    if result.get("seconds") is not None:
        parts.append(f"encoded in {result['seconds']:.2f} s")
    if result.get("decode_seconds") is not None:
        parts.append(f"decoded in {result['decode_seconds']:.2f} s")
    if result.get("quality") is not None and result.get("target_bytes"):
        parts.append(f"quality {result['quality']:.1f} fits {result['target_bytes']:,} bytes")
    return " · ".join(parts)


def format_same_size(result: dict[str, Any]) -> str:
    """The line describing the classic codec shown at the same size."""
    name = KIND_LABELS.get(result["format"], result["format"].upper())
    parts = [f"{name} q{result['quality']}: {result['bytes']:,} bytes",
             _quality_text(result["psnr"])]
    if result.get("ms_ssim") is not None:
        parts.append(f"MS-SSIM {result['ms_ssim']:.4f}")
    if not result.get("fits", True):
        parts.append("(its smallest file is larger than the AE Studio file)")
    return " · ".join(p for p in parts if p)


def _result_label(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


class CompressPanel(QWidget):
    """Quality (1..100) or a target size, what to compare against, and the measured result."""

    qualityChanged = Signal(int)  # every slider / spin box change (the window debounces)
    compressRequested = Signal()
    targetSizeRequested = Signal(int)  # bytes
    compareWithChanged = Signal(str)  # a COMPARE_CHOICES key

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.quality_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.quality_slider.setRange(1, 100)
        self.quality_slider.setValue(DEFAULT_QUALITY)
        self.quality_slider.setPageStep(10)
        self.quality_slider.setToolTip("Quality: higher keeps more detail and makes larger files")
        self.quality_spin = QSpinBox(self)
        self.quality_spin.setRange(1, 100)
        self.quality_spin.setValue(DEFAULT_QUALITY)
        self.compress_button = QPushButton("Compress", self)
        self.target_edit = QLineEdit(self)
        self.target_edit.setPlaceholderText("e.g. 40KB")
        self.target_edit.setMaximumWidth(110)
        self.target_edit.setToolTip("Find the best quality whose file fits this size "
                                    "(40KB, 1.5MB, 20000)")
        self.fit_button = QPushButton("Fit size", self)
        self.compare_combo = kind_combo(self, COMPARE_CHOICES)
        self.compare_combo.setToolTip("What the left side shows: the original, the AE Studio "
                                      "file, or a classic codec at its own quality or at the "
                                      "other side's size")
        # each side of the comparison: what it shows, a codec's quality or "same size", Save
        self.left_side = SideControls("left", self.compare_combo, self)
        self.right_side = SideControls("right", None, self)
        self.right_side.show_choice(SideChoice("aestudio"))
        self.result_label = _result_label("Open an image to compress it.", self)
        self.same_size_label = _result_label("", self)

        row = QHBoxLayout()
        row.addWidget(QLabel("Quality", self))
        row.addWidget(self.quality_slider, 1)
        row.addWidget(self.quality_spin)
        row.addWidget(self.compress_button)
        row2 = QHBoxLayout()
        row2.addWidget(QLabel("Target size", self))
        row2.addWidget(self.target_edit)
        row2.addWidget(self.fit_button)
        row2.addStretch(1)
        row3 = QHBoxLayout()
        row3.addWidget(self.left_side)
        row3.addStretch(1)
        row3.addWidget(self.right_side)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(row2)
        layout.addLayout(row3)
        layout.addWidget(self.result_label)
        layout.addWidget(self.same_size_label)

        self.quality_slider.valueChanged.connect(self.quality_spin.setValue)
        self.quality_spin.valueChanged.connect(self.quality_slider.setValue)
        self.quality_slider.valueChanged.connect(self.qualityChanged)
        self.compress_button.clicked.connect(self.compressRequested)
        self.fit_button.clicked.connect(self._request_target)
        self.target_edit.returnPressed.connect(self._request_target)
        self.compare_combo.currentIndexChanged.connect(
            lambda _i: self.compareWithChanged.emit(self.compare_with))

    @property
    def quality(self) -> int:
        return self.quality_slider.value()

    def set_quality_silently(self, quality: float) -> None:
        """Show the quality a target-size search chose, without asking for a new compress."""
        for widget in (self.quality_slider, self.quality_spin):
            widget.blockSignals(True)
            widget.setValue(round(quality))
            widget.blockSignals(False)

    @property
    def compare_with(self) -> str:
        return self.compare_combo.currentData()

    def set_compare_with(self, key: str) -> None:
        """Select ``key``; a format whose encoder is not installed (disabled) is ignored."""
        index = self.compare_combo.findData(key)
        if index >= 0 and self.compare_combo.model().item(index).isEnabled():
            self.compare_combo.setCurrentIndex(index)

    def target_bytes(self) -> int:
        """The typed target size; ValueError with a readable message if it is not a size."""
        return parse_size(self.target_edit.text())

    def _request_target(self) -> None:
        try:
            size = self.target_bytes()
        except ValueError as exc:
            self.show_message(str(exc))
            return
        self.targetSizeRequested.emit(size)

    def show_result(self, result: dict[str, Any]) -> None:
        self.result_label.setText(format_compress_result(result))

    def show_same_size(self, result: dict[str, Any] | None) -> None:
        self.same_size_label.setText("" if result is None else format_same_size(result))

    def show_message(self, text: str) -> None:
        self.result_label.setText(text)


class DenoisePanel(QWidget):
    """Automatic strength (the noise level is estimated) or a chosen σ, then Denoise."""

    denoiseRequested = Signal()
    strengthChanged = Signal()  # the automatic box or the slider changed
    saveRequested = Signal()  # Save… the denoised image

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.auto_check = QCheckBox("Automatic strength", self)
        self.auto_check.setChecked(True)
        self.auto_check.setToolTip("Estimate the noise level from the image")
        self.strength_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.strength_slider.setRange(0, MAX_SIGMA)
        self.strength_slider.setValue(15)
        self.strength_slider.setToolTip("Noise level σ to remove (0–50 on the 0–255 scale)")
        self.strength_label = QLabel(self)
        # as wide as its widest text, so the slider's handle stays put when it changes
        self.strength_label.setFixedWidth(
            self.strength_label.fontMetrics().horizontalAdvance(SIGMA_LABEL_WIDEST) + 4)
        self.passes_combo = _passes_combo("denoise", self)
        self.denoise_button = QPushButton("Denoise", self)
        self.save_button = _save_button("denoised", self)
        self.result_label = _result_label(
            "Removes noise; by default the strength is estimated from the image.", self)
        row = QHBoxLayout()
        row.addWidget(self.auto_check)
        row.addWidget(QLabel("Strength σ", self))
        row.addWidget(self.strength_slider, 1)
        row.addWidget(self.strength_label)
        row.addWidget(self.passes_combo)
        row.addWidget(self.denoise_button)
        row.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.result_label)
        self.denoise_button.clicked.connect(self.denoiseRequested)
        self.save_button.clicked.connect(self.saveRequested)
        self.auto_check.toggled.connect(self._on_strength_controls)
        self.strength_slider.valueChanged.connect(self._on_strength_controls)
        self._on_strength_controls(emit=False)

    @property
    def sigma(self) -> float | None:
        """None for automatic strength, else the chosen σ."""
        return None if self.auto_check.isChecked() else float(self.strength_slider.value())

    @property
    def passes(self) -> int:
        return int(self.passes_combo.currentData())

    def forget_estimate(self) -> None:
        """Another image: the last one's estimated σ no longer applies (plain "auto")."""
        self._on_strength_controls(emit=False)

    def _on_strength_controls(self, *_args, emit: bool = True) -> None:
        manual = not self.auto_check.isChecked()
        self.strength_slider.setEnabled(manual)
        self.strength_label.setText(f"{self.strength_slider.value():d}" if manual else "auto")
        if emit:
            self.strengthChanged.emit()

    def show_result(self, result: dict[str, Any]) -> None:
        how = "estimated" if result.get("automatic", True) else "chosen"
        self.result_label.setText(f"Noise σ = {result['sigma']:.1f} ({how}) · done in "
                                  f"{result['seconds']:.2f} s{_passes_text(result)}")

    def show_message(self, text: str) -> None:
        self.result_label.setText(text)


class InpaintPanel(QWidget):
    """Paint holes on the left image (or load a mask image), then fill them."""

    loadMaskRequested = Signal()
    clearMaskRequested = Signal()
    inpaintRequested = Signal()
    continueRequested = Signal()  # the result becomes the image to inpaint next
    stepBackRequested = Signal()  # back to the image before the last "Continue on result"
    undoRequested = Signal()
    redoRequested = Signal()
    brushSizeChanged = Signal(int)
    saveRequested = Signal()  # Save… the inpainted image

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.brush_spin = QSpinBox(self)
        self.brush_spin.setRange(1, 200)
        self.brush_spin.setValue(12)
        self.brush_spin.setSuffix(" px")
        self.brush_spin.setToolTip("Brush radius: [ and ] or Alt+wheel")
        self.eraser_check = QCheckBox("Eraser", self)
        self.eraser_check.setToolTip("Erase the mask instead of painting it (E; or drag with "
                                     "the right button)")
        self.undo_button = QPushButton("Undo", self)
        self.redo_button = QPushButton("Redo", self)
        self.load_mask_button = QPushButton("Load mask…", self)
        self.clear_mask_button = QPushButton("Clear mask", self)
        self.passes_combo = _passes_combo("inpaint", self)
        self.inpaint_button = QPushButton("Inpaint", self)
        self.continue_button = QPushButton("Continue on result", self)
        self.continue_button.setToolTip("Make the inpainted result the image, so another "
                                        "mask can refine it")
        self.step_back_button = QPushButton("Step back", self)
        self.step_back_button.setToolTip("Return to the image before the last "
                                         "\"Continue on result\"")
        self.save_button = _save_button("inpainted", self)
        self.result_label = _result_label(
            "Paint over what should be removed in the left image (or load a mask: white = "
            "hole), then press Inpaint.", self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Brush radius", self))
        row.addWidget(self.brush_spin)
        row.addWidget(self.eraser_check)
        row.addWidget(self.undo_button)
        row.addWidget(self.redo_button)
        row.addStretch(1)
        row2 = QHBoxLayout()
        row2.addWidget(self.load_mask_button)
        row2.addWidget(self.clear_mask_button)
        row2.addStretch(1)
        row2.addWidget(self.passes_combo)
        row2.addWidget(self.inpaint_button)
        row2.addWidget(self.continue_button)
        row2.addWidget(self.step_back_button)
        row2.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(row2)
        layout.addWidget(self.result_label)
        self.load_mask_button.clicked.connect(self.loadMaskRequested)
        self.clear_mask_button.clicked.connect(self.clearMaskRequested)
        self.inpaint_button.clicked.connect(self.inpaintRequested)
        self.continue_button.clicked.connect(self.continueRequested)
        self.step_back_button.clicked.connect(self.stepBackRequested)
        self.save_button.clicked.connect(self.saveRequested)
        self.set_steps_state(False, False)
        self.undo_button.clicked.connect(self.undoRequested)
        self.redo_button.clicked.connect(self.redoRequested)
        self.brush_spin.valueChanged.connect(self.brushSizeChanged)
        self.set_history_state(False, False)

    @property
    def brush_radius(self) -> int:
        return self.brush_spin.value()

    def set_steps_state(self, can_continue: bool, can_step_back: bool) -> None:
        self.continue_button.setEnabled(can_continue)
        self.step_back_button.setEnabled(can_step_back)

    def step_brush(self, steps: int) -> None:
        """Grow (``steps`` > 0) or shrink the brush by about 15 % per step."""
        r = self.brush_spin.value()
        for _ in range(abs(steps)):
            r = max(r + 1, round(r * 1.15)) if steps > 0 else min(r - 1, round(r / 1.15))
        self.brush_spin.setValue(r)

    @property
    def erasing(self) -> bool:
        return self.eraser_check.isChecked()

    @property
    def passes(self) -> int:
        return int(self.passes_combo.currentData())

    def set_history_state(self, can_undo: bool, can_redo: bool) -> None:
        self.undo_button.setEnabled(can_undo)
        self.redo_button.setEnabled(can_redo)

    def show_result(self, result: dict[str, Any]) -> None:
        self.result_label.setText(f"Filled in {result['seconds']:.2f} s{_passes_text(result)}")

    def show_message(self, text: str) -> None:
        self.result_label.setText(text)
