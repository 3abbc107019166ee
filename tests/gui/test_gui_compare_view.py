"""CompareView: both panes always show the same region; fit, 100 %, wheel zoom, brush."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from app.gui.widgets.compare_view import CompareView


@pytest.fixture
def view(qtbot, make_gradient):
    v = CompareView()
    qtbot.addWidget(v)
    v.resize(800, 400)
    v.show()
    qtbot.waitExposed(v)
    big = make_gradient(300, 500)
    v.set_images(big, 255 - big, "Original", "Result")
    return v


def same_region(v: CompareView, tol: float = 1.0) -> bool:
    a, b = v.left.visible_scene_rect(), v.right.visible_scene_rect()
    return all(abs(x - y) <= tol for x, y in
               ((a.left(), b.left()), (a.top(), b.top()), (a.width(), b.width()),
                (a.height(), b.height())))


def wheel(pane, steps: int) -> None:
    pos = QPointF(pane.viewport().rect().center())
    event = QWheelEvent(pos, QPointF(pane.viewport().mapToGlobal(pos.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(pane.viewport(), event)


def test_captions_and_images(view):
    assert view.left_caption.text() == "Original" and view.right_caption.text() == "Result"
    assert view.left.has_image() and view.right.has_image()
    assert view.left.image_item.pixmap().size() == view.right.image_item.pixmap().size()


def test_fit_shows_the_whole_image_in_both_panes(view):
    view.fit()
    for pane in (view.left, view.right):
        r = pane.visible_scene_rect()
        assert r.width() >= 500 - 1 or r.height() >= 300 - 1
        assert r.contains(pane.sceneRect().adjusted(1, 1, -1, -1))
    assert view.fit_mode and view.zoom() < 1
    assert same_region(view)


def test_actual_size_is_one_to_one(view):
    view.actual_size()
    assert view.zoom() == pytest.approx(1.0)
    assert view.right.zoom() == pytest.approx(1.0)
    assert not view.fit_mode
    assert same_region(view)


def test_wheel_zoom_on_either_pane_zooms_both(view):
    view.actual_size()
    wheel(view.left, 2)
    assert view.zoom() == pytest.approx(1.25 ** 2)
    assert view.right.zoom() == pytest.approx(view.left.zoom())
    assert same_region(view)
    wheel(view.right, -1)
    assert view.left.zoom() == pytest.approx(1.25)
    assert same_region(view)


def test_panning_one_pane_pans_the_other(view):
    view.set_zoom(3.0)
    for pane, other in ((view.left, view.right), (view.right, view.left)):
        bar = pane.horizontalScrollBar()
        bar.setValue(bar.value() + 57)
        pane.verticalScrollBar().setValue(pane.verticalScrollBar().minimum() + 11)
        assert same_region(view)
        assert other.horizontalScrollBar().value() == bar.value()


def test_drag_pans(qtbot, view):
    view.set_zoom(4.0)
    before = view.left.visible_scene_rect().left()
    vp = view.left.viewport()
    center = vp.rect().center()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=center)
    # QTest's mouseMove carries no buttons: send a move event with the button held
    from PySide6.QtGui import QMouseEvent
    move = QMouseEvent(QMouseEvent.Type.MouseMove, QPointF(center - QPoint(80, 0)),
                       QPointF(vp.mapToGlobal(center - QPoint(80, 0))),
                       Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, move)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=center - QPoint(80, 0))
    after = view.left.visible_scene_rect().left()
    assert after == pytest.approx(before + 80 / 4.0, abs=1.0)
    assert same_region(view)


def test_fit_follows_resizes(qtbot, view):
    view.fit()
    z = view.zoom()
    view.resize(1200, 700)
    qtbot.waitUntil(lambda: view.zoom() > z)
    assert same_region(view)


def test_new_image_of_other_size_refits(view, make_gradient):
    view.actual_size()
    small = make_gradient(40, 60)
    view.set_images(small, None)
    assert view.fit_mode
    assert not view.right.has_image()
    assert view.left.sceneRect().width() == 60


def test_brush_emits_image_coordinates(qtbot, view):
    view.actual_size()
    view.set_brush_enabled(True)
    strokes: list[tuple[QPointF, QPointF]] = []
    view.brushed.connect(lambda a, b: strokes.append((a, b)))
    vp = view.left.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=vp.rect().center())
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=vp.rect().center())
    assert len(strokes) == 1
    expected = view.left.mapToScene(vp.rect().center())
    assert strokes[0][1].x() == pytest.approx(expected.x())
    view.set_brush_enabled(False)
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=vp.rect().center())
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=vp.rect().center())
    assert len(strokes) == 1


def test_overlay_can_be_set_and_cleared(view):
    rgba = np.zeros((300, 500, 4), np.uint8)
    view.set_overlay(rgba)
    assert not view.left.overlay_item.pixmap().isNull()
    view.set_overlay(None)
    assert view.left.overlay_item.pixmap().isNull()
