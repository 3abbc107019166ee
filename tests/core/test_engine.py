from tests.conftest import smooth_image


def test_cached_analysis_gives_the_same_bytes_as_a_fresh_encode(tiny_engine):
    img = smooth_image(64, 96, seed=11)
    first = tiny_engine.compress(img, 30).data
    cached_key = tiny_engine._analysis[0]
    second = tiny_engine.compress(img, 80).data          # reuses the analysis
    assert tiny_engine._analysis[0] == cached_key
    codec = tiny_engine.codec()
    assert first == codec.encode(img, 30)
    assert second == codec.encode(img, 80)


def test_a_changed_image_is_analysed_again(tiny_engine):
    img = smooth_image(64, 96, seed=12)
    tiny_engine.compress(img, 50)
    key = tiny_engine._analysis[0]
    img[0, 0, 0] ^= 1
    tiny_engine.compress(img, 50)
    assert tiny_engine._analysis[0] != key
