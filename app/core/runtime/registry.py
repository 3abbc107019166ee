"""Model registry: finds model directories, reads their manifests and verifies file hashes."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path

from app.spec.manifest import (
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    Manifest,
    ManifestError,
    sha256_file,
)
from app.spec.model_index import ModelIndex, ModelIndexError, load_index

from ..io.bounded_read import InputFileError, read_input


class ModelError(Exception):
    """Base class of model problems; the message names the model or file."""


class ModelNotFoundError(ModelError, LookupError):
    pass


class ModelIntegrityError(ModelError):
    """A model file is missing or does not match the hash its manifest lists."""


# Filled by setup.py at build time with the models the index marks for the wheel.
PACKAGE_MODELS = Path(__file__).resolve().parents[2] / "models"
# A source checkout (editable install or PYTHONPATH) runs the repository's models/.
CHECKOUT = Path(__file__).resolve().parents[3]


def find_models_dir() -> tuple[Path, str]:
    """The models folder and its origin: ``$AESTUDIO_MODELS`` ("env"), else a source checkout's
    ``models/`` ("folder"), else the models installed with the package ("package")."""
    env = os.environ.get("AESTUDIO_MODELS")
    if env:
        return Path(env), "env"
    if (CHECKOUT / "pyproject.toml").is_file() and (CHECKOUT / "models").is_dir():
        return CHECKOUT / "models", "folder"
    return PACKAGE_MODELS, "package"


def default_models_dir() -> Path:
    return find_models_dir()[0]


def no_models_message(root: Path, origin: str, task: str | None = None,
                      empty: bool = True) -> str:
    """One line: which folder holds no (``task``) model, and how to fix that."""
    what = f"no {task} model" if task else "no models"
    state = (" (the folder does not exist)" if not Path(root).is_dir()
             else " (the folder holds no models)" if task and empty else "")
    fix = {"env": "set AESTUDIO_MODELS to a folder of model folders, or unset it to use the "
                  "models installed with aestudio",
           "folder": "pass --models a folder of model folders (each with a manifest.json), "
                     "or set AESTUDIO_MODELS to one",
           "package": 'reinstall aestudio (pip install --force-reinstall "aestudio[cpu]"), '
                      "or set AESTUDIO_MODELS to a folder of model folders"}[origin]
    return f"{what} in {root}{state}; fix: {fix}"


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


class ManifestWarning(UserWarning):
    """A model folder's manifest was refused; the model is skipped, the others work."""


@dataclass(frozen=True)
class BrokenModel:
    """A model folder whose manifest was refused, and why."""
    directory: Path
    manifest: Path
    reason: str

    @property
    def message(self) -> str:
        return f"{self.manifest}: {self.reason}"


def load_manifest(path: Path) -> Manifest:
    """The manifest at ``path``, read through the bounded reader (a regular file of at most
    MAX_MANIFEST_BYTES: a FIFO or device named manifest.json cannot hang the scan) and
    checked against the schema; ManifestError says what is wrong."""
    try:
        return Manifest.parse(read_input(path, max_bytes=MAX_MANIFEST_BYTES))
    except InputFileError as exc:
        raise ManifestError(str(exc).removeprefix(f"{path}: ")) from None
    except OSError as exc:
        raise ManifestError(f"cannot read the manifest ({exc.strerror or exc})") from None


_warned: set[str] = set()
_warned_lock = threading.Lock()


def _warn_once(message: str) -> None:
    """One ManifestWarning per broken manifest and process (every batch worker scans)."""
    with _warned_lock:
        if message in _warned:
            return
        _warned.add(message)
    warnings.warn(message, ManifestWarning, stacklevel=4)


class Registry:
    """All models under one folder; files are hash-checked before first use."""

    def __init__(self, root: str | Path | None = None, index: ModelIndex | None = None):
        if root is None:
            self.root, self.origin = find_models_dir()
        else:
            self.root, self.origin = Path(root), "folder"
        self._models: dict[str, Model] | None = None
        self._verified: dict[Path, tuple[int, int]] = {}
        self.problems: list[str] = []
        self.broken: list[BrokenModel] = []  # manifests refused by the last scan
        if index is None:
            try:
                index = load_index()
            except ModelIndexError as exc:  # defaults fall back to the newest model
                self.problems.append(str(exc))
                index = ModelIndex({}, {})
        self.index = index

    def _scan(self) -> dict[str, Model]:
        """Every model whose manifest passes the schema. A bad one (unreadable, not JSON, a
        wrong type, too deep, a path out of its folder, an id already taken) is skipped: it
        is listed in ``broken`` and ``problems`` and warned about once, and the others work."""
        if self._models is None:
            models: dict[str, Model] = {}
            self.broken = []
            paths = sorted(self.root.glob(f"*/{MANIFEST_NAME}"),
                           key=lambda p: version_key(p.parent.name))
            for manifest_path in paths:
                try:
                    m = load_manifest(manifest_path)
                    if m.id in models:
                        raise ManifestError(f"model id {m.id!r} is already used by "
                                            f"{models[m.id].directory}")
                except ManifestError as exc:
                    broken = BrokenModel(manifest_path.parent, manifest_path, str(exc))
                    self.broken.append(broken)
                    self.problems.append(broken.message)
                    _warn_once(broken.message)
                    continue
                models[m.id] = Model(m, manifest_path.parent)
            self._models = models
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

    def installed(self) -> list[Model]:
        """Every model; an empty or missing folder is a ModelNotFoundError with a one-line fix."""
        models = self.list()
        if not models:
            raise ModelNotFoundError(no_models_message(self.root, self.origin))
        return models

    def default(self, task: str, prefer_float: bool = False) -> Model:
        """The index's default model of ``task`` when it is installed, else the newest one
        (the highest version in its folder name).

        ``prefer_float`` replaces an int8 copy (its manifest records a ``quantization``) by the
        float model it was made from, or else the newest float model of the task: on a GPU,
        int8 QDQ graphs run as float convolutions with extra rounding, slower and less exact.
        """
        models = self.list(task)
        if not models:
            raise ModelNotFoundError(no_models_message(self.root, self.origin, task,
                                                       empty=not self.list()))
        by_id = {m.id: m for m in models}
        chosen = by_id.get(self.index.default(task) or "", models[-1])
        if prefer_float and _is_int8(chosen):
            source = by_id.get(chosen.manifest.params["quantization"].get("from", ""))
            floats = [m for m in models if not _is_int8(m)]
            chosen = source or (floats[-1] if floats else chosen)
        return chosen

    def defaults(self, prefer_float: bool = False) -> dict[str, str]:
        """Task -> default model id, for the tasks that have a model installed."""
        tasks = dict.fromkeys(m.task for m in self.list())
        return {task: self.default(task, prefer_float).id for task in tasks}

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


def _is_int8(model: Model) -> bool:
    return isinstance(model.manifest.params.get("quantization"), dict)


def _missing(model: Model, path: Path) -> ModelIntegrityError:
    return ModelIntegrityError(f"model {model.id!r}: file {path} is missing")


def _mismatch(model: Model, path: Path) -> ModelIntegrityError:
    return ModelIntegrityError(f"model {model.id!r}: file {path} does not match its manifest "
                               f"hash (tampered or incomplete); reinstall the model")
