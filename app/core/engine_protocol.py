"""What front ends call on an engine, and the typed results it gives back.

:class:`app.core.engine.Engine` implements :class:`EngineProtocol`; so do the batch facades
(``app.core.batch.backends``) and the tests' scripted fakes. Jobs, the demo, batch and the GUI
type against the protocol, which lives apart from the engine so that naming it loads no model
runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np

__all__ = ["CancelFn", "CompressResult", "Denoised", "EngineProtocol", "ProgressFn"]

ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


@dataclass
class CompressResult:
    """An image encoded to an .aei file's bytes."""

    data: bytes
    quality: float    # the quality used (the one found, for a target size)
    seconds: float    # analysis and entropy coding, without loading the model
    model_id: str


class Denoised(NamedTuple):
    """A denoised image and the noise level used (a tuple, so ``pixels, sigma = ...`` works)."""

    pixels: np.ndarray
    sigma: float      # 0-255 scale: the one given, or the estimate, times the strength


class EngineProtocol(Protocol):
    """The in-memory operations: pixels are ``HxWxC`` uint8 arrays, masks ``HxW`` (1 = hole)."""

    # ``progress(done, total)`` counts the steps of one call (tiles, entropy codings) and
    # ends at total; ``cancel()`` is checked between them and raises
    # :class:`app.core.runtime.tiling.Cancelled` when it returns True.
    def compress(self, pixels: np.ndarray, quality: float = 75.0,
                 target_bytes: int | None = None, model_id: str | None = None,
                 progress: ProgressFn | None = None,
                 cancel: CancelFn | None = None) -> CompressResult: ...

    def decompress(self, data: bytes, progress: ProgressFn | None = None,
                   cancel: CancelFn | None = None) -> np.ndarray: ...

    def denoise(self, pixels: np.ndarray, sigma: float | None = None,
                progress: ProgressFn | None = None, cancel: CancelFn | None = None,
                model_id: str | None = None, passes: int | None = None,
                strength: float = 1.0) -> Denoised: ...

    def inpaint(self, pixels: np.ndarray, mask: np.ndarray, progress: ProgressFn | None = None,
                cancel: CancelFn | None = None, model_id: str | None = None,
                passes: int | None = None) -> np.ndarray: ...
