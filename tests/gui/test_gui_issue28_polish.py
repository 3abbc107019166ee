"""Small defects of issue 28: result text cut off at the minimum window size, a truncated
.aei reported without its name, and the compression ratio wording."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from app.gui.panels import format_compress_result

TIMEOUT_MS = 120_000
LONG = ("2,558 bytes · 0.416 bpp · 38× smaller than the 97,294-byte original · 32.22 dB PSNR · "
        "MS-SSIM 0.9794 · encoded in 1.21 s · decoded in 0.93 s · quality 41.5 fits "
        "40,000 bytes")


def settle():
    for _ in range(10):
        QApplication.processEvents()


def test_result_text_is_not_cut_off_at_the_minimum_window_size(qtbot, window):
    window.resize(1, 1)  # the smallest the window allows
    settle()
    assert window.width() >= 700 and window.height() >= 500  # a sensible minimum
    panel = window.compress_panel
    panel.show_message(LONG)
    panel.same_size_label.setText("WEBP q50: 2,494 bytes · 31.22 dB PSNR · MS-SSIM 0.97 · "
                                  "(its smallest file is larger than the AE Studio file)\n"
                                  "Right: JPEG q30: 5,000 bytes · 30.00 dB PSNR")
    window.panel_fit.fit()
    settle()
    for label in (panel.result_label, panel.same_size_label):
        assert label.height() >= label.heightForWidth(label.width()), label.text()


def test_ratio_reads_as_times_smaller():
    text = format_compress_result({"bytes": 3_800, "bpp": 0.1, "original_bytes": 100_000})
    assert "26× smaller than the 100,000-byte original" in text and "1:" not in text


def test_a_truncated_aei_error_names_the_file(qtbot, window, engine, make_gradient, tmp_path,
                                             wait_idle):
    window.show_error_dialogs = False
    data = engine.compress(make_gradient(seed=3), 50).data
    path = tmp_path / "broken-photo.aei"
    path.write_bytes(data[: len(data) // 2])
    window.open_path(path)
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=TIMEOUT_MS)
    assert "broken-photo.aei" in window.last_error
    assert window.last_error.count("broken-photo.aei") == 1
