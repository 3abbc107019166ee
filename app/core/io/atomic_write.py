"""Atomic file writes: a target is either absent (or untouched) or complete, never half written.

The data go to a hidden temporary file beside the target, ``.<name>.<8 hex>.part``, which is
flushed and fsynced, then moved into place (without clobbering unless ``overwrite``) and the
folder fsynced. The temporary file never survives, and an OS error (disk full, read-only
folder) names the target, not the temporary file. Used for images (``app.core.io.image_save``),
``.aei`` files (``app.core.jobs``) and batch reports.

Three things around it serve callers that must stay safe under hostile layouts and signals:

* **NAME_MAX.** A legal target name of up to NAME_MAX bytes must still get a temporary name: when
  ``.<name>.<8 hex>.part`` would be too long, ``<name>`` is cut to the longest prefix that fits
  (:func:`temp_stem`; :func:`is_temp_of` recognises both forms).
* **Destination checks.** Within :func:`destination_check`, a callable sees the target folder
  just before the temporary file is created and again just before it is moved into place (the
  batch refuses a folder that was swapped for a symlink into its input meanwhile).
* **Signals.** Every write in flight is registered; :func:`remove_live_temps` deletes their
  temporary files, for the CLI's SIGINT/SIGTERM clean-up.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write_bytes", "destination_check", "is_temp_of", "name_max",
           "probe_writable", "remove_live_temps", "temp_stem", "temp_stem_of", "write_atomically"]

DEFAULT_NAME_MAX = 255
_HEX = 8
_EXTRA = len(".") + len(".") + _HEX + len(".part")  # what the temporary name adds: 15 bytes
_TEMP = re.compile(r"^\.(?P<stem>.+)\.[0-9a-f]{%d}\.part$" % _HEX, re.DOTALL)

# what is being written now (target -> its temporary files), for remove_live_temps()
_live: dict[Path, set[Path]] = {}
_live_lock = threading.RLock()  # re-entrant: a signal handler may clean up mid-update
# a check of each target's folder, set by destination_check() (per thread: a context variable)
_check: contextvars.ContextVar[Callable[[Path], None] | None] = contextvars.ContextVar(
    "aestudio_destination_check", default=None)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes,
                       overwrite: bool = False) -> int:
    """Write ``data`` to ``path`` atomically (see :func:`write_atomically`)."""
    return write_atomically(Path(path), lambda f: f.write(data), overwrite)


def write_atomically(path: Path, writer: Callable[[IO[bytes]], Any], overwrite: bool) -> int:
    """Run ``writer`` on a hidden ``.part`` file beside ``path``, fsync, then move it in.

    The target is either absent/untouched or complete; the temporary file never survives.
    """
    path = Path(path)
    if not overwrite and path.exists():
        raise FileExistsError(f"{path.name}: file already exists")
    directory = path.parent
    check = _check.get()
    mine = _register(path)
    tmp: Path | None = None
    keep = False
    try:
        try:
            if check is not None:
                check(path)
            tmp, fd = _create_temp(directory, path.name)
        except OSError as exc:
            _raise_naming_target(exc, path)
        mine.add(tmp)
        with os.fdopen(fd, "wb") as f:
            writer(f)
            f.flush()
            os.fsync(f.fileno())
            size = os.fstat(f.fileno()).st_size
        if check is not None:
            check(path)            # again, just before the target appears
        if overwrite:
            os.replace(tmp, path)
        else:
            _move_no_clobber(tmp, path)
        _fsync_dir(directory)
        return size
    except OSError as exc:
        _raise_naming_target(exc, path)
    except BaseException as exc:
        # an interrupt (KeyboardInterrupt from a signal handler) between the temporary file's
        # creation and ``tmp`` being set: the target stays registered, so that
        # remove_live_temps() finds the nameless temporary file by its pattern
        keep = tmp is None and not isinstance(exc, Exception)
        raise
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
        if not keep:
            _unregister(path, mine)


# ============================================================================ temporary names


def name_max(directory: str | os.PathLike[str]) -> int:
    """The longest file name (bytes) the file system of ``directory`` allows."""
    try:
        value = os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return DEFAULT_NAME_MAX
    return value if isinstance(value, int) and value > _EXTRA else DEFAULT_NAME_MAX


def temp_stem(name: str, limit: int = DEFAULT_NAME_MAX) -> str:
    """The part of ``name`` that its temporary names carry: all of it when
    ``.<name>.<8 hex>.part`` fits in ``limit`` bytes, else its longest prefix that does."""
    room = limit - _EXTRA
    stem = name
    while stem and len(os.fsencode(stem)) > room:
        stem = stem[:-1]
    return stem


def temp_stem_of(entry: str) -> str | None:
    """The stem a temporary file's name carries (None: ``entry`` is no temporary file)."""
    m = _TEMP.match(entry)
    return m.group("stem") if m else None


