"""``aestudio demo`` on a scripted engine: one typed row per step, the compress rows from the
shared round trip."""

from __future__ import annotations

from dataclasses import asdict

from PIL import Image

from app.core.compare.metrics import bits_per_pixel
from app.core.demo import DemoStep, run_demo
from tests.conftest import smooth_image
from tests.core.fake_engine import FakeEngine


def test_demo_rows(tmp_path):
    path = tmp_path / "p.png"
    Image.fromarray(smooth_image(40, 60, seed=5)).save(path)
    engine = FakeEngine()
    rows = run_demo(engine, path, quality=30)
    assert all(isinstance(r, DemoStep) for r in rows)
    assert [r.step.split(" ")[0] for r in rows] == ["compress", "decompress", "noisy",
                                                   "denoise", "holes", "inpaint"]
    enc, dec = rows[:2]
    assert enc.bytes == dec.bytes == 30 and enc.bpp == bits_per_pixel(30, 60, 40)
    assert enc.seconds == 0.25                       # the engine's own encode time
    assert rows[3].step == "denoise (estimated sigma=12.3)"
    assert [r.bytes for r in rows[2:]] == [None] * 4
    assert list(asdict(rows[0])) == ["step", "bytes", "bpp", "psnr", "seconds"]
    assert engine.calls == ["compress", "decompress", "denoise", "inpaint"]
