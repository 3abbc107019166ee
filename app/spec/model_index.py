"""The model index: the one list of the model ids this version knows, with hashes and defaults.

``app/spec/model_index.json`` names every model folder that ships in ``models/``, its task, the
sha256 of its ``manifest.json`` (which itself lists the sha256 of every model file), the
16-digit model hash that ``.aei`` files carry, and whether the model goes into the wheel.
``defaults`` names each task's default model. ``retired`` names the codec ids whose folders
left ``models/``, each with the commit that last held the folder, so that a file written by one
gets the command that restores its model.

Two readers: ``app.core.runtime.registry`` picks each task's default from it, and ``setup.py`` copies the
models marked ``wheel`` into the package at build time.  Edit it with the helper, which computes
the hashes::

    python -m app.spec.model_index add models/<id> [--default] [--no-wheel]
    python -m app.spec.model_index retire <id> --commit <sha>   # after removing models/<id>
    python -m app.spec.model_index check          # every entry against models/
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from .manifest import MANIFEST_NAME, TASKS, Manifest, ManifestError

INDEX_PATH = Path(__file__).with_name("model_index.json")
INDEX_VERSION = 1
# Never packaged: training checkpoints (only training reads them).
NOT_PACKAGED = ("weights.safetensors",)


class ModelIndexError(ValueError):
    """The index is unreadable, or disagrees with a model folder."""


@dataclass(frozen=True)
class IndexEntry:
    id: str
    task: str
    manifest_sha256: str
    model_hash: str             # Manifest.model_hash()[:16], as written into .aei headers
    wheel: bool                 # copied into the wheel (the package's app/models/)
    float_source: str | None = None  # an int8 copy: the float model it was quantised from


@dataclass
class ModelIndex:
    models: dict[str, IndexEntry]
    defaults: dict[str, str]
    retired: dict[str, str] = field(default_factory=dict)   # id -> commit that last held it

    def default(self, task: str) -> str | None:
        return self.defaults.get(task)

    def wheel_ids(self) -> list[str]:
        return sorted(mid for mid, e in self.models.items() if e.wheel)

    def problems(self, every_task: bool = False) -> list[str]:
        """Inconsistencies: a default that is not indexed, of another task or not packaged,
        an int8 default whose float source (used on CUDA) is not packaged, and with
        ``every_task`` a task without a default."""
        out = [f"no default {task} model" for task in TASKS
               if every_task and task not in self.defaults]
        for task, mid in sorted(self.defaults.items()):
            entry = self.models.get(mid)
            if entry is None:
                out.append(f"default {task} model {mid!r} is not in the index")
                continue
            if entry.task != task:
                out.append(f"default {task} model {mid!r} is a {entry.task} model")
            if not entry.wheel:
                out.append(f"default {task} model {mid!r} is not packaged in the wheel")
            source = self.models.get(entry.float_source) if entry.float_source else None
            if entry.float_source and (source is None or not source.wheel):
                out.append(f"float source {entry.float_source!r} of the default {task} model "
                           f"{mid!r} is not packaged in the wheel")
        return out

    def to_dict(self) -> dict:
        models = {}
        for mid in sorted(self.models, key=_natural):
            e = self.models[mid]
            row = {"task": e.task, "manifest_sha256": e.manifest_sha256,
                   "model_hash": e.model_hash, "wheel": e.wheel}
            if e.float_source:
                row["float_source"] = e.float_source
            models[mid] = row
        return {"index_version": INDEX_VERSION, "defaults": dict(sorted(self.defaults.items())),
                "models": models,
                "retired": {mid: self.retired[mid] for mid in sorted(self.retired, key=_natural)}}

    @classmethod
    def from_dict(cls, data: dict) -> "ModelIndex":
        try:
            if data.get("index_version") != INDEX_VERSION:
                raise ModelIndexError(f"unsupported index_version {data.get('index_version')!r}")
            models = {mid: IndexEntry(mid, str(row["task"]), str(row["manifest_sha256"]),
                                      str(row["model_hash"]), bool(row["wheel"]),
                                      row.get("float_source"))
                      for mid, row in data["models"].items()}
            defaults = {str(k): str(v) for k, v in data["defaults"].items()}
            retired = {str(k): str(v) for k, v in data.get("retired", {}).items()}
        except (KeyError, TypeError, AttributeError) as exc:
            raise ModelIndexError(f"malformed model index: {exc!r}") from exc
        return cls(models, defaults, retired)

    def restore_hint(self, model_id: str) -> str | None:
        """How to get a retired model's folder back, or None for an id that was never retired."""
        commit = self.retired.get(model_id)
        if commit is None:
            return None
        return (f"it is a retired model: restore it with 'git archive {commit} models/{model_id} "
                f"| tar -x' in a clone of the project and pass --models models")


