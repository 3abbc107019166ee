"""Entry point of the ``aestudio`` command: the GUI when asked (or bare with a display),
otherwise the CLI.  Kept apart from ``app.cli`` so that the CLI never imports Qt."""

from __future__ import annotations

import os
import sys


def has_display() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        if not has_display():
            print("No display found: running `aestudio demo` instead of the GUI.",
                  file=sys.stderr)
            argv = ["demo"]
        else:
            argv = ["gui"]
    if argv[0] == "gui":
        from app.gui.app import run_gui

        return run_gui(argv[1:])
    from app.cli.main import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
