"""The plain convolutional autoencoder baseline of benchmarks/codec.py ("plain-ae").

The classic tutorial autoencoder (``training.archs.PlainAutoencoder``, task "autoencoder",
exported to ``benchmarks/baselines/``) has no entropy model: its sigmoid latent is stored as
8-bit values, round(y * 255), compressed with zlib (level 9). The stream is a 10-byte header
(image height and width, latent channels, height and width, big-endian uint16) and the zlib
data of the latent in (channels, height, width) order. One operating point: no quality knob.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np

from app.spec.manifest import sha256_file

TASK = "autoencoder"
HEADER = struct.Struct(">5H")


class PlainAE:
    """Encoder and decoder of one exported plain-autoencoder model folder, on CPU."""

    def __init__(self, model_dir: str | Path, threads: int | None = None):
        import onnxruntime as ort

        self.directory = Path(model_dir)
        manifest = json.loads((self.directory / "manifest.json").read_text())
        if manifest.get("task") != TASK:
            raise ValueError(f"{self.directory} holds a {manifest.get('task')!r} model, "
                             f"not a plain {TASK}")
        self.manifest = manifest
        self.downsample = int(manifest["downsample"])
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.sessions = {}
        for name in ("encoder", "decoder"):
            entry = manifest["files"][name]
            path = self.directory / entry["path"]
            if sha256_file(path) != entry["sha256"]:
                raise ValueError(f"{path} does not match its manifest hash")
            self.sessions[name] = ort.InferenceSession(str(path), opts,
                                                       providers=["CPUExecutionProvider"])

    def encode(self, pixels: np.ndarray, quality: float = 100) -> bytes:
        """uint8 (H, W, 3) -> bytes; ``quality`` is ignored (one operating point)."""
        h, w = pixels.shape[:2]
        s = self.downsample
        padded = np.pad(pixels, ((0, -h % s), (0, -w % s), (0, 0)), mode="edge")
        x = padded.transpose(2, 0, 1)[None].astype(np.float32) / 255
        (y,) = self.sessions["encoder"].run(None, {"x": x})
        latent = np.clip(np.round(y[0] * 255), 0, 255).astype(np.uint8)
        return HEADER.pack(h, w, *latent.shape) + zlib.compress(latent.tobytes(), 9)

    def decode(self, data: bytes) -> np.ndarray:
        h, w, c, lh, lw = HEADER.unpack_from(data)
        latent = np.frombuffer(zlib.decompress(data[HEADER.size:]), np.uint8)
        y = latent.reshape(1, c, lh, lw).astype(np.float32) / 255
        (x_hat,) = self.sessions["decoder"].run(None, {"y": y})
        out = np.clip(np.round(x_hat[0].transpose(1, 2, 0) * 255), 0, 255)
        return np.ascontiguousarray(out[:h, :w].astype(np.uint8))