def _natural(name: str) -> list:
    """Numbers by value, so that ``-v6`` comes before ``-v10`` in the file."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", name) if part]


def load_index(path: Path | None = None) -> ModelIndex:
    path = path or INDEX_PATH
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelIndexError(f"cannot read the model index {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelIndexError(f"model index {path} is not a JSON object")
    return ModelIndex.from_dict(data)


def save_index(index: ModelIndex, path: Path | None = None) -> None:
    Path(path or INDEX_PATH).write_text(json.dumps(index.to_dict(), indent=2) + "\n")


def packaged_files(model_dir: Path) -> list[str]:
    """The files of an installed model, relative to its folder: the manifest, its model card
    and every file the manifest lists, never a training checkpoint."""
    manifest = Manifest.load(Path(model_dir))
    names = [MANIFEST_NAME, manifest.card] + [f.path for f in manifest.files.values()]
    return sorted({n for n in names if Path(n).name not in NOT_PACKAGED})


def entry_for(model_dir: Path, wheel: bool) -> IndexEntry:
    """An index entry computed from a model folder."""
    model_dir = Path(model_dir)
    manifest = Manifest.load(model_dir)
    if manifest.id != model_dir.name:
        raise ModelIndexError(f"{model_dir}: folder name differs from the manifest id "
                              f"{manifest.id!r}")
    digest = hashlib.sha256((model_dir / MANIFEST_NAME).read_bytes()).hexdigest()
    source = manifest.params.get("quantization", {}).get("from") or None
    return IndexEntry(manifest.id, manifest.task, digest, manifest.model_hash()[:16], wheel,
                      source)


def check_folder(index: ModelIndex, model_dir: Path) -> list[str]:
    """Check a model folder against its index entry; the files to package, or an error that
    says how to refresh the entry."""
    model_dir = Path(model_dir)
    entry = index.models.get(model_dir.name)
    if entry is None:
        raise ModelIndexError(f"{model_dir.name} is not in the model index")
    try:
        found = entry_for(model_dir, entry.wheel)
    except (OSError, ManifestError) as exc:
        raise ModelIndexError(f"{model_dir}: {exc}") from exc
    if found != entry:
        raise ModelIndexError(f"{model_dir}: manifest differs from the model index; refresh it "
                              f"with: python -m app.spec.model_index add {model_dir}")
    return packaged_files(model_dir)


def add(index: ModelIndex, model_dir: Path, default: bool = False,
        wheel: bool | None = None) -> IndexEntry:
    """Add or refresh one model; ``default`` makes it its task's default (and packages it)."""
    old = index.models.get(Path(model_dir).name)
    keep = old.wheel if old else False
    entry = entry_for(model_dir, bool(default or (keep if wheel is None else wheel)))
    index.models[entry.id] = entry
    if default:
        index.defaults[entry.task] = entry.id
        source = index.models.get(entry.float_source) if entry.float_source else None
        if source is not None and not source.wheel:
            index.models[source.id] = replace(source, wheel=True)
    return entry


def retire(index: ModelIndex, model_id: str, commit: str) -> None:
    """Move a model whose folder left ``models/`` from the index to its retired list."""
    if model_id in index.defaults.values():
        raise ModelIndexError(f"{model_id} is a default model; make another the default first")
    index.models.pop(model_id, None)
    index.retired[model_id] = commit


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.spec.model_index",
                                description="Edit or check app/spec/model_index.json.")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("add", help="add or refresh a model folder (computes its hashes)")
    a.add_argument("model_dir", type=Path)
    a.add_argument("--default", action="store_true", help="make it its task's default")
    a.add_argument("--no-wheel", dest="wheel", action="store_false", default=None,
                   help="list it but leave it out of the wheel")
    r = sub.add_parser("retire", help="a model whose folder left models/: keep the commit "
                                      "that restores it")
    r.add_argument("model_id")
    r.add_argument("--commit", required=True, help="a commit that still holds models/<id>")
    c = sub.add_parser("check", help="check the index against the models folder, both ways")
    c.add_argument("--models", type=Path, default=Path("models"))
    args = p.parse_args(argv)
    try:
        index = load_index() if INDEX_PATH.exists() else ModelIndex({}, {})
        if args.command == "add":
            entry = add(index, args.model_dir, args.default, args.wheel)
            if index.problems():
                raise ModelIndexError("; ".join(index.problems()))
            save_index(index)
            print(f"{entry.id}: {entry.task}, manifest sha256 {entry.manifest_sha256[:16]}…, "
                  f"{'in' if entry.wheel else 'not in'} the wheel"
                  + (", default" if index.default(entry.task) == entry.id else ""))
            return 0
        if args.command == "retire":
            retire(index, args.model_id, args.commit)
            save_index(index)
            print(f"{args.model_id}: retired (restore from {args.commit})")
            return 0
        problems = index.problems(every_task=True)
        problems += [f"models/{p.parent.name} is not in the model index"
                     for p in sorted(args.models.glob(f"*/{MANIFEST_NAME}"))
                     if p.parent.name not in index.models]
        for mid in sorted(index.models):
            try:
                check_folder(index, args.models / mid)
            except ModelIndexError as exc:
                problems.append(str(exc))
        for line in problems:
            print(f"problem: {line}", file=sys.stderr)
        print(f"{len(index.models)} models, {len(problems)} problems")
        return 1 if problems else 0
    except (ModelIndexError, ManifestError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
