"""Model registry: finds model directories, reads their manifests and verifies file hashes."""

from __future__ import annotations

import hashlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from app.spec.manifest import MANIFEST_NAME, Manifest, ManifestError, sha256_file


class ModelError(Exception):
    """Base class of model problems; the message names the model or file."""


class ModelNotFoundError(ModelError, LookupError):
    pass


class ModelIntegrityError(ModelError):
    """A model file is missing or does not match the hash its manifest lists."""


def default_models_dir() -> Path:
    """``$AESTUDIO_MODELS``, else the repository's ``models/``, else ``<prefix>/share/aestudio``."""
    env = os.environ.get("AESTUDIO_MODELS")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2] / "models"
    if repo.is_dir():
        return repo
    return Path(sys.prefix) / "share" / "aestudio" / "models"


def version_key(name: str) -> tuple:
    """Sort key that orders numbers by value: ``codec-v2`` before ``codec-v10``."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", name) if part)


@dataclass(frozen=True)
class Model:
    manifest: Manifest
    directory: Path

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def task(self) -> str:
        return self.manifest.task

    def path(self, name: str) -> Path:
        return self.directory / self.manifest.files[name].path

    @property
    def hash_prefix(self) -> bytes:
        return bytes.fromhex(self.manifest.model_hash()[:16])


class Registry:
    """All models under one folder; files are hash-checked before first use."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_models_dir()
        self._models: dict[str, Model] | None = None
        self._verified: dict[Path, tuple[int, int]] = {}
        self.problems: list[str] = []

    def _scan(self) -> dict[str, Model]:
        if self._models is None:
            self._models = {}
            paths = sorted(self.root.glob(f"*/{MANIFEST_NAME}"),
                           key=lambda p: version_key(p.parent.name))
            for manifest_path in paths:
                try:
                    m = Manifest.load(manifest_path.parent)
                except ManifestError as exc:
                    self.problems.append(str(exc))
                    continue
                self._models[m.id] = Model(m, manifest_path.parent)
        return self._models

    def list(self, task: str | None = None) -> list[Model]:
        return [m for m in self._scan().values() if task is None or m.task == task]

    def get(self, model_id: str) -> Model:
        try:
            return self._scan()[model_id]
        except KeyError:
            known = ", ".join(sorted(self._scan())) or "none"
            raise ModelNotFoundError(
                f"model {model_id!r} is not installed (installed: {known}; models folder: "
                f"{self.root})") from None

    def default(self, task: str, prefer_float: bool = False) -> Model:
        """The newest model of ``task``: the highest version in its folder name.

        ``prefer_float`` skips int8 copies (their manifest records a ``quantization``) when a
        float model of the task is installed: on a GPU, int8 QDQ graphs run as float
        convolutions with extra rounding, slower and less exact than the float model.
        """
        models = self.list(task)
        if not models:
            raise ModelNotFoundError(f"no {task} model installed in {self.root}")
        if prefer_float:
            floats = [m for m in models if "quantization" not in m.manifest.params]
            models = floats or models
        return models[-1]

    def resolve(self, task: str, model_id: str | None = None,
                prefer_float: bool = False) -> Model:
        model = self.get(model_id) if model_id else self.default(task, prefer_float)
        if model.task != task:
            raise ModelError(f"model {model.id!r} is a {model.task} model, not a {task} model")
        return model

    def verify(self, model: Model) -> Model:
        """Check every listed file against its sha256 (once per file version per process)."""
        for name, entry in model.manifest.files.items():
            path = model.path(name)
            try:
                st = path.stat()
            except FileNotFoundError:
                raise _missing(model, path) from None
            stamp = (st.st_size, st.st_mtime_ns)
            if self._verified.get(path) == stamp:
                continue
            if sha256_file(path) != entry.sha256:
                raise _mismatch(model, path)
            self._verified[path] = stamp
        return model

    def read_verified(self, model: Model, name: str) -> bytes:
        """The bytes of one model file, checked against the manifest's sha256.

        The bytes that were hashed are the bytes returned, so a file swapped after the check
        (between hashing and loading) cannot reach onnxruntime or the entropy tables.
        """
        entry = model.manifest.files[name]
        path = model.path(name)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise _missing(model, path) from None
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise _mismatch(model, path)
        return data


def _missing(model: Model, path: Path) -> ModelIntegrityError:
    return ModelIntegrityError(f"model {model.id!r}: file {path} is missing")


def _mismatch(model: Model, path: Path) -> ModelIntegrityError:
    return ModelIntegrityError(f"model {model.id!r}: file {path} does not match its manifest "
                               f"hash (tampered or incomplete); reinstall the model")
