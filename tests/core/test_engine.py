from tests.conftest import smooth_image


def _count_analyses(engine, monkeypatch) -> list:
    codec = engine.codec()
    calls, real = [], codec.analyse
    monkeypatch.setattr(codec, "analyse",
                        lambda px, *a, **k: calls.append(px.shape) or real(px, *a, **k))
    return calls


def test_cached_analysis_gives_the_same_bytes_as_a_fresh_encode(tiny_engine, monkeypatch):
    img = smooth_image(64, 96, seed=11)
    calls = _count_analyses(tiny_engine, monkeypatch)
    first = tiny_engine.compress(img, 30).data
    second = tiny_engine.compress(img, 80).data          # reuses the analysis
    assert calls == [img.shape]
    codec = tiny_engine.codec()
    assert first == codec.encode(img, 30)
    assert second == codec.encode(img, 80)


def test_a_changed_image_is_analysed_again(tiny_engine, monkeypatch):
    img = smooth_image(64, 96, seed=12)
    calls = _count_analyses(tiny_engine, monkeypatch)
    tiny_engine.compress(img, 50)
    img[0, 0, 0] ^= 1
    tiny_engine.compress(img, 50)
    assert len(calls) == 2


def test_a_small_copy_does_not_evict_the_full_image(tiny_engine, monkeypatch):
    """The GUI's preview compresses a small copy between two slider moves over the full image."""
    full, small = smooth_image(64, 96, seed=13), smooth_image(32, 48, seed=14)
    third = smooth_image(32, 48, seed=15)
    calls = _count_analyses(tiny_engine, monkeypatch)
    for img in (full, small, full, small):
        tiny_engine.compress(img, 40)
    assert calls == [full.shape, small.shape]
    tiny_engine.compress(third, 40)                      # evicts the least recently used: full
    tiny_engine.compress(full, 40)
    assert calls == [full.shape, small.shape, third.shape, full.shape]
