"""The mode panels under the comparison view: Compress, Denoise and Inpaint.

Panels only hold controls and show text; they emit intents as signals and never talk to the
engine (the main window wires them to the controller).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

__all__ = ["CompressPanel", "DenoisePanel", "InpaintPanel", "format_compress_result"]

DEFAULT_QUALITY = 75


def format_compress_result(result: dict[str, Any]) -> str:
    """``"12,345 bytes · 0.512 bpp · 31.20 dB PSNR · encoded in 0.84 s"``."""
    parts = [f"{result['bytes']:,} bytes", f"{result['bpp']:.3f} bpp"]
    value = result.get("psnr")
    if value is not None:
        parts.append("lossless (PSNR ∞)" if math.isinf(value) else f"{value:.2f} dB PSNR")
    seconds = result.get("seconds")
    if seconds is not None:
        parts.append(f"encoded in {seconds:.2f} s")
    return " · ".join(parts)


def _result_label(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


class CompressPanel(QWidget):
    """Quality slider + spin box (1..100), a Compress button and the measured result."""

    qualityChanged = Signal(int)  # every slider / spin box change (the window debounces)
    compressRequested = Signal()

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
        self.result_label = _result_label("Open an image to compress it.", self)

        row = QHBoxLayout()
        row.addWidget(QLabel("Quality", self))
        row.addWidget(self.quality_slider, 1)
        row.addWidget(self.quality_spin)
        row.addWidget(self.compress_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.result_label)

        self.quality_slider.valueChanged.connect(self.quality_spin.setValue)
        self.quality_spin.valueChanged.connect(self.quality_slider.setValue)
        self.quality_slider.valueChanged.connect(self.qualityChanged)
        self.compress_button.clicked.connect(self.compressRequested)

    @property
    def quality(self) -> int:
        return self.quality_slider.value()

    def show_result(self, result: dict[str, Any]) -> None:
        self.result_label.setText(format_compress_result(result))

    def show_message(self, text: str) -> None:
        self.result_label.setText(text)


class DenoisePanel(QWidget):
    """Runs the denoiser with automatic strength (the noise level is estimated)."""

    denoiseRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.denoise_button = QPushButton("Denoise (automatic strength)", self)
        self.result_label = _result_label(
            "Removes noise; the strength is estimated from the image.", self)
        row = QHBoxLayout()
        row.addWidget(self.denoise_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.result_label)
        self.denoise_button.clicked.connect(self.denoiseRequested)

    def show_result(self, result: dict[str, Any]) -> None:
        self.result_label.setText(
            f"Estimated noise σ = {result['sigma']:.1f} · done in {result['seconds']:.2f} s")

    def show_message(self, text: str) -> None:
        self.result_label.setText(text)


class InpaintPanel(QWidget):
    """Paint holes on the left image (or load a mask image), then fill them."""

    loadMaskRequested = Signal()
    clearMaskRequested = Signal()
    inpaintRequested = Signal()
    brushSizeChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.brush_spin = QSpinBox(self)
        self.brush_spin.setRange(1, 200)
        self.brush_spin.setValue(12)
        self.brush_spin.setSuffix(" px")
        self.load_mask_button = QPushButton("Load mask…", self)
        self.clear_mask_button = QPushButton("Clear mask", self)
        self.inpaint_button = QPushButton("Inpaint", self)
        self.result_label = _result_label(
            "Paint over what should be removed in the left image (or load a mask: white = "
            "hole), then press Inpaint.", self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Brush radius", self))
        row.addWidget(self.brush_spin)
        row.addWidget(self.load_mask_button)
        row.addWidget(self.clear_mask_button)
        row.addStretch(1)
        row.addWidget(self.inpaint_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.result_label)
        self.load_mask_button.clicked.connect(self.loadMaskRequested)
        self.clear_mask_button.clicked.connect(self.clearMaskRequested)
        self.inpaint_button.clicked.connect(self.inpaintRequested)
        self.brush_spin.valueChanged.connect(self.brushSizeChanged)

    @property
    def brush_radius(self) -> int:
        return self.brush_spin.value()

    def show_result(self, result: dict[str, Any]) -> None:
        self.result_label.setText(f"Filled in {result['seconds']:.2f} s")

    def show_message(self, text: str) -> None:
        self.result_label.setText(text)
