"""Denoise strength control, several dropped files to step through, and theme following."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

TIMEOUT_MS = 60_000


def noisy(seed: int, sigma: float = 20.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:96, 0:128]
    clean = np.stack([60 + xx, 60 + yy, 200 - xx / 2], -1).astype(np.float64)
    return np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 255).round().astype(np.uint8)


def test_denoise_strength_slider_reruns_with_the_chosen_sigma(qtbot, window, write_image,
                                                             require_model):
    require_model("denoise")
    window.open_path(write_image("n.png", noisy(1)))
    window.set_mode("denoise")
    panel = window.denoise_panel
    assert panel.sigma is None and not panel.strength_slider.isEnabled()
    window.denoise_now()
    qtbot.waitUntil(lambda: window.result_pixels("denoise") is not None
                    and not window.controller.is_busy, timeout=TIMEOUT_MS)
    auto = window.result_pixels("denoise")
    assert "(estimated)" in panel.result_label.text()
    panel.auto_check.setChecked(False)
    assert panel.strength_slider.isEnabled()
    with qtbot.waitSignal(window.controller.denoised, timeout=TIMEOUT_MS) as blocker:
        panel.strength_slider.setValue(5)  # slider moves re-run the denoiser (debounced)
        panel.strength_slider.setValue(45)
    assert blocker.args[0]["sigma"] == 45 and not blocker.args[0]["automatic"]
    assert "σ = 45.0 (chosen)" in panel.result_label.text()
    strong = window.result_pixels("denoise")
    with qtbot.waitSignal(window.controller.denoised, timeout=TIMEOUT_MS) as blocker:
        panel.strength_slider.setValue(5)
    assert blocker.args[0]["sigma"] == 5
    weak = window.result_pixels("denoise")

    def roughness(pixels):
        return np.abs(np.diff(pixels.astype(float), axis=1)).mean()

    # sigma 5 on sigma-20 noise leaves most of the noise in: rougher than the automatic
    # estimate and than sigma 45 (the input image itself is a smooth ramp)
    assert roughness(weak) > 1.5 * roughness(auto)
    assert roughness(weak) > 1.5 * roughness(strong)
    assert roughness(noisy(1)) > roughness(weak)


def test_several_dropped_files_are_a_list_to_step_through(qtbot, window, write_image,
                                                          make_gradient):
    window.set_mode("denoise")  # no automatic job: stepping is instant
    paths = [write_image(f"{i}.png", make_gradient(seed=i)) for i in range(3)]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    at = QPointF(window.rect().center())
    enter = QDragEnterEvent(at.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(at, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    assert window.files == paths and window.current_name == "0.png"
    assert "1 of 3" in window.statusBar().currentMessage()
    QTest.keyClick(window, Qt.Key.Key_PageDown)
    QTest.keyClick(window, Qt.Key.Key_PageDown)
    assert window.current_name == "2.png"
    np.testing.assert_array_equal(window.current_pixels, make_gradient(seed=2))
    assert window.step_file(1) is False and window.current_name == "2.png"
    QTest.keyClick(window, Qt.Key.Key_PageUp)
    assert window.current_name == "1.png"


def test_theme_follows_the_system_and_the_menu(qtbot, window, monkeypatch):
    follower = window.theme
    assert follower.theme == "system"
    monkeypatch.setattr(type(follower), "system_is_dark", staticmethod(lambda: True))
    follower._on_system_change(Qt.ColorScheme.Dark)  # what the desktop's change signal calls
    window_colour = QApplication.palette().color(QPalette.ColorRole.Window)
    assert window_colour.lightness() < 100
    window.theme_actions["light"].trigger()
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 150
    follower._on_system_change(Qt.ColorScheme.Dark)  # a fixed choice ignores the desktop
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 150
    assert window.settings.choice("view/theme", ("system", "light", "dark"), "") == "light"
    window.set_theme("system")
    with pytest.raises(ValueError, match="theme"):
        follower.set_theme("sepia")
