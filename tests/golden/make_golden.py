"""Regenerate the golden ``.aei`` files and ``hashes.json`` (not run by the tests).

    python -m tests.golden.make_golden            # every codec id listed in docs/format.md
    python -m tests.golden.make_golden codec-hyperprior-v16   # add (or redo) one id
    python -m tests.golden.make_golden --models /tmp/models codec-hyperprior-v9   # a retired
                                    # id, from its folder restored out of the history

Each golden file is a 64x48 synthetic picture compressed by one codec id at two qualities, on
the CPU execution provider with one thread.  ``hashes.json`` records the sha256 of each file's
bytes, of its decoded latent symbols (integers: exact by construction) and of its decoded
pixels.  Only regenerate an existing entry on purpose: the point of a golden file is that the
bytes written by an old release keep decoding to the same pixels (docs/format.md).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
FORMAT_DOC = REPO / "docs" / "format.md"
HASHES = HERE / "hashes.json"
QUALITIES = (20.0, 85.0)
WIDTH, HEIGHT = 64, 48
IDS_HEADING = "## Codec ids this version decodes"
RETIRED_HEADING = "### Retired codec ids"


def _listed(heading: str, doc: Path) -> list[tuple[str, str]]:
    """The lines "- `ID`" (and the rest of each line) right under ``heading``."""
    out, inside = [], False
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            inside = line.strip() == heading
        elif inside and line.startswith("- `"):
            _, model_id, rest = line.split("`", 2)
            out.append((model_id, rest))
    return out


def listed_codec_ids(doc: Path = FORMAT_DOC) -> list[str]:
    """The ids in docs/format.md's list of the codec ids this version decodes."""
    return [model_id for model_id, _ in _listed(IDS_HEADING, doc)]


def retired_codec_ids(doc: Path = FORMAT_DOC) -> dict[str, str]:
    """docs/format.md's retired ids, each with the commit that last held its model folder."""
    return {model_id: rest.strip(" ()") for model_id, rest in _listed(RETIRED_HEADING, doc)}


def golden_name(model_id: str, quality: float) -> str:
    return f"{model_id}-q{quality:g}.aei"


def source_image() -> np.ndarray:
    """A 64x48 RGB picture from formulas alone (no random generator, whose streams may change
    between numpy versions): gradients, a disc, a hard edge and a fine stripe texture."""
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    r = 40 + 150 * xx / WIDTH + 30 * np.sin(yy / 5)
    g = 60 + 120 * yy / HEIGHT + 25 * np.cos(xx / 7)
    b = 200 - 100 * (xx + yy) / (WIDTH + HEIGHT) + 20 * np.sin((xx - 2 * yy) / 2)
    img = np.stack([r, g, b], -1)
    img[(yy - 20) ** 2 + (xx - 40) ** 2 < 100] = (230, 200, 40)
    img[:, :12] *= 0.4
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def pixels_sha256(pixels: np.ndarray) -> str:
    """The decoded image's hash: shape and dtype included, so a grey or cropped decode differs."""
    arr = np.ascontiguousarray(pixels)
    head = f"{arr.dtype.str}{arr.shape}".encode()
    return hashlib.sha256(head + arr.tobytes()).hexdigest()


def symbols_sha256(codec, data: bytes) -> str:
    """The hash of the decoded hyper-latent and latent symbols (integers)."""
    from app.spec.bitstream import unpack

    z_sym, _means, _idx, y_sym = codec.decode_symbols(unpack(data))
    h = hashlib.sha256()
    for arr in (z_sym, y_sym):
        h.update(np.ascontiguousarray(arr, dtype=np.int64).tobytes())
    return h.hexdigest()


def make(ids: list[str], models: Path | None = None) -> dict:
    from app.core.engine import Engine

    engine = Engine(models_dir=models, provider="cpu", threads=1)
    entries = json.loads(HASHES.read_text())["files"] if HASHES.exists() else {}
    px = source_image()
    for model_id in ids:
        codec = engine.codec(model_id)
        for q in QUALITIES:
            data = codec.encode(px, q)
            name = golden_name(model_id, q)
            (HERE / name).write_bytes(data)
            entries[name] = {"model": model_id, "quality": q, "bytes": len(data),
                             "aei_sha256": hashlib.sha256(data).hexdigest(),
                             "symbols_sha256": symbols_sha256(codec, data),
                             "pixels_sha256": pixels_sha256(engine.decompress(data))}
            print(f"{name}: {len(data)} bytes")
    doc = {"source": f"tests/golden/make_golden.py source_image() {WIDTH}x{HEIGHT}",
           "files": dict(sorted(entries.items()))}
    HASHES.write_text(json.dumps(doc, indent=1) + "\n")
    return doc


if __name__ == "__main__":
    args = sys.argv[1:]
    folder = None
    if args[:1] == ["--models"]:
        folder, args = Path(args[1]), args[2:]
    make(args or listed_codec_ids(), folder)
