"""Fixtures of the batch tests."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.batch.helpers import write_photo

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def photos(tmp_path) -> Callable[..., Path]:
    """``photos(names, folder="in")``: a folder with one small photo per relative name."""

    def make(names, folder: str = "in", size: tuple[int, int] = (40, 48)) -> Path:
        root = tmp_path / folder
        root.mkdir(parents=True, exist_ok=True)
        for i, name in enumerate(names):
            write_photo(root / name, seed=i, size=size)
        return root

    return make
