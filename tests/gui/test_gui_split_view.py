"""The split view: one pane, original left of a draggable divider and result right of it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from app.gui.qimage import qimage_to_array
from app.gui.widgets.compare_view import CompareView

BLACK = np.zeros((200, 300, 3), np.uint8)
WHITE = np.full((200, 300, 3), 255, np.uint8)


@pytest.fixture
def split(qtbot):
    v = CompareView(layout="split")
    qtbot.addWidget(v)
    v.resize(600, 400)
    v.show()
    qtbot.waitExposed(v)
    v.set_images(BLACK, WHITE, "Original", "Result")
    v.actual_size()  # 300 px of image in a wider pane: sample inside the image only
    return v


def shown(v: CompareView) -> np.ndarray:
    """What the single pane shows, as RGB pixels of its viewport."""
    return qimage_to_array(v.left.viewport().grab().toImage())[..., :3]


def image_columns(v: CompareView) -> tuple[int, int]:
    """Viewport x of the image's left and right edges."""
    left = v.left.mapFromScene(0, 0).x()
    right = v.left.mapFromScene(300, 0).x()
    return left, right


def test_split_is_one_pane_with_both_images(split):
    assert split.layout_mode == "split"
    assert not split.right.isVisible() and split.left.isVisible()
    assert split.divider == 0.5


def test_left_of_the_divider_is_the_original_right_of_it_the_result(split):
    split.set_divider(0.5)
    x0, x1 = image_columns(split)
    xd = round(split.left.divider_x())
    assert x0 < xd < x1
    px = shown(split)
    y = split.left.mapFromScene(0, 30).y()  # away from the handle in the middle
    assert px[y, x0 + 5].max() < 30            # original (black)
    assert px[y, xd - 10].max() < 30
    assert px[y, xd + 10].min() > 225          # result (white)
    assert px[y, x1 - 5].min() > 225


@pytest.mark.parametrize(("fraction", "expect_white"), [(0.0, True), (1.0, False)])
def test_divider_at_an_edge_shows_one_image(split, fraction, expect_white):
    split.set_divider(fraction)
    x0, x1 = image_columns(split)
    y = split.left.mapFromScene(0, 30).y()  # away from the handle in the middle
    row = shown(split)[y, x0 + 3:x1 - 3]
    assert (row.min() > 225) if expect_white else (row.max() < 30)


def test_dragging_the_divider_moves_it(qtbot, split):
    vp = split.left.viewport()
    y = vp.height() // 2
    start = QPoint(round(split.left.divider_x()), y)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(vp, QPoint(vp.width() // 5, y))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(vp.width() // 5, y))
    assert split.divider == pytest.approx(0.2, abs=0.01)
    assert split.left.divider == pytest.approx(0.2, abs=0.01)


def test_a_drag_away_from_the_divider_pans_instead(qtbot, split):
    split.set_zoom(4.0)
    before = split.left.horizontalScrollBar().value()
    vp = split.left.viewport()
    y = vp.height() // 2
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(vp.width() - 40, y))
    QTest.mouseMove(vp, QPoint(vp.width() - 140, y))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       QPoint(vp.width() - 140, y))
    assert split.divider == 0.5
    assert split.left.horizontalScrollBar().value() > before


def test_side_by_side_and_back(split):
    split.set_layout("side-by-side")
    assert split.right.isVisible() and split.left.divider is None
    assert not split.left.split_clip.isVisible()
    split.set_layout("split")
    assert split.left.split_clip.isVisible() and split.left.divider == 0.5
    with pytest.raises(ValueError, match="layout"):
        split.set_layout("grid")


def test_actual_size_is_pixel_exact_on_high_dpi(split, monkeypatch):
    monkeypatch.setattr(split, "devicePixelRatioF", lambda: 2.0)
    split.actual_size()
    assert split.zoom() == pytest.approx(0.5)  # one image pixel = one device pixel


def test_window_keys_1_2_3_move_the_divider(qtbot, window, write_image):
    window.open_path(write_image())
    assert window.compare_view.layout_mode == "split"
    for key, where in ((Qt.Key.Key_1, 0.0), (Qt.Key.Key_3, 1.0), (Qt.Key.Key_2, 0.5)):
        QTest.keyClick(window, key)
        assert window.compare_view.divider == where
    QTest.keyClick(window, Qt.Key.Key_S)  # split off: side by side
    assert window.compare_view.layout_mode == "side-by-side"
    assert window.settings.choice("view/layout", ("split", "side-by-side"), "") == "side-by-side"


def test_mask_overlay_covers_only_the_original_side_once_a_result_is_shown(split):
    overlay = np.zeros((200, 300, 4), np.uint8)
    overlay[:, :] = (255, 0, 0, 255)  # opaque red everywhere
    split.set_right(None)
    split.set_overlay(overlay)
    split.set_divider(0.5)
    x0, x1 = image_columns(split)
    y = split.left.mapFromScene(0, 30).y()
    px = shown(split)
    assert px[y, x1 - 5, 0] > 200 and px[y, x1 - 5, 1] < 50  # no result yet: mask everywhere
    split.set_right(WHITE)
    px = shown(split)
    assert px[y, x0 + 5, 0] > 200 and px[y, x0 + 5, 1] < 50  # original side: the mask
    assert px[y, x1 - 5].min() > 225                          # result side: the result
