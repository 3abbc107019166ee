import numpy as np
import pytest

from app.core.tiling import run_rescaling_tiles
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
