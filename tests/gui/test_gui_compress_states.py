"""Compress-mode defects found by using the real app under Xvfb: a compress that
never started after a mode switch, progress of a long compress, an unreachable
target size, a target size left in the field, two classic sides each matching the
other, a cancelled compress, the quality box of a "same size" side and the
side controls at the minimum window size."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.compare.sides import SideChoice
from app.gui.compress_progress import DECODE, ENCODE, CompressPace, CompressProgress
from app.gui.panel_fit import MIN_WINDOW
from tests.gui.conftest import gradient

TIMEOUT_MS = 120_000


def photo(h: int = 96, w: int = 128, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = gradient(h, w, seed=seed).astype(np.int16)
    return np.clip(base + rng.integers(-8, 9, base.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def gate():
    g = threading.Event()
    yield g
    g.set()  # never leave a worker waiting


def compressed(qtbot, win) -> None:
    qtbot.waitUntil(lambda: win.result_pixels("compress") is not None
                    and not win.controller.is_busy, timeout=TIMEOUT_MS)


def message_boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, QMessageBox) and w.isVisible()]


def hold(monkeypatch, engine, name: str, gate: threading.Event) -> None:
    """``engine.<name>`` waits for ``gate`` before it runs."""
    real = getattr(engine, name)

    def held(*args, **kwargs):
        assert gate.wait(60), "the test never released the job"
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, name, held)


# ------------------------------------------------------------------ a compress that waits
def test_compress_mode_opened_during_an_inpaint_starts_when_it_ends(qtbot, window, gate,
                                                                    monkeypatch):
    win = window
    win.show_error_dialogs = False
    monkeypatch.setattr(win.engine, "inpaint",
                        lambda pixels, mask, **kw: gate.wait(60) and pixels.copy())
    win.set_mode("inpaint")
    win.set_image(photo(), "parrot.png")
    win.mask_editor.begin_stroke(False)
    win.mask_editor.stroke(20, 20, 40, 30, 6)
    win.inpaint_now()
    win.set_mode("compress")  # while the inpaint runs
    text = win.compress_panel.result_label.text()
    assert "Open an image" not in text
    assert "starts when the inpainting ends" in text
    gate.set()
    compressed(qtbot, win)  # started on its own once the inpaint ended
    assert win.result_pixels("inpaint") is not None
    assert "Open an image" not in win.compress_panel.result_label.text()


def test_a_cancelled_compress_is_not_restarted_by_the_wait_rule(qtbot, window, gate,
                                                                monkeypatch):
    win = window
    hold(monkeypatch, win.engine, "compress", gate)
    win.set_image(photo(), "a.png")
    win.controller.cancel()
    gate.set()
    qtbot.wait(300)
    assert not win.controller.is_busy and win.result_pixels("compress") is None


# ------------------------------------------------------------------ progress of a compress
def test_progress_counts_the_engines_steps_and_measures_the_time_left():
    pace = CompressPace(encode={True: 10.0, False: 4.0}, decode=30.0)  # s per megapixel
    p = CompressProgress(pace, megapixels=1.0, analysed=True, started=0.0)
    # before the first step: the session's pace (a 10 s encode, a 30 s decode)
    assert p.at(1.0) == (0, "Encoding · about 39 s left")
    p.step(ENCODE, 1, 4, 4.0)  # 4 s a step: a 16 s encode, so a 48 s decode
    # 25 % of 25 %; the encode is projected at 11.5 s: a quarter of the way from the
    # expected 10 s to the 16 s its first step measures, and the decode scaled to match
    assert p.at(4.0) == (6, "Encoding step 1 / 4 · about 42 s left")
    assert p.at(6.0) == (6, "Encoding step 1 / 4 · about 40 s left")
    p.step(ENCODE, 4, 4, 16.0)
    assert p.at(16.0) == (25, "Decoding · about 48 s left")  # not the encode's 16 s
    p.step(DECODE, 1, 3, 28.0)  # 12 s a step
    assert p.at(28.0) == (50, "Decoding step 1 / 3 · about 32 s left")  # 2/3 of 48 + 1/3 of 36
    assert p.at(500.0)[0] == 50  # never done before the decode ends
    p.step(DECODE, 3, 3, 40.0)
    assert p.at(40.0) == (100, "Decoding step 3 / 3")
    p.step(ENCODE, 2, 4, 41.0)  # a late count never moves the bar back
    assert p.at(41.0)[0] == 100


def test_slow_first_steps_of_a_decode_do_not_inflate_the_time_left():
    """A 12 MP decode: three entropy steps of about 3.5 s, then 88 tiles of 0.3 s. Projected
    from its first two steps alone, it read "about 5 min left" for a 33 s decode."""
    pace = CompressPace(encode={True: 1.0, False: 0.4}, decode=2.5)
    p = CompressProgress(pace, megapixels=12.0, analysed=True, started=0.0)
    p.step(ENCODE, 10, 10, 12.0)
    p.step(DECODE, 2, 91, 19.0)
    left = p.at(19.0)[1]
    assert left.endswith(" s left") and "min" not in left, left
    p.step(DECODE, 60, 91, 37.0)
    assert int(p.at(37.0)[1].split("about ")[1].split(" s")[0]) < 20


def test_a_long_time_left_still_counts_down():
    pace = CompressPace(encode={True: 100.0, False: 40.0}, decode=300.0)
    p = CompressProgress(pace, megapixels=1.0, analysed=True, started=0.0)
    assert p.at(1.0)[1].endswith("about 6 min 40 s left")
    assert p.at(21.0)[1].endswith("about 6 min 20 s left")


def test_pace_learns_from_finished_compresses():
    pace = CompressPace()
    pace.learn(2.0, True, encode_s=8.0, decode_s=30.0)
    assert pace.encode[True] == 4.0 and pace.decode == 15.0


def test_a_long_compress_shows_a_percentage_and_a_time_left_from_the_start(qtbot, window,
                                                                          gate, monkeypatch):
    win = window
    hold(monkeypatch, win.engine, "compress", gate)
    pixels = photo()
    mp = pixels.shape[0] * pixels.shape[1] / 1e6
    win.controller.pace = CompressPace(encode={True: 20 / mp, False: 10 / mp},
                                       decode=50 / mp)  # a 20 s encode, a 50 s decode
    win.set_image(pixels, "big.png")
    bar, label = win.progress_bar, win.progress_label
    assert bar.maximum() == 100  # determinate at once, before any step has ended
    qtbot.waitUntil(lambda: "s left" in label.text(), timeout=5_000)
    first = label.text()
    assert first.startswith("Encoding") and "/ 2" not in first
    left = int(first.split("about ")[1].split(" s")[0])
    assert 60 < left <= 70  # the encode's 20 s and the decode's 50 s, not 2 × 20 s
    qtbot.waitUntil(lambda: label.text() != first, timeout=5_000)  # it keeps moving
    assert int(label.text().split("about ")[1].split(" s")[0]) <= left
    gate.set()
    compressed(qtbot, win)


# ------------------------------------------------------------------ unreachable target
def test_an_unreachable_target_size_is_told_once_as_a_sentence(qtbot, window):
    win = window  # error dialogs on, as in the app
    win.set_image(photo(), "a.png")
    compressed(qtbot, win)
    win.classic_encoder.set_choice("left", SideChoice("jpeg", 75, True))
    qtbot.waitUntil(lambda: win.document.classic["left"].result is not None,
                    timeout=TIMEOUT_MS)
    win.compress_panel.target_edit.setText("20")
    win.compress_panel.fit_button.click()
    qtbot.waitUntil(lambda: not win.controller.is_busy
                    and bool(win.document.modes["compress"].note), timeout=TIMEOUT_MS)
    qtbot.wait(50)
    assert message_boxes() == []  # not in a dialog as well as in the panel
    text = win.compress_panel.result_label.text()
    assert "too small" in text and ". Still showing the earlier result" in text
    qtbot.waitUntil(lambda: not win.classic_encoder.is_busy, timeout=TIMEOUT_MS)
    left = win.document.classic["left"]
    assert "too small" not in left.note  # AE Studio's minimum is not JPEG's
    assert "too small" not in win.compare_view.left_caption.text()


def test_a_target_too_small_for_a_new_image_says_so_and_no_side_waits(qtbot, window):
    win = window
    win.show_error_dialogs = False
    win.classic_encoder.set_choice("left", SideChoice("jpeg", 75, True))
    win.compress_panel.target_edit.setText("20")  # left in the field from an earlier image
    win.set_image(photo(), "new.png")
    qtbot.waitUntil(lambda: not win.controller.is_busy
                    and bool(win.document.modes["compress"].note), timeout=TIMEOUT_MS)
    qtbot.wait(50)
    assert message_boxes() == []
    text = win.compress_panel.result_label.text()
    assert "too small" in text
    assert "Target size field still says 20, too small for this image" in text
    assert "clear it" in text and "quality slider" in text
    qtbot.waitUntil(lambda: not win.classic_encoder.is_busy, timeout=TIMEOUT_MS)
    caption = win.compare_view.left_caption.text()
    assert "waits for the other side" not in caption
    assert "not encoded (the AE Studio file could not be made at this size)" in caption
    assert "could not be made at this size" in win.compress_panel.same_size_label.text()
    win.compress_panel.target_edit.clear()
    win.compress_panel.compress_button.click()  # the way out the panel names
    qtbot.waitUntil(lambda: win.document.classic["left"].result is not None,
                    timeout=TIMEOUT_MS)
    assert win.result_pixels("compress") is not None


# ------------------------------------------------------------------ the target stays in force
def test_a_target_size_in_the_field_applies_to_the_next_image(qtbot, window):
    win = window
    win.show_error_dialogs = False
    win.set_image(photo(seed=1), "a.png")
    compressed(qtbot, win)
    win.compress_panel.target_edit.setText("3KB")
    win.compress_panel.fit_button.click()
    qtbot.waitUntil(lambda: (win.last_result or {}).get("target_bytes") == 3000
                    and not win.controller.is_busy, timeout=TIMEOUT_MS)
    win.set_image(photo(seed=2), "b.png")
    compressed(qtbot, win)
    assert win.last_result["target_bytes"] == 3000  # what the field says is what is used
    assert win.last_result["bytes"] <= 3000
    win.quality_slider.setValue(20)  # a quality chosen by hand: the size no longer applies
    assert win.compress_panel.target_edit.text() == ""
    qtbot.waitUntil(lambda: win.last_result["quality"] == 20
                    and not win.last_result.get("target_bytes"), timeout=TIMEOUT_MS)


# ------------------------------------------------------------------ classic sides
def test_two_classic_sides_never_both_take_the_others_size(qtbot, window):
    win = window
    win.show_error_dialogs = False
    win.set_image(photo(), "a.png")
    compressed(qtbot, win)
    panel = win.compress_panel
    win.classic_encoder.set_choice("left", SideChoice("jpeg", 60, True))
    win.classic_encoder.set_choice("right", SideChoice("jpeg", 40, True))
    assert win.document.sides["right"].match and not win.document.sides["left"].match
    assert panel.right_side.match_check.isChecked()
    assert not panel.left_side.match_check.isChecked()  # unticked, not circular
    qtbot.waitUntil(lambda: all(c.result is not None for c in win.document.classic.values()),
                    timeout=TIMEOUT_MS)
    left = win.document.classic["left"].result
    assert left["quality"] == 40 or left["quality"] == 60  # its own quality
    assert win.document.classic["right"].result["bytes"] <= left["bytes"]


def test_a_same_size_quality_box_shows_the_quality_in_use(qtbot, window):
    win = window
    win.show_error_dialogs = False
    win.set_image(photo(), "a.png")
    spin = win.compress_panel.left_side.quality_spin
    win.compress_panel.left_side.show_choice(SideChoice("jpeg", 75, True))
    win.classic_encoder.set_choice("left", SideChoice("jpeg", 75, True))
    assert not spin.isEnabled() and spin.text() == "auto"  # until the search ends
    qtbot.waitUntil(lambda: win.document.classic["left"].result is not None,
                    timeout=TIMEOUT_MS)
    used = win.document.classic["left"].result["quality"]
    assert used != 75  # the small AE Studio file needs a lower JPEG quality
    qtbot.waitUntil(lambda: spin.text() == f"q {used}", timeout=5_000)
    win.compress_panel.left_side.match_check.setChecked(False)  # its own quality again
    assert spin.isEnabled() and spin.text() == "q 75" and spin.value() == 75


# ------------------------------------------------------------------ cancel
def test_cancelling_a_first_compress_leaves_no_waiting_caption(qtbot, window, gate,
                                                               monkeypatch):
    win = window
    win.show_error_dialogs = False
    hold(monkeypatch, win.engine, "compress", gate)
    win.classic_encoder.set_choice("left", SideChoice("jpeg", 75, True))
    win.set_image(photo(), "a.png")
    assert "waits for the other side" in win.compare_view.left_caption.text()
    win.controller.cancel()
    caption = win.compare_view.left_caption.text()
    assert "waits for the other side" not in caption
    assert "cancelled" in caption


# ------------------------------------------------------------------ the minimum size
def test_side_controls_are_not_cut_at_the_minimum_window_size(qtbot, window):
    win = window
    win.show_error_dialogs = False
    win.set_image(photo(), "a.png")
    for side in ("left", "right"):
        win.classic_encoder.set_choice(side, SideChoice("jpeg", 75, side == "left"))
    win.resize(*MIN_WINDOW)
    qtbot.waitUntil(lambda: win.width() == MIN_WINDOW[0], timeout=5_000)
    qtbot.wait(50)
    for controls in (win.compress_panel.left_side, win.compress_panel.right_side):
        box = controls.match_check
        assert box.isVisible()
        assert box.width() >= box.sizeHint().width(), box.text()
        assert controls.save_button.width() >= controls.save_button.sizeHint().width()


def test_a_stopped_first_compress_keeps_its_preview_on_the_right(qtbot, window, gate,
                                                                  monkeypatch):
    win = window
    win.show_error_dialogs = False
    hold(monkeypatch, win.engine, "compress", gate)
    win.set_image(photo(), "a.png")
    small = photo(48, 64, seed=9)
    assert win.document.show_preview("compress", small, "Preview · quality 75 · the full "
                                                        "result is on its way…")
    win.controller.cancel()
    assert win.document.modes["compress"].result is None
    assert win.compare_view.right_caption.text().endswith("· stopped")


def test_with_an_image_the_compress_hint_never_asks_to_open_one(qtbot, window, gate,
                                                                monkeypatch):
    win = window
    win.show_error_dialogs = False
    assert "Open an image" in win.compress_panel.result_label.text()
    hold(monkeypatch, win.engine, "compress", gate)
    win.set_image(photo(), "a.png")
    win.controller.cancel()
    win.document.set_note("compress", "")
    assert "Open an image" not in win.compress_panel.result_label.text()
    assert "Not compressed yet" in win.compress_panel.result_label.text()


def test_no_ae_studio_line_when_neither_side_shows_ae_studio(qtbot, window):
    win = window
    win.show_error_dialogs = False
    win.set_image(photo(), "a.png")
    compressed(qtbot, win)
    assert "bytes" in win.compress_panel.result_label.text()
    win.classic_encoder.set_choice("left", SideChoice("jpeg", 60, False))
    win.classic_encoder.set_choice("right", SideChoice("webp", 60, False))
    assert "bytes" not in win.compress_panel.result_label.text()


def test_buttons_that_need_an_image_are_disabled_in_the_empty_state(qtbot, window):
    win = window
    panel = win.compress_panel
    buttons = (panel.compress_button, panel.fit_button, panel.left_side.save_button,
               panel.right_side.save_button, win.denoise_panel.denoise_button,
               win.inpaint_panel.inpaint_button)
    assert not any(b.isEnabled() for b in buttons)
    win.set_image(photo(), "a.png")
    assert all(b.isEnabled() for b in buttons)


def test_menu_items_that_need_an_image_are_disabled_in_the_empty_state(qtbot, window):
    win = window
    actions = (win.save_action, win.save_aei_action, win.save_image_action,
               win.save_left_action, win.save_right_action, win.previous_action,
               win.next_action, win.load_mask_action)
    assert not any(a.isEnabled() for a in actions)
    win.set_image(photo(), "a.png")
    assert all(a.isEnabled() for a in actions)


def test_a_side_that_never_encoded_is_named_when_the_compress_is_cancelled(qtbot, window,
                                                                          gate, monkeypatch):
    """The panel's line for a codec side that waited for the AE Studio file names the codec,
    not ": not encoded (...)"."""
    win = window
    win.show_error_dialogs = False
    win.classic_encoder.set_choice("left", SideChoice("webp", 60, True))  # match the size
    hold(monkeypatch, win.engine, "compress", gate)
    win.set_image(photo(), "a.png")
    qtbot.waitUntil(lambda: win.controller.is_busy, timeout=5_000)
    win.controller.cancel()
    qtbot.waitUntil(lambda: "not encoded" in win.compress_panel.same_size_label.text(),
                    timeout=10_000)
    line = win.compress_panel.same_size_label.text()
    assert line.startswith("WebP: not encoded"), line


def test_a_compress_seen_from_another_mode_is_named_in_the_status_bar(qtbot, window):
    win = window
    win.set_image(photo(), "a.png")
    compressed(qtbot, win)
    win.set_mode("denoise")
    win.controller.progress_note = "Decoding step 3 / 4 · about 1 s left"
    win.controller.progress.emit(75, 100)
    assert win.progress_label.text() == "Compress: Decoding step 3 / 4 · about 1 s left"
    win.set_mode("compress")
    win.controller.progress.emit(80, 100)
    assert win.progress_label.text().startswith("Decoding step 3 / 4")
