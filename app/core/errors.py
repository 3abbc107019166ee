"""An exception as one line for a person: the rule the CLI, the GUI and batch all use.

The message is the first line of the exception's text, or its type's name when it has none;
running out of memory is said plainly. An OS error is told by its reason (``strerror``), and
each front end says where the file name goes, because each already names the file in its own
place (the GUI's "Cannot open x.png: ...", a batch report's row). The CLI keeps the system's
own wording, "[Errno 28] No space left on device: 'out.aei'", which docs/robustness.md shows.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["OUT_OF_MEMORY", "FileNamePlace", "error_line", "first_line", "without_name"]

OUT_OF_MEMORY = "out of memory"

# where an OSError's file name goes: "after" ("Permission denied: /in/a.png"), "before"
# ("/in/a.png: Permission denied"), "omit" (the reason alone) or "errno" (the system's own
# text, "[Errno 13] Permission denied: '/in/a.png'", with the name added where it is missing)
FileNamePlace = Literal["after", "before", "omit", "errno"]

# exceptions whose text is meant for the user as it is; any other one from outside the app is
# named by its type as well when ``tag_unexpected`` is set, so that a bug reads as one
_EXPECTED = (ValueError, OSError, LookupError)


def first_line(text: str) -> str:
    """The first line of ``text`` without surrounding blanks ("" when it is blank)."""
    text = text.strip()
    return text.splitlines()[0] if text else ""


def without_name(text: str, name: str | None) -> str:
    """``text`` without a leading ``"<name>: "`` (where the caller names the file itself)."""
    if name and text.startswith(f"{name}: "):
        return text[len(name) + 2:]
    return text


def _os_error_line(exc: OSError, place: FileNamePlace) -> str | None:
    """The line of an OS error, or None where its text is to be used as for any exception."""
    name = exc.filename
    if place == "errno":
        text = first_line(str(exc)) or type(exc).__name__
        return f"{text}: {name}" if name and str(name) not in text else text
    if not exc.strerror:
        return None
    if not name or place == "omit":
        return exc.strerror
    return f"{exc.strerror}: {name}" if place == "after" else f"{name}: {exc.strerror}"


def error_line(exc: BaseException, *, filename: FileNamePlace = "after",
               name: str | None = None, tag_unexpected: bool = False) -> str:
    """One line saying what went wrong in ``exc``.

    ``filename``: where an OS error's file name goes (see :data:`FileNamePlace`). ``name``:
    a file name the caller shows itself, dropped from the start of the line.
    ``tag_unexpected``: prefix the type's name to errors that are neither from the app nor a
    ``ValueError``, ``OSError`` or ``LookupError``.
    """
    if isinstance(exc, MemoryError):
        return OUT_OF_MEMORY
    line = _os_error_line(exc, filename) if isinstance(exc, OSError) else None
    if line is None:
        line = first_line(str(exc))
        if not line:
            return type(exc).__name__
        if tag_unexpected and not isinstance(exc, _EXPECTED) \
                and not type(exc).__module__.startswith("app."):
            line = f"{type(exc).__name__}: {line}"
    return without_name(line, name)
