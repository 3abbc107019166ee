"""Smoke test of benchmarks/codec_ceiling.py on the tiny trained codec and made-up photos
whose sides are not multiples of the codec's downsampling factor."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
from PIL import Image

pytest.importorskip("torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import codec_ceiling  # noqa: E402
from tests.conftest import smooth_image  # noqa: E402


def test_reports_every_gain_level(tiny_models, tmp_path):
    kodak = tmp_path / "kodak"
    kodak.mkdir()
    for i in range(2):
        Image.fromarray(smooth_image(64, 96, seed=i)).save(kodak / f"kodim{i:02d}.png")
    out = tmp_path / "ceiling.json"
    rc = codec_ceiling.main(["--model", str(tiny_models / "tiny-codec"), "--kodak", str(kodak),
                             "--images", "2", "--json", str(out)])
    assert rc == 0
    report = json.loads(out.read_text())
    assert report["model"] == "tiny-codec" and len(report["images"]) == 2
    levels = report["levels"]
    assert [r["level"] for r in levels] == [0, 1, 2]
    for r in levels:
        assert all(math.isfinite(r[k]) for k in ("unquantised_psnr", "rounded_psnr"))
        assert r["estimated_bpp"] > 0
