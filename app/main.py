"""Entry point of the ``aestudio`` command: the GUI (bare, ``gui [FILE...]``, ``FILE...`` as
a desktop entry's ``Exec=aestudio %F`` passes them, or a folder for Batch), otherwise the CLI.

Kept apart from ``app.cli`` so that the CLI, ``--help`` included, never imports Qt, and so that
a machine without a display gets one line and exit status 1 instead of Qt's abort."""

from __future__ import annotations

import sys
from pathlib import Path

from app.core.io.file_types import AEI_SUFFIX, IMAGE_SUFFIXES
from app.gui.display_check import display_problem, no_display_line, plugin_failure

EXIT_NO_DISPLAY = 1
GUI_SUFFIXES = (AEI_SUFFIX, *IMAGE_SUFFIXES)  # what the GUI opens


def is_gui_file(arg: str) -> bool:
    """A path given as ``aestudio FILE`` or ``aestudio DIR``: an existing file or folder (a
    folder opens Batch), or a name the GUI opens."""
    if arg.startswith("-"):
        return False
    path = Path(arg)
    return path.suffix.lower() in GUI_SUFFIXES or path.is_file() or path.is_dir()


def gui_files(argv: list[str]) -> list[str]:
    """The files of ``aestudio gui [FILE...]`` or ``aestudio FILE...``, parsed by the CLI's
    parser (``--help`` prints and exits 0, an unknown option exits 2; no Qt either way)."""
    from app.cli.main import build_parser

    args = build_parser().parse_args(argv if argv[:1] == ["gui"] else ["gui", *argv])
    return [str(f) for f in args.files]


def wants_gui(argv: list[str]) -> bool:
    """Bare ``aestudio``, ``aestudio gui ...``, ``aestudio FILE...`` and ``aestudio DIR`` open
    the GUI; a command name always wins over a file or folder of the same name."""
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
        print(plugin_failure(f"Qt cannot load ({exc})"), file=sys.stderr)
        return EXIT_NO_DISPLAY
    return run_gui(files)


if __name__ == "__main__":
    sys.exit(main())
