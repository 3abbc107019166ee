"""The model index (app/spec/model_index.json): one list of shipped model ids with hashes and
defaults, read by the registry and the wheel build."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from app.core.runtime import registry as registry_module
from app.core.runtime.registry import ModelNotFoundError, Registry, find_models_dir
from app.spec import model_index as mi
from app.spec.manifest import TASKS
from tests.conftest import MODELS


@pytest.fixture(scope="module")
def index() -> mi.ModelIndex:
    return mi.load_index()


def test_index_lists_every_model_folder_that_ships(index):
    folders = {p.parent.name for p in MODELS.glob("*/manifest.json")}
    unindexed, gone = sorted(folders - set(index.models)), sorted(set(index.models) - folders)
    assert not unindexed, f"add with: python -m app.spec.model_index add models/<id>: {unindexed}"
    assert not gone, f"indexed but not in models/: {gone}"


def test_every_indexed_hash_matches_its_folder(index):
    for model_id in index.models:
        files = mi.check_folder(index, MODELS / model_id)   # raises on any difference
        assert "manifest.json" in files and "weights.safetensors" not in files


def test_one_packaged_default_per_task(index):
    assert sorted(index.defaults) == sorted(TASKS)
    assert index.problems(every_task=True) == []
    for task, model_id in index.defaults.items():
        entry = index.models[model_id]
        assert entry.task == task and entry.wheel
        if entry.float_source:              # an int8 default: CUDA runs its float source
            assert index.models[entry.float_source].wheel


def test_registry_defaults_are_the_index_defaults(index):
    reg = Registry(MODELS)
    assert reg.defaults() == index.defaults
    for task, model_id in index.defaults.items():
        source = index.models[model_id].float_source
        assert reg.default(task, prefer_float=True).id == (source or model_id)


def _fake_model(root: Path, model_id: str, task: str = "denoise", **params) -> Path:
    """A model folder with a valid manifest (its file is not a real graph: enough for finding
    and choosing models)."""
    folder = root / model_id
    folder.mkdir(parents=True)
    (folder / "net.onnx").write_bytes(model_id.encode())
    (folder / "card.md").write_text(f"# {model_id}\n")
    (folder / "weights.safetensors").write_bytes(b"checkpoint")
    manifest = {"spec_version": 1, "id": model_id, "task": task, "title": model_id,
                "files": {task: {"path": "net.onnx",
                                 "sha256": hashlib.sha256(model_id.encode()).hexdigest()}},
                "graphs": {task: {"inputs": ["image"], "outputs": ["output"]}},
                "params": params}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_the_index_default_wins_over_the_newest_model(tmp_path):
    for version in ("v2", "v3", "v10"):
        _fake_model(tmp_path, f"den-{version}")
    index = mi.ModelIndex({}, {"denoise": "den-v3"})
    assert Registry(tmp_path, index=index).default("denoise").id == "den-v3"
    # a default that is not installed here: the newest installed model
    index = mi.ModelIndex({}, {"denoise": "den-v99"})
    assert Registry(tmp_path, index=index).default("denoise").id == "den-v10"


def test_cuda_runs_the_float_source_of_an_int8_default(tmp_path):
    _fake_model(tmp_path, "den-v3")
    _fake_model(tmp_path, "den-v4")
    _fake_model(tmp_path, "den-v4-int8", quantization={"from": "den-v3"})
    reg = Registry(tmp_path, index=mi.ModelIndex({}, {"denoise": "den-v4-int8"}))
    assert reg.default("denoise").id == "den-v4-int8"
    assert reg.default("denoise", prefer_float=True).id == "den-v3"   # its source, not newest
    assert reg.defaults(prefer_float=True) == {"denoise": "den-v3"}


@pytest.mark.parametrize("make", [lambda p: p / "absent", lambda p: p])
def test_an_empty_or_missing_folder_is_one_line_with_a_fix(tmp_path, make):
    root = make(tmp_path)
    reg = Registry(root)
    with pytest.raises(ModelNotFoundError) as err:
        reg.installed()
    message = str(err.value)
    assert "\n" not in message and str(root) in message and "fix:" in message
    with pytest.raises(ModelNotFoundError, match="no codec model in .*fix:"):
        reg.default("codec")


def test_cli_models_on_an_empty_folder_fails_with_one_line(tmp_path, capsys):
    from app.cli.main import main

    assert main(["models", "--models", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "fix:" in err


def test_cli_models_marks_defaults_and_origin(tmp_path, capsys, monkeypatch):
    from app.cli.main import main

    _fake_model(tmp_path, "den-v1")
    _fake_model(tmp_path, "den-v2")
    monkeypatch.setenv("AESTUDIO_MODELS", str(tmp_path))
    assert main(["models", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["origin"] == "env" and listing["defaults"] == {"denoise": "den-v2"}
    assert [(m["id"], m["default"], m["origin"]) for m in listing["models"]] == [
        ("den-v1", False, "env"), ("den-v2", True, "env")]
    assert main(["models", "--models", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "(from a models folder)" in text
    assert "default" in next(line for line in text.splitlines() if "den-v2" in line)


def test_models_are_found_in_env_checkout_then_package(tmp_path, monkeypatch):
    monkeypatch.setenv("AESTUDIO_MODELS", str(tmp_path / "mine"))
    assert find_models_dir() == (tmp_path / "mine", "env")
    monkeypatch.delenv("AESTUDIO_MODELS")
    assert find_models_dir() == (MODELS, "folder")          # this checkout
    monkeypatch.setattr(registry_module, "CHECKOUT", tmp_path)  # installed: no pyproject.toml
    assert find_models_dir() == (registry_module.PACKAGE_MODELS, "package")
    assert Registry().origin == "package"


def test_add_computes_hashes_and_packages_the_float_source(tmp_path, monkeypatch, capsys):
    models = tmp_path / "models"
    _fake_model(models, "den-v3")
    int8 = _fake_model(models, "den-v3-int8", quantization={"from": "den-v3"})
    path = tmp_path / "index.json"
    monkeypatch.setattr(mi, "INDEX_PATH", path)
    assert mi.main(["add", str(models / "den-v3"), "--no-wheel"]) == 0
    assert mi.main(["add", str(int8), "--default"]) == 0
    index = mi.load_index(path)
    assert index.defaults == {"denoise": "den-v3-int8"}
    assert index.models["den-v3"].wheel and index.models["den-v3-int8"].float_source == "den-v3"
    assert index.models["den-v3"].manifest_sha256 == hashlib.sha256(
        (models / "den-v3" / "manifest.json").read_bytes()).hexdigest()
    assert mi.check_folder(index, int8) == ["card.md", "manifest.json", "net.onnx"]
    # a manifest changed after indexing is caught, with the command that refreshes the entry
    raw = json.loads((int8 / "manifest.json").read_text())
    raw["title"] = "retitled"
    (int8 / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(mi.ModelIndexError, match="python -m app.spec.model_index add"):
        mi.check_folder(index, int8)


def test_a_file_naming_a_model_that_is_not_installed_is_one_line(tmp_path, capsys):
    from app.cli.main import main
    from app.spec import bitstream as bsf

    _fake_model(tmp_path, "den-v1")
    data = bsf.pack(bsf.Bitstream(model_id="codec-hyperprior-v0", model_hash=bytes(8),
                                  width=16, height=16, channels=3, quality=75.0))
    (tmp_path / "old.aei").write_bytes(data)
    code = main(["decompress", str(tmp_path / "old.aei"), "-o", str(tmp_path / "out.png"),
                 "--models", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "'codec-hyperprior-v0'" in err and "not installed" in err


def test_only_the_newest_model_of_each_line_keeps_its_training_checkpoint():
    """A checkpoint is for continuing training, which starts from the newest model of a line
    (``codec-hyperprior``, ``inpaint-unet``, ...); older ones are in the git history."""
    import re

    newest: dict[str, tuple[int, str]] = {}
    for folder in MODELS.glob("*/manifest.json"):
        m = re.fullmatch(r"(.+)-v(\d+)", folder.parent.name)
        if m:
            newest[m[1]] = max(newest.get(m[1], (-1, "")), (int(m[2]), folder.parent.name))
    keep = {name for _, name in newest.values()}
    with_checkpoint = {p.parent.name for p in MODELS.glob("*/weights.safetensors")}
    assert with_checkpoint <= keep, f"superseded checkpoints: {sorted(with_checkpoint - keep)}"
    assert {mid for mid in keep if mid.startswith(("codec-", "inpaint-", "denoise-realnoise-"))} \
        <= with_checkpoint, "the current model of a task lost its checkpoint"


def test_retiring_a_model_keeps_the_commit_that_restores_it(tmp_path):
    index = mi.ModelIndex({"codec-x-v1": mi.IndexEntry("codec-x-v1", "codec", "0" * 64,
                                                       "0" * 16, False)},
                          {"codec": "codec-x-v2"})
    mi.retire(index, "codec-x-v1", "abc1234")
    assert "codec-x-v1" not in index.models and index.retired == {"codec-x-v1": "abc1234"}
    assert "git archive abc1234 models/codec-x-v1" in index.restore_hint("codec-x-v1")
    assert index.restore_hint("codec-x-v9") is None
    path = tmp_path / "index.json"
    mi.save_index(index, path)
    assert mi.load_index(path).retired == {"codec-x-v1": "abc1234"}
    index.defaults["codec"] = "codec-x-v1"
    with pytest.raises(mi.ModelIndexError, match="default"):
        mi.retire(index, "codec-x-v1", "abc1234")
