"""Squoosh-class compare in the real window: each side picks Original, AE Studio or a classic
codec with its own quality or the other side's size; captions show bytes, "% smaller" and
PSNR; either side can be saved as the file it shows."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.core.compare.metrics import psnr
from app.core.compare.same_size import available_formats
from app.gui.compare_sides import save_side, side_file_name
from tests.gui.conftest import gradient

TIMEOUT_MS = 120_000
CODECS = [f for f in ("jpeg", "webp") if f in available_formats()]


def photo() -> np.ndarray:
    rng = np.random.default_rng(3)
    base = gradient(96, 128, seed=2).astype(np.int16)
    return np.clip(base + rng.integers(-12, 13, base.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def opened(qtbot, window, write_image):
    if len(CODECS) < 2:
        pytest.skip("needs JPEG and WebP encoders")
    window.show_error_dialogs = False
    path = write_image("photo.png", photo())
    window.open_path(path)
    qtbot.waitUntil(lambda: window.last_result is not None and not window.controller.is_busy,
                    timeout=TIMEOUT_MS)
    return window, path


def settled(win) -> bool:
    return not win.classic_encoder.is_busy and not win.controller.is_busy


def pick(controls, kind, quality=None, match=None):
    if quality is not None:
        controls.quality_spin.setValue(quality)
    if match is not None:
        controls.match_check.setChecked(match)
    controls.combo.setCurrentIndex(controls.combo.findData(kind))


def test_each_side_has_its_own_codec_quality_and_caption(qtbot, opened, tmp_path):
    win, path = opened
    panel, doc = win.compress_panel, win.document
    original_bytes = path.stat().st_size
    # right: JPEG at its own quality 30; left: WebP at the right side's size
    pick(panel.right_side, "jpeg", quality=30, match=False)
    assert panel.right_side.quality_spin.isEnabled()
    pick(panel.left_side, "webp")
    assert not panel.left_side.quality_spin.isEnabled()  # its size comes from the other side
    qtbot.waitUntil(lambda: doc.classic["right"].result is not None
                    and doc.classic["left"].result is not None and settled(win),
                    timeout=TIMEOUT_MS)
    right, left = doc.classic["right"].result, doc.classic["left"].result
    assert right["format"] == "jpeg" and right["quality"] == 30 and not right["match"]
    assert left["format"] == "webp" and left["match"] and left["bytes"] <= right["bytes"]
    pct = round(100 * (1 - right["bytes"] / original_bytes))
    caption = win.compare_view.right_caption.text()
    assert caption.startswith("JPEG q30 · ") and f"{right['bytes']:,} bytes" in caption
    assert f"{pct}% smaller" in caption
    assert f"{psnr(win.current_pixels, right['pixels']):.2f} dB" in caption
    assert win.compare_view.left_caption.text().startswith("WebP q")
    # the pixels shown are the classic decodes
    shown = win.compare_view.right.image_item.pixmap().toImage()
    assert (shown.width(), shown.height()) == (128, 96)

    # save either side as its own file
    out = tmp_path / side_file_name(doc, "right")
    assert out.name.endswith("-jpeg-q30.jpg")
    assert save_side(doc, "right", out) == right["bytes"]
    assert Image.open(io.BytesIO(out.read_bytes())).format == "JPEG"
    out_left = tmp_path / side_file_name(doc, "left")
    save_side(doc, "left", out_left)
    assert Image.open(out_left).format == "WEBP"
    assert win.save_left_action.text().replace("&", "") == "Save left side…"

    # a new quality on the right re-encodes both (the left matched its size)
    panel.right_side.quality_spin.setValue(60)
    qtbot.waitUntil(lambda: (doc.classic["right"].result or {}).get("quality") == 60
                    and doc.classic["left"].result is not None and settled(win),
                    timeout=TIMEOUT_MS)
    assert doc.classic["left"].result["bytes"] <= doc.classic["right"].result["bytes"]


def test_original_and_ae_studio_sides_can_be_swapped_and_saved(qtbot, opened, tmp_path):
    win, path = opened
    panel, doc = win.compress_panel, win.document
    pick(panel.left_side, "aestudio")
    pick(panel.right_side, "original")
    assert win.compare_view.left_caption.text().startswith("Reconstruction · AE Studio q75")
    assert "% smaller" in win.compare_view.left_caption.text()
    assert win.compare_view.right_caption.text().startswith("Original · photo.png")
    out = tmp_path / "copy.png"
    assert save_side(doc, "right", out) == path.stat().st_size  # the original file itself
    aei = tmp_path / side_file_name(doc, "left")
    assert aei.suffix == ".aei" and save_side(doc, "left", aei) == win.last_result["bytes"]
    # the codec side's controls only show for a codec
    assert not panel.left_side.quality_spin.isVisibleTo(panel)
    pick(panel.left_side, "jpeg", match=True)
    assert panel.left_side.match_check.isVisibleTo(panel)
