"""Atomic file writes: a target is either absent (or untouched) or complete, never half written.

The data go to a hidden temporary file beside the target, ``.<name>.<8 hex>.part``, which is
flushed and fsynced, then moved into place (without clobbering unless ``overwrite``) and the
folder fsynced. The temporary file never survives, and an OS error (disk full, read-only
folder) names the target, not the temporary file. Used for images (``app.core.imageio``),
``.aei`` files (``app.core.jobs``) and batch reports.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write_bytes", "write_atomically"]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes,
                       overwrite: bool = False) -> int:
    """Write ``data`` to ``path`` atomically (see :func:`write_atomically`)."""
    return write_atomically(Path(path), lambda f: f.write(data), overwrite)


def write_atomically(path: Path, writer: Callable[[IO[bytes]], Any], overwrite: bool) -> int:
    """Run ``writer`` on a hidden ``.part`` file beside ``path``, fsync, then move it in.

    The target is either absent/untouched or complete; the temporary file never survives.
    """
    if not overwrite and path.exists():
        raise FileExistsError(f"{path.name}: file already exists")
    directory = path.parent
    try:
        tmp, fd = _create_temp(directory, path.name)
    except OSError as exc:
        _raise_naming_target(exc, path)
    try:
        with os.fdopen(fd, "wb") as f:
            writer(f)
            f.flush()
            os.fsync(f.fileno())
            size = os.fstat(f.fileno()).st_size
        if overwrite:
            os.replace(tmp, path)
        else:
            _move_no_clobber(tmp, path)
        _fsync_dir(directory)
        return size
    except OSError as exc:
        _raise_naming_target(exc, path)
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


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


def _create_temp(directory: Path, name: str) -> tuple[Path, int]:
    for _ in range(100):
        tmp = directory / f".{name}.{secrets.token_hex(4)}.part"
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        return tmp, fd
    raise FileExistsError(f"{name}: cannot create a temporary file in {directory}")


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
