"""Inpaint mode's mask brush driven with the mouse and keyboard: strokes, eraser, brush size
keys and Alt+wheel, undo / redo."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.gui.mask import MaskHistory


@pytest.fixture
def painting(qtbot, window, write_image, make_gradient):
    window.show_error_dialogs = False
    window.open_path(write_image("p.png", make_gradient(120, 160)))
    window.set_mode("inpaint")
    window.compare_view.set_layout("side-by-side")
    window.compare_view.actual_size()
    return window


def drag(win, p0: tuple[float, float], p1: tuple[float, float],
         button=Qt.MouseButton.LeftButton) -> None:
    """A mouse drag on the left pane between two image (scene) points."""
    pane = win.compare_view.left
    a = pane.mapFromScene(QPointF(*p0))
    b = pane.mapFromScene(QPointF(*p1))
    QTest.mousePress(pane.viewport(), button, Qt.KeyboardModifier.NoModifier, a)
    for t in np.linspace(0, 1, 6)[1:]:
        QTest.mouseMove(pane.viewport(), QPoint(round(a.x() + t * (b.x() - a.x())),
                                                round(a.y() + t * (b.y() - a.y()))))
    QTest.mouseRelease(pane.viewport(), button, Qt.KeyboardModifier.NoModifier, b)


def test_mouse_strokes_paint_and_right_button_erases(painting):
    win = painting
    win.inpaint_panel.brush_spin.setValue(5)
    drag(win, (20, 60), (140, 60))
    m = win.mask
    assert m[60, 30] and m[60, 130] and not m[20, 80]
    assert 0.03 < m.mean() < 0.15
    drag(win, (60, 60), (100, 60), Qt.MouseButton.RightButton)
    assert not win.mask[60, 80] and win.mask[60, 30]


def test_eraser_key_toggles_erasing(painting):
    win = painting
    drag(win, (20, 60), (140, 60))
    QTest.keyClick(win, Qt.Key.Key_E)
    assert win.inpaint_panel.erasing
    drag(win, (20, 60), (140, 60))
    assert not win.mask.any()
    QTest.keyClick(win, Qt.Key.Key_E)
    assert not win.inpaint_panel.erasing


def test_undo_and_redo_whole_strokes_with_shortcuts(painting):
    win = painting
    drag(win, (20, 30), (140, 30))
    first = win.mask.copy()
    drag(win, (20, 90), (140, 90))
    both = win.mask.copy()
    assert both.sum() > first.sum()
    assert win.inpaint_panel.undo_button.isEnabled()
    QTest.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(win.mask, first)
    QTest.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not win.mask.any() and not win.inpaint_panel.undo_button.isEnabled()
    QTest.keyClick(win, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    np.testing.assert_array_equal(win.mask, first)
    win.inpaint_panel.redo_button.click()
    np.testing.assert_array_equal(win.mask, both)
    assert not win.inpaint_panel.redo_button.isEnabled()


def test_clear_is_undoable_and_a_new_stroke_forgets_redo(painting):
    win = painting
    drag(win, (20, 30), (140, 30))
    painted = win.mask.copy()
    win.inpaint_panel.clear_mask_button.click()
    assert not win.mask.any()
    win.mask_editor.undo()
    np.testing.assert_array_equal(win.mask, painted)
    win.mask_editor.undo()
    drag(win, (20, 90), (60, 90))
    assert not win.mask_editor.history.can_redo


def wheel(win, delta: QPoint, modifiers) -> None:
    """One wheel notch over the left (painted) pane."""
    vp = win.compare_view.left.viewport()
    pos = QPointF(vp.rect().center())
    QApplication.sendEvent(vp, QWheelEvent(pos, QPointF(vp.mapToGlobal(pos.toPoint())),
                                           QPoint(0, 0), delta, Qt.MouseButton.NoButton,
                                           modifiers, Qt.ScrollPhase.NoScrollPhase, False))


def test_bracket_keys_and_alt_wheel_resize_the_brush(painting):
    win = painting
    spin = win.inpaint_panel.brush_spin
    spin.setValue(20)
    QTest.keyClick(win, Qt.Key.Key_BracketRight)
    assert spin.value() == 23
    QTest.keyClick(win, Qt.Key.Key_BracketLeft)
    QTest.keyClick(win, Qt.Key.Key_BracketLeft)
    assert spin.value() < 20
    before = spin.value()
    for delta in (QPoint(0, 120), QPoint(120, 0)):  # vertical, or turned horizontal by Alt
        zoom = win.compare_view.zoom()
        wheel(win, delta, Qt.KeyboardModifier.AltModifier)
        assert win.compare_view.zoom() == zoom  # Alt+wheel does not zoom in brush mode
    assert spin.value() > before + 1


def test_ctrl_shift_wheel_resizes_the_brush_where_the_desktop_takes_alt_wheel(painting):
    win = painting
    spin = win.inpaint_panel.brush_spin
    spin.setValue(20)
    both = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    zoom = win.compare_view.zoom()
    wheel(win, QPoint(0, 120), both)
    wheel(win, QPoint(120, 0), both)  # Shift may turn the wheel horizontal
    assert spin.value() > 23 and win.compare_view.zoom() == zoom
    grown = spin.value()
    wheel(win, QPoint(0, -120), both)
    assert spin.value() < grown
    shrunk = spin.value()
    win.set_mode("compress")  # no brush there: Ctrl+Shift+wheel is not taken
    wheel(win, QPoint(0, -120), both)
    assert spin.value() == shrunk and win.compare_view.zoom() != zoom


def test_history_is_bounded_and_packed():
    h = MaskHistory(limit=3)
    mask = np.zeros((1000, 1000), np.uint8)
    for i in range(5):
        h.checkpoint(mask)
        mask[i, :] = 1
    assert len(h._undo) == 3
    assert h._undo[0][1].nbytes == 1000 * 1000 // 8
    restored = h.undo(mask)
    assert restored[:4].all() and not restored[4].any()
