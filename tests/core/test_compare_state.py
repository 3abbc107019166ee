"""The Qt-free state of the Squoosh-style comparison: choices, encode plans, captions, and
how the document resets the classic sides."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.compare.sides import (
    SideChoice,
    encode_plan,
    percent_smaller,
    side_caption,
    times_smaller,
)
from app.core.document import Document, Source


def test_a_codec_side_matches_the_other_side_or_uses_its_own_quality():
    sides = {"left": SideChoice("webp"), "right": SideChoice("aestudio")}
    assert encode_plan("left", sides, 1234) == ("size", 1234)
    assert encode_plan("left", sides, None) is None  # the other file is not known yet
    assert encode_plan("right", sides, 99) is None  # not a codec
    sides["left"] = SideChoice("jpeg", quality=40, match=False)
    assert encode_plan("left", sides, 1234) == ("quality", 40)
    # both codecs matching each other: the right one uses its quality, the left matches it
    sides = {"left": SideChoice("jpeg"), "right": SideChoice("webp", quality=30)}
    assert encode_plan("right", sides, None) == ("quality", 30)
    assert encode_plan("left", sides, 500) == ("size", 500)
    with pytest.raises(ValueError):
        SideChoice("gif")


def test_captions_show_bytes_percent_smaller_and_psnr():
    text = side_caption("webp", 12_345, 200_000, 31.234, 62)
    assert text == "WebP q62 · 12,345 bytes · 94% smaller · 31.23 dB"
    assert percent_smaller(250, 200) == "25% larger"
    assert percent_smaller(1, 100_000) == "99.9% smaller"  # never "100%" for a real file
    assert percent_smaller(10, None) == ""
    assert times_smaller(3_800, 100_000) == "26× smaller"
    assert times_smaller(700, 1000) == "1.4× smaller"
    assert "lowest quality" in side_caption("jpeg", 900, 1000, 20.0, 1, fits=False)


def img(v=0) -> np.ndarray:
    return np.full((8, 12, 3), v, np.uint8)


def test_document_keeps_one_classic_result_per_side_and_resets_them():
    doc = Document()
    events = []
    doc.same_size_changed.connect(lambda: events.append(1))
    doc.open(img(), Source("file", "a.png", file_bytes=1000))
    doc.set_side("left", SideChoice("webp"))
    doc.set_side("right", SideChoice("jpeg", 50, match=False))
    doc.finish("compress", img(1), {"bytes": 100}, b"x" * 100)
    assert doc.side_bytes("left") is None and doc.side_bytes("right") is None
    doc.finish_same_size({"format": "webp", "bytes": 90, "pixels": img(2)}, "left")
    doc.finish_same_size({"format": "jpeg", "bytes": 300, "pixels": img(3)}, "right")
    assert doc.side_bytes("left") == 90 and doc.side_bytes("right") == 300
    # a new AE Studio file: only the side matched to a size goes
    doc.start("compress", "Compressing…")
    assert doc.classic["left"].result is None and doc.classic["right"].result is not None
    # a side changes: its result goes, and the other side's if it matched this one
    doc.finish_same_size({"format": "webp", "bytes": 90, "pixels": img(2)}, "left")
    doc.set_side("right", SideChoice("avif", 50, match=False))
    assert doc.classic["right"].result is None and doc.classic["left"].result is None
    doc.set_side("left", SideChoice("original"))
    assert doc.side_bytes("left") == 1000
    # a new image keeps the choices and drops every result
    doc.finish_same_size({"format": "avif", "bytes": 10, "pixels": img()}, "right")
    doc.open(img(5), Source("file", "b.png"))
    assert doc.sides["right"].kind == "avif" and doc.classic["right"].result is None
    assert events
