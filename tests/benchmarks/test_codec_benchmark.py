"""Smoke test of benchmarks/codec.py with the Pillow codecs on two small made-up images."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import codec as bench  # noqa: E402


def _images(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:96, 0:128]
    for i in range(2):
        img = np.stack([xx * 2, yy * 2 + 20 * i, (xx + yy)], -1) + rng.normal(0, 4, (96, 128, 3))
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f"im{i}.png")
    return folder


def test_pillow_codecs_end_to_end(tmp_path, capsys):
    data = _images(tmp_path)
    out = tmp_path / "out.json"
    rc = bench.main(["--data", str(data), "--codecs", "jpeg,webp",
                     "--baseline-qualities", "10,30,60,90", "--json", str(out), "--plot", ""])
    assert rc == 0
    report = json.loads(out.read_text())
    assert report["images"] == ["im0.png", "im1.png"]
    jpeg = report["codecs"]["jpeg"]["points"]
    assert [p["quality"] for p in jpeg] == [10, 30, 60, 90]
    bpps = [p["bpp"] for p in jpeg]
    assert bpps == sorted(bpps) and bpps[0] > 0
    assert jpeg[-1]["psnr"] > jpeg[0]["psnr"]
    assert all(0 < p["ms_ssim"] <= 1 and len(p["per_image"]) == 2 for p in jpeg)
    size = report["codecs"]["jpeg"]["points"][0]["per_image"][0]["bytes"]
    assert jpeg[0]["per_image"][0]["bpp"] == pytest.approx(size * 8 / (128 * 96))
    assert report["bd_rate"]["jpeg"]["psnr"] == pytest.approx(0.0, abs=1e-9)
    assert "BD-rate vs jpeg" in capsys.readouterr().out


def test_bad_codec_name_is_rejected():
    with pytest.raises(SystemExit):
        bench.parse_args(["--codecs", "jpeg,bmp"])


def test_plain_autoencoder_is_one_marker_with_real_bytes_and_no_bd_rate(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    from safetensors.torch import save_file

    from app.core.runtime.registry import Registry
    from benchmarks.plain_ae import HEADER, PlainAE
    from training.archs import build
    from training.config import TrainConfig
    from training.export import export_model

    cfg = TrainConfig(name="tiny-plain", task="autoencoder", arch="plain_autoencoder",
                      arch_args={"N": 8, "M": 4})
    weights = tmp_path / "weights.safetensors"
    save_file(build(cfg.arch, **cfg.arch_args).state_dict(), str(weights))
    model_dir = export_model(cfg, weights=str(weights), models=str(tmp_path / "baselines"))
    # the app never lists it: "autoencoder" is no task of the app
    registry = Registry(tmp_path / "baselines")
    assert registry.list() == [] and "unknown task" in registry.problems[0]

    ae = PlainAE(model_dir)
    odd = np.random.default_rng(1).integers(0, 256, (37, 50, 3), dtype=np.uint8)
    data = ae.encode(odd)
    assert HEADER.unpack_from(data) == (37, 50, 4, 3, 4)      # padded to 48 x 64, / 16
    assert ae.decode(data).shape == odd.shape

    monkeypatch.setattr(bench, "PLAIN_AE_DIR", model_dir)
    images = tmp_path / "images"
    images.mkdir()
    out = tmp_path / "out.json"
    rc = bench.main(["--data", str(_images(images)), "--codecs", "jpeg,plain-ae",
                     "--baseline-qualities", "10,50,90", "--json", str(out),
                     "--plot", str(tmp_path / "rd.png")])
    assert rc == 0 and (tmp_path / "rd.png").exists()
    report = json.loads(out.read_text())
    (point,) = report["codecs"]["plain-ae"]["points"]
    first = point["per_image"][0]
    assert first["bytes"] > HEADER.size and first["bpp"] == pytest.approx(
        first["bytes"] * 8 / (128 * 96))
    bd = report["bd_rate"]["plain-ae"]
    assert bd["psnr"] is None and "1 operating point" in bd["psnr_error"]
