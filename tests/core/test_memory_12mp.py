"""The memory mechanisms behind a 12 MP compress and decode within 1.5 GB (issue 28):

* a big image's analysis and synthesis tiles end with a run that makes the session's
  onnxruntime arena give its memory back, so the two transforms' working sets (0.3 and
  0.7 GB with the shipped codec) are never held at once, nor during the entropy coding;
* the synthesis output becomes 8-bit pixels tile by tile: no float array of the whole image.

(The peak itself is measured by ``benchmarks/gui_latency.py --sizes 12mp``.)
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from app.core.codec import image_codec
from app.core.runtime import sessions
from app.core.runtime.tiling import run_rescaling_tiles
from tests.conftest import smooth_image


class _Recording:
    """The engine's session pool, recording which runs release the arena's memory."""

    def __init__(self, pool) -> None:
        self.pool, self.registry, self.calls = pool, pool.registry, []

    def run(self, model, graph, **inputs):
        self.calls.append((graph, False))
        return self.pool.run(model, graph, **inputs)

    def run_releasing(self, model, graph, **inputs):
        self.calls.append((graph, True))
        return self.pool.run_releasing(model, graph, **inputs)


@pytest.fixture
def recording_codec(tiny_engine):
    codec = tiny_engine.codec()
    pool = codec.sessions
    codec.sessions = _Recording(pool)
    codec.tile_px = 128  # several tiles on a small image
    yield codec
    codec.sessions, codec.tile_px = pool, 512


def _releases(calls, graph):
    return [released for g, released in calls if g == graph]


def test_big_images_release_each_transforms_memory_after_its_last_tile(recording_codec,
                                                                         monkeypatch):
    codec = recording_codec
    img = smooth_image(200, 330, seed=3)
    monkeypatch.setattr(image_codec, "RELEASE_PIXELS", 200 * 330)  # "big" from this size on
    data = codec.encode(img, 50)
    out = codec.decode(data)
    for graph in ("analysis", "synthesis"):
        runs = _releases(codec.sessions.calls, graph)
        assert len(runs) > 4, graph  # tiled
        assert runs == [False] * (len(runs) - 1) + [True], graph
    assert _releases(codec.sessions.calls, "hyper_analysis") == [False]
    monkeypatch.setattr(image_codec, "RELEASE_PIXELS", 1 << 40)
    assert np.array_equal(codec.decode(data), out)  # releasing changes no pixel


def test_small_images_keep_the_arena(recording_codec, monkeypatch):
    """Taking the memory again costs ~20 % of a Kodak image's encode and decode."""
    codec = recording_codec
    monkeypatch.setattr(image_codec, "RELEASE_PIXELS", 4_000_000)
    codec.decode(codec.encode(smooth_image(200, 330, seed=3), 50))
    assert not any(released for _, released in codec.sessions.calls)
    assert image_codec.RELEASE_PIXELS <= 4000 * 3000 // 2  # a 12 MP photo does release


def test_the_releasing_run_asks_onnxruntime_to_shrink_the_cpu_arena():
    opts = sessions._RELEASING
    assert opts.get_run_config_entry("memory.enable_memory_arena_shrinkage") == "cpu:0"


def test_decode_converts_each_tile_to_8_bits(recording_codec):
    """The whole-image float output (0.15 GB at 12 MP) is gone: what the decoder allocates
    in numpy stays under a float copy of the image."""
    codec = recording_codec
    h, w = 512, 640
    yy, xx = np.mgrid[0:h, 0:w]
    pixels = np.stack([xx % 256, yy % 256, (xx + yy) % 256], -1).astype(np.uint8)
    data = codec.encode(pixels, 50)
    codec.decode(data)  # sessions made
    tracemalloc.start()
    try:
        codec.decode(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    one_float_output = 3 * h * w * 4
    assert peak < one_float_output


def test_rescaling_tiles_last_and_store():
    x = np.arange(2 * 40 * 56, dtype=np.float32).reshape(1, 2, 40, 56)
    seen = []

    def last(t):
        seen.append(t.shape)
        return np.repeat(np.repeat(t, 4, 2), 4, 3)

    out = np.zeros((1, 2, 160, 224), np.float32)

    def store(block, y0, x0):
        out[:, :, y0:y0 + block.shape[2], x0:x0 + block.shape[3]] += block

    assert run_rescaling_tiles(x, lambda t: np.repeat(np.repeat(t, 4, 2), 4, 3), tile=16,
                               overlap=4, num=4, last=last, store=store) is None
    np.testing.assert_array_equal(out, np.repeat(np.repeat(x, 4, 2), 4, 3))
    assert seen == [(1, 2, 12, 12)]  # the bottom-right tile only, with its context
