"""Screenshots of the real app in each mode, for the README.

    python -m app.gui.screenshot OUTDIR IMAGE [MASK] [--compare webp] [--quality 40]

Writes ``OUTDIR/screenshot-compress.png`` (IMAGE compressed, the left side showing a classic
codec at the same file size), ``screenshot-denoise.png`` (IMAGE with Gaussian noise σ = 25
added, denoised with automatic strength) and, given a MASK (white = hole),
``screenshot-inpaint.png``. Run it under Xvfb (``xvfb-run -s "-screen 0 1400x1000x24"``) to
see what a person sees; the user's own settings are not read or changed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEventLoop, QSettings

__all__ = ["main", "take_screenshots"]

TIMEOUT_S = 300.0
NOISE_SIGMA = 25.0


def _wait(app, predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def _idle(window) -> bool:
    return not window.controller.is_busy


def _save(app, window, out: Path) -> None:
    _wait(app, lambda: False, 0.5)  # let layouts and repaints settle
    if not window.grab().save(str(out)):
        raise OSError(f"cannot write {out}")
    print(f"wrote {out}")


def _noisy_copy(image: Path, folder: Path) -> Path:
    from app.core.io.image_save import save_image
    from app.core.io.imageio import load_image
    from app.core.io.pixels import to_rgb

    rgb, _ = to_rgb(load_image(image).pixels)
    rng = np.random.default_rng(0)
    noisy = np.clip(rgb + rng.normal(0, NOISE_SIGMA, rgb.shape), 0, 255).round()
    out = folder / f"{image.stem} (noise σ=25).png"
    save_image(noisy.astype(np.uint8), out, overwrite=True)
    return out


def take_screenshots(outdir: Path, image: Path, mask: Path | None = None,
                     compare: str = "webp", quality: int = 40,
                     size: tuple[int, int] = (1280, 860)) -> int:
    from app.core.engine import Engine

    from .app import create_application
    from .main_window import MainWindow

    app = create_application()
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="aestudio-shots-") as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(Engine(), settings=settings)
        window.show_error_dialogs = False
        window.resize(*size)
        window.show()
        window.set_mode("compress")
        window.quality_slider.setValue(quality)
        window.compress_panel.set_compare_with(compare)
        if not window.open_path(image):
            print(f"error: {window.last_error}", file=sys.stderr)
            return 1
        done = _wait(app, lambda: window.same_size_result is not None and _idle(window),
                     TIMEOUT_S)
        if not done:
            print(f"error: compress did not finish ({window.last_error})", file=sys.stderr)
            return 1
        _save(app, window, outdir / "screenshot-compress.png")

        window.set_mode("denoise")
        window.open_path(_noisy_copy(image, Path(tmp)))
        window.denoise_now()
        _wait(app, lambda: window.result_pixels("denoise") is not None and _idle(window),
              TIMEOUT_S)
        _save(app, window, outdir / "screenshot-denoise.png")

        if mask is not None:
            window.set_mode("inpaint")
            window.open_path(image)
            window.load_mask(mask)
            window.compare_view.set_divider(0.5)
            window.inpaint_now()
            _wait(app, lambda: window.result_pixels("inpaint") is not None and _idle(window),
                  TIMEOUT_S)
            _save(app, window, outdir / "screenshot-inpaint.png")
        window.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.gui.screenshot",
                                     description=__doc__.strip().splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("image", type=Path)
    parser.add_argument("mask", type=Path, nargs="?")
    parser.add_argument("--compare", default="webp", choices=("original", "jpeg", "webp", "avif"))
    parser.add_argument("--quality", type=int, default=40)
    args = parser.parse_args(argv)
    return take_screenshots(args.outdir, args.image, args.mask, args.compare, args.quality)


if __name__ == "__main__":
    sys.exit(main())
