"""JPEG XL and HEIC through their optional Pillow plugins: real files, and a clear reason
when a plugin is missing (the same-size comparison and the benchmark skip it, never silently)."""

from __future__ import annotations

import builtins
import io

import numpy as np
import pytest
from PIL import Image

from app.core.compare import extra_formats

from app.core.compare import same_size


def _photo(h: int = 96, w: int = 128) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(0)
    img = np.stack([x * 2, y * 2, (x + y)], -1) + rng.normal(0, 8, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture
def no_plugins(monkeypatch):
    """Imports of both plugins fail, as on an install without the ``formats`` extra."""
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.split(".")[0] in ("pillow_jxl", "pillow_heif"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    extra_formats.extra_format_status.cache_clear()
    monkeypatch.setattr(builtins, "__import__", fake_import)
    yield
    monkeypatch.undo()
    extra_formats.extra_format_status.cache_clear()


@pytest.mark.parametrize("fmt,magic", [("jxl", b"\xff\x0a"), ("heic", b"ftypheic")])
def test_encodes_a_real_file_that_pillow_decodes(fmt, magic):
    if extra_formats.extra_format_status(fmt) is not None:
        pytest.skip(extra_formats.extra_format_status(fmt))
    px = _photo()
    data = extra_formats.encode_extra(px, fmt, 60)
    assert magic in data[:12]  # the container the format's own tools write
    with Image.open(io.BytesIO(data)) as im:
        back = np.asarray(im.convert("RGB"), dtype=np.float64)
    assert back.shape == px.shape
    mse = np.mean((back - px) ** 2)
    assert 10 * np.log10(255**2 / mse) > 28  # a real reconstruction, not a blank image


def test_jpeg_xl_at_quality_100_is_lossless():
    """A same-size search whose answer is the top quality must not crash the encoder."""
    if extra_formats.extra_format_status("jxl") is not None:
        pytest.skip(extra_formats.extra_format_status("jxl"))
    px = _photo()
    with Image.open(io.BytesIO(extra_formats.encode_extra(px, "jxl", 100))) as im:
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")), px)


@pytest.mark.parametrize("fmt", ["jxl", "heic"])
def test_same_size_search_fits_the_budget(fmt):
    if fmt not in same_size.available_formats():
        pytest.skip(same_size.format_status(fmt))
    px = _photo()
    small = same_size.encode_at_size(px, fmt, 2500)
    large = same_size.encode_at_size(px, fmt, 9000)
    assert small.fits and len(small.data) <= 2500
    assert large.fits and len(large.data) <= 9000
    assert large.quality > small.quality
    assert small.pixels.shape == px.shape


def test_missing_plugins_give_a_reason_and_are_not_offered(no_plugins):
    for fmt in ("jxl", "heic"):
        reason = same_size.format_status(fmt)
        assert reason is not None and "pip install" in reason
        assert fmt not in same_size.available_formats()
        with pytest.raises(ValueError, match="cannot encode as"):
            same_size.encode_at_size(_photo(), fmt, 5000)
    assert {"jpeg", "webp"} <= set(same_size.available_formats())


def test_benchmark_records_why_a_codec_was_skipped(no_plugins):
    from benchmarks.codec import make_codecs

    skipped: dict[str, str] = {}
    codecs = make_codecs(["jpeg", "jxl", "heic"], [50], [50], 1, skipped)
    assert [c.name for c in codecs] == ["jpeg"]
    assert set(skipped) == {"jxl", "heic"}
    assert all("pip install" in r for r in skipped.values())
