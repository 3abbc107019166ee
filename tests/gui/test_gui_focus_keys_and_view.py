"""Found by using the real app under Xvfb with a window manager: Space and the view keys
whatever control has the focus, the drop zone in the dark theme, a mask that stands out on a
red subject, a result hidden behind the divider, the progress text, the status bar and the
keyboard shortcuts dialog."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.gui.qimage import qimage_to_array

TIMEOUT_MS = 120_000
RED = (205, 35, 30)  # a red parrot's feathers


def pixels_of(widget) -> np.ndarray:
    return qimage_to_array(widget.grab().toImage())[..., :3].astype(int)


def luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114])


@pytest.fixture
def opened(qtbot, window, write_image, make_gradient, wait_idle):
    """A window with an image compressed, activated so that focus moves between controls."""
    window.show_error_dialogs = False
    window.open_path(write_image("g.png", make_gradient(96, 128)))
    qtbot.waitUntil(lambda: window.result_pixels("compress") is not None, timeout=TIMEOUT_MS)
    wait_idle(window)
    window.activateWindow()
    return window


def focus(qtbot, widget) -> None:
    widget.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: QApplication.focusWidget() in (widget, widget.focusProxy()))


# ---------------------------------------------------------------------- Space and view keys
def test_space_flashes_the_original_from_any_control_and_presses_nothing(qtbot, opened):
    win, panel = opened, opened.compress_panel
    controls = (panel.compare_combo, panel.compress_button, panel.fit_button,
                panel.quality_slider, panel.quality_spin, win.compare_view.left)
    with qtbot.assertNotEmitted(panel.compressRequested), \
            qtbot.assertNotEmitted(panel.targetSizeRequested):
        for control in controls:
            focus(qtbot, control)
            target = QApplication.focusWidget()
            QTest.keyPress(target, Qt.Key.Key_Space)
            assert win.flashing_original, control
            assert "release Space" in win.compare_view.right_caption.text()
            assert not panel.compare_combo.view().isVisible()  # the list did not open
            QTest.keyRelease(target, Qt.Key.Key_Space)
            assert not win.flashing_original, control
    assert not win.controller.is_busy  # no job was started by a key


def test_held_space_repeats_do_not_end_the_flash(qtbot, opened):
    win = opened
    focus(qtbot, win.compress_panel.compress_button)
    target = QApplication.focusWidget()
    QTest.keyPress(target, Qt.Key.Key_Space)
    for _ in range(3):  # what X11 sends while a key is held
        for kind in (QEvent.Type.KeyRelease, QEvent.Type.KeyPress):
            QApplication.sendEvent(target, QKeyEvent(kind, Qt.Key.Key_Space,
                                                     Qt.KeyboardModifier.NoModifier, " ", True))
        assert win.flashing_original
    QTest.keyRelease(target, Qt.Key.Key_Space)
    assert not win.flashing_original


def test_text_fields_keep_their_typing(qtbot, opened):
    win = opened
    edit = win.compress_panel.target_edit
    focus(qtbot, edit)
    QTest.keyClicks(edit, "40 KD")  # Space and D are typed, not taken by the window
    assert edit.text() == "40 KD"
    assert not win.flashing_original and not win.showing_heatmap


def test_view_keys_reach_the_window_from_a_spin_box_while_digits_type(qtbot, opened):
    win = opened
    spin = win.compress_panel.quality_spin
    focus(qtbot, spin)
    target = QApplication.focusWidget()
    QTest.keyClick(target, Qt.Key.Key_D)
    assert win.showing_heatmap
    QTest.keyClick(target, Qt.Key.Key_D)
    assert not win.showing_heatmap
    QTest.keyClick(target, Qt.Key.Key_S)
    assert win.compare_view.layout_mode == "side-by-side"
    spin.selectAll()
    QTest.keyClicks(target, "33")  # digits are the box's own
    assert spin.text().endswith("33") and win.compare_view.layout_mode == "side-by-side"

    win.set_mode("inpaint")
    brush = win.inpaint_panel.brush_spin
    focus(qtbot, brush)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_E)
    assert win.inpaint_panel.erasing


# ---------------------------------------------------------------------- dark drop zone
def test_dark_theme_drop_zone_text_and_buttons_are_light_on_dark(qtbot, window):
    empty = window.empty_state
    assert window.view_stack.currentWidget() is empty
    window.set_theme("dark")
    # the dark window shows through (the palette change is delivered as events)
    qtbot.waitUntil(lambda: np.median(luminance(pixels_of(window.tabs))) < 80)
    for label in (empty.title, empty.detail):
        px = luminance(pixels_of(label))
        background, text = np.median(px), px.max()
        assert background < 80, label.text()
        assert text - background > 120, label.text()     # light, readable text
    button = luminance(pixels_of(empty.open_button))
    assert np.median(button) < 100                        # a dark button, as the others
    # a control with a style sheet of its own (the side combo box) changes theme too
    combo = window.compress_panel.left_side.combo
    assert combo.styleSheet() and np.median(luminance(pixels_of(combo))) < 100
    window.set_theme("light")
    qtbot.waitUntil(lambda: np.median(luminance(pixels_of(empty.title))) > 180)


# ---------------------------------------------------------------------- mask on red
def test_the_mask_stands_out_on_a_red_subject(qtbot, window, write_image):
    window.open_path(write_image("red.png", np.full((120, 160, 3), RED, np.uint8)))
    qtbot.waitUntil(lambda: window.current_pixels is not None, timeout=TIMEOUT_MS)
    window.set_mode("inpaint")
    view = window.compare_view
    view.set_layout("side-by-side")
    view.actual_size()
    window.inpaint_panel.brush_spin.setValue(15)
    pane = view.left
    a, b = pane.mapFromScene(QPointF(40, 60)), pane.mapFromScene(QPointF(120, 60))
    QTest.mousePress(pane.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    QTest.mouseMove(pane.viewport(), QPoint((a.x() + b.x()) // 2, a.y()))
    QTest.mouseMove(pane.viewport(), b)
    QTest.mouseRelease(pane.viewport(), Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier, b)
    assert window.mask.any()
    shown = pixels_of(pane.viewport())
    x0, x1 = pane.mapFromScene(QPointF(0, 0)).x(), pane.mapFromScene(QPointF(160, 0)).x()
    y0, y1 = pane.mapFromScene(QPointF(0, 0)).y(), pane.mapFromScene(QPointF(0, 120)).y()
    image = shown[y0 + 2:y1 - 2, x0 + 2:x1 - 2]
    light = (image.min(axis=2) > 200).sum()   # white: not in a red image nor a red tint
    dark = (image.max(axis=2) < 50).sum()     # black
    assert light > 20 and dark > 20
    # the outline hugs the stroke: the image far from it is untouched
    assert (np.abs(image[:10] - RED).max(axis=2) <= 2).all()


# ---------------------------------------------------------------------- hidden result
def test_an_inpainted_result_behind_the_divider_is_brought_into_view(qtbot, window,
                                                                     write_image,
                                                                     require_model):
    require_model("inpaint")
    window.open_path(write_image())
    qtbot.waitUntil(lambda: window.current_pixels is not None, timeout=TIMEOUT_MS)
    window.set_mode("inpaint")
    view = window.compare_view
    assert view.layout_mode == "split"
    QTest.keyClick(window, Qt.Key.Key_3)  # the whole image to paint on
    assert view.divider == 1.0
    window.compare_view.brushed.emit(QPointF(20, 30), QPointF(60, 30))
    QTest.mouseClick(window.inpaint_panel.inpaint_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.result_pixels("inpaint") is not None, timeout=TIMEOUT_MS)
    assert view.divider == 0.5
    assert "divider moved to the middle" in window.statusBar().currentMessage()


def test_a_divider_that_shows_the_result_stays_where_it_is(qtbot, window, write_image,
                                                          require_model):
    require_model("inpaint")
    window.open_path(write_image())
    qtbot.waitUntil(lambda: window.current_pixels is not None, timeout=TIMEOUT_MS)
    window.set_mode("inpaint")
    window.compare_view.set_divider(0.3)
    window.compare_view.brushed.emit(QPointF(20, 30), QPointF(60, 30))
    QTest.mouseClick(window.inpaint_panel.inpaint_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.result_pixels("inpaint") is not None, timeout=TIMEOUT_MS)
    assert window.compare_view.divider == pytest.approx(0.3)


# ---------------------------------------------------------------------- status bar
def test_progress_text_is_beside_the_bar_not_on_its_fill(qtbot, window):
    window.controller.busy.emit(True)
    window.controller.progress.emit(1, 3)
    assert window.progress_bar.isVisible() and not window.progress_bar.isTextVisible()
    label = window.progress_label
    assert label.isVisible() and label.text().startswith("1 / 3")
    bar = window.progress_bar.geometry()
    assert not label.geometry().intersects(bar)
    window.controller.busy.emit(False)
    assert not label.isVisible() and not window.progress_bar.isVisible()


def test_zoom_and_model_readouts_are_set_apart(qtbot, opened):
    win = opened
    assert win.zoom_label.text().endswith("(fit)")
    zoom, model = win.zoom_label.geometry(), win.model_label.geometry()
    text_end = zoom.left() + win.zoom_label.contentsMargins().left() + \
        win.zoom_label.fontMetrics().horizontalAdvance(win.zoom_label.text())
    text_start = model.left() + win.model_label.contentsMargins().left()
    assert text_start - text_end >= 12
    line = win.status_separator
    assert line.isVisible() and zoom.right() < line.geometry().center().x() < model.left()


# ---------------------------------------------------------------------- shortcuts dialog
def test_shortcuts_dialog_shows_every_row_unclipped_without_scrolling(qtbot, window):
    window.shortcuts_action.trigger()
    dialog = window.shortcuts_dialog
    qtbot.waitExposed(dialog)
    table = dialog.table
    assert not table.verticalScrollBar().isVisible()
    assert not table.horizontalScrollBar().isVisible()
    last = table.rowCount() - 1
    assert table.rowViewportPosition(last) + table.rowHeight(last) <= table.viewport().height()
    metrics = table.fontMetrics()
    for row in range(table.rowCount()):
        for column in range(2):
            text = table.item(row, column).text()
            assert metrics.horizontalAdvance(text) + 12 <= table.columnWidth(column), text
    assert ("Ctrl+Shift+Wheel (Inpaint)" in dict(dialog.rows())
            and "Alt+Wheel (Inpaint)" in dict(dialog.rows()))
