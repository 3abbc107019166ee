"""run_gui end to end, the icon, and the screenshot script.

``run_gui`` ends with ``app.exec()``. Quitting the real application loop would make every
later nested event loop of the session return at once (Qt's quit flag on the main thread),
so the tests run ``exec`` as a local QEventLoop that the poller below quits.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from app.gui.app import run_gui
from app.gui.icon import make_app_icon
from app.gui.main_window import MainWindow

TIMEOUT_S = 60


@pytest.fixture
def local_loop(monkeypatch) -> QEventLoop:
    """Make ``QApplication.exec`` run (and return from) a local event loop."""
    loop = QEventLoop()
    monkeypatch.setattr(QApplication, "exec", lambda *args: loop.exec())
    return loop


def close_when(loop: QEventLoop, predicate, seen: dict) -> None:
    """Poll from inside the loop; close the window and end the loop once ``predicate(win)``."""
    deadline = time.monotonic() + TIMEOUT_S

    def poll() -> None:
        wins = [w for w in QApplication.topLevelWidgets()
                if isinstance(w, MainWindow) and w.isVisible()]
        if wins and (predicate(wins[0]) or time.monotonic() > deadline):
            win = wins[0]
            seen.update(name=win.current_name, result=win.last_result, error=win.last_error,
                        title=win.windowTitle(), label=win.model_label.text())
            for box in win.findChildren(QMessageBox):
                box.close()
            win.close()
            loop.quit()
        elif time.monotonic() > deadline + 5:
            loop.quit()
        else:
            QTimer.singleShot(50, poll)

    QTimer.singleShot(0, poll)


def test_run_gui_opens_the_given_image_and_returns(qapp, engine, write_image, local_loop):
    path = write_image("start.png")
    seen: dict = {}
    close_when(local_loop, lambda w: w.last_result is not None, seen)
    assert run_gui([str(path)]) == 0
    assert seen["name"] == "start.png"
    assert seen["result"] is not None and seen["result"]["bytes"] > 0
    assert "CPU" in seen["label"] or "CUDA" in seen["label"]
    assert QApplication.applicationName() == "AE Studio"
    assert QApplication.organizationName() == "AE Studio"
    assert not QApplication.windowIcon().isNull()


def test_run_gui_without_argument_shows_the_empty_state(qapp, engine, local_loop):
    """A plain launch opens nothing and runs nothing: the drop zone with Open and Open
    sample (it used to load the bundled sample and start compressing it unasked)."""
    seen: dict = {}

    def empty(w) -> bool:
        seen.update(stack=w.view_stack.currentWidget() is w.empty_state,
                    busy=w.controller.is_busy)
        return True

    close_when(local_loop, empty, seen)
    assert run_gui([]) == 0
    assert seen["name"] == "" and seen["result"] is None
    assert seen["stack"] and not seen["busy"]
    assert seen["title"] == "AE Studio"


def test_run_gui_without_models_explains_instead_of_crashing(qapp, tmp_path, monkeypatch,
                                                            write_image, local_loop):
    monkeypatch.setenv("AESTUDIO_MODELS", str(tmp_path / "no-models"))
    seen: dict = {}
    close_when(local_loop, lambda w: w.last_error is not None and not w.controller.is_busy, seen)
    assert run_gui([str(write_image())]) == 0
    assert "codec" in seen["error"]
    assert "none" in seen["label"]


def test_engine_failure_shows_a_message_box(qapp, monkeypatch):
    import app.core.engine

    class Broken:
        def __init__(self, *a, **k):
            raise ValueError("unknown provider 'tpu': use auto, cuda or cpu")

    shown = []
    monkeypatch.setattr(app.core.engine, "Engine", Broken)
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: shown.append(a[2]))
    assert run_gui([]) == 1
    assert shown and "unknown provider" in shown[0]


def test_icon_has_several_sizes(qapp):
    icon = make_app_icon()
    assert not icon.isNull()
    assert len(icon.availableSizes()) >= 4
    assert not icon.pixmap(64, 64).isNull()


def test_screenshot_script_grabs_each_mode(qapp, engine, write_image, tmp_path,
                                           make_gradient, require_model):
    require_model("denoise")
    require_model("inpaint")
    from app.gui.screenshot import main

    image = write_image("shot.png", make_gradient(160, 240))
    mask = np.zeros((160, 240, 3), np.uint8)
    mask[40:90, 60:140] = 255
    mask_path = write_image("mask.png", mask)
    assert main([str(tmp_path / "out"), str(image), str(mask_path), "--compare", "jpeg"]) == 0
    for mode in ("compress", "denoise", "inpaint"):
        with Image.open(tmp_path / "out" / f"screenshot-{mode}.png") as im:
            assert im.size[0] >= 640 and im.size[1] >= 400
            assert np.asarray(im).std() > 5  # a real picture, not a blank grab
    with pytest.raises(SystemExit):
        main([])


def test_run_gui_says_when_both_onnxruntime_packages_are_installed(
        qapp, engine, write_image, local_loop, monkeypatch):
    import app.core.runtime.sessions as sessions

    monkeypatch.setattr(sessions, "runtime_conflict", lambda: "both onnxruntime and "
                        "onnxruntime-gpu are installed; they conflict.")
    seen: dict = {}
    close_when(local_loop, lambda w: w.last_error is not None, seen)
    assert run_gui([str(write_image("both.png"))]) == 0
    assert "onnxruntime-gpu" in seen["error"]
