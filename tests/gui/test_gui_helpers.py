"""Small pure helpers of the GUI: masks, result text, file detection, error messages."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QUrl

from app.core.io.imageio import ImageIOError
from app.gui.files import dropped_path, error_reason, is_aei
from app.core.restore.hole_mask import hole_mask as mask_from_pixels
from app.gui.mask import empty_mask, mask_overlay, paint_stroke
from app.gui.panels import format_compress_result


def test_paint_stroke_is_a_thick_segment():
    m = empty_mask((20, 30, 3))
    assert m.shape == (20, 30) and m.dtype == np.uint8
    paint_stroke(m, 5, 10, 25, 10, radius=2)
    assert m[10, 5:25].all()
    assert m[8, 15] and not m[6, 15]  # within / beyond the radius (pixel centres)
    assert not m[:, :2].any()


def test_paint_stroke_dot_and_clipping():
    m = empty_mask((10, 10))
    paint_stroke(m, 0, 0, 0, 0, radius=3)   # partly outside: clipped, no error
    assert m[0, 0] and m[1, 1] and not m[5, 5]
    paint_stroke(m, -50, -50, -40, -40, radius=2)  # fully outside: nothing
    paint_stroke(m, 0, 0, 0, 0, radius=3, value=0)
    assert not m.any()


def test_mask_from_pixels_and_overlay():
    px = np.zeros((4, 5, 3), np.uint8)
    px[1, 2] = (0, 200, 0)
    px[2, 3] = (100, 100, 100)
    m = mask_from_pixels(px, (4, 5, 3))
    assert m.sum() == 1 and m[1, 2] == 1
    assert mask_from_pixels(np.full((4, 5, 1), 255, np.uint8), (4, 5)).all()
    with pytest.raises(ValueError, match="5x4"):
        mask_from_pixels(px, (8, 8, 3))
    over = mask_overlay(m)
    assert over.shape == (4, 5, 4) and over[1, 2, 3] > 0 and over[0, 0, 3] == 0


def test_format_compress_result():
    text = format_compress_result({"bytes": 12345, "bpp": 0.5123, "psnr": 31.204,
                                   "seconds": 0.845})
    assert text == "12,345 bytes · 0.512 bpp · 31.20 dB PSNR · encoded in 0.84 s" or \
        text == "12,345 bytes · 0.512 bpp · 31.20 dB PSNR · encoded in 0.85 s"
    assert "∞" in format_compress_result({"bytes": 1, "bpp": 1.0, "psnr": math.inf})
    assert "PSNR" not in format_compress_result({"bytes": 1, "bpp": 1.0, "psnr": None})


def test_is_aei_by_suffix_or_magic(tmp_path):
    renamed = tmp_path / "file.bin"
    renamed.write_bytes(b"\x8bAEI\r\n\x1a\n rest")
    assert is_aei(renamed)
    assert is_aei(tmp_path / "missing.AEI")
    png = tmp_path / "a.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n")
    assert not is_aei(png) and not is_aei(tmp_path / "missing.png")


def test_dropped_path_picks_supported_local_files(qapp):
    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/a.png"), QUrl.fromLocalFile("/tmp/notes.txt"),
                  QUrl.fromLocalFile("/tmp/photo.JPG"), QUrl.fromLocalFile("/tmp/b.aei")])
    assert dropped_path(mime) == Path("/tmp/photo.JPG")
    assert dropped_path(QMimeData()) is None


def test_error_reason():
    p = Path("x.png")
    assert error_reason(ImageIOError("x.png: file is empty (0 bytes)"), p) == \
        "file is empty (0 bytes)"
    assert error_reason(FileNotFoundError(2, "No such file or directory")) == \
        "No such file or directory"
    assert error_reason(ValueError("")) == "ValueError"


def test_the_gui_uses_the_core_file_types_mask_rule_and_error_line():
    from app.core.io import file_types
    from app.core.restore.hole_mask import hole_mask
    from app.gui import files

    assert files.IMAGE_SUFFIXES is file_types.IMAGE_SUFFIXES
    assert files.AEI_SUFFIX == file_types.AEI_SUFFIX
    assert mask_from_pixels is hole_mask
    # an OS error: the reason alone, the message names the file itself
    assert error_reason(PermissionError(13, "Permission denied", "/in/x.png"), Path("x.png")) \
        == "Permission denied"