def is_temp_of(entry: str, name: str, limit: int = DEFAULT_NAME_MAX) -> bool:
    """Whether ``entry`` (a name in the same folder) is a temporary file of target ``name``."""
    return temp_stem_of(entry) == temp_stem(name, limit)


def _create_temp(directory: Path, name: str) -> tuple[Path, int]:
    stem = temp_stem(name, name_max(directory))
    for _ in range(100):
        tmp = directory / f".{stem}.{secrets.token_hex(_HEX // 2)}.part"
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        return tmp, fd
    raise FileExistsError(f"{name}: cannot create a temporary file in {directory}")


def probe_writable(path: str | os.PathLike[str]) -> None:
    """Raise the OS error an atomic write of ``path`` would meet at its start (folder missing,
    read-only, not a folder; ``path`` a folder), naming ``path``; leave nothing behind."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    try:
        tmp, fd = _create_temp(path.parent, path.name)
    except OSError as exc:
        _raise_naming_target(exc, path)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


# ============================================================================ checks, clean-up


@contextlib.contextmanager
def destination_check(check: Callable[[Path], None]) -> Iterator[None]:
    """Within the block (this thread), call ``check(target)`` before each atomic write
    creates its temporary file and again before it moves it into place; an error it raises
    stops the write (nothing is left)."""
    token = _check.set(check)
    try:
        yield
    finally:
        _check.reset(token)


def _register(path: Path) -> set[Path]:
    mine: set[Path] = set()
    with _live_lock:
        _live[path] = mine
    return mine


def _unregister(path: Path, mine: set[Path]) -> None:
    with _live_lock:
        if _live.get(path) is mine:
            del _live[path]


def remove_live_temps() -> int:
    """Delete the temporary files of every write still in flight (a signal is stopping the
    process); return how many were removed.

    Besides the temporary files known by name, a temporary name of a target in flight is
    removed too: an interrupt may land between the file's creation and its registration.
    """
    with _live_lock:
        live = {target: set(temps) for target, temps in _live.items()}
    removed = 0
    for target, temps in live.items():
        names = {t.name for t in temps}
        limit = name_max(target.parent)
        try:
            entries = os.listdir(target.parent)
        except OSError:
            entries = []
        names.update(e for e in entries if is_temp_of(e, target.name, limit))
        for name in names:
            try:
                os.unlink(target.parent / name)
                removed += 1
            except OSError:
                pass
    return removed


# ============================================================================ helpers


def _raise_naming_target(exc: OSError, path: Path) -> None:
    """Raise the same OS error (type and errno) naming the file the user asked for, not the
    hidden temporary one: "[Errno 28] No space left on device: '.../out.aei'"."""
    if exc.errno is None or exc.filename == str(path):
        raise exc                                    # our own messages, Pillow's encoder errors
    try:
        named = type(exc)(exc.errno, exc.strerror or os.strerror(exc.errno), str(path))
    except TypeError:                                # an OSError subclass with another signature
        raise exc                                    # noqa: B904 - the original, unchanged
    raise named from exc


def _move_no_clobber(tmp: Path, path: Path) -> None:
    """Move ``tmp`` to ``path`` failing if ``path`` appeared meanwhile (hard link when possible)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(f"{path.name}: file already exists") from None
    except OSError:  # file system without hard links
        if path.exists():
            raise FileExistsError(f"{path.name}: file already exists") from None
        os.replace(tmp, path)


def _fsync_dir(directory: Path) -> None:
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
