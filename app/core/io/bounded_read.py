"""The one way input files are read: regular files only, never more than a fixed number of bytes.

Images, ``.aei`` files and model manifests all come through :func:`read_input`, from the CLI,
the batch runner and the GUI alike. It exists because ``st_size`` cannot be trusted: it is 0
for ``/dev/zero``, for a pipe or a socket, so a size check made from it lets a device be read
until memory runs out, and opening a FIFO that nobody writes to blocks forever. So:

* the path is ``stat``-ed and anything but a regular file (a device, FIFO, socket or folder) is
  refused before it is opened, so no device driver ever sees an ``open``;
* the file is opened with ``O_NONBLOCK`` (a FIFO swapped in after the ``stat`` then opens at
  once instead of blocking) and ``fstat``-ed again, and refused unless it is still the same
  regular file;
* it is read in chunks, and reading stops as soon as the limit is passed, whatever the size
  the file claims (a file that grows while it is read, or a filesystem that lies, is caught);
* reading stops after ``max_seconds``, for filesystems that deliver bytes very slowly.

``-`` is not standard input here: the CLI takes file names only, so ``-`` is a file named
``-``. Every refusal is an :class:`InputFileError` whose one-line message names the file.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

__all__ = ["CHUNK_BYTES", "DEFAULT_MAX_SECONDS", "MAX_INPUT_BYTES", "InputFileError",
           "read_head", "read_input"]

# The largest input read: a 100-megapixel 16-bit RGBA TIFF without compression is 800 MB.
MAX_INPUT_BYTES = 1 << 30
# A local disk reads 1 GiB in seconds; this only stops filesystems that trickle bytes.
DEFAULT_MAX_SECONDS = 300.0
CHUNK_BYTES = 1 << 20

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a pipe (FIFO)"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


class InputFileError(ValueError):
    """An input cannot be read: not a regular file, too large, or too slow. Names the file."""


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _refuse_special(name: str, mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise InputFileError(f"{name}: is {_kind(mode)}, not a regular file; "
                             f"only regular files are read")


def read_input(path: str | os.PathLike[str], *, max_bytes: int = MAX_INPUT_BYTES,
               max_seconds: float = DEFAULT_MAX_SECONDS, name: str | None = None) -> bytes:
    """All bytes of the regular file ``path``, at most ``max_bytes`` of them.

    Raises :class:`InputFileError` for a special file, a file over ``max_bytes`` (counted
    while reading, not taken from ``st_size``) or one that takes over ``max_seconds``; and
    ``OSError`` (missing file, no permission) as the OS reports it.
    """
    p = Path(path)
    label = name or str(p)
    _refuse_special(label, os.stat(p).st_mode)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) \
        | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(p, flags)
    try:
        st = os.fstat(fd)
        _refuse_special(label, st.st_mode)   # swapped for a FIFO or device after the stat
        return _read_capped(fd, label, st.st_size, max_bytes, max_seconds)
    finally:
        os.close(fd)


def read_head(path: str | os.PathLike[str], count: int) -> bytes:
    """The first ``count`` bytes of the regular file ``path`` (fewer if it is shorter), for
    sniffing a format; a FIFO, device or socket raises :class:`InputFileError` instead of
    blocking."""
    p = Path(path)
    _refuse_special(str(p), os.stat(p).st_mode)
    fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
                 | getattr(os, "O_BINARY", 0))
    try:
        _refuse_special(str(p), os.fstat(fd).st_mode)
        return os.read(fd, count)
    finally:
        os.close(fd)


def _read_capped(fd: int, name: str, claimed: int, max_bytes: int, max_seconds: float) -> bytes:
    if claimed > max_bytes:
        raise InputFileError(_too_large(name, max_bytes, f"{claimed:,} bytes, "))
    deadline = time.monotonic() + max_seconds
    chunks: list[bytes] = []
    total = 0
    while True:
        # one byte more than allowed is enough to know the file is over the limit
        block = os.read(fd, min(CHUNK_BYTES, max_bytes + 1 - total))
        if not block:
            return b"".join(chunks)
        chunks.append(block)
        total += len(block)
        if total > max_bytes:
            raise InputFileError(_too_large(name, max_bytes))
        if time.monotonic() > deadline:
            raise InputFileError(f"{name}: reading took more than {max_seconds:g} s; "
                                 f"stopped after {total:,} bytes")


def _too_large(name: str, max_bytes: int, size: str = "") -> str:
    return (f"{name}: file is too large to read ({size}more than the limit of "
            f"{max_bytes:,} bytes)")
