"""Model manifest: what a model directory under ``models/`` contains and promises.

Each model lives in ``models/<id>/`` with a ``manifest.json`` written by ``training.export``
and read by ``app.core.registry``.  The manifest lists every file the model needs with its
sha256, the graph input/output names, the value range and the geometry (downsampling factor,
tile size and overlap).  Task-specific settings live in ``params``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SPEC_VERSION = 1
MANIFEST_NAME = "manifest.json"
TASKS = ("codec", "denoise", "inpaint")
# First guesses an inpainting model can ask for in ``params["hole_fill"]``: the app fills the
# holes that way before the model sees the image. A model that names none gets its holes set to 0.
# Each name is push-pull followed, at every pyramid level, by this many red-black SOR sweeps of
# Laplace's equation over that level's empty pixels (relaxation factor HOLE_FILL_OMEGA): 0 is
# plain push-pull, and "harmonic" comes within about 0.05 dB of the exact harmonic fill.
HOLE_FILLS = {"push-pull": 0, "harmonic": 8}
HOLE_FILL_OMEGA = 1.6


class ManifestError(ValueError):
    """A manifest is missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class FileEntry:
    path: str
    sha256: str


@dataclass(frozen=True)
class GraphIO:
    inputs: list[str]
    outputs: list[str]


@dataclass
class Manifest:
    id: str
    task: str
    title: str
    files: dict[str, FileEntry]
    graphs: dict[str, GraphIO] = field(default_factory=dict)
    value_range: tuple[float, float] = (0.0, 1.0)
    channels: int = 3
    downsample: int = 1
    tile_size: int = 512
    tile_overlap: int = 32
    card: str = "card.md"
    params: dict[str, Any] = field(default_factory=dict)
    spec_version: int = SPEC_VERSION

    def model_hash(self) -> str:
        """One sha256 over all file hashes: identifies this exact set of weights and tables."""
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(f"{name}:{self.files[name].sha256}\n".encode())
        return h.hexdigest()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["value_range"] = list(self.value_range)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Manifest":
        try:
            version = int(d.get("spec_version", 0))
            if version < 1 or version > SPEC_VERSION:
                raise ManifestError(f"unsupported manifest spec_version {version}")
            task = d["task"]
            if task not in TASKS:
                raise ManifestError(f"unknown task {task!r}")
            files = {k: FileEntry(str(v["path"]), str(v["sha256"])) for k, v in d["files"].items()}
            graphs = {k: GraphIO(list(v["inputs"]), list(v["outputs"]))
                      for k, v in d.get("graphs", {}).items()}
            for name, entry in files.items():
                p = Path(entry.path)
                if p.is_absolute() or ".." in p.parts:
                    raise ManifestError(f"file {name!r} escapes the model directory: {entry.path}")
            return cls(
                id=str(d["id"]), task=task, title=str(d.get("title", d["id"])), files=files,
                graphs=graphs, value_range=tuple(d.get("value_range", (0.0, 1.0))),
                channels=int(d.get("channels", 3)), downsample=int(d.get("downsample", 1)),
                tile_size=int(d.get("tile_size", 512)), tile_overlap=int(d.get("tile_overlap", 32)),
                card=str(d.get("card", "card.md")), params=dict(d.get("params", {})),
                spec_version=version,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise ManifestError(f"malformed manifest: {exc!r}") from exc

    def save(self, model_dir: Path) -> Path:
        path = Path(model_dir) / MANIFEST_NAME
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def load(cls, model_dir: Path) -> "Manifest":
        path = Path(model_dir) / MANIFEST_NAME
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise ManifestError(f"no manifest at {path}") from exc
        except (OSError, json.JSONDecodeError) as exc:
            raise ManifestError(f"cannot read manifest {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ManifestError(f"manifest {path} is not a JSON object")
        return cls.from_dict(data)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
