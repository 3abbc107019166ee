"""A model folder is written beside its final place and swapped in whole when complete."""

from __future__ import annotations

import shutil
from pathlib import Path


def staging_dir(out: Path) -> Path:
    """An empty ``<out>.export-tmp`` folder (a leftover from a failed run is removed)."""
    tmp = out.with_name(out.name + ".export-tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def publish(tmp: Path, out: Path) -> None:
    """Replace ``out`` with the finished ``tmp``, keeping the model card ``out`` had."""
    card = out / "card.md"
    if card.exists():
        shutil.copy2(card, tmp / "card.md")
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
