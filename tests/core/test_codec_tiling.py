import numpy as np
import pytest

from app.core.runtime.tiling import run_rescaling_tiles
from tests.conftest import smooth_image


def test_tiled_codec_transforms_match_one_pass(tiny_engine):
    codec = tiny_engine.codec()
    img = smooth_image(200, 330, seed=21)
    whole = codec.analyse(img)
    codec.tile_px = 128                       # force several tiles on both axes
    try:
        tiled = codec.analyse(img)
        np.testing.assert_allclose(tiled.y, whole.y, atol=1e-4)
        data = codec.encode(img, 60)
        small_tiles = codec.decode(data)
    finally:
        codec.tile_px = 512
    one_pass = codec.decode(data)
    assert np.abs(small_tiles.astype(int) - one_pass.astype(int)).max() <= 1


def test_rescaling_tiles_cover_every_output_pixel_once():
    x = np.arange(2 * 40 * 56, dtype=np.float32).reshape(1, 2, 40, 56)
    up = run_rescaling_tiles(x, lambda t: np.repeat(np.repeat(t, 4, 2), 4, 3),
                             tile=16, overlap=4, num=4)
    np.testing.assert_array_equal(up, np.repeat(np.repeat(x, 4, 2), 4, 3))
    down = run_rescaling_tiles(x, lambda t: t[:, :, ::8, ::8], tile=16, overlap=8, den=8)
    np.testing.assert_array_equal(down, x[:, :, ::8, ::8])
    with pytest.raises(ValueError):
        run_rescaling_tiles(x, lambda t: t, tile=10, overlap=4, den=8)


class _RecordingSessions:
    """The real session pool, recording the input shape of every transform run."""

    def __init__(self, sessions) -> None:
        self.registry, self.sessions, self.shapes = sessions.registry, sessions, []

    def run(self, model, graph, **inputs):
        self.shapes.append((graph, next(iter(inputs.values())).shape[2:]))
        return self.sessions.run(model, graph, **inputs)


def _codec_with_tiles(tiny_engine, tile: int, overlap: int):
    import dataclasses

    from app.core.codec.image_codec import Codec

    model = tiny_engine.model("codec")
    manifest = dataclasses.replace(model.manifest, tile_size=tile, tile_overlap=overlap)
    codec = Codec(dataclasses.replace(model, manifest=manifest), tiny_engine.sessions)
    codec.sessions = _RecordingSessions(tiny_engine.sessions)
    return codec


def _windows(n: int, tile: int, context: int) -> list[int]:
    """The side of each window that run_rescaling_tiles gives the network along one axis."""
    return [min(n, t + tile + context) - max(0, t - context) for t in range(0, n, tile)]


@pytest.mark.parametrize("tile, overlap", [(128, 32), (128, 16), (0, 0)])
def test_the_codec_runs_the_tiles_its_manifest_records(tiny_engine, tile, overlap):
    """tile_size / tile_overlap of a codec's manifest set its transforms' tiles; a manifest
    that records none (0) gets the default 512-pixel tiles with 64 pixels of context."""
    codec = _codec_with_tiles(tiny_engine, tile, overlap)
    tile, overlap = tile or 512, overlap or 64
    img = smooth_image(200, 330, seed=21)                  # coded as 256 x 384
    data = codec.encode(img, 60)
    out = codec.decode(data)
    seen = codec.sessions.shapes

    def expected(h, w, f):
        return [(hh, ww) for hh in _windows(h // f, tile // f, overlap // f)
                for ww in _windows(w // f, tile // f, overlap // f)]

    assert [s for g, s in seen if g == "analysis"] == expected(256, 384, 1)
    assert [s for g, s in seen if g == "synthesis"] == expected(256, 384, 16)
    whole = tiny_engine.codec().decode(data)               # the default tiles: one pass here
    assert np.abs(out.astype(int) - whole.astype(int)).max() <= 1


def test_a_codec_manifest_with_tiles_the_latent_cannot_follow_is_refused(tiny_engine):
    from app.core.runtime.registry import ModelError

    with pytest.raises(ModelError, match="'tiny-codec'.*multiples of 16"):
        _codec_with_tiles(tiny_engine, 120, 32)
