"""The Qt-free document of the desktop app: every transition resets exactly what it must."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.document import CANCELLED_NOTE, MODES, PREVIEW_PENDING, Document, Source


def image(h: int = 8, w: int = 12, value: int = 100) -> np.ndarray:
    return np.full((h, w, 3), value, np.uint8)


class Recorder:
    """Collects the document's events in order."""

    def __init__(self, doc: Document) -> None:
        self.events: list[tuple] = []
        doc.image_changed.connect(lambda: self.events.append(("image",)))
        doc.mode_changed.connect(lambda m: self.events.append(("mode", m)))
        doc.same_size_changed.connect(lambda: self.events.append(("same_size",)))


@pytest.fixture
def doc() -> Document:
    d = Document()
    d.open(image(), Source("file", "a.png", Path("/x/a.png"), 1234))
    return d


def finished_everything(d: Document) -> None:
    d.start("compress", "Compressing…")
    d.finish("compress", image(value=101), {"bytes": 50, "seconds": 0.3}, b"aei")
    d.finish_same_size({"format": "webp", "quality": 17, "bytes": 50, "pixels": image()})
    d.finish("denoise", image(value=102), {"sigma": 45.0, "automatic": False})
    d.finish("inpaint", image(value=103), {"seconds": 18.32})
    d.set_note("inpaint", "Mask m.png")


def test_a_new_document_is_empty():
    d = Document()
    assert not d.has_image and d.source.kind == "none" and not d.busy
    assert all(d.result(m) is None and d.state(m).info is None for m in MODES)


def test_opening_another_image_forgets_every_readout(doc):
    finished_everything(doc)
    doc.mask = np.ones((8, 12), np.uint8)
    rec = Recorder(doc)
    doc.open(image(value=7), Source("file", "b.png", Path("/x/b.png"), 99))
    for mode in MODES:
        s = doc.state(mode)
        assert (s.result, s.info, s.busy, s.stale, s.note) == (None, None, False, False, "")
    assert doc.same_size.result is None and doc.aei_data is None and doc.mask is None
    assert doc.source.name == "b.png" and doc.source.file_bytes == 99
    # everyone is told: the image, every mode and the same-size line
    assert rec.events == [("image",), *(("mode", m) for m in MODES), ("same_size",)]


def test_opening_while_busy_clears_the_busy_flags(doc):
    doc.start("denoise", "Denoising…")
    doc.start_same_size("webp")
    doc.open(image(), Source("file", "c.png"))
    assert not doc.busy


def test_start_marks_an_existing_result_stale_and_finish_makes_it_fresh(doc):
    doc.start("compress", "Compressing at quality 75…")
    s = doc.state("compress")
    assert s.busy and s.busy_text == "Compressing at quality 75…" and not s.stale
    doc.finish("compress", image(value=1), {"bytes": 10}, b"1")
    assert not doc.state("compress").busy and doc.aei_data == b"1"
    doc.start("compress", "Compressing at quality 40…")
    assert doc.state("compress").stale and doc.state("compress").result is not None
    doc.finish("compress", image(value=2), {"bytes": 9}, b"2")
    s = doc.state("compress")
    assert not s.stale and not s.busy and s.info == {"bytes": 9}


def test_cancel_clears_busy_says_so_and_keeps_earlier_results(doc):
    doc.finish("denoise", image(value=5), {"sigma": 10.0})
    doc.start("denoise", "Denoising…")
    rec = Recorder(doc)
    doc.cancel()
    s = doc.state("denoise")
    assert not s.busy and s.busy_text == "" and s.note == CANCELLED_NOTE
    assert s.result is not None and s.stale  # made with other settings than requested
    assert rec.events == [("mode", "denoise")]
    assert not doc.busy


def test_a_cancelled_first_compress_keeps_its_preview_said_to_be_stopped(doc):
    doc.start("compress", "Compressing…")
    preview = image(value=7)
    assert doc.show_preview("compress", preview, f"Preview · quality 40{PREVIEW_PENDING}")
    doc.cancel()
    s = doc.state("compress")
    assert s.result is None and s.preview is preview
    assert s.preview_text == "Preview · quality 40 · stopped"
    doc.start("compress", "Compressing…")                 # the next job starts afresh
    assert doc.state("compress").preview is None


def test_a_cancelled_recompress_drops_its_preview_for_the_earlier_result(doc):
    doc.finish("compress", image(value=5), {})
    doc.start("compress", "Compressing…")
    doc.show_preview("compress", image(value=7), f"Preview{PREVIEW_PENDING}")
    doc.cancel()
    assert doc.state("compress").preview is None and doc.state("compress").result is not None


def test_cancel_without_a_job_changes_nothing(doc):
    rec = Recorder(doc)
    doc.cancel()
    assert rec.events == [] and all(doc.state(m).note == "" for m in MODES)


def test_failure_is_noted_on_the_busy_mode_and_the_same_size_line(doc):
    doc.finish("compress", image(value=1), {"bytes": 10}, b"1")
    doc.start_same_size("webp")
    doc.fail("boom")
    assert not doc.same_size.busy and doc.same_size.note == "boom"
    doc.start("inpaint", "Inpainting…")
    doc.fail("Out of memory.")
    assert doc.state("inpaint").note == "Out of memory." and not doc.state("inpaint").busy
    assert doc.state("compress").note == ""  # not running: untouched


