"""Model manifest: what a model directory under ``models/`` contains and promises.

Each model lives in ``models/<id>/`` with a ``manifest.json`` written by ``training.export``
and read by ``app.core.runtime.registry``.  The manifest lists every file the model needs with its
sha256, the graph input/output names, the value range and the geometry (downsampling factor,
tile size and overlap).  Task-specific settings live in ``params``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
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
# Limits of the schema (see "The manifest schema" below): a manifest is a few KB, its params
# nest four levels deep.
MAX_MANIFEST_BYTES = 1 << 20
MAX_DEPTH = 16


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
        """A manifest from parsed JSON, every field checked against the schema (one
        :class:`ManifestError` naming the field otherwise)."""
        return _from_checked(cls, d)

    @classmethod
    def parse(cls, data: bytes | str) -> "Manifest":
        """A manifest from the bytes of ``manifest.json``; :class:`ManifestError` for anything
        that is not valid UTF-8 JSON of the schema (too large, too deep, NaN, wrong types)."""
        if len(data) > MAX_MANIFEST_BYTES:
            raise ManifestError(f"manifest is larger than {MAX_MANIFEST_BYTES:,} bytes")
        try:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            obj = json.loads(text, parse_constant=_refuse_constant)
        except UnicodeDecodeError as exc:
            raise ManifestError(f"manifest is not UTF-8 text ({exc.reason})") from None
        except json.JSONDecodeError as exc:
            raise ManifestError(f"manifest is not valid JSON ({exc.msg} at line {exc.lineno} "
                                f"column {exc.colno})") from None
        except RecursionError:
            raise ManifestError(f"manifest is nested more than {MAX_DEPTH} levels deep") from None
        if not isinstance(obj, dict):
            raise ManifestError(f"manifest is a JSON {type(obj).__name__}, not an object")
        return cls.from_dict(obj)

    def save(self, model_dir: Path) -> Path:
        path = Path(model_dir) / MANIFEST_NAME
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")
        return path

    @classmethod
    def load(cls, model_dir: Path) -> "Manifest":
        path = Path(model_dir) / MANIFEST_NAME
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise ManifestError(f"no manifest at {path}") from exc
        except OSError as exc:
            raise ManifestError(f"cannot read manifest {path}: {exc}") from exc
        try:
            return cls.parse(data)
        except ManifestError as exc:
            raise ManifestError(f"{path}: {exc}") from None


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


# ------------------------------------------------------------------------ the manifest schema
# Every field a reader uses has a type and a range; a manifest that breaks one is refused as a
# whole with a ManifestError naming the field, so no half-valid model reaches the app (and an
# ``int("abc")`` never escapes as a bare ValueError). Unknown top-level fields are ignored, so
# that newer exporters can add some; ``params`` may hold any JSON up to MAX_DEPTH levels, and
# the keys the app reads in it are typed too.

_REQUIRED = object()
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_PARAM_TYPES: dict[str, type] = {"hyper": str, "context": str, "hole_fill": str,
                                 "quantization": dict}


def _refuse_constant(name: str) -> Any:
    raise ManifestError(f"manifest holds {name}, which is not a JSON number")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _depth(obj: Any) -> int:
    """How many lists and objects nest in ``obj`` (0 for a scalar); iterative, no recursion."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item \
            if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def _get(d: dict, key: str, kind: type | tuple[type, ...], default: Any = _REQUIRED,
         where: str = "") -> Any:
    name = f"{where}{key}"
    if key not in d:
        if default is _REQUIRED:
            raise ManifestError(f"field {name!r} is missing")
        return default
    value = d[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int to Python, never to the schema
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        label = {int: "an integer", str: "a string", dict: "an object", list: "a list",
                 float: "a number"}.get(kinds[0], kinds[0].__name__)
        raise ManifestError(f"field {name!r} must be {label}, got {_show(value)}")
    return value


def _int(d: dict, key: str, default: int, lo: int, hi: int) -> int:
    value = _get(d, key, int, default)
    if not lo <= value <= hi:
        raise ManifestError(f"field {key!r} must be in {lo}..{hi}, got {value}")
    return value


def _strings(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ManifestError(f"field {name!r} must be a list of strings, got {_show(value)}")
    return list(value)


def _files(d: dict) -> dict[str, FileEntry]:
    raw = _get(d, "files", dict)
    if not raw:
        raise ManifestError("field 'files' lists no file")
    files = {}
    for name, entry in raw.items():
        where = f"files.{name}."
        if not isinstance(entry, dict):
            raise ManifestError(f"field 'files.{name}' must be an object, got {_show(entry)}")
        path, digest = _get(entry, "path", str, where=where), _get(entry, "sha256", str,
                                                                    where=where)
        if not _SHA256.match(digest):
            raise ManifestError(f"field '{where}sha256' must be 64 lowercase hex digits, "
                                f"got {_show(digest)}")
        p = Path(path)
        if not path or p.is_absolute() or ".." in p.parts:
            raise ManifestError(f"file {name!r} escapes the model directory: {path}")
        files[name] = FileEntry(path, digest)
    return files


def _graphs(d: dict) -> dict[str, GraphIO]:
    graphs = {}
    for name, io in _get(d, "graphs", dict, {}).items():
        if not isinstance(io, dict):
            raise ManifestError(f"field 'graphs.{name}' must be an object, got {_show(io)}")
        graphs[name] = GraphIO(
            _strings(_get(io, "inputs", list, where=f"graphs.{name}."), f"graphs.{name}.inputs"),
            _strings(_get(io, "outputs", list, where=f"graphs.{name}."),
                     f"graphs.{name}.outputs"))
    return graphs


def _value_range(d: dict) -> tuple[float, float]:
    value = _get(d, "value_range", list, [0.0, 1.0])
    ok = len(value) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                 and math.isfinite(v) for v in value)
    if not ok or not value[0] < value[1]:
        raise ManifestError(f"field 'value_range' must be [low, high] with low < high, "
                            f"got {_show(value)}")
    return float(value[0]), float(value[1])


def _params(d: dict) -> dict[str, Any]:
    params = _get(d, "params", dict, {})
    for key, kind in _PARAM_TYPES.items():
        if key in params:
            _get(params, key, kind, where="params.")
    quantization = params.get("quantization")
    if quantization is not None:
        _get(quantization, "from", str, "", where="params.quantization.")
    return dict(params)


def _from_checked(cls: type[Manifest], d: Any) -> Manifest:
    if not isinstance(d, dict):
        raise ManifestError(f"manifest is a JSON {type(d).__name__}, not an object")
    if _depth(d) > MAX_DEPTH:
        raise ManifestError(f"manifest is nested more than {MAX_DEPTH} levels deep")
    version = _get(d, "spec_version", int)
    if not 1 <= version <= SPEC_VERSION:
        raise ManifestError(f"unsupported manifest spec_version {version}")
    task = _get(d, "task", str)
    if task not in TASKS:
        raise ManifestError(f"unknown task {_show(task)} (known: {', '.join(TASKS)})")
    model_id = _get(d, "id", str)
    if not model_id or len(model_id.encode("utf-8")) > 255 or not model_id.isprintable():
        raise ManifestError(f"field 'id' must be 1..255 bytes of printable text, got "
                            f"{_show(model_id)}")
    files = _files(d)
    tile_size = _int(d, "tile_size", 512, 0, 1 << 16)  # 0: none recorded (codecs: the default)
    return cls(
        id=model_id, task=task, title=_get(d, "title", str, model_id), files=files,
        graphs=_graphs(d), value_range=_value_range(d),
        channels=_int(d, "channels", 3, 1, 4), downsample=_int(d, "downsample", 1, 1, 1 << 12),
        tile_size=tile_size, tile_overlap=_int(d, "tile_overlap", 32, 0, max(tile_size - 1, 0)),
        card=_get(d, "card", str, "card.md"), params=_params(d), spec_version=version)
