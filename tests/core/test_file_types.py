"""The one list of image suffixes (app.core.io.file_types) is what image I/O can write and read
back, and what the batch planner scans for."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.io.file_types import AEI_SUFFIX, IMAGE_SUFFIXES
from app.core.io.image_save import save_image
from app.core.io.imageio import load_image


@pytest.mark.parametrize("suffix", IMAGE_SUFFIXES)
def test_every_listed_suffix_is_written_and_read_back(tmp_path, suffix):
    px = np.full((6, 8, 3), 120, np.uint8)
    path = tmp_path / f"a{suffix.upper()}"           # suffixes match in any case
    save_image(px, path)
    assert load_image(path).pixels.shape == (6, 8, 3)


def test_the_aei_suffix_is_not_an_image_and_png_is_preferred():
    assert AEI_SUFFIX not in IMAGE_SUFFIXES and IMAGE_SUFFIXES[0] == ".png"
    assert len(set(IMAGE_SUFFIXES)) == len(IMAGE_SUFFIXES)
    assert all(s == s.lower() and s.startswith(".") for s in IMAGE_SUFFIXES)


def test_batch_scans_for_exactly_these(tmp_path):
    from app.core.batch.plan import input_suffixes, scan_local

    for name in ("a.png", "b.JPG", "c.tiff", "d.aei", "e.gif", "f.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert scan_local(tmp_path, False, input_suffixes("denoise")) == \
        ["a.png", "b.JPG", "c.tiff"]
    assert scan_local(tmp_path, False, input_suffixes("decompress")) == ["d.aei"]
