"""Where the data sets live: one setting, ``AESTUDIO_DATA``.

The photos that benchmarks measure on and training learns from (Kodak, CBSD68, McMaster,
PolyU, the training photos) are not part of the repository. They sit under one data root:
``$AESTUDIO_DATA`` when it is set, else ``../shared/data`` beside the repository root. Only
benchmarks and training read it; the app never does.

Training configs name their folders relative to that root (``"folder": "train"``). The form
written before the setting existed, ``"../shared/data/train"``, means the same folder, so older
configs keep working and follow the setting too.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

ENV_VAR = "AESTUDIO_DATA"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_ROOT = REPO_ROOT.parent / "shared" / "data"
# How configs wrote the data root before the setting: relative to the repository root.
LEGACY_PREFIX = PurePosixPath("..", "shared", "data")


def data_root() -> Path:
    """``$AESTUDIO_DATA`` (``~`` expanded; relative to the working folder), or the default."""
    value = os.environ.get(ENV_VAR, "").strip()
    return Path(value).expanduser() if value else DEFAULT_DATA_ROOT


def data_path(*parts: str) -> Path:
    """A file or folder under the data root: ``data_path("kodak")``."""
    return data_root().joinpath(*parts)


def data_folder(folder: str | os.PathLike[str]) -> Path:
    """The folder a training config names: an absolute path as it is; the older
    ``../shared/data/<name>`` form and any other relative path under the data root."""
    path = Path(folder).expanduser()
    if path.is_absolute():
        return path
    parts = PurePosixPath(path.as_posix()).parts
    legacy = LEGACY_PREFIX.parts
    if parts[:len(legacy)] == legacy:
        parts = parts[len(legacy):]
    return data_path(*parts)
