"""What the GUI can open and save: suffixes, dialog filters, .aei detection, drops, messages."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData

from app.core.errors import error_line
from app.core.io.bounded_read import InputFileError, read_head
from app.core.io.file_types import AEI_SUFFIX, IMAGE_SUFFIXES
from app.core.io.imageio import ImageIOError
from app.spec.bitstream import MAGIC

__all__ = [
    "AEI_FILTER", "AEI_SUFFIX", "FILE_ERRORS", "IMAGE_FILTER", "IMAGE_SUFFIXES", "OPEN_FILTER",
    "dropped_path", "dropped_paths", "error_reason", "file_size", "is_aei",
]

IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ")"
AEI_FILTER = f"AE Studio files (*{AEI_SUFFIX})"
OPEN_FILTER = (f"Images and AE Studio files ({' '.join('*' + s for s in IMAGE_SUFFIXES)} "
               f"*{AEI_SUFFIX});;{IMAGE_FILTER};;{AEI_FILTER};;All files (*)")
# what reading or writing a user's file may raise (all shown as messages)
FILE_ERRORS = (ImageIOError, OSError, ValueError)


def is_aei(path: Path) -> bool:
    """An .aei file: by its suffix, or by its magic bytes whatever the name."""
    if path.suffix.lower() == AEI_SUFFIX:
        return True
    try:  # a FIFO or device named like an image must not block the UI thread
        return read_head(path, len(MAGIC)) == MAGIC
    except (OSError, InputFileError):
        return False


def dropped_paths(mime: QMimeData) -> list[Path]:
    """The local image and .aei files among the URLs of a drag, in the order dropped."""
    if not mime.hasUrls():
        return []
    paths = (Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile())
    return [p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES + (AEI_SUFFIX,)]


def dropped_path(mime: QMimeData) -> Path | None:
    """The first local image or .aei file among the URLs of a drag, else None."""
    paths = dropped_paths(mime)
    return paths[0] if paths else None


def file_size(path: Path) -> int | None:
    """The size of the file in bytes (None if it cannot be read)."""
    try:
        return path.stat().st_size
    except OSError:
        return None


def error_reason(exc: BaseException, path: Path | None = None) -> str:
    """``exc`` in one line for a message that names the file itself ("Cannot open x.png: ..."):
    without the file's name, whether the OS or the core put it in."""
    return error_line(exc, filename="omit", name=path.name if path is not None else None)
