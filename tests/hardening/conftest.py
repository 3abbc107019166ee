"""Helpers for the hardening tests (fuzzed decoder, hostile images, tampered models,
determinism, full disks).  The tiny models come from ``tests/conftest.py``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import smooth_image


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """``aestudio ARGV`` through ``app.main.main``; (exit code, stdout, stderr)."""
    from app.main import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(code: int, err: str, *needles: str) -> None:
    """Exit 1 and exactly one ``aestudio: error:`` line on stderr, containing every needle."""
    assert code == 1, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith("aestudio: error: "), err
    for needle in needles:
        assert needle in lines[0], (needle, err)


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in Path(directory).iterdir())


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(smooth_image(72, 96, seed=3)).save(path)
    return path


@pytest.fixture
def models_copy(tiny_models, tmp_path) -> Path:
    """A private copy of the tiny models that a test may damage."""
    copy = tmp_path / "models"
    shutil.copytree(tiny_models, copy)
    return copy
