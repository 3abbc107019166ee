"""Tampered, missing and foreign models; the app loads only manifest-listed, hash-verified
files and never unpickles anything.

``tests/core/test_codec.py::test_tampered_model_file_is_refused_by_name`` checks the registry
itself; these tests go through the command line and the engine."""

from __future__ import annotations

import ast
import hashlib
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from app.core.runtime import registry as registry_mod
from app.core.runtime import sessions as sessions_mod
from app.core.engine import Engine
from app.core.runtime.registry import ModelIntegrityError, Registry
from app.spec.manifest import sha256_file
from tests.conftest import REPO, smooth_image
from tests.hardening.conftest import assert_one_error_line, listing, run_cli


def _rewrite_manifest(model_dir: Path, edit) -> None:
    path = model_dir / "manifest.json"
    d = json.loads(path.read_text())
    edit(d)
    path.write_text(json.dumps(d, indent=2))


def _flip_byte(path: Path) -> None:
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    path.write_bytes(bytes(blob))


# ------------------------------------------------------------------- tampered and missing


@pytest.mark.parametrize("command, model, file", [
    ("compress", "tiny-codec", "synthesis.onnx"),
    ("compress", "tiny-codec", "tables.npz"),
    ("decompress", "tiny-codec", "analysis.onnx"),
    ("denoise", "tiny-denoise", "denoise.onnx"),
])
@pytest.mark.parametrize("damage", ["tampered", "missing"])
def test_damaged_model_file_is_refused_naming_it(capsys, models_copy, photo, tmp_path,
                                                 command, model, file, damage):
    m = ["--models", models_copy]
    if command == "decompress":
        assert run_cli(capsys, "compress", photo, *m)[0] == 0
        target = photo.with_suffix(".aei")
        m += ["-o", tmp_path / "back.png"]
    else:
        target = photo
    path = models_copy / model / file
    if damage == "tampered":
        _flip_byte(path)
    else:
        path.unlink()
    before = listing(tmp_path)
    code, out, err = run_cli(capsys, command, target, *m)
    assert_one_error_line(code, err, repr(model), file,
                          "does not match its manifest hash" if damage == "tampered"
                          else "is missing")
    assert listing(tmp_path) == before                     # no output, no partial file


def test_file_made_with_a_model_that_is_not_installed_names_it(capsys, models_copy, photo,
                                                              tmp_path):
    import shutil

    assert run_cli(capsys, "compress", photo, "--models", models_copy)[0] == 0
    only_denoise = tmp_path / "other-models"
    only_denoise.mkdir()
    shutil.copytree(models_copy / "tiny-denoise", only_denoise / "tiny-denoise")
    code, _, err = run_cli(capsys, "decompress", photo.with_suffix(".aei"), "-o",
                           tmp_path / "back.png", "--models", only_denoise)
    assert_one_error_line(code, err, "'tiny-codec'", "not installed")


def test_file_made_with_another_build_of_the_model_is_refused(capsys, tiny_models, photo,
                                                              tmp_path):
    assert run_cli(capsys, "compress", photo, "--models", tiny_models)[0] == 0
    aei = photo.with_suffix(".aei")
    data = bytearray(aei.read_bytes()[:-4])
    hash_at = 13 + data[12]                                   # after magic, version, flags, id
    data[hash_at:hash_at + 8] = b"\x01" * 8
    aei.write_bytes(bytes(data) + struct.pack("<I", zlib.crc32(bytes(data))))
    code, _, err = run_cli(capsys, "decompress", aei, "-o", tmp_path / "back.png", "--models",
                           tiny_models)
    assert_one_error_line(code, err, "different build of model 'tiny-codec'")


# ------------------------------------------------------------------ manifest path escapes


@pytest.mark.parametrize("bad_path", ["../outside.onnx", "sub/../../outside.onnx",
                                      "/etc/passwd"])
def test_manifest_path_escaping_the_model_directory_is_refused(capsys, models_copy, photo,
                                                              monkeypatch, bad_path):
    outside = models_copy / "outside.onnx"
    outside.write_bytes((models_copy / "tiny-codec" / "synthesis.onnx").read_bytes())

    def edit(d):
        d["id"] = "evil-codec"
        d["files"]["synthesis"] = {"path": bad_path, "sha256": sha256_file(outside)}

    _rewrite_manifest(models_copy / "tiny-codec", edit)
    hashed = []
    real = registry_mod.sha256_file
    monkeypatch.setattr(registry_mod, "sha256_file", lambda p: hashed.append(Path(p)) or real(p))

    reg = Registry(models_copy)
    assert "evil-codec" not in {m.id for m in reg.list()}
    assert any("escapes the model directory" in p for p in reg.problems)
    code, out, _ = run_cli(capsys, "models", "--models", models_copy)
    assert code == 0 and "escapes the model directory" in out
    code, _, err = run_cli(capsys, "compress", photo, "--model", "evil-codec", "--models",
                           models_copy)
    assert_one_error_line(code, err, "'evil-codec' is not installed")
    assert not any(p.name in ("outside.onnx", "passwd") for p in hashed)


# ------------------------------------------------- only listed, verified graphs are loaded


@pytest.fixture
def loaded_graphs(monkeypatch):
    """sha256 of every graph handed to onnxruntime.InferenceSession (bytes or a path), in order."""
    hashes: list[str] = []
    real = sessions_mod.ort.InferenceSession

    def spy(model, *a, **k):
        data = model if isinstance(model, bytes) else Path(model).read_bytes()
        hashes.append(hashlib.sha256(data).hexdigest())
        return real(model, *a, **k)

    monkeypatch.setattr(sessions_mod.ort, "InferenceSession", spy)
    return hashes


