"""Compress mode's panel: target size, the measured result (ratio, PSNR, MS-SSIM, times) and a
classic codec at the same file size on the left side."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.core.compare.metrics import psnr
from app.core.compare.sides import KIND_LABELS
from app.core.compare.same_size import available_formats, encode_at_size
from app.core.units import parse_size

TIMEOUT_MS = 60_000


def photo(h: int = 192, w: int = 256) -> np.ndarray:
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([128 + 90 * np.sin(xx / 9.0), 128 + 90 * np.cos(yy / 13.0),
                    128 + 60 * np.sin((xx + yy) / 17.0)], -1)
    return np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def opened(qtbot, window, write_image):
    window.show_error_dialogs = False
    path = write_image("photo.png", photo())
    window.open_path(path)
    qtbot.waitUntil(lambda: window.last_result is not None and not window.controller.is_busy,
                    timeout=TIMEOUT_MS)
    return window, path


def test_result_panel_shows_every_measure(qtbot, opened):
    win, path = opened
    # MS-SSIM follows the reconstruction (a readout after it is shown)
    qtbot.waitUntil(lambda: win.last_result.get("ms_ssim") is not None, timeout=TIMEOUT_MS)
    r = win.last_result
    assert r["original_bytes"] == path.stat().st_size
    assert 0 < r["ms_ssim"] <= 1 and r["decode_seconds"] > 0 and r["seconds"] > 0
    text = win.compress_panel.result_label.text()
    assert f"{r['bytes']:,} bytes" in text
    assert f"{path.stat().st_size / r['bytes']:.0f}× smaller than the" in text  # not "1:38.0"
    assert "1:" not in text
    assert f"{r['psnr']:.2f} dB PSNR" in text and f"MS-SSIM {r['ms_ssim']:.4f}" in text
    assert "encoded in" in text and "decoded in" in text


def test_target_size_field_finds_a_quality_that_fits(qtbot, opened):
    win, _ = opened
    first = win.last_result
    target = int(first["bytes"] * 0.6)
    win.compress_panel.target_edit.setText(f"{target}")
    QTest.keyClick(win.compress_panel.target_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.last_result is not first and not win.controller.is_busy,
                    timeout=TIMEOUT_MS)
    r = win.last_result
    assert r["target_bytes"] == target and r["bytes"] <= target
    assert r["quality"] < first["quality"]
    assert win.quality_slider.value() == round(r["quality"])  # shown without a re-compress
    assert f"fits {target:,} bytes" in win.compress_panel.result_label.text()
    assert not win.controller.is_busy


def test_target_size_that_is_not_a_size_is_explained(opened):
    win, _ = opened
    win.compress_panel.target_edit.setText("forty kilobytes")
    win.compress_panel.fit_button.click()
    assert "not a size" in win.compress_panel.result_label.text()
    assert parse_size("40KB") == 40_000 and parse_size("1.5 MiB") == 1_572_864


@pytest.mark.parametrize("fmt", available_formats())
def test_left_side_shows_a_classic_codec_at_the_same_size(qtbot, opened, fmt):
    win, _ = opened
    ae_bytes = win.last_result["bytes"]
    win.compress_panel.set_compare_with(fmt)
    qtbot.waitUntil(lambda: win.same_size_result is not None and not win.controller.is_busy,
                    timeout=TIMEOUT_MS)
    same = win.same_size_result
    assert same["format"] == fmt and same["bytes"] <= ae_bytes and same["fits"]
    assert same["psnr"] == pytest.approx(psnr(win.current_pixels, same["pixels"]))
    caption = win.compare_view.left_caption.text()
    assert caption.startswith(KIND_LABELS[fmt]) and f"{same['bytes']:,} bytes" in caption
    assert "% smaller" in caption and f"{same['psnr']:.2f} dB" in caption
    assert re.search(rf"{re.escape(KIND_LABELS[fmt])} q\d+",
                     win.compress_panel.same_size_label.text())
    # the search is right: one quality step up no longer fits
    if same["quality"] < 100:
        from app.core.compare.same_size import encode_format
        assert len(encode_format(win.current_pixels, fmt, same["quality"] + 1)) > ae_bytes
    win.compress_panel.set_compare_with("original")
    assert win.compare_view.left_caption.text().startswith("Original")


def test_a_format_without_its_encoder_is_listed_disabled_with_the_reason(qtbot, monkeypatch):
    from app.gui import compare_sides, panels

    monkeypatch.setattr(compare_sides, "format_status",
                        lambda fmt: "needs the pillow-heif package" if fmt == "heic" else None)
    panel = panels.CompressPanel()
    qtbot.addWidget(panel)
    combo = panel.compare_combo
    heic = combo.model().item(combo.findData("heic"))
    assert not heic.isEnabled() and "pillow-heif" in heic.toolTip()
    assert combo.model().item(combo.findData("jxl")).isEnabled()
    panel.set_compare_with("heic")  # e.g. a stored setting from an install that had it
    assert combo.currentData() == "original"
    panel.set_compare_with("jxl")
    assert combo.currentData() == "jxl"


def test_same_size_search_reports_an_impossible_budget():
    res = encode_at_size(photo(), "jpeg", 100)
    assert not res.fits and len(res.data) > 100 and res.quality == 1
    with pytest.raises(ValueError, match="format"):
        encode_at_size(photo(), "gif", 1000)
