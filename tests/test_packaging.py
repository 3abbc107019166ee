"""The wheel that `pip wheel --no-deps .` builds: its files, its metadata, and the package
running from it, away from the checkout (built once per test session: it carries ~40 MB)."""

from __future__ import annotations

import email.parser
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import app
from app.spec import model_index as mi
from tests.conftest import MODELS, REPO, smooth_image

SOURCE_FILES = ("pyproject.toml", "setup.py", "README.md", "LICENSE")
SOURCE_DIRS = ("app", "training")


def _setuptools_is_new_enough() -> bool:
    try:
        return int(metadata.version("setuptools").split(".")[0]) >= 77
    except metadata.PackageNotFoundError:
        return False


@pytest.fixture(scope="module")
def index() -> mi.ModelIndex:
    return mi.load_index()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, index) -> zipfile.ZipFile:
    """The wheel, built from a copy of the sources and of only the models the index packages
    (with their checkpoints, which the build must leave out), so the checkout stays clean."""
    root = tmp_path_factory.mktemp("wheel")
    src = _mkdir(root / "src")
    for name in SOURCE_FILES:
        shutil.copy2(REPO / name, src / name)
    for name in SOURCE_DIRS:
        shutil.copytree(REPO / name, src / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "models"))
    for model_id in index.wheel_ids():
        shutil.copytree(MODELS / model_id, src / "models" / model_id)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(src), "-w",
           str(root / "dist")]
    if _setuptools_is_new_enough():  # else pip fetches the build requirements
        cmd.append("--no-build-isolation")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (path,) = (root / "dist").glob("aestudio-*.whl")
    with zipfile.ZipFile(path) as zf:
        yield zf


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _metadata(wheel: zipfile.ZipFile):
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return email.parser.Parser().parsestr(wheel.read(name).decode())


def test_the_wheel_ships_the_license(wheel):
    licenses = [n for n in wheel.namelist() if n.endswith("/LICENSE")]
    assert licenses and all(".dist-info/" in n for n in licenses)
    assert b"MIT License" in wheel.read(licenses[0])


def test_the_wheel_ships_each_packaged_model_and_no_checkpoint(wheel, index):
    names = set(wheel.namelist())
    assert set(index.defaults.values()) <= set(index.wheel_ids())
    for model_id in index.wheel_ids():
        expected = {f"app/models/{model_id}/{f}" for f in mi.packaged_files(MODELS / model_id)}
        shipped = {n for n in names if n.startswith(f"app/models/{model_id}/")}
        assert shipped == expected
        manifest = wheel.read(f"app/models/{model_id}/manifest.json")
        assert hashlib.sha256(manifest).hexdigest() == index.models[model_id].manifest_sha256
    models = {n.split("/")[2] for n in names if n.startswith("app/models/")}
    assert models == set(index.wheel_ids())
    assert "app/spec/model_index.json" in names
    assert not [n for n in names if n.endswith(".safetensors")]


def test_the_wheel_ships_no_tests_and_no_top_level_models(wheel):
    tops = {n.split("/")[0] for n in wheel.namelist()}
    assert tops <= {"app", "training", f"aestudio-{app.__version__}.dist-info"}


def test_the_runtime_is_an_extra_not_a_base_dependency(wheel):
    meta = _metadata(wheel)
    requires = meta.get_all("Requires-Dist")
    base = [r for r in requires if "extra ==" not in r]
    assert not [r for r in base if r.lower().startswith("onnxruntime")]
    assert {"cpu", "gpu"} <= set(meta.get_all("Provides-Extra"))
    def extra(name):
        return [r.split(";")[0] for r in requires if f'extra == "{name}"' in r]

    assert extra("cpu") == ["onnxruntime>=1.17"]
    assert extra("gpu") == ["onnxruntime-gpu>=1.17"]   # never both runtimes


def test_one_version_source(wheel, capsys):
    from app.cli.main import main

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "app.__version__"}
    assert _metadata(wheel)["Version"] == app.__version__
    assert _metadata(wheel)["License-Expression"] == "MIT"
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"aestudio {app.__version__}"


def test_the_build_requires_a_setuptools_that_reads_the_license_field():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["license"] == "MIT"
    assert "setuptools>=77" in pyproject["build-system"]["requires"]


def test_the_installed_package_runs_its_own_models_from_any_folder(wheel, index, tmp_path):
    """Unpacked as pip installs it, run from another folder with no AESTUDIO_MODELS: the
    package's models are found and compress exactly as the checkout's do."""
    site = tmp_path / "site"
    wheel.extractall(site)
    work = _mkdir(tmp_path / "elsewhere")
    env = {k: v for k, v in os.environ.items() if k != "AESTUDIO_MODELS"}
    env["PYTHONPATH"] = str(site)

    def aestudio(*args):
        done = subprocess.run([sys.executable, "-m", "app.main", *args], cwd=work, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    listing = json.loads(aestudio("models", "--json"))
    assert listing["origin"] == "package"
    assert Path(listing["models_dir"]) == site / "app" / "models"
    assert listing["defaults"] == index.defaults
    Image.fromarray(smooth_image(48, 64, seed=3)).save(work / "small.png")
    aestudio("compress", "small.png", "-o", "small.aei", "--provider", "cpu")

    from app.core.engine import Engine

    pixels = np.asarray(Image.open(work / "small.png").convert("RGB"))
    ours = Engine(models_dir=MODELS, provider="cpu").compress(pixels, 75.0).data
    assert (work / "small.aei").read_bytes() == ours


def test_without_a_runtime_a_command_names_both_extras_in_one_line(tmp_path):
    code = ("import sys; sys.modules['onnxruntime'] = None; from app.main import main; "
            "sys.exit(main(['compress', 'photo.png']))")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "aestudio[cpu]" in lines[0] and "aestudio[gpu]" in lines[0]
