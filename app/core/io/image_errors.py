"""The errors image reading and writing raise, and the Pillow errors that mean bad data."""

from __future__ import annotations

from PIL import Image

__all__ = ["DECODE_ERRORS", "ImageIOError", "PixelLimitError"]

# errors Pillow raises for corrupt or unsupported data
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError,
                 TypeError, ZeroDivisionError, MemoryError, Image.DecompressionBombError)


class ImageIOError(ValueError):
    """An image could not be read or written; the message names the file."""


class PixelLimitError(ImageIOError):
    """The image has more pixels than the configured limit."""
