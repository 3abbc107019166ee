"""The shipped real-noise denoiser's noise map (models/denoise-realnoise-v3): it follows noise
that grows with brightness, survives a JPEG, and the CLI's --strength scales it."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from app.core.restore import noise_map
from app.core.engine import Engine
from app.main import main
from tests.conftest import MODELS

MODEL = "denoise-realnoise-v3"


@pytest.fixture(scope="module")
def engine():
    return Engine(models_dir=MODELS, provider="cpu")


def _bands(levels, sigmas, h=96, w=64, seed=0):
    rng = np.random.default_rng(seed)
    parts = [np.clip(np.round(lv + rng.normal(0, s, (h, w, 3))), 0, 255)
             for lv, s in zip(levels, sigmas)]
    return np.concatenate(parts, axis=1).astype(np.uint8)


def test_map_follows_noise_that_grows_with_brightness(engine):
    model = engine.model("denoise", MODEL)
    levels, sigmas = (40, 100, 160, 220), (2.0, 4.0, 6.0, 8.0)
    x = _bands(levels, sigmas)
    level = noise_map.estimate_map(engine.sessions, model, x) * 255
    # each band's estimate away from its edges (the map blends across a border)
    est = [float(np.median(level[16:-16, i * 64 + 16:i * 64 + 48])) for i in range(4)]
    assert est == sorted(est), est
    assert est[-1] > 2.5 * est[0], est
    # calibrated where the noise is visible; the faintest band (sigma 2, 1 % of the range)
    # reads low, which the model card states
    for e, s in zip(est[1:], sigmas[1:]):
        assert 0.5 * s < e < 1.6 * s, (est, sigmas)
    assert 0 < est[0] < sigmas[0] * 1.6, est


def test_noise_saved_as_jpeg_still_reads_as_noise(engine):
    model = engine.model("denoise", MODEL)
    yy, xx = np.mgrid[0:128, 0:160]
    clean = np.stack([40 + xx, 60 + yy, 200 - xx // 2], -1).astype(np.uint8)  # noise-free
    clean[30:80, 40:100] = (200, 120, 40)
    rng = np.random.default_rng(1)
    noisy = np.clip(np.round(clean + rng.normal(0, 20, clean.shape)), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noisy).save(buf, "JPEG", quality=90)
    jpeg = np.asarray(Image.open(buf))
    noisy_level = float(noise_map.estimate_map(engine.sessions, model, jpeg).mean() * 255)
    clean_level = float(noise_map.estimate_map(engine.sessions, model, clean).mean() * 255)
    assert noisy_level > 8 and clean_level < 3, (noisy_level, clean_level)


def test_cli_strength_scales_the_reported_level(tmp_path, capsys):
    src = tmp_path / "in.png"
    Image.fromarray(_bands((60, 180), (5.0, 5.0))).save(src)

    def level(*extra):
        code = main(["denoise", str(src), "-o", str(tmp_path / f"out{len(extra)}.png"), "-f",
                     "--json", "--models", str(MODELS), "--model", MODEL, *extra])
        assert code == 0
        return json.loads(capsys.readouterr().out.strip().splitlines()[-1])["sigma"]

    one = level()
    assert level("--strength", "2") == pytest.approx(2 * one, abs=0.02)
    for bad in ("nan", "-1", "5"):
        with pytest.raises(SystemExit) as exc:
            main(["denoise", str(src), "--strength", bad])
        assert exc.value.code == 2


def test_batch_strength_reaches_every_file(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(2):
        Image.fromarray(_bands((70, 170), (4.0, 6.0), seed=i)).save(src / f"p{i}.png")

    def sigmas(name, *extra):
        report = tmp_path / f"{name}.json"
        code = main(["batch", str(src), str(tmp_path / name), "--task", "denoise", "--workers",
                     "1", "--models", str(MODELS), "--model", MODEL, "--report", str(report),
                     *extra])
        assert code == 0
        files = json.loads(report.read_text())["files"]
        return sorted(f["details"]["sigma"] for f in files)

    plain, strong = sigmas("plain"), sigmas("strong", "--strength", "1.5")
    assert len(plain) == 2
    for p, s in zip(plain, strong):
        assert s == pytest.approx(1.5 * p, abs=0.02)
