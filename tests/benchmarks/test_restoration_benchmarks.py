"""Smoke tests of benchmarks/denoise.py and benchmarks/inpaint.py (AE Studio rows only, so
they run without the optional bm3d and OpenCV packages) on small made-up images."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import denoise as denoise_bench  # noqa: E402
from benchmarks import inpaint as inpaint_bench  # noqa: E402


def _photo(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:80, 0:112]
    img = np.stack([xx * 2, yy * 2 + 10 * seed, (xx + yy)], -1) + rng.normal(0, 3, (80, 112, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture
def tiny_default_models(tiny_models, monkeypatch):
    monkeypatch.setenv("AESTUDIO_MODELS", str(tiny_models))


def test_denoise_benchmark_reports_psnr_ssim_and_time(tiny_default_models, tmp_path):
    root = tmp_path / "data"
    (root / "cbsd68").mkdir(parents=True)
    for i in range(2):
        Image.fromarray(_photo(i)).save(root / "cbsd68" / f"{i}.png")
    out = tmp_path / "denoise.json"
    rc = denoise_bench.main(["--data-root", str(root), "--sets", "cbsd68", "--sigmas", "25",
                             "--methods", "aestudio", "--also-passes", "2", "--json", str(out)])
    assert rc == 0
    report = json.loads(out.read_text())
    cell = report["results"]["cbsd68"]["25"]
    ae, noisy = cell["aestudio"], cell["noisy"]
    assert ae["images"] == 2 and ae["seconds"] > 0 and 0 < ae["ssim"] <= 1
    assert ae["psnr"] > noisy["psnr"]  # even a two-step model removes some noise
    assert report["methods"]["aestudio-p2"]["settings"]["passes"] == 2
    assert cell["aestudio-p2"]["images"] == 2 and cell["aestudio-p2"]["psnr"] != ae["psnr"]


def test_inpaint_benchmark_reports_whole_and_hole_psnr(tiny_default_models, tmp_path):
    data, masks = tmp_path / "img", tmp_path / "masks"
    data.mkdir()
    masks.mkdir()
    for i in range(2):
        Image.fromarray(_photo(i)).save(data / f"{i}.png")
        m = np.zeros((80, 112), np.uint8)
        m[20:40, 30:70] = 255
        Image.fromarray(m).save(masks / f"{i}.png")
    out = tmp_path / "inpaint.json"
    rc = inpaint_bench.main(["--data", str(data), "--masks", str(masks), "--methods",
                             "aestudio,pushpull,harmonic", "--json", str(out)])
    assert rc == 0
    results = json.loads(out.read_text())["results"]
    ae, black, guess = results["aestudio"], results["black"], results["pushpull"]
    assert ae["images"] == 2 and ae["psnr_holes"] < ae["psnr"]
    assert ae["psnr_holes"] > black["psnr_holes"]  # filling beats leaving the holes black
    assert guess["psnr_holes"] > black["psnr_holes"] + 5  # a smooth photo fills smoothly
    assert results["harmonic"]["psnr_holes"] > guess["psnr_holes"]  # relaxation helps here
    # one AE Studio row per pass count: the app's default (4) and one pass
    methods = json.loads(out.read_text())["methods"]
    assert methods["aestudio"]["settings"]["passes"] == 4
    assert methods["aestudio-p1"]["settings"]["passes"] == 1
    assert results["aestudio-p1"]["psnr"] != ae["psnr"]


def test_denoise_benchmark_takes_rows_from_several_reports_first_one_wins(tiny_default_models,
                                                                          tmp_path):
    root = tmp_path / "data"
    (root / "cbsd68").mkdir(parents=True)
    for i in range(2):
        Image.fromarray(_photo(i)).save(root / "cbsd68" / f"{i}.png")

    def report(path: Path, psnr: float, methods: tuple[str, ...]) -> Path:
        row = {"label": "earlier", "images": 1, "psnr": psnr, "ssim": 0.5, "seconds": 9.0,
               "sigma_used": 25.0,
               "per_image": [{"image": "0.png", "psnr": psnr, "ssim": 0.5, "seconds": 9.0}]}
        path.write_text(json.dumps({
            "noise": {"seed": f"numpy default_rng(({denoise_bench.NOISE_SEED}, i, s))"},
            "results": {"cbsd68": {"25": {m: row for m in methods}}}}))
        return path

    first = report(tmp_path / "a.json", 20.0, ("cbm3d",))
    second = report(tmp_path / "b.json", 10.0, ("cbm3d", "nlm"))
    out = tmp_path / "denoise.json"
    rc = denoise_bench.main(["--data-root", str(root), "--sets", "cbsd68", "--sigmas", "25",
                             "--methods", "aestudio", "--json", str(out),
                             "--reuse", str(first), "--reuse", str(second)])
    assert rc == 0
    data = json.loads(out.read_text())
    cell = data["results"]["cbsd68"]["25"]
    assert cell["cbm3d"]["psnr"] == 20.0 and cell["nlm"]["psnr"] == 10.0
    assert sorted(data["reused"]["cells"]) == ["cbsd68/25/cbm3d", "cbsd68/25/nlm"]
    (versus,) = data["vs_cbm3d"]
    assert versus["images"] == 1 and versus["cbm3d_psnr"] == 20.0
