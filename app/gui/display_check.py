"""Whether the desktop app can open a window here, told without importing Qt, and the one
line printed when it cannot (the launcher checks before Qt loads; the GUI again when Qt's
platform plugin fails)."""

from __future__ import annotations

import os
import sys

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
