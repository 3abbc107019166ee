"""The `.aei` compatibility promise: every codec id that docs/format.md lists has golden files
in this folder, and each decodes bit-exactly to the pixels recorded in ``hashes.json`` (with
one and two threads, and through ``aestudio decompress``).  ``make_golden.py`` wrote them.

The latent symbols are compared first: they are integers, exact by construction, so a
mismatch there means the entropy decoder or the fixed-point parameters changed; a mismatch in
the pixels alone points at the float synthesis graph."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.spec.bitstream import Bitstream, pack, unpack
from tests.conftest import REPO
from tests.golden.make_golden import (
    HASHES,
    HERE,
    QUALITIES,
    golden_name,
    listed_codec_ids,
    pixels_sha256,
    retired_codec_ids,
    symbols_sha256,
)

GOLDEN = json.loads(HASHES.read_text())["files"]


def golden_bytes(name: str) -> bytes:
    data = (HERE / name).read_bytes()
    assert hashlib.sha256(data).hexdigest() == GOLDEN[name]["aei_sha256"], \
        f"{name} itself changed; golden files are never rewritten"
    return data


@pytest.fixture(scope="module", params=[1, 2], ids=["1-thread", "2-threads"])
def engine(request):
    from app.core.engine import Engine

    return Engine(provider="cpu", threads=request.param)


def test_docs_list_the_codec_ids_and_each_has_golden_files():
    from app.spec.model_index import load_index

    ids = listed_codec_ids()
    assert len(ids) == len(set(ids)) >= 1
    index = load_index()
    shipped_codecs = {e.id for e in index.models.values() if e.task == "codec"}
    assert index.default("codec") in ids
    assert shipped_codecs == set(ids), "docs/format.md and the shipped codecs disagree"
    for model_id in ids:
        for q in QUALITIES:
            name = golden_name(model_id, q)
            assert name in GOLDEN and (HERE / name).is_file(), f"no golden file for {model_id}"
    retired = retired_codec_ids()
    assert not set(retired) & set(ids)
    assert {e["model"] for e in GOLDEN.values()} == set(ids) | set(retired), \
        "a golden id is not documented"
    for model_id in retired:
        assert all(golden_name(model_id, q) in GOLDEN for q in QUALITIES), model_id


def test_docs_and_the_model_index_agree_on_the_retired_ids():
    from app.spec.model_index import load_index

    index = load_index()
    codecs = {mid: commit for mid, commit in index.retired.items() if mid.startswith("codec-")}
    assert codecs == retired_codec_ids()
    assert not set(index.retired) & set(index.models)


def test_golden_files_are_small():
    for name in GOLDEN:
        assert (HERE / name).stat().st_size < 5000, name


def check_bit_exact(engine, name: str) -> None:
    entry = GOLDEN[name]
    data = golden_bytes(name)
    bs = unpack(data)
    assert (bs.model_id, bs.quality, bs.width, bs.height) == (entry["model"], entry["quality"],
                                                              64, 48)
    codec, _ = engine.codec_for(data)
    assert symbols_sha256(codec, data) == entry["symbols_sha256"], \
        f"{name}: the decoded latent symbols changed (entropy decoder or fixed-point tables)"
    pixels = engine.decompress(data)
    assert pixels.shape == (48, 64, 3) and pixels.dtype == np.uint8
    assert pixels_sha256(pixels) == entry["pixels_sha256"], \
        f"{name}: same symbols, other pixels (the float synthesis graph changed)"


@pytest.mark.parametrize("name", sorted(n for n in GOLDEN
                                        if GOLDEN[n]["model"] in listed_codec_ids()))
def test_golden_file_decodes_bit_exactly(engine, name):
    check_bit_exact(engine, name)


@pytest.fixture(scope="module")
def restored_models(tmp_path_factory):
    """The retired models' folders, restored from the commits docs/format.md names (as a user
    would); skipped where this clone lacks that history (a shallow clone)."""
    out = tmp_path_factory.mktemp("restored")
    for model_id, commit in retired_codec_ids().items():
        have = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=REPO,
                              capture_output=True)
        if have.returncode:
            pytest.skip(f"this clone does not hold commit {commit} (shallow clone?)")
        files = [f"models/{model_id}/{n}" for n in ("manifest.json", "card.md", "analysis.onnx",
                                                    "hyper_analysis.onnx", "synthesis.onnx",
                                                    "tables.npz")]
        archive = subprocess.run(["git", "archive", commit, *files], cwd=REPO,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out / "models"


@pytest.mark.parametrize("name", sorted(n for n in GOLDEN
                                        if GOLDEN[n]["model"] in retired_codec_ids()))
def test_a_retired_id_decodes_bit_exactly_once_restored_from_history(restored_models, name):
    from app.core.engine import Engine

    check_bit_exact(Engine(models_dir=restored_models, provider="cpu", threads=1), name)


def test_a_retired_id_without_its_model_names_the_command_that_restores_it():
    from app.core.engine import Engine
    from app.core.runtime.registry import ModelNotFoundError

    engine = Engine(provider="cpu")
    for model_id, commit in retired_codec_ids().items():
        with pytest.raises(ModelNotFoundError) as err:
            engine.codec_for(golden_bytes(golden_name(model_id, QUALITIES[0])))
        assert f"'{model_id}'" in str(err.value) and "\n" not in str(err.value)
        assert f"git archive {commit} models/{model_id}" in str(err.value)


def test_golden_file_decodes_through_the_cli(tmp_path):
    name = golden_name(listed_codec_ids()[0], QUALITIES[-1])
    out = tmp_path / "golden.png"
    proc = subprocess.run([sys.executable, "-m", "app", "decompress", str(HERE / name), "-o",
                           str(out), "--provider", "cpu"], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert pixels_sha256(np.asarray(Image.open(out))) == GOLDEN[name]["pixels_sha256"]


def test_a_file_naming_a_model_that_is_not_installed_gets_one_line(tmp_path):
    bs = unpack(golden_bytes(golden_name(listed_codec_ids()[-1], QUALITIES[0])))
    stray = Bitstream(**{**vars(bs), "model_id": "codec-hyperprior-v999"})
    path = tmp_path / "stray.aei"
    path.write_bytes(pack(stray))
    env = {k: v for k, v in os.environ.items() if k != "AESTUDIO_MODELS"}
    proc = subprocess.run([sys.executable, "-m", "app", "decompress", str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("aestudio: error:")
    assert "'codec-hyperprior-v999'" in proc.stderr and "not installed" in proc.stderr
    assert not Path(path.with_suffix(".png")).exists()
