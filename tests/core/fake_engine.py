"""A scripted engine following app.core.engine_protocol.EngineProtocol, for tests of what is
built on the engine (jobs, round trip, demo) without models."""

from __future__ import annotations

import numpy as np

from app.core.engine_protocol import CompressResult, Denoised
from app.core.runtime.tiling import Steps


class FakeEngine:
    """compress -> ``quality`` bytes; decompress -> the last image compressed, each value
    lowered by ``error``; denoise -> the image as given, sigma 12.345; inpaint -> holes white.
    Compress and decompress are one step each (``progress``, ``cancel``)."""

    def __init__(self, error: int = 1):
        self.error = error
        self.calls: list[str] = []
        self._last: np.ndarray | None = None

    def compress(self, pixels, quality=75.0, target_bytes=None, model_id=None, progress=None,
                 cancel=None):
        step = Steps(1, progress, cancel)
        self.calls.append("compress")
        step.next()
        self._last = pixels
        size = target_bytes if target_bytes is not None else int(quality)
        return CompressResult(b"\x01" * size, float(quality), 0.25, model_id or "fake-codec")

    def decompress(self, data, progress=None, cancel=None):
        Steps(1, progress, cancel).next()
        self.calls.append("decompress")
        return (self._last.astype(np.int16) - self.error).clip(0, 255).astype(np.uint8)

    def denoise(self, pixels, sigma=None, progress=None, cancel=None, model_id=None,
                passes=None, strength=1.0):
        self.calls.append("denoise")
        return Denoised(pixels.copy(), 12.345)

    def inpaint(self, pixels, mask, progress=None, cancel=None, model_id=None, passes=None):
        self.calls.append("inpaint")
        out = pixels.copy()
        out[mask > 0] = 255
        return out
