"""The main window driven like a user would, on the real engine and installed models."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.io.imageio import load_image
from app.core.compare.metrics import psnr

TIMEOUT_MS = 60_000


def wait_result(qtbot, win, previous=None) -> dict:
    qtbot.waitUntil(lambda: win.last_result is not None and win.last_result is not previous
                    and not win.controller.is_busy, timeout=TIMEOUT_MS)
    return win.last_result


def file_mime(path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def test_window_basics(window):
    assert window.windowTitle() == "AE Studio"
    assert window.quality_slider.value() == 75
    assert window.quality_slider.minimum() == 1 and window.quality_slider.maximum() == 100
    assert window.compress_panel.quality_spin.value() == 75
    assert [window.tabs.tabText(i) for i in range(3)] == ["Compress", "Denoise", "Inpaint"]
    texts = {a.text().replace("&", ""): a for a in window.menuBar().actions()[0].menu().actions()}
    assert {"Open…", "Save .aei…", "Save decoded image…", "Quit"} <= set(texts)
    assert texts["Open…"].shortcut().toString() == "Ctrl+O"
    assert texts["Quit"].shortcut().toString() == "Ctrl+Q"


def test_status_bar_shows_model_and_provider(window, engine):
    label = window.model_label.text()
    assert "CPU" in label
    assert engine.codec().model.id in label
    assert label == f"Model {engine.codec().model.id} · {engine.provider_label}"


def test_open_shows_image_and_compresses(qtbot, window, write_image, make_gradient):
    path = write_image("photo.png")
    assert window.open_path(path) is True
    np.testing.assert_array_equal(window.current_pixels, make_gradient())
    assert window.compare_view.left.image_item.pixmap().size().toTuple() == (96, 64)
    assert "photo.png" in window.windowTitle()
    result = wait_result(qtbot, window)
    assert result["bytes"] > 0 and result["psnr"] > 15
    assert result["bpp"] == pytest.approx(8 * result["bytes"] / (96 * 64))
    assert result["seconds"] >= 0
    text = window.compress_panel.result_label.text()
    assert f"{result['bytes']:,} bytes" in text and "bpp" in text
    shown = float(re.search(r"([\d.]+) dB", text).group(1))
    assert shown > 15
    assert window.compare_view.right.has_image()
    assert window.result_pixels("compress").shape == (64, 96, 3)


def test_compress_button_uses_the_slider_quality(qtbot, window, write_image):
    window.open_path(write_image())
    first = wait_result(qtbot, window)
    window.quality_slider.blockSignals(True)   # set the value without an automatic request
    window.quality_slider.setValue(20)
    window.quality_slider.blockSignals(False)
    qtbot.mouseClick(window.compress_panel.compress_button, Qt.MouseButton.LeftButton)
    second = wait_result(qtbot, window, first)
    assert second["quality"] == pytest.approx(20)
    assert second["bytes"] < first["bytes"]


def test_quick_slider_moves_show_only_the_latest(qtbot, window, write_image):
    window.open_path(write_image())
    first = wait_result(qtbot, window)
    shown: list[dict] = []
    window.controller.compressed.connect(shown.append)
    window.quality_slider.setValue(30)
    window.quality_slider.setValue(90)
    assert window.compress_panel.quality_spin.value() == 90
    last = wait_result(qtbot, window, first)
    qtbot.wait(300)  # past the debounce: nothing else may arrive
    assert [r["quality"] for r in shown] == [90]
    assert last["quality"] == pytest.approx(90)
    assert last["generation"] == window.controller.generation


def test_drop_opens_the_file(qtbot, window, write_image, make_gradient):
    path = write_image("dropped.png", make_gradient(seed=3))
    mime = file_mime(path)  # keep a reference: events do not own their mime data
    enter = QDragEnterEvent(window.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(window.rect().center()), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    assert drop.isAccepted()
    assert window.current_name == "dropped.png"
    np.testing.assert_array_equal(window.current_pixels, make_gradient(seed=3))
    assert wait_result(qtbot, window)["bytes"] > 0


def test_drag_of_other_files_is_refused(window, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    mime = file_mime(text)  # keep a reference: events do not own their mime data
    enter = QDragEnterEvent(window.rect().center(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted()
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    assert not drop.isAccepted()
    assert window.current_pixels is None


def test_open_aei_decodes_and_shows_it(qtbot, window, engine, tmp_path, make_gradient):
    pixels = make_gradient(seed=5)
    data = engine.compress(pixels, 60).data
    path = tmp_path / "made.aei"
    path.write_bytes(data)
    assert window.open_path(path) is True
    qtbot.waitUntil(lambda: window.current_name == "made.aei" and window.last_result is not None,
                    timeout=TIMEOUT_MS)
    expected = engine.decompress(data)
    np.testing.assert_array_equal(window.current_pixels, expected)
    assert psnr(pixels, window.current_pixels) > 15
    assert window.last_result["bytes"] == len(data)
    assert window.compare_view.left.has_image() and window.compare_view.right.has_image()
    assert "made.aei" in window.compress_panel.result_label.text()
    assert window.mode == "compress" and not window.controller.is_busy


def test_unreadable_file_gives_a_message_not_an_exception(qtbot, window, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"this is not a PNG")
    assert window.open_path(bad) is False
    assert "broken.png" in window.last_error
    assert "broken.png" in window.statusBar().currentMessage()
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert boxes and "broken.png" in boxes[-1].text()
    boxes[-1].close()
    assert window.current_pixels is None
    assert window.open_path(tmp_path / "missing.jpg") is False
    assert "missing.jpg" in window.last_error


def test_corrupt_aei_reports_the_error(qtbot, window, tmp_path):
    window.show_error_dialogs = False
    bad = tmp_path / "damaged.aei"
    bad.write_bytes(b"\x8bAEI\r\n\x1a\n" + b"\x00" * 40)
    assert window.open_path(bad) is True  # decoding runs in the background
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=TIMEOUT_MS)
    assert window.current_pixels is None
    assert not window.controller.is_busy


def test_save_aei_and_decoded_image(qtbot, window, write_image, tmp_path, engine):
    window.open_path(write_image())
    result = wait_result(qtbot, window)
    aei = tmp_path / "out.aei"
    png = tmp_path / "out.png"
    assert window.save_aei(aei) and aei.read_bytes() == result["data"]
    assert window.save_result(png)
    np.testing.assert_array_equal(load_image(png).pixels, result["reconstruction"])
    np.testing.assert_array_equal(engine.decompress(aei.read_bytes()), result["reconstruction"])
    assert "out.png" in window.statusBar().currentMessage()


def test_saving_before_any_result_is_an_error(window, tmp_path):
    window.show_error_dialogs = False
    assert window.save_aei(tmp_path / "x.aei") is False
    assert window.save_result(tmp_path / "x.png") is False
    assert not (tmp_path / "x.aei").exists()
    assert window.last_error


def test_grey_and_rgba_images(qtbot, window, write_image, make_gradient):
    for channels in (1, 4):
        window.open_path(write_image(f"c{channels}.png", make_gradient(channels=channels)))
        result = wait_result(qtbot, window)
        assert result["reconstruction"].shape == (64, 96, channels)


def test_denoise_with_automatic_strength(qtbot, window, write_image, make_gradient,
                                         require_model):
    require_model("denoise")
    rng = np.random.default_rng(0)
    clean = make_gradient()
    noisy = np.clip(clean + rng.normal(0, 20, clean.shape), 0, 255).astype(np.uint8)
    window.open_path(write_image("noisy.png", noisy))
    window.set_mode("denoise")
    assert "denoise" in window.model_label.text()
    window.denoise_now()
    qtbot.waitUntil(lambda: window.result_pixels("denoise") is not None, timeout=TIMEOUT_MS)
    out = window.result_pixels("denoise")
    assert out.shape == noisy.shape
    assert psnr(clean, out) > psnr(clean, noisy)
    assert "σ" in window.denoise_panel.result_label.text()
    assert "(1 pass)" in window.denoise_panel.result_label.text()
    assert window.compare_view.right_caption.text() == "Denoised"

    combo = window.denoise_panel.passes_combo
    combo.setCurrentIndex(combo.findData(2))
    window.denoise_now()
    qtbot.waitUntil(lambda: "(2 passes)" in window.denoise_panel.result_label.text(),
                    timeout=TIMEOUT_MS)
    assert not np.array_equal(window.result_pixels("denoise"), out)


def test_inpaint_with_loaded_mask(qtbot, window, write_image, make_gradient, require_model):
    require_model("inpaint")
    window.open_path(write_image())
    mask = np.zeros((64, 96), np.uint8)
    mask[20:36, 30:50] = 255
    mask_path = write_image("mask.png", mask[..., None])
    assert window.load_mask(mask_path)
    assert window.mode == "inpaint"
    assert window.mask.sum() == 16 * 20
    assert window.inpaint_panel.passes == 4
    window.inpaint_now()
    qtbot.waitUntil(lambda: window.result_pixels("inpaint") is not None, timeout=TIMEOUT_MS)
    out = window.result_pixels("inpaint")
    keep = window.mask == 0
    np.testing.assert_array_equal(out[keep], make_gradient()[keep])
    assert "(4 passes)" in window.inpaint_panel.result_label.text()

    combo = window.inpaint_panel.passes_combo
    combo.setCurrentIndex(combo.findData(1))
    window.inpaint_now()
    qtbot.waitUntil(lambda: "(1 pass)" in window.inpaint_panel.result_label.text(),
                    timeout=TIMEOUT_MS)
    one = window.result_pixels("inpaint")
    np.testing.assert_array_equal(one[keep], out[keep])
    assert not np.array_equal(one[~keep], out[~keep])


def test_mask_of_wrong_size_is_refused(window, write_image):
    window.show_error_dialogs = False
    window.open_path(write_image())
    assert window.load_mask(write_image("m.png", np.zeros((10, 10, 1), np.uint8))) is False
    assert "m.png" in window.last_error and "10x10" in window.last_error


def test_brush_paints_the_mask(qtbot, window, write_image):
    window.show_error_dialogs = False
    window.open_path(write_image())
    window.set_mode("inpaint")
    window.inpaint_now()
    assert "Paint" in window.last_error  # empty mask: nothing to do
    window.compare_view.brushed.emit(QPointF(10, 10), QPointF(40, 10))
    m = window.mask
    assert m[10, 25] and m[10, 40] and not m[50, 80]
    assert not window.compare_view.left.overlay_item.pixmap().isNull()
    window.clear_mask()
    assert not window.mask.any()
    window.set_mode("compress")
    assert window.compare_view.left.overlay_item.pixmap().isNull()
