"""The ``aestudio`` launcher and the CLI contract: which arguments open the GUI, one line and
exit status 1 without a display, exit status 2 for every usage error, and the keys of every
``--json`` object."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from app.cli.main import EXIT_USAGE
from app.main import main, wants_gui
from tests.conftest import REPO, smooth_image

JSON_KEYS = {"input", "output", "bytes", "seconds"}


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(smooth_image(72, 96, seed=3)).save(path)
    return path


def headless_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(extra)
    return env


def run_entry(args: list[str], env: dict, cwd=REPO) -> tuple[subprocess.CompletedProcess, bool]:
    """Run ``app.main.main(args)`` in a fresh Python; also say whether it imported Qt."""
    code = ("import sys; from app.main import main; rc = main(sys.argv[1:]); "
            "print('QT' if any(m.startswith('PySide6') for m in sys.modules) else 'NO-QT'); "
            "sys.exit(rc)")
    env = {**env, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    return proc, proc.stdout.rstrip().endswith("\nQT") or proc.stdout.strip() == "QT"


# ------------------------------------------------------------------ GUI or CLI


def test_files_open_the_gui_and_commands_run_the_cli(photo, monkeypatch):
    monkeypatch.chdir(photo.parent)
    assert wants_gui([]) and wants_gui(["gui"]) and wants_gui(["gui", "x.png"])
    assert wants_gui([str(photo)]) and wants_gui(["photo.png", "other.aei"])
    assert wants_gui(["not-yet-there.AEI"]) and wants_gui(["later.jpeg"])
    (photo.parent / "README").write_text("an existing file of any name")
    assert wants_gui(["README"])
    for argv in (["compress", "photo.png"], ["models"], ["--version"], ["-h"], ["comprss"],
                 ["notes.txt"]):
        assert not wants_gui(argv), argv
    (photo.parent / "demo").write_text("a file named like a command")
    assert not wants_gui(["demo"])  # the command wins


def test_a_folder_opens_the_gui_like_a_file(tmp_path, monkeypatch):
    """``aestudio DIR`` opens the window with Batch on it (the drop zone's promise)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photos").mkdir()
    (tmp_path / "models").mkdir()  # a folder named like a command: the command wins
    assert wants_gui(["photos"]) and wants_gui([str(tmp_path / "photos")])
    assert wants_gui(["gui", "photos"]) and wants_gui(["photos", "x.png"])
    assert not wants_gui(["models"]) and not wants_gui(["no-such-folder"])


@pytest.mark.parametrize("args", [[], ["PHOTO"], ["gui"], ["gui", "PHOTO"], ["missing.aei"],
                                  ["DIR"], ["gui", "DIR"]])
def test_without_a_display_the_gui_is_one_line_and_exit_1(photo, args):
    args = [str(photo) if a == "PHOTO" else str(photo.parent) if a == "DIR" else a
            for a in args]
    proc, imported_qt = run_entry(args, headless_env(), cwd=photo.parent)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("aestudio: error: cannot open the desktop app: no display")
    assert "aestudio --help" in proc.stderr
    assert not imported_qt


def test_gui_help_prints_help_without_importing_qt():
    proc, imported_qt = run_entry(["gui", "--help"], headless_env(QT_QPA_PLATFORM="offscreen"))
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: aestudio gui") and "FILE" in proc.stdout
    assert not imported_qt


# ------------------------------------------------------------------ usage errors: status 2


def test_no_command_prints_help_and_exits_2(capsys):
    from app.cli.main import main as cli_main

    assert cli_main([]) == 2
    assert capsys.readouterr().out.startswith("usage: aestudio")


@pytest.mark.parametrize("argv", [
    ["comprss", "x.png"], ["compress"], ["compress", "x.png", "-q", "300"],
    ["compress", "x.png", "--bogus"], ["batch", "a", "b", "--task", "compress",
                                       "--ray-address", "auto"],
    ["batch", "a", "b", "--task", "denoise", "--workers", "0"], ["batch", "a", "b", "--task",
                                                               "inpaint"],
    ["photo.png", "--bogus"],
])
def test_usage_errors_exit_2(capsys, argv, photo, monkeypatch):
    monkeypatch.chdir(photo.parent)
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    assert code == EXIT_USAGE == 2
    assert "error" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["out.jpg", "out.png", "out.aei.png", "out"])
def test_compress_refuses_an_output_that_is_not_aei(capsys, photo, name):
    out = photo.parent / name
    code = main(["compress", str(photo), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("aestudio: error:") and ".aei" in err
    assert sorted(p.name for p in photo.parent.iterdir()) == ["photo.png"]  # nothing written


def test_compress_accepts_an_aei_output_in_any_case(capsys, tiny_models, photo):
    out = photo.parent / "out.AEI"
    assert main(["compress", str(photo), "-o", str(out), "--models", str(tiny_models)]) == 0
    assert out.read_bytes()[:4] == b"\x8bAEI"


def test_docs_say_usage_errors_exit_2():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "usage errors" in readme and "status 2" in readme and "exit code (1)" not in readme
    robustness = (REPO / "docs" / "robustness.md").read_text(encoding="utf-8")
    assert "usage error" in robustness and "status 2" in robustness


# ------------------------------------------------------------------ --json keys


def json_objects(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_every_json_object_has_the_documented_keys(capsys, tiny_models, photo, tmp_path):
    m = ["--models", str(tiny_models), "--json"]
    mask = tmp_path / "mask.png"
    arr = np.zeros((72, 96), np.uint8)
    arr[20:40, 30:60] = 255
    Image.fromarray(arr).save(mask)
    aei = tmp_path / "photo.aei"
    runs = {
        "compress": ["compress", str(photo), "-o", str(aei)],
        "decompress": ["decompress", str(aei), "-o", str(tmp_path / "back.png")],
        "denoise": ["denoise", str(photo), "--sigma", "10"],
        "inpaint": ["inpaint", str(photo), "--mask", str(mask)],
    }
    for command, argv in runs.items():
        assert main([*argv, *m]) == 0, command
        (obj,) = json_objects(capsys)
        assert JSON_KEYS <= set(obj), (command, obj)
        assert obj["input"] == argv[1] and os.path.getsize(obj["output"]) == obj["bytes"]
        assert obj["seconds"] >= 0
        assert ("bpp" in obj) == (command == "compress")

    assert main(["demo", *m]) == 0
    rows = json_objects(capsys)
    assert len(rows) == 6
    for row in rows:
        assert JSON_KEYS | {"step"} <= set(row), row
        assert row["input"].endswith("sample.png") and row["output"] is None

    in_dir, out_dir = tmp_path / "batch-in", tmp_path / "batch-out"
    in_dir.mkdir()
    Image.fromarray(smooth_image(40, 56, seed=4)).save(in_dir / "a.png")
    assert main(["batch", str(in_dir), str(out_dir), "--task", "denoise",
                 "--sigma", "10", *m]) == 0
    (report,) = json_objects(capsys)
    assert report["files"]
    for item in report["files"]:
        assert JSON_KEYS <= set(item), item
        assert os.path.getsize(item["output"]) == item["bytes"]
