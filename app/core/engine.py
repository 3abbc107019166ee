"""The one object front ends hold: registry + sessions + cached codecs, with in-memory
operations (compress, decompress, denoise, inpaint) shared by the GUI, CLI and batch."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from app.spec import bitstream as bsf

from .restore import network as restore
from .codec.image_codec import TO_SIZE_CODINGS, Analysis, Codec
from .engine_protocol import CancelFn, CompressResult, Denoised, ProgressFn
from .runtime.registry import Model, ModelError, ModelNotFoundError, Registry
from .runtime.sessions import SessionPool
from .runtime.tiling import stage

__all__ = ["CompressResult", "Denoised", "Engine"]

ANALYSES_KEPT = 2


class Engine:
    """The models of one folder on one execution provider; implements
    :class:`~app.core.engine_protocol.EngineProtocol`."""

    def __init__(self, models_dir: str | Path | None = None, provider: str | None = None,
                 threads: int | None = None):
        self.registry = Registry(models_dir)
        self.sessions = SessionPool(self.registry, provider, threads)
        self._codecs: dict[str, Codec] = {}
        # The last images analysed, newest last: two, so that a small copy (the GUI's preview)
        # never evicts the full image a slider is moving over.
        self._analyses: OrderedDict[tuple, Analysis] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def provider_label(self) -> str:
        return self.sessions.provider_label

    def resolve(self, task: str, model_id: str | None = None) -> Model:
        """``model_id``, or the task's default (an int8 copy only on the CPU provider); the
        files are not hash-checked here."""
        on_cpu = self.sessions.providers[0] == "CPUExecutionProvider"
        return self.registry.resolve(task, model_id, prefer_float=not on_cpu)

    def model(self, task: str, model_id: str | None = None) -> Model:
        """As :meth:`resolve`, with every file of the model checked against its hash."""
        return self.registry.verify(self.resolve(task, model_id))

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
            hint = self.registry.index.restore_hint(bs.model_id)
            installed = ", ".join(m.id for m in self.registry.list("codec")) or "none"
            raise ModelNotFoundError(
                f"this file was made with model {bs.model_id!r}, which is not installed "
                + (f"({hint})" if hint else f"(installed codecs: {installed})")) from None
        if codec.model.hash_prefix != bs.model_hash:
            raise ModelError(
                f"this file was made with a different build of model {bs.model_id!r} "
                f"(hash {bs.model_hash.hex()}, installed {codec.model.hash_prefix.hex()})")
        return codec, bs

    def compress(self, pixels: np.ndarray, quality: float = 75.0,
                 target_bytes: int | None = None, model_id: str | None = None,
                 progress: ProgressFn | None = None,
                 cancel: CancelFn | None = None) -> CompressResult:
        """``progress(done, total)`` counts the analysis tiles (none when the analysis of
        this image is kept), then the steps of the entropy codings (one coding, or a
        target-size search's); a ``cancel()`` that returns True stops before the next step
        (``Cancelled``)."""
        codec = self.codec(model_id)
        t = time.perf_counter()
        arr = np.ascontiguousarray(pixels)
        key = (codec.model.id, arr.shape, hashlib.blake2b(arr.data, digest_size=16).digest())
        analysis = self._kept_analysis(key)
        tiles = 0 if analysis is not None else codec.analysis_steps(*arr.shape[:2])
        total = tiles + (1 if target_bytes is None else TO_SIZE_CODINGS) * codec.coding_steps
        if analysis is None:
            analysis = self._analyse(codec, arr, key, stage(progress, 0, total), cancel)
        coding = stage(progress, tiles, total)
        if target_bytes is not None:
            data, quality = codec.encode_to_size(analysis, target_bytes, progress=coding,
                                                 cancel=cancel)
        else:
            data = codec.encode_analysis(analysis, quality, coding, cancel)
        return CompressResult(data, float(quality), time.perf_counter() - t, codec.model.id)

    def _kept_analysis(self, key: tuple) -> Analysis | None:
        with self._lock:
            if key in self._analyses:
                self._analyses.move_to_end(key)
                return self._analyses[key]
        return None

    def _analyse(self, codec: Codec, arr: np.ndarray, key: tuple, progress: ProgressFn | None,
                 cancel: CancelFn | None) -> Analysis:
        """The analysis transform of the last images is kept, so that trying another quality
        (a slider move, a target-size search) costs only the entropy-coding part."""
        analysis = codec.analyse(arr, progress, cancel)
        with self._lock:
            self._analyses[key] = analysis
            while len(self._analyses) > ANALYSES_KEPT:
                self._analyses.popitem(last=False)
        return analysis

    def decompress(self, data: bytes, progress: ProgressFn | None = None,
                   cancel: CancelFn | None = None) -> np.ndarray:
        """``progress(done, total)``: the entropy decoding, then each synthesis tile."""
        codec, bs = self.codec_for(data)
        return codec.decode(bs, progress, cancel)

    def denoise(self, pixels: np.ndarray, sigma: float | None = None,
                progress: ProgressFn | None = None, cancel: CancelFn | None = None,
                model_id: str | None = None, passes: int | None = None,
                strength: float = 1.0) -> Denoised:
        return Denoised(*restore.denoise(self.sessions, self.model("denoise", model_id), pixels,
                                         sigma, progress, cancel, passes, strength=strength))

    def inpaint(self, pixels: np.ndarray, mask: np.ndarray, progress: ProgressFn | None = None,
                cancel: CancelFn | None = None, model_id: str | None = None,
                passes: int | None = None) -> np.ndarray:
        return restore.inpaint(self.sessions, self.model("inpaint", model_id), pixels, mask,
                               progress, cancel, passes)
