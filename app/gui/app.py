"""``run_gui``: the QApplication, the icon, the engine and the main window."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QtMsgType, QTimer, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox

from .display_check import plugin_failure

__all__ = ["APP_NAME", "DESKTOP_FILE_NAME", "create_application", "run_gui"]

APP_NAME = "AE Studio"
DESKTOP_FILE_NAME = "aestudio"
# Test hook (docs/desktop.md): with AESTUDIO_QUIT_AFTER_LOAD=1, once the first file given on
# the command line is shown and no job runs, print "loaded: NAME WxH (1 of N)" (or "error:
# MESSAGE") on stdout and quit with status 0 (or 1).  tests/gui/test_gui_launch.py runs the
# desktop entry's Exec line with it.
QUIT_AFTER_LOAD_ENV = "AESTUDIO_QUIT_AFTER_LOAD"


def _new_application(argv: list[str]) -> QApplication:
    """A QApplication, or one line and exit status 1 where Qt cannot open its platform plugin
    (a DISPLAY that does not answer, missing xcb libraries): Qt would print several lines,
    some misleading, and abort (status 134)."""
    held: list[str] = []

    def on_message(mode, _context, message: str) -> None:
        if mode == QtMsgType.QtFatalMsg:
            platform = os.environ.get("QT_QPA_PLATFORM") or "default"
            where = os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY") or "none"
            print(plugin_failure(f"Qt could not start its {platform!r} platform plugin "
                                 f"(display {where!r})"), file=sys.stderr, flush=True)
            os._exit(1)  # returning would let Qt abort()
        held.append(message)

    previous = qInstallMessageHandler(on_message)
    try:
        app = QApplication(argv)
    finally:
        qInstallMessageHandler(previous)
    for message in held:  # the platform started: its warnings are worth seeing
        print(message, file=sys.stderr)
    return app


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (reused if one exists), named and with the AE Studio icon."""
    from .icon import make_app_icon

    app = QApplication.instance()
    if app is None:
        app = _new_application([sys.argv[0] if sys.argv else "aestudio", *(argv or [])])
    # no setApplicationDisplayName: Qt would append it to every window title, which already
    # starts with the name ("AE Studio — x.png — AE Studio")
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName(DESKTOP_FILE_NAME)  # matches resources/aestudio.desktop
    app.setWindowIcon(make_app_icon())
    return app  # type: ignore[return-value]


def run_gui(argv: list[str]) -> int:
    """Open the main window on the files in ``argv`` (images or .aei; several are a list to
    step through with Page Up / Page Down; a folder opens Batch), or on the empty state."""
    app = create_application()
    try:
        from app.core.engine import Engine

        engine = Engine()
    except Exception as exc:  # noqa: BLE001 - explained to the user instead of a traceback
        QMessageBox.critical(None, APP_NAME, f"AE Studio cannot start its engine:\n\n{exc}")
        return 1

    from app.core.runtime.sessions import runtime_conflict

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
    files, folder = open_arguments(window, [Path(a) for a in argv])
    # no file: the window's empty state (drop zone, Open, Open sample), nothing runs unasked
    if os.environ.get(QUIT_AFTER_LOAD_ENV) == "1":
        if files:
            _quit_after_load(app, window, files[0].name)
        else:  # nothing to wait for: report the empty state (or Batch) once the window is up
            shown = "nothing (empty state)" if folder is None else (
                f"batch on {folder.name} (task {window.batch_dialog.task})")
            QTimer.singleShot(0, lambda: (print(f"loaded: {shown}", flush=True),
                                          window.close(), app.exit(0)))
    return app.exec()


def open_arguments(window, paths: list[Path]) -> tuple[list[Path], Path | None]:
    """Open the command line's paths: the files in the window (several: a list to step
    through), the first folder in the Batch dialog, as a dropped folder does; further
    folders are skipped with one line on stderr. Returns (the files, the folder or None)."""
    from .batch_open import open_batch

    folders = [p for p in paths if p.is_dir()]
    files = [p for p in paths if not p.is_dir()]
    for skipped in folders[1:]:
        print(f"aestudio: warning: skipped the folder {skipped}: Batch opens on one folder "
              f"({folders[0]})", file=sys.stderr)
    if len(files) > 1:
        window.open_files(files)
    elif files:
        window.open_path(files[0])
    if folders:
        open_batch(window, folders[0])
    return files, folders[0] if folders else None


def _quit_after_load(app: QApplication, window, name: str) -> None:
    """The ``AESTUDIO_QUIT_AFTER_LOAD`` hook: poll until ``name`` is shown (a decoded .aei
    arrives from a worker thread) or an error is reported, with no job running; then report
    on stdout and quit."""

    def poll() -> None:
        # a large file is read in the background: an earlier error is not this file's result
        if window.controller.is_busy or window.opening:
            QTimer.singleShot(50, poll)
            return
        if window.current_name == name and window.current_pixels is not None:
            h, w = window.current_pixels.shape[:2]
            report, status = f"loaded: {name} {w}x{h} (1 of {max(1, len(window.files))})", 0
        elif window.last_error is not None:
            report, status = f"error: {window.last_error}", 1
        else:
            QTimer.singleShot(50, poll)
            return
        print(report, flush=True)
        window.close()
        app.exit(status)

    QTimer.singleShot(0, poll)
