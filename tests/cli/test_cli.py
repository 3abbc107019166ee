import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from app import __version__
from app.main import main
from tests.conftest import REPO, smooth_image


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(smooth_image(72, 96, seed=1)).save(path)
    return path


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_models_json_lists_each_task(capsys, tiny_models):
    code, out, _ = run_cli(capsys, "models", "--json", "--models", tiny_models)
    assert code == 0
    listed = json.loads(out)
    assert {m["task"] for m in listed["models"]} == {"codec", "denoise", "inpaint"}


def test_compress_decompress_denoise_inpaint(capsys, tiny_models, photo, tmp_path):
    m = ["--models", tiny_models, "--json"]
    code, out, _ = run_cli(capsys, "compress", photo, "-q", "40", *m)
    assert code == 0
    (res,) = json_lines(out)
    aei = photo.with_suffix(".aei")
    assert res["output"] == str(aei) and res["bytes"] == aei.stat().st_size
    assert res["bpp"] == pytest.approx(res["bytes"] * 8 / (72 * 96), abs=1e-3)
    assert {"input", "seconds", "quality"} <= set(res)

    code, out, _ = run_cli(capsys, "decompress", aei, "-o", tmp_path / "back.png", *m)
    assert code == 0 and json_lines(out)[0]["bytes"] > 0
    assert Image.open(tmp_path / "back.png").size == (96, 72)

    code, out, _ = run_cli(capsys, "denoise", photo, "--sigma", "15", *m)
    assert code == 0 and json_lines(out)[0]["sigma"] == 15
    assert (tmp_path / "photo_denoised.png").exists()

    mask = tmp_path / "mask.png"
    arr = np.zeros((72, 96), np.uint8)
    arr[10:30, 20:50] = 255
    Image.fromarray(arr).save(mask)
    code, out, _ = run_cli(capsys, "inpaint", photo, "--mask", mask, *m)
    assert code == 0 and json_lines(out)[0]["passes"] == 4
    filled = np.asarray(Image.open(tmp_path / "photo_inpainted.png"))
    np.testing.assert_array_equal(filled[arr == 0], np.asarray(Image.open(photo))[arr == 0])
    code, out, _ = run_cli(capsys, "inpaint", photo, "--mask", mask, "--passes", "1",
                           "-o", tmp_path / "one.png", *m)
    assert code == 0 and json_lines(out)[0]["passes"] == 1
    one = np.asarray(Image.open(tmp_path / "one.png"))
    assert not np.array_equal(one[arr > 0], filled[arr > 0])  # four passes average differently


@pytest.mark.parametrize("command", ["denoise", "inpaint", "batch"])
def test_passes_other_than_1_2_4_8_are_refused(capsys, photo, command):
    argv = {"denoise": [photo], "inpaint": [photo, "--mask", photo],
            "batch": [photo.parent, photo.parent / "out", "--task", "denoise"]}[command]
    with pytest.raises(SystemExit) as exc:
        main([command, *map(str, argv), "--passes", "3"])
    assert exc.value.code == 2
    assert "--passes: must be one of 1, 2, 4, 8, not '3'" in capsys.readouterr().err


def test_existing_output_is_not_overwritten_without_force(capsys, tiny_models, photo):
    out = photo.with_suffix(".aei")
    out.write_bytes(b"precious")
    code, _, err = run_cli(capsys, "compress", photo, "--models", tiny_models)
    assert code == 1 and "--force" in err
    assert out.read_bytes() == b"precious"
    code, _, _ = run_cli(capsys, "compress", photo, "--force", "--models", tiny_models)
    assert code == 0 and out.read_bytes() != b"precious"


def test_target_size_option(capsys, tiny_models, photo):
    code, out, _ = run_cli(capsys, "compress", photo, "--target-size", "2KB", "--json",
                           "--models", tiny_models)
    assert code == 0 and json_lines(out)[0]["bytes"] <= 2000


@pytest.mark.parametrize("argv, message", [
    (["decompress", "missing.aei"], "No such file"),
    (["compress", "not_an_image.txt"], "not_an_image.txt"),
    (["decompress", "not_an_image.txt"], "not an AE Studio .aei file"),
    (["inpaint", "photo.png", "--mask", "tiny_mask.png"], "mask"),
])
def test_errors_are_one_clear_line(capsys, tiny_models, photo, argv, message, monkeypatch):
    monkeypatch.chdir(photo.parent)
    (photo.parent / "not_an_image.txt").write_text("hello")
    Image.new("L", (5, 5)).save(photo.parent / "tiny_mask.png")
    code, out, err = run_cli(capsys, *argv, "--models", tiny_models)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("aestudio: error:") and message in err
    assert "Traceback" not in err


def test_demo_prints_a_table(capsys, tiny_models):
    code, out, _ = run_cli(capsys, "demo", "--models", tiny_models)
    assert code == 0
    for word in ("bytes", "bpp", "PSNR", "seconds", "compress", "denoise", "inpaint", "CPU"):
        assert word in out


def test_console_entry_reports_errors_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "app", "decompress", str(tmp_path / "no.aei")],
                          cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.startswith("aestudio: error:") and "Traceback" not in proc.stderr


@pytest.mark.parametrize("exc, line", [
    (ValueError("first line\nsecond line"), "first line"),
    (OSError(28, "No space left on device", "/out/p.aei"),
     "[Errno 28] No space left on device: '/out/p.aei'"),
    (MemoryError(), "out of memory"),
])
def test_an_error_is_the_core_one_line(capsys, monkeypatch, exc, line):
    from app.cli import main as cli

    def fail(args):
        raise exc

    monkeypatch.setitem(cli.COMMANDS, "models", fail)
    code, _, err = run_cli(capsys, "models")
    assert code == 1 and err == f"aestudio: error: {line}\n"
