"""What the GUI can open and save: suffixes, dialog filters, .aei detection, drops, messages."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData

from app.core.imageio import ImageIOError
from app.spec.bitstream import MAGIC

__all__ = [
    "AEI_FILTER", "AEI_SUFFIX", "FILE_ERRORS", "IMAGE_FILTER", "IMAGE_SUFFIXES", "OPEN_FILTER",
    "dropped_path", "error_reason", "is_aei",
]

AEI_SUFFIX = ".aei"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
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
    try:
        with open(path, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def dropped_path(mime: QMimeData) -> Path | None:
    """The first local image or .aei file among the URLs of a drag, else None."""
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile():
            path = Path(url.toLocalFile())
            if path.suffix.lower() in IMAGE_SUFFIXES + (AEI_SUFFIX,):
                return path
    return None


def error_reason(exc: BaseException, path: Path | None = None) -> str:
    """The first line of ``exc``'s message, without a leading "<file name>: "."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    if path is not None and text.startswith(f"{path.name}: "):
        text = text[len(path.name) + 2:]
    return text
