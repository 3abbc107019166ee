"""Inpaint again on the result: "Continue on result" and "Step back" in the Inpaint panel,
driven through the real buttons on the real engine."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt

TIMEOUT_MS = 60_000  # generous: the CPU may be shared with training jobs


def _inpaint(qtbot, window) -> np.ndarray:
    qtbot.mouseClick(window.inpaint_panel.inpaint_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.result_pixels("inpaint") is not None
                    and not window.document.busy, timeout=TIMEOUT_MS)
    return window.result_pixels("inpaint")


def test_continue_on_result_then_step_back(qtbot, window, write_image, make_gradient,
                                           require_model):
    require_model("inpaint")
    panel = window.inpaint_panel
    original = make_gradient()
    window.open_path(write_image())
    window.set_mode("inpaint")
    assert not panel.continue_button.isEnabled()  # nothing inpainted yet
    assert not panel.step_back_button.isEnabled()

    window.compare_view.strokeStarted.emit(False)
    window.compare_view.brushed.emit(QPointF(20, 20), QPointF(60, 20))
    first_mask = window.mask.copy()
    first = _inpaint(qtbot, window)
    assert panel.continue_button.isEnabled()

    qtbot.mouseClick(panel.continue_button, Qt.MouseButton.LeftButton)
    # The result is now the image being edited, with a fresh mask and no result yet.
    np.testing.assert_array_equal(window.current_pixels, first)
    assert window.mask is None or not window.mask.any()
    assert window.result_pixels("inpaint") is None
    assert not panel.continue_button.isEnabled() and panel.step_back_button.isEnabled()

    # A second pass on the result: the first fill is kept where the new mask is not.
    window.compare_view.strokeStarted.emit(False)
    window.compare_view.brushed.emit(QPointF(20, 45), QPointF(70, 45))
    second_mask = window.mask > 0
    second = _inpaint(qtbot, window)
    np.testing.assert_array_equal(second[~second_mask], first[~second_mask])
    assert not np.array_equal(second[second_mask], first[second_mask])
    assert np.array_equal(first[first_mask == 0], original[first_mask == 0])

    qtbot.mouseClick(panel.continue_button, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(window.current_pixels, second)
    qtbot.mouseClick(panel.step_back_button, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(window.current_pixels, first)
    qtbot.mouseClick(panel.step_back_button, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(window.current_pixels, original)
    assert not panel.step_back_button.isEnabled()
    assert window.current_name == "gradient.png"  # still the same document


def test_opening_another_image_forgets_the_steps(qtbot, window, write_image, require_model):
    require_model("inpaint")
    window.open_path(write_image())
    window.set_mode("inpaint")
    window.compare_view.strokeStarted.emit(False)
    window.compare_view.brushed.emit(QPointF(20, 20), QPointF(60, 20))
    _inpaint(qtbot, window)
    assert window.inpaint_steps.continue_on_result()
    assert window.inpaint_panel.step_back_button.isEnabled()
    window.open_path(write_image("other.png"))
    assert window.inpaint_steps.earlier == []
    assert not window.inpaint_panel.step_back_button.isEnabled()
    assert window.inpaint_steps.step_back() is False


def test_after_continue_the_caption_and_save_are_about_the_image_continued_on(
        qtbot, window, write_image, tmp_path, monkeypatch, require_model):
    from PIL import Image
    from PySide6.QtWidgets import QFileDialog

    require_model("inpaint")
    window.show_error_dialogs = False
    panel = window.inpaint_panel
    window.open_path(write_image())
    window.set_mode("inpaint")
    window.compare_view.strokeStarted.emit(False)
    window.compare_view.brushed.emit(QPointF(20, 20), QPointF(60, 20))
    first = _inpaint(qtbot, window)
    qtbot.mouseClick(panel.continue_button, Qt.MouseButton.LeftButton)
    caption = window.compare_view.left_caption.text()
    assert caption.startswith("Inpainted · step 1 · gradient.png")
    assert panel.save_button.isEnabled()  # the image continued on can be saved
    out = tmp_path / "out" / "step1.png"
    out.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(out), "")))
    window.save_action.trigger()  # File ▸ Save… (Ctrl+S) in Inpaint mode
    assert window.last_error is None
    np.testing.assert_array_equal(np.asarray(Image.open(out)), first)
    qtbot.mouseClick(panel.step_back_button, Qt.MouseButton.LeftButton)
    assert window.compare_view.left_caption.text().startswith("Original · gradient.png")
    assert not panel.save_button.isEnabled()  # back on the file itself, nothing inpainted
