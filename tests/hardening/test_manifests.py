"""A model folder that cannot take the app down (issue 24): a manifest that breaks the schema is
skipped with one warning naming its file, ``aestudio models`` lists it as broken with the
reason, and the healthy models keep working."""

from __future__ import annotations

import json
import os
import warnings

import pytest

from app.core.runtime.registry import ManifestWarning, Registry
from app.spec.manifest import MANIFEST_NAME, Manifest, ManifestError
from tests.hardening.conftest import run_cli


def _codec_manifest(models) -> dict:
    return json.loads((models / "tiny-codec" / MANIFEST_NAME).read_text())


def _add_broken(models, name: str, text: str | bytes) -> None:
    folder = models / name
    folder.mkdir()
    path = folder / MANIFEST_NAME
    path.write_bytes(text if isinstance(text, bytes) else text.encode())


def _variant(models, **changes) -> str:
    d = _codec_manifest(models)
    d["id"] = "broken-codec"
    d.update(changes)
    return json.dumps(d)


def _cases(models) -> dict[str, tuple[str | bytes, str]]:
    """folder name -> (manifest text, what the reason must say)."""
    deep = '{"spec_version": 1, "params": ' + '{"a": ' * 5000 + '1' + '}' * 5000 + '}'
    return {
        "non-integer": (_variant(models, downsample="sixteen"), "'downsample' must be an integer"),
        "float-int": (_variant(models, channels=3.5), "'channels' must be an integer"),
        "bool-int": (_variant(models, spec_version=True), "'spec_version' must be an integer"),
        "wrong-type": (_variant(models, files=["analysis.onnx"]), "'files' must be an object"),
        "wrong-title": (_variant(models, title={"en": "x"}), "'title' must be a string"),
        "bad-graph": (_variant(models, graphs={"analysis": {"inputs": "x", "outputs": []}}),
                      "'graphs.analysis.inputs' must be a list"),
        "bad-range": (_variant(models, value_range=[1, 0]), "value_range"),
        "bad-params": (_variant(models, params={"hyper": 7}), "'params.hyper' must be a string"),
        "deep": (deep, "nested more than"),
        "broken-json": ('{"id": "x", "task": ', "not valid JSON"),
        "nan": (_variant(models).replace('"channels": 3', '"channels": NaN'), "NaN"),
        "not-object": ("[1, 2, 3]", "not an object"),
        "not-utf8": (b"\xff\xfe{}", "not UTF-8"),
        "unknown-task": (_variant(models, task="upscale"), "unknown task"),
        "bad-hash": (_variant(models, files={"a": {"path": "a.onnx", "sha256": "zz"}}),
                     "sha256"),
    }


@pytest.fixture
def broken_models(models_copy):
    cases = _cases(models_copy)
    for name, (text, _) in cases.items():
        _add_broken(models_copy, name, text)
    return models_copy, cases


def test_each_bad_manifest_is_skipped_with_one_warning_naming_its_file(broken_models):
    models, cases = broken_models
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reg = Registry(models)
        healthy = {m.id for m in reg.list()}
        reg.list()  # a second look does not warn again
    assert {"tiny-codec", "tiny-denoise", "tiny-inpaint"} <= healthy
    assert "broken-codec" not in healthy
    ours = [w for w in caught if issubclass(w.category, ManifestWarning)]
    assert len(ours) == len(cases)
    broken = {b.directory.name: b for b in reg.broken}
    assert set(broken) == set(cases)
    for name, (_, needle) in cases.items():
        msg = [str(w.message) for w in ours if f"{os.sep}{name}{os.sep}" in str(w.message)]
        assert len(msg) == 1, name
        assert str(models / name / MANIFEST_NAME) in msg[0] and needle in msg[0], msg
        assert needle in broken[name].reason and "\n" not in broken[name].reason


def test_models_command_lists_the_broken_ones(capsys, broken_models):
    models, cases = broken_models
    code, out, err = run_cli(capsys, "models", "--models", models)
    assert code == 0, err
    assert "tiny-codec" in out and "tiny-denoise" in out
    broken_lines = [line for line in out.splitlines() if line.strip().startswith("broken")]
    assert len(broken_lines) == len(cases)
    assert "invalid literal" not in out + err and "Traceback" not in err
    code, out, _ = run_cli(capsys, "models", "--models", models, "--json")
    data = json.loads(out)
    assert {b["path"].rsplit(os.sep, 1)[-1] for b in data["broken"]} == set(cases)
    assert all(b["reason"] for b in data["broken"])
    assert "tiny-codec" in {m["id"] for m in data["models"]}


def test_healthy_models_keep_working_beside_broken_ones(capsys, broken_models, photo, tmp_path):
    models, _ = broken_models
    out = tmp_path / "p.aei"
    code, _, err = run_cli(capsys, "compress", photo, "-o", out, "--models", models)
    assert code == 0, err
    assert out.exists()
    warnings_lines = [line for line in err.splitlines() if line.startswith("aestudio: warning:")]
    assert all(line.count(MANIFEST_NAME) == 1 for line in warnings_lines)
    code, _, err = run_cli(capsys, "denoise", photo, "--sigma", "5", "-o", tmp_path / "d.png",
                           "--models", models)
    assert code == 0, err


def test_a_fifo_or_folder_named_manifest_json_does_not_hang_the_scan(models_copy):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    (models_copy / "fifo").mkdir()
    os.mkfifo(models_copy / "fifo" / MANIFEST_NAME)
    (models_copy / "folder" / MANIFEST_NAME).mkdir(parents=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = Registry(models_copy)
        assert "tiny-codec" in {m.id for m in reg.list()}
    reasons = {b.directory.name: b.reason for b in reg.broken}
    assert "FIFO" in reasons["fifo"] and "folder" in reasons["folder"]


def test_duplicate_model_ids_keep_the_first(models_copy):
    twin = models_copy / "tiny-codec-twin"
    twin.mkdir()
    (twin / MANIFEST_NAME).write_text((models_copy / "tiny-codec" / MANIFEST_NAME).read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg = Registry(models_copy)
        assert reg.get("tiny-codec").directory == models_copy / "tiny-codec"
    assert [b.directory.name for b in reg.broken] == ["tiny-codec-twin"]
    assert "already used" in reg.broken[0].reason


def test_schema_accepts_every_shipped_style_manifest(tiny_models):
    for path in sorted(tiny_models.glob(f"*/{MANIFEST_NAME}")):
        m = Manifest.parse(path.read_bytes())
        assert Manifest.from_dict(m.to_dict()).to_dict() == m.to_dict()


def test_oversized_manifest_is_refused():
    with pytest.raises(ManifestError, match="larger than"):
        Manifest.parse(b" " * (2 << 20))
