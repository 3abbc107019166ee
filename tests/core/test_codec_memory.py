"""The codec never holds whole-image float copies beyond the synthesis output itself."""

from __future__ import annotations

import tracemalloc

import numpy as np

from app.core.codec.image_codec import _to_uint8


def test_to_uint8_equals_the_whole_image_conversion():
    rng = np.random.default_rng(0)
    chw = rng.normal(0.5, 0.4, (3, 300, 410)).astype(np.float32)
    chw[0, 5, 5], chw[1, 200, 3], chw[2, 290, 400] = np.nan, np.inf, -np.inf
    with np.errstate(over="ignore", invalid="ignore"):
        whole = np.nan_to_num(chw, nan=0.0)
        whole = np.clip(np.round(whole.transpose(1, 2, 0) * 255), 0, 255).astype(np.uint8)
        for rows in (1, 7, 128, 1000):
            out = _to_uint8(chw, 291, 403, rows=rows)
            np.testing.assert_array_equal(out, whole[:291, :403])
            assert out.flags.c_contiguous
    assert out[5, 5, 0] == 0 and out[200, 3, 1] == 255


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_decode_and_analyse_work_in_tiles_and_bands(tiny_engine):
    """The float temporaries of the 8-bit conversion (five whole-image copies when decoding,
    two when analysing) are gone: what is left is the synthesis output and one tile."""
    codec = tiny_engine.codec()
    h, w = 1024, 1280
    yy, xx = np.mgrid[0:h, 0:w]
    pixels = np.stack([xx % 256, yy % 256, (xx + yy) % 256], -1).astype(np.uint8)
    one_float_copy = pixels.size * 4
    analysis = codec.analyse(pixels)
    data = codec.encode_analysis(analysis, 50)
    assert _peak(lambda: codec.analyse(pixels)) < one_float_copy
    assert _peak(lambda: codec.decode(data)) < 2 * one_float_copy
