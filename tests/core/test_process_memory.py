"""Process-wide memory rules behind a 12 MP compress and heatmap within 1.5 GB (issue 28):
the onnxruntime sessions share one CPU arena, and freed big blocks leave the process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from app.core.runtime import heap, sessions

ROOT = Path(__file__).resolve().parents[2]


def test_cpu_sessions_of_every_graph_share_one_arena(tiny_engine):
    pool = sessions.SessionPool(tiny_engine.registry, "cpu")
    assert pool.shared_arena
    codec = tiny_engine.model("codec")
    for graph in ("analysis", "hyper_analysis", "synthesis"):
        opts = pool.get(codec, graph).get_session_options()
        assert opts.get_session_config_entry(sessions.ENV_ALLOCATORS) == "1", graph
    # registered once per process: a second pool (a batch worker's) uses the same arena
    assert sessions.SessionPool(tiny_engine.registry, "cpu").shared_arena
    assert sessions.share_cpu_arena()


def test_a_shared_arena_changes_no_decoded_pixel(tiny_engine):
    from tests.conftest import smooth_image

    shared = sessions.SessionPool(tiny_engine.registry, "cpu", threads=1)
    own = sessions.SessionPool(tiny_engine.registry, "cpu", threads=2)
    own.shared_arena = False  # sessions made from now on keep an arena of their own
    codec = tiny_engine.codec()
    data = codec.encode(smooth_image(120, 200, seed=4), 50)
    outs = []
    for pool in (shared, own):
        codec.sessions = pool
        outs.append(codec.decode(data))
    codec.sessions = tiny_engine.sessions
    opts = own.get(tiny_engine.model("codec"), "synthesis", 2).get_session_options()
    with pytest.raises(RuntimeError):  # not set: the session's own arena
        opts.get_session_config_entry(sessions.ENV_ALLOCATORS)
    np.testing.assert_array_equal(outs[0], outs[1])


_FREED = textwrap.dedent("""
    import numpy as np
    from app.core.runtime.heap import give_back

    def rss_mb():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) // 1024 for l in f if l.startswith("VmRSS"))

    a = np.ones(16 << 20, np.uint8)  # freed, it raises glibc's mmap threshold to 16 MiB
    del a
    blocks, neighbours = [], []
    for _ in range(40):  # 160 MB of 4 MiB arrays, live small blocks between them
        blocks.append(np.ones(4 << 20, np.uint8))
        neighbours.append(bytearray(4096))
    before = rss_mb()
    del blocks
    freed = rss_mb()
    assert give_back()
    print(before - freed, before - rss_mb())
""")


@pytest.mark.skipif(heap._glibc() is None, reason="glibc's malloc only")
def test_give_back_returns_freed_heap_memory_to_the_system():
    """Freeing alone left the 160 MB resident; give_back() returns them."""
    out = subprocess.run([sys.executable, "-c", _FREED], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    _by_free, by_give_back = (int(v) for v in out.stdout.split())
    assert by_give_back >= 150


def _count_give_backs(monkeypatch) -> list[int]:
    calls: list[int] = []
    monkeypatch.setattr(heap, "give_back", lambda: calls.append(1) or True)
    return calls


def test_entropy_coding_of_a_big_latent_gives_memory_back(monkeypatch):
    from app.core.codec import entropy

    tables = entropy.TableSet(np.array([[0.25, 0.5, 0.2, 0.05]]), np.array([4]))
    sym = np.array([[-1, 0, 1, 0, 5, 0] * 10])
    idx = np.zeros_like(sym)
    calls = _count_give_backs(monkeypatch)
    monkeypatch.setattr(heap, "TRIM_SYMBOLS", sym.size + 1)  # a small latent: kept
    stream, esc = entropy.encode(sym, idx, tables)
    assert np.array_equal(entropy.decode(stream, esc, idx, tables), sym)
    assert calls == []
    monkeypatch.setattr(heap, "TRIM_SYMBOLS", sym.size)  # a big one: given back
    stream, esc = entropy.encode(sym, idx, tables)
    assert np.array_equal(entropy.decode(stream, esc, idx, tables), sym)
    assert len(calls) == 2  # after the coding and after the decoding


def test_the_releasing_run_gives_memory_back(tiny_engine, monkeypatch):
    calls = _count_give_backs(monkeypatch)
    codec = tiny_engine.model("codec")
    x = np.zeros((1, 3, 64, 64), np.float32)
    tiny_engine.sessions.run(codec, "analysis", x=x)
    assert calls == []
    tiny_engine.sessions.run_releasing(codec, "analysis", x=x)
    assert calls == [1]
