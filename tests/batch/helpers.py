"""Helpers of the batch tests: tiny photo folders, tree hashes and listings."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tests.conftest import smooth_image


def write_photo(path: Path, seed: int = 0, size: tuple[int, int] = (40, 48)) -> Path:
    """A small photo-like image (``size`` = height, width) at ``path`` (format by suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(smooth_image(*size, seed=seed)).save(path)
    return path


def write_mask(path: Path, size: tuple[int, int] = (40, 48)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.zeros(size, np.uint8)
    arr[8:20, 10:30] = 255
    Image.fromarray(arr).save(path)
    return path


def tree(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (hidden ones included), by relative path."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def temp_files(root: Path) -> list[Path]:
    """Leftover temporary files of atomic writes under ``root``."""
    return [p for p in root.rglob("*") if p.name.endswith(".part") or p.name.startswith(".")]


class SlowEngine:
    """A real engine whose denoise takes ``delay`` seconds longer: time to press Cancel."""

    def __init__(self, engine, delay: float = 0.3):
        self.engine, self.delay = engine, delay

    def model(self, *a, **k):
        return self.engine.model(*a, **k)

    def denoise(self, *a, **k):
        time.sleep(self.delay)
        return self.engine.denoise(*a, **k)


def slow_denoise_cli(seconds: float, entry: str = "app.cli.main") -> str:
    """Python source for ``python -c``: the real command line, with every denoise inference
    ``seconds`` slower, so that a kill or a signal lands while the batch runs."""
    return f"""
import sys, time
from app.core.engine import Engine
real = Engine.denoise
def slow(self, *args, **kwargs):
    time.sleep({seconds})
    return real(self, *args, **kwargs)
Engine.denoise = slow
from {entry} import main
sys.exit(main(sys.argv[1:]))
"""
