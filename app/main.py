"""Entry point of the ``aestudio`` command: the GUI (bare, ``gui [FILE...]`` or ``FILE...`` as
a desktop entry's ``Exec=aestudio %F`` passes them), otherwise the CLI.

Kept apart from ``app.cli`` so that the CLI, ``--help`` included, never imports Qt, and so that
a machine without a display gets one line and exit status 1 instead of Qt's abort."""

from __future__ import annotations

import os
import sys
from pathlib import Path

EXIT_NO_DISPLAY = 1
# what the GUI opens (app.gui.files.IMAGE_SUFFIXES and the .aei suffix; a test keeps them equal)
GUI_SUFFIXES = (".aei", ".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
# Qt platform plugins that need a display server (the others - offscreen, minimal, vnc,
# eglfs, linuxfb... - run anywhere, so Qt is left to judge them)
_DISPLAY_PLATFORMS = ("xcb", "wayland")


def display_problem() -> str | None:
    """Why the GUI cannot open a window here, or None as far as can be told without Qt."""
    platform = os.environ.get("QT_QPA_PLATFORM", "").strip()
    if platform and not platform.startswith(_DISPLAY_PLATFORMS):
        return None
    if not sys.platform.startswith(("linux", "freebsd")):  # Windows, macOS: always a desktop
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return "no display (DISPLAY and WAYLAND_DISPLAY are not set)"


def no_display_line(reason: str) -> str:
    """The one line printed instead of a window."""
    return (f"aestudio: error: cannot open the desktop app: {reason}; the command line works "
            "without one (aestudio --help, aestudio demo)")


def is_gui_file(arg: str) -> bool:
    """A path given as ``aestudio FILE``: an existing file or a name the GUI opens."""
    if arg.startswith("-"):
        return False
    path = Path(arg)
    return path.suffix.lower() in GUI_SUFFIXES or path.is_file()


def gui_files(argv: list[str]) -> list[str]:
    """The files of ``aestudio gui [FILE...]`` or ``aestudio FILE...``, parsed by the CLI's
    parser (``--help`` prints and exits 0, an unknown option exits 2; no Qt either way)."""
    from app.cli.main import build_parser

    args = build_parser().parse_args(argv if argv[:1] == ["gui"] else ["gui", *argv])
    return [str(f) for f in args.files]


def wants_gui(argv: list[str]) -> bool:
    """Bare ``aestudio``, ``aestudio gui ...`` and ``aestudio FILE...`` open the GUI; a
    command name always wins over a file of the same name."""
    from app.cli.main import COMMANDS

    if not argv or argv[0] == "gui":
        return True
    return argv[0] not in COMMANDS and is_gui_file(argv[0])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not wants_gui(argv):
        from app.cli.main import main as cli_main

        return cli_main(argv)
    files = gui_files(argv)
    reason = display_problem()
    if reason:
        print(no_display_line(reason), file=sys.stderr)
        return EXIT_NO_DISPLAY
    try:
        from app.gui.app import run_gui
    except ImportError as exc:  # Qt itself cannot load (a missing system library)
        print(no_display_line(f"Qt cannot load ({exc})"), file=sys.stderr)
        return EXIT_NO_DISPLAY
    return run_gui(files)


if __name__ == "__main__":
    sys.exit(main())
