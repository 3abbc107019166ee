"""``run_gui``: the QApplication, the icon, the engine and the main window."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

__all__ = ["APP_NAME", "DESKTOP_FILE_NAME", "create_application", "run_gui"]

APP_NAME = "AE Studio"
DESKTOP_FILE_NAME = "aestudio"


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists), named and with the AE Studio icon."""
    from .icon import make_app_icon

    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "aestudio", *(argv or [])])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName(DESKTOP_FILE_NAME)  # matches resources/aestudio.desktop
    app.setWindowIcon(make_app_icon())
    return app  # type: ignore[return-value]


def run_gui(argv: list[str]) -> int:
    """Open the main window on ``argv[0]`` (an image or .aei) or the bundled sample."""
    app = create_application()
    try:
        from app.core.engine import Engine

        engine = Engine()
    except Exception as exc:  # noqa: BLE001 - explained to the user instead of a traceback
        QMessageBox.critical(None, APP_NAME, f"AE Studio cannot start its engine:\n\n{exc}")
        return 1

    from app.core.demo import SAMPLE
    from app.core.sessions import runtime_conflict

    from .main_window import MainWindow

    window = MainWindow(engine)
    window.show()
    conflict = runtime_conflict()
    if conflict:
        window.show_error(conflict)
    if not engine.registry.list("codec"):
        problems = "\n".join(engine.registry.problems)
        window.show_error(f"No codec model was found in {engine.registry.root}."
                          + (f"\n\n{problems}" if problems else ""))
    path = Path(argv[0]) if argv else SAMPLE
    if path.exists() or argv:
        window.open_path(path)
    return app.exec()
