"""Whether the desktop app can open a window here, told without importing Qt, and the one
line printed when it cannot (the launcher checks before Qt loads; the GUI again when Qt's
platform plugin fails). Where the X11 plugin fails because system libraries are missing
(a fresh Debian or Ubuntu lacks libxcb-cursor0 and others), the line names the packages."""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable

# Qt platform plugins that need a display server (the others - offscreen, minimal, vnc,
# eglfs, linuxfb... - run anywhere, so Qt is left to judge them)
_DISPLAY_PLATFORMS = ("xcb", "wayland")
# the libraries Qt's xcb plugin loads that a minimal Debian / Ubuntu may lack, with the
# package of each (docs/desktop.md, "System libraries")
XCB_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0", "libxcb-util.so.1": "libxcb-util1",
    "libxcb-sync.so.1": "libxcb-sync1", "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-shm.so.0": "libxcb-shm0", "libxcb-render.so.0": "libxcb-render0",
    "libxkbcommon.so.0": "libxkbcommon0", "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1", "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}
DOC_SECTION = "docs/desktop.md, \"System libraries\""


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


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_packages(loads: Callable[[str], bool] = _loads) -> list[str]:
    """The Debian packages of the X11 plugin's libraries that cannot be loaded here (none
    off Linux)."""
    if not sys.platform.startswith("linux"):
        return []
    return [package for soname, package in XCB_PACKAGES.items() if not loads(soname)]


def plugin_failure(reason: str, loads: Callable[[str], bool] = _loads) -> str:
    """The one line for a Qt platform plugin that failed: with the packages to install where
    libraries are missing, else with where the list of them is."""
    packages = missing_packages(loads)
    if packages:
        return no_display_line(f"{reason}: system libraries are missing; install them with "
                               f"`sudo apt-get install {' '.join(packages)}` (see {DOC_SECTION})")
    return no_display_line(f"{reason} (if the display works, check the system libraries "
                           f"listed in {DOC_SECTION})")