def test_a_new_job_replaces_the_running_one_of_another_mode(doc):
    """The app runs one job at a time: starting Denoise stops a running compress."""
    doc.start("compress", "Compressing…")
    doc.start("denoise", "Denoising…")
    assert not doc.state("compress").busy and "Denoise" in doc.state("compress").note
    assert doc.state("denoise").busy


def test_decoded_aei_keeps_decode_time_apart_from_encode_time():
    d = Document()
    pixels = image(16, 32)
    d.open_decoded(pixels, Source("file", "x.aei", Path("/x/x.aei")), b"\0" * 64, 0.7, "codec-v1")
    assert d.source.kind == "aei" and d.source.is_decoded and d.source.role == "Decoded"
    info = d.state("compress").info
    assert info["decode_seconds"] == 0.7 and info["seconds"] is None
    assert info["bytes"] == 64 and info["bpp"] == pytest.approx(64 * 8 / (16 * 32))
    assert d.result("compress") is pixels and d.aei_data == b"\0" * 64
    assert not d.can_compare_classic  # no original to encode with a classic codec


def test_a_decoded_aei_after_a_compressed_image_drops_the_same_size_result(doc):
    finished_everything(doc)
    doc.open_decoded(image(), Source("aei", "x.aei"), b"abc", 0.1)
    assert doc.same_size.result is None and doc.state("denoise").info is None


def test_compress_finish_or_start_invalidates_the_same_size_comparison(doc):
    doc.finish("compress", image(value=1), {"bytes": 10}, b"1")
    doc.finish_same_size({"format": "jpeg", "quality": 50, "bytes": 10})
    doc.start("compress", "Compressing…")
    assert doc.same_size.result is None and doc.same_size.format == "jpeg"


def test_mask_change_makes_the_inpainted_result_stale(doc):
    doc.set_mask(np.zeros((8, 12), np.uint8))
    assert not doc.state("inpaint").stale  # nothing to be stale yet
    doc.finish("inpaint", image(value=9), {"seconds": 1.0})
    rec = Recorder(doc)
    doc.set_mask(np.ones((8, 12), np.uint8))
    assert doc.state("inpaint").stale and rec.events == [("mode", "inpaint")]


def test_close_is_the_empty_state(doc):
    finished_everything(doc)
    doc.close()
    assert not doc.has_image and doc.source.kind == "none"
    assert all(doc.result(m) is None for m in MODES)


@pytest.mark.parametrize("source, recent", [
    (Source("file", "a.png", Path("/a.png")), True),
    (Source("aei", "a.aei", Path("/a.aei")), True),
    (Source("sample", "sample.png", Path("/s.png")), False),
    (Source("pasted", "pasted image"), False),
    (Source("file", "made in a test"), False),
])
def test_only_files_the_user_opened_belong_in_open_recent(source, recent):
    assert source.belongs_in_recent_files is recent


def test_unknown_source_kind_is_refused():
    with pytest.raises(ValueError):
        Source("camera", "x")


# ------------------------------------------------------------------ an .aei being decoded
def test_an_aei_being_decoded_is_named_at_once_without_pixels(doc):
    finished_everything(doc)
    rec = Recorder(doc)
    doc.start_decoding("b.aei", Path("/x/b.aei"))
    assert doc.decoding and doc.source.name == "b.aei" and not doc.has_image
    assert doc.state("compress").busy and doc.state("compress").busy_text == "Decoding b.aei…"
    assert all(doc.result(m) is None for m in MODES) and doc.aei_data is None
    assert not doc.can_compare_classic
    assert ("image",) in rec.events


def test_a_decoded_aei_ends_the_decoding_with_the_quality_of_its_header(doc):
    doc.start_decoding("b.aei")
    doc.open_decoded(image(), Source("aei", "b.aei"), b"abc", 0.1, "codec-v1", 75.0)
    assert not doc.decoding and doc.has_image and doc.state("compress").info["quality"] == 75
    doc.cancel()  # nothing put aside any more: the decoded file stays
    assert doc.source.name == "b.aei" and doc.has_image


@pytest.mark.parametrize("stop", [Document.cancel, lambda d: d.fail("Cannot open b.aei: x"),
                                  lambda d: d.stop_all("Stopped to open c.png.")])
def test_a_decode_that_stops_brings_back_the_image_open_before(doc, stop):
    finished_everything(doc)
    shown, compressed = doc.image, doc.result("compress")
    doc.start_decoding("b.aei")
    doc.start_decoding("c.aei")  # another one before the first decoded: still a.png is kept
    rec = Recorder(doc)
    stop(doc)
    assert not doc.decoding and doc.source.name == "a.png" and doc.image is shown
    assert doc.result("compress") is compressed and doc.aei_data == b"aei"
    assert not doc.busy and ("image",) in rec.events


def test_a_decode_that_stops_with_nothing_open_before_is_the_empty_state():
    d = Document()
    d.start_decoding("b.aei")
    d.cancel()
    assert not d.decoding and not d.has_image and d.source.kind == "none"


def test_a_continued_inpainting_step_is_named_in_the_role(doc):
    from dataclasses import replace

    assert doc.source.role == "Original"
    doc.open(image(value=5), replace(doc.source, step=1))
    assert doc.source.role == "Inpainted" and doc.source.step == 1
