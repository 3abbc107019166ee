"""The file types AE Studio reads and writes, by suffix: the one list the CLI, the GUI and
batch share (free of imports, so that the launcher can use it before Qt or numpy load)."""

from __future__ import annotations

__all__ = ["AEI_SUFFIX", "IMAGE_SUFFIXES"]

AEI_SUFFIX = ".aei"
# the images read and written (app.core.io.imageio knows each one's format); the order is the
# preference where a batch finds two masks for one image, PNG first
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
