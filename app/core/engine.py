"""The one object front ends hold: registry + sessions + cached codecs, with in-memory
operations (compress, decompress, denoise, inpaint) shared by the GUI, CLI and batch."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.spec import bitstream as bsf

from . import restore
from .codec import Codec
from .registry import Model, ModelError, ModelNotFoundError, Registry
from .sessions import SessionPool


@dataclass
class CompressResult:
    data: bytes
    quality: float
    seconds: float
    model_id: str


class Engine:
    def __init__(self, models_dir: str | Path | None = None, provider: str | None = None,
                 threads: int | None = None):
        self.registry = Registry(models_dir)
        self.sessions = SessionPool(self.registry, provider, threads)
        self._codecs: dict[str, Codec] = {}

    @property
    def provider_label(self) -> str:
        return self.sessions.provider_label

    def model(self, task: str, model_id: str | None = None) -> Model:
        return self.registry.verify(self.registry.resolve(task, model_id))

    def codec(self, model_id: str | None = None) -> Codec:
        model = self.model("codec", model_id)
        if model.id not in self._codecs:
            self._codecs[model.id] = Codec(model, self.sessions)
        return self._codecs[model.id]

    def codec_for(self, data: bytes) -> tuple[Codec, bsf.Bitstream]:
        """The installed codec that can decode ``data`` (checks id and hash)."""
        bs = bsf.unpack(data)
        try:
            codec = self.codec(bs.model_id)
        except ModelNotFoundError:
            raise ModelNotFoundError(
                f"this file was made with model {bs.model_id!r}, which is not installed "
                f"(installed codecs: {', '.join(m.id for m in self.registry.list('codec')) or 'none'})"
            ) from None
        if codec.model.hash_prefix != bs.model_hash:
            raise ModelError(
                f"this file was made with a different build of model {bs.model_id!r} "
                f"(hash {bs.model_hash.hex()}, installed {codec.model.hash_prefix.hex()})")
        return codec, bs

    def compress(self, pixels: np.ndarray, quality: float = 75.0,
                 target_bytes: int | None = None, model_id: str | None = None) -> CompressResult:
        codec = self.codec(model_id)
        t = time.perf_counter()
        if target_bytes is not None:
            data, quality = codec.encode_to_size(pixels, target_bytes)
        else:
            data = codec.encode(pixels, quality)
        return CompressResult(data, float(quality), time.perf_counter() - t, codec.model.id)

    def decompress(self, data: bytes) -> np.ndarray:
        codec, bs = self.codec_for(data)
        return codec.decode(bs)

    def denoise(self, pixels: np.ndarray, sigma: float | None = None, progress=None,
                cancel=None, model_id: str | None = None) -> tuple[np.ndarray, float]:
        return restore.denoise(self.sessions, self.model("denoise", model_id), pixels, sigma,
                               progress, cancel)

    def inpaint(self, pixels: np.ndarray, mask: np.ndarray, progress=None, cancel=None,
                model_id: str | None = None) -> np.ndarray:
        return restore.inpaint(self.sessions, self.model("inpaint", model_id), pixels, mask,
                               progress, cancel)
