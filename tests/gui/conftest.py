"""Fixtures of the GUI tests: an offscreen Qt platform, the real engine with the installed
models, small test images written to tmp_path, and a main window torn down cleanly."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

# Generous: the CPU may be shared with training jobs.
TIMEOUT_MS = 60_000


def gradient(h: int = 64, w: int = 96, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A smooth colour gradient with a bright disc: easy to compress, photo-like enough."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([40 + 180 * xx / w, 40 + 180 * yy / h, 200 - 120 * (xx + yy) / (w + h)], -1)
    rng = np.random.default_rng(seed)
    cy, cx = rng.uniform(h * 0.3, h * 0.7), rng.uniform(w * 0.3, w * 0.7)
    img[(yy - cy) ** 2 + (xx - cx) ** 2 < (min(h, w) / 5) ** 2] = (230, 200, 60)
    img = np.clip(img, 0, 255).astype(np.uint8)
    if channels == 1:
        return img[..., :1]
    if channels == 4:
        alpha = np.full((h, w, 1), 255, np.uint8)
        return np.concatenate([img, alpha], axis=2)
    return img


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory) -> Path:
    """Every test gets its own empty settings folder: the user's real AE Studio settings
    are never read or written (the window's QSettings are INI files under this path)."""
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("settings")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture(scope="session")
def engine():
    """The real engine on the installed models (CPU)."""
    from app.core.engine import Engine

    eng = Engine(provider="cpu")
    if not eng.registry.list("codec"):
        pytest.skip(f"no codec model installed in {eng.registry.root}")
    return eng


@pytest.fixture
def require_model(engine) -> Callable[[str], None]:
    """``require_model("denoise")`` skips the test when no such model is installed."""

    def check(task: str) -> None:
        if not engine.registry.list(task):
            pytest.skip(f"no {task} model installed in {engine.registry.root}")

    return check


@pytest.fixture
def write_image(tmp_path: Path) -> Callable[..., Path]:
    """``write_image("a.png", pixels=None)``: save a test image (default: a 96x64 gradient)."""

    def write(name: str = "gradient.png", pixels: np.ndarray | None = None) -> Path:
        arr = gradient() if pixels is None else pixels
        path = tmp_path / name
        Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr).save(path)
        return path

    return write


@pytest.fixture
def window(qtbot, engine):
    """A shown main window on the real engine; error dialogs stay non-blocking."""
    from app.gui.main_window import MainWindow

    win = MainWindow(engine)
    qtbot.addWidget(win)
    win.resize(900, 600)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.controller.shutdown(TIMEOUT_MS)


@pytest.fixture
def wait_idle(qtbot) -> Callable:
    """``wait_idle(window)``: wait until the window's controller has no job in flight."""

    def wait(win, timeout: int = TIMEOUT_MS) -> None:
        qtbot.waitUntil(lambda: not win.controller.is_busy, timeout=timeout)

    return wait


@pytest.fixture
def make_gradient() -> Callable[..., np.ndarray]:
    """The :func:`gradient` test image maker."""
    return gradient