def listed_hashes(eng: Engine) -> set[str]:
    return {m.manifest.files[name].sha256 for m in eng.registry.list()
            for name in m.manifest.graphs}


def test_an_onnx_file_not_in_the_manifest_is_never_loaded(models_copy, loaded_graphs):
    for model in ("tiny-codec", "tiny-denoise", "tiny-inpaint"):
        d = models_copy / model
        graph = next(d.glob("*.onnx"))
        for extra in ("evil.onnx", "synthesis.onnx.bak", "model.onnx"):
            (d / extra).write_bytes(graph.read_bytes() + b"x")  # a different file
    eng = Engine(models_dir=models_copy, provider="cpu")
    img = smooth_image(64, 80, seed=4)
    eng.decompress(eng.compress(img, 60).data)
    eng.denoise(img, sigma=10)
    mask = np.zeros(img.shape[:2], np.uint8)
    mask[10:20, 10:30] = 1
    eng.inpaint(img, mask)
    assert loaded_graphs and set(loaded_graphs) <= listed_hashes(eng)


def test_a_graph_swapped_right_after_its_check_is_not_what_gets_loaded(models_copy,
                                                                       loaded_graphs,
                                                                       monkeypatch):
    """The race between hashing a file and loading it: the hashed bytes are the loaded ones."""
    d = models_copy / "tiny-denoise"
    evil = next((models_copy / "tiny-inpaint").glob("*.onnx")).read_bytes()
    registry_cls = type(Engine(models_dir=models_copy, provider="cpu").registry)

    def swap_after(real):
        def checked_then_swapped(self, *args):
            out = real(self, *args)
            for graph in d.glob("*.onnx"):  # an attacker replaces the file right after
                graph.write_bytes(evil)
            return out
        return checked_then_swapped

    for name in ("verify", "read_verified"):
        monkeypatch.setattr(registry_cls, name, swap_after(getattr(registry_cls, name)))
    eng = Engine(models_dir=models_copy, provider="cpu")
    try:
        eng.denoise(smooth_image(48, 48, seed=1), sigma=10)
    except ModelIntegrityError:
        pass  # the swap was seen: refused, nothing loaded
    else:
        assert loaded_graphs  # ran: so what ran must be the checked graph
    assert set(loaded_graphs) <= listed_hashes(eng)


def test_a_listed_file_with_a_wrong_hash_is_refused_before_any_session(models_copy,
                                                                      loaded_graphs):
    d = models_copy / "tiny-codec"
    # a perfectly valid ONNX graph, just not the one the manifest names
    (d / "synthesis.onnx").write_bytes((d / "analysis.onnx").read_bytes())
    eng = Engine(models_dir=models_copy, provider="cpu")
    with pytest.raises(ModelIntegrityError, match="synthesis.onnx.*manifest hash"):
        eng.compress(smooth_image(64, 64), 50)
    assert loaded_graphs == []


class _Payload:
    """Unpickling this object creates the marker file: proof that pickle ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_tables_are_refused_without_unpickling(capsys, models_copy, photo, tmp_path):
    """Even with a manifest that vouches for it (hash updated), an object array in tables.npz
    is refused with a message naming the file, and its pickle never runs."""
    marker = tmp_path / "pickle-ran"
    d = models_copy / "tiny-codec"
    with np.load(d / "tables.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["evil"] = np.array([_Payload(marker)], dtype=object)
    np.savez(d / "tables.npz", **arrays)
    _rewrite_manifest(d, lambda m: m["files"]["tables"].update(
        sha256=sha256_file(d / "tables.npz")))
    code, _, err = run_cli(capsys, "compress", photo, "--models", models_copy)
    assert_one_error_line(code, err, "'tiny-codec'", "tables.npz", "cannot be read")
    assert not marker.exists()
    assert not photo.with_suffix(".aei").exists()


# ------------------------------------------------------------------ no pickle in the source


def _sources(*dirs: str) -> list[Path]:
    return sorted(p for d in dirs for p in (REPO / d).rglob("*.py"))


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                isinstance(node.func.value, ast.Name):
            yield node, node.func.value.id, node.func.attr


def _keyword(call: ast.Call, name: str):
    for kw in call.keywords:
        if kw.arg == name and isinstance(kw.value, ast.Constant):
            return kw.value.value
    return "missing"


PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve"}


def test_app_and_training_never_import_pickle():
    offenders = []
    for path in _sources("app", "training"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(REPO)}: {n}" for n in names
                          if n.split(".")[0] in PICKLE_MODULES]
        if "allow_pickle=True" in path.read_text() or "read_pickle" in path.read_text():
            offenders.append(f"{path.relative_to(REPO)}: allow_pickle=True / read_pickle")
    assert offenders == []


def test_every_np_load_refuses_pickles():
    found = []
    for path in _sources("app", "training"):
        for call, obj, attr in _calls(ast.parse(path.read_text(), str(path))):
            if obj in ("np", "numpy") and attr == "load":
                found.append(path.relative_to(REPO).as_posix())
                assert _keyword(call, "allow_pickle") is False, \
                    f"{path.relative_to(REPO)}:{call.lineno}: np.load without allow_pickle=False"
    assert "app/fixedpoint/tables.py" in found               # the tables are loaded here


def test_training_loads_checkpoints_weights_only():
    found = []
    for path in _sources("app", "training"):
        for call, obj, attr in _calls(ast.parse(path.read_text(), str(path))):
            if obj == "torch" and attr == "load":
                found.append(path)
                assert _keyword(call, "weights_only") is True, \
                    f"{path.relative_to(REPO)}:{call.lineno}: torch.load without weights_only=True"
    assert all(p.is_relative_to(REPO / "training") for p in found)   # never in the app
