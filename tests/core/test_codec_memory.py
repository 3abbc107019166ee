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


def test_a_big_image_is_synthesised_on_smaller_tiles_with_the_same_pixels(tiny_engine,
                                                                         monkeypatch):
    """From RELEASE_PIXELS on the synthesis tiles shrink to BIG_SYNTHESIS_TILE_PX (memory);
    the decoded pixels stay the same, and the progress total counts those tiles."""
    import app.core.codec.image_codec as ic
    from app.spec import bitstream as bsf

    codec = tiny_engine.codec()
    yy, xx = np.mgrid[0:384, 0:448]
    pixels = np.stack([xx % 256, yy % 256, (xx * yy) % 256], -1).astype(np.uint8)
    data = codec.encode(pixels, 60)
    whole_tiles = codec.decode(data)

    seen: list[tuple[int, int]] = []
    for name in ("run", "run_releasing"):
        real = getattr(codec.sessions, name)

        def spy(model, graph, _real=real, **inputs):
            if graph == "synthesis":
                seen.append(next(iter(inputs.values())).shape[2:])
            return _real(model, graph, **inputs)
        monkeypatch.setattr(codec.sessions, name, spy)
    monkeypatch.setattr(ic, "RELEASE_PIXELS", 1)
    monkeypatch.setattr(ic, "BIG_SYNTHESIS_TILE_PX", 128)
    steps: list[tuple[int, int]] = []
    small_tiles = codec.decode(data, progress=lambda d, t: steps.append((d, t)))
    np.testing.assert_array_equal(small_tiles, whole_tiles)
    context = codec.context_px // ic.LATENT_FACTOR
    assert len(seen) == 12                        # 384 x 448 in 128-pixel tiles: 3 x 4
    assert max(max(s) for s in seen) <= 128 // ic.LATENT_FACTOR + 2 * context
    assert steps[-1] == (codec.decode_steps(bsf.unpack(data)),) * 2 and len(steps) == steps[-1][0]
