"""Denoising and inpainting of whole images through tiled ONNX inference."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .hole_fill import prefill
from .imageio import from_rgb, to_rgb
from .noise_level import estimate_sigma
from .registry import Model
from .self_ensemble import resolve_passes, self_ensemble
from .sessions import SessionPool
from .tiling import run_tiled_source

Progress = Callable[[int, int], None] | None
Cancel = Callable[[], bool] | None


def _run(sessions: SessionPool, model: Model, graph: str, tile: np.ndarray) -> np.ndarray:
    x = tile.transpose(2, 0, 1)[None]
    names = model.manifest.graphs[graph].inputs
    (out,) = sessions.run(model, graph, **{names[0]: x[:, :3], names[1]: x[:, 3:]})
    return out[0].transpose(1, 2, 0)


def _to_uint8(rows: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(rows * 255.0), 0, 255).astype(np.uint8)


def denoise(sessions: SessionPool, model: Model, pixels: np.ndarray, sigma: float | None = None,
            progress: Progress = None, cancel: Cancel = None,
            passes: int | None = None) -> tuple[np.ndarray, float]:
    """Denoise an 8-bit image; ``sigma`` (0-255) None means estimate it. Returns (image, sigma).

    Tiles are converted to float one at a time and finished rows go straight back to 8 bits,
    so a 48-megapixel photo needs well under 1.5 GB. ``passes``: network passes per tile,
    averaged (``app.core.self_ensemble``; None: the task's default).
    """
    passes = resolve_passes("denoise", passes)
    rgb, alpha = to_rgb(pixels)
    grey = pixels.ndim == 2 or pixels.shape[2] == 1
    if sigma is None:
        sigma = estimate_sigma(rgb[..., 0] if grey else rgb)
    sigma = float(np.clip(sigma, 0.0, 75.0))
    level = np.float32(sigma / 255.0)

    def source(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        tile = np.empty((y1 - y0, x1 - x0, 4), np.float32)
        np.multiply(rgb[y0:y1, x0:x1], np.float32(1 / 255), out=tile[..., :3])
        tile[..., 3] = level
        return tile

    m = model.manifest
    h, w = rgb.shape[:2]
    net = self_ensemble(lambda t: _run(sessions, model, "denoise", t), passes)
    rgb_out = run_tiled_source(source, h, w, net,
                               tile=m.tile_size, overlap=m.tile_overlap, multiple=m.downsample,
                               finish=lambda rows, _y0, _y1: _to_uint8(rows),
                               progress=progress, cancel=cancel)
    return from_rgb(rgb_out, alpha, grey=grey), sigma


def inpaint(sessions: SessionPool, model: Model, pixels: np.ndarray, mask: np.ndarray,
            progress: Progress = None, cancel: Cancel = None,
            passes: int | None = None) -> np.ndarray:
    """Fill the pixels where ``mask`` is set (HxW, nonzero = hole); the rest stay unchanged.

    A model whose manifest names a ``hole_fill`` gets the holes filled with that first guess
    (computed on the whole image, so it carries context from beyond any tile); others get 0.
    Only tiles that hold a hole go through the network (``passes`` times, averaged): removing
    one object from a 12-megapixel photo runs the tiles around it, not the whole photo.
    """
    passes = resolve_passes("inpaint", passes)
    if mask.shape[:2] != pixels.shape[:2]:
        raise ValueError(f"mask size {mask.shape[1]}x{mask.shape[0]} does not match the image "
                         f"({pixels.shape[1]}x{pixels.shape[0]})")
    rgb, alpha = to_rgb(pixels)
    hole = mask.reshape(mask.shape[:2]) > 0
    guess = prefill(rgb, hole, model.manifest.params.get("hole_fill"))

    def source(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        tile = np.empty((y1 - y0, x1 - x0, 4), np.float32)
        pixels = rgb[y0:y1, x0:x1] if guess is None else guess.crop(y0, y1, x0, x1)
        np.multiply(pixels, np.float32(1 / 255), out=tile[..., :3])
        holes = hole[y0:y1, x0:x1]
        if guess is None:
            tile[..., :3][holes] = 0.0
        tile[..., 3] = holes
        return tile

    def finish(rows: np.ndarray, y0: int, y1: int) -> np.ndarray:
        return np.where(hole[y0:y1, :, None], _to_uint8(rows), rgb[y0:y1])

    net = self_ensemble(lambda t: _run(sessions, model, "inpaint", t), passes)

    def fill(tile: np.ndarray) -> np.ndarray:
        # A tile without holes keeps its pixels: finish() puts the originals back there anyway.
        return net(tile) if tile[..., 3].any() else tile[..., :3]

    m = model.manifest
    h, w = rgb.shape[:2]
    result = run_tiled_source(source, h, w, fill,
                              tile=m.tile_size, overlap=m.tile_overlap, multiple=m.downsample,
                              finish=finish, progress=progress, cancel=cancel)
    return from_rgb(result, alpha, grey=pixels.ndim == 2 or pixels.shape[2] == 1)
