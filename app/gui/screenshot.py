"""Grab the main window to a PNG after a compress: ``python -m app.gui.screenshot OUT.png [IMAGE]``.

Used for README screenshots (run under Xvfb or with ``QT_QPA_PLATFORM=offscreen``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop

__all__ = ["main", "take_screenshot"]

TIMEOUT_S = 300.0


def _wait(app, predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def take_screenshot(out: Path, image: Path | None = None, quality: int = 75,
                    size: tuple[int, int] = (1280, 820), timeout_s: float = TIMEOUT_S) -> int:
    from app.core.demo import SAMPLE
    from app.core.engine import Engine

    from .app import create_application
    from .main_window import MainWindow

    app = create_application()
    window = MainWindow(Engine())
    window.show_error_dialogs = False
    window.resize(*size)
    window.show()
    window.quality_slider.setValue(quality)
    if not window.open_path(image or SAMPLE):
        print(f"error: {window.last_error}", file=sys.stderr)
        return 1
    if window.mode != "compress" or window.last_result is None:
        window.compress_now()
    ok = _wait(app, lambda: window.last_result is not None and not window.controller.is_busy,
               timeout_s)
    if not ok:
        print(f"error: no result after {timeout_s:g} s ({window.last_error or 'timeout'})",
              file=sys.stderr)
        return 1
    _wait(app, lambda: False, 0.3)  # let layouts and repaints settle
    if not window.grab().save(str(out)):
        print(f"error: cannot write {out}", file=sys.stderr)
        return 1
    r = window.last_result
    print(f"{out}: {r['bytes']:,} bytes, {r['bpp']:.3f} bpp, {r['psnr']:.2f} dB")
    window.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help") or len(args) > 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    return take_screenshot(Path(args[0]), Path(args[1]) if len(args) > 1 else None)


if __name__ == "__main__":
    sys.exit(main())
