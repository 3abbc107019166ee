"""Denoising and inpainting of whole images through tiled ONNX inference."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .hole_fill import prefill
from ..io.pixels import from_rgb, to_rgb
from .noise_level import estimate_sigma
from .object_fill import fill_large_holes
from .noise_map import estimate_map, has_noise_map
from ..runtime.registry import Model
from .self_ensemble import resolve_passes, self_ensemble
from ..runtime.sessions import SessionPool
from ..runtime.tiling import run_tiled_source

Progress = Callable[[int, int], None] | None
Cancel = Callable[[], bool] | None


def _run(sessions: SessionPool, model: Model, graph: str, tile: np.ndarray) -> np.ndarray:
    x = tile.transpose(2, 0, 1)[None]
    names = model.manifest.graphs[graph].inputs
    (out,) = sessions.run_tile(model, graph, **{names[0]: x[:, :3], names[1]: x[:, 3:]})
    return out[0].transpose(1, 2, 0)


def _to_uint8(rows: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(rows * 255.0), 0, 255).astype(np.uint8)


def check_strength(strength: float) -> float:
    if not np.isfinite(strength) or not 0.0 <= strength <= 4.0:
        raise ValueError(f"strength must be a number from 0 to 4, not {strength!r}")
    return float(strength)


def denoise(sessions: SessionPool, model: Model, pixels: np.ndarray, sigma: float | None = None,
            progress: Progress = None, cancel: Cancel = None,
            passes: int | None = None, strength: float = 1.0) -> tuple[np.ndarray, float]:
    """Denoise an 8-bit image; ``sigma`` (0-255) None means estimate it. Returns (image, sigma).

    The estimate is the model's own noise map when its manifest ships an estimator graph
    (``app.core.restore.noise_map``: a level per pixel, for real camera noise and noisy
    JPEGs), else one Gaussian sigma for the whole image (``app.core.restore.noise_level``); the
    sigma returned is then the map's mean. ``strength`` scales the level the network is given
    (estimated or not): below 1 keeps more texture, above 1 removes more.

    Tiles are converted to float one at a time and finished rows go straight back to 8 bits,
    so a 48-megapixel photo needs well under 1.5 GB. On the CPU, one tile runs per core at
    once (``SessionPool.tile_workers``). ``passes``: network passes per tile, averaged
    (``app.core.restore.self_ensemble``; None: the task's default).
    """
    if sigma is not None and not np.isfinite(sigma):  # NaN passes np.clip: a black image
        raise ValueError(f"sigma must be a finite number, not {sigma!r}")
    strength = check_strength(strength)
    passes = resolve_passes("denoise", passes)
    rgb, alpha = to_rgb(pixels)
    grey = pixels.ndim == 2 or pixels.shape[2] == 1
    level_map = None
    if sigma is None and has_noise_map(model):
        level_map = np.clip(estimate_map(sessions, model, rgb) * np.float32(strength),
                            0.0, np.float32(75 / 255))
        sigma = float(level_map.mean(dtype=np.float64) * 255)
    else:
        if sigma is None:
            sigma = estimate_sigma(rgb[..., 0] if grey else rgb)
        sigma = float(np.clip(sigma * strength, 0.0, 75.0))
    level = np.float32(sigma / 255.0)

    def source(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        tile = np.empty((y1 - y0, x1 - x0, 4), np.float32)
        np.multiply(rgb[y0:y1, x0:x1], np.float32(1 / 255), out=tile[..., :3])
        tile[..., 3] = level if level_map is None else level_map[y0:y1, x0:x1]
        return tile

    m = model.manifest
    h, w = rgb.shape[:2]
    net = self_ensemble(lambda t: _run(sessions, model, "denoise", t), passes)
    rgb_out = run_tiled_source(source, h, w, net,
                               tile=m.tile_size, overlap=m.tile_overlap, multiple=m.downsample,
                               finish=lambda rows, _y0, _y1: _to_uint8(rows),
                               progress=progress, cancel=cancel, workers=sessions.tile_workers)
    return from_rgb(rgb_out, alpha, grey=grey), sigma


def inpaint(sessions: SessionPool, model: Model, pixels: np.ndarray, mask: np.ndarray,
            progress: Progress = None, cancel: Cancel = None,
            passes: int | None = None) -> np.ndarray:
    """Fill the pixels where ``mask`` is set (HxW, nonzero = hole); the rest stay unchanged.

    A model whose manifest names a ``hole_fill`` gets the holes filled with that first guess
    (computed on the whole image, so it carries context from beyond any tile); others get 0.
    Only tiles that hold a hole go through the network (``passes`` times, averaged): removing
    one object from a 12-megapixel photo runs the tiles around it, not the whole photo.
    Objects (large holes) are filled first by exemplar (``app.core.restore.object_fill``), on crops
    around them, with their mask grown by a few pixels (so pixels just outside it may change),
    and are then known pixels to the network.
    """
    passes = resolve_passes("inpaint", passes)
    if mask.shape[:2] != pixels.shape[:2]:
        raise ValueError(f"mask size {mask.shape[1]}x{mask.shape[0]} does not match the image "
                         f"({pixels.shape[1]}x{pixels.shape[0]})")
    rgb, alpha = to_rgb(pixels)
    hole = mask.reshape(mask.shape[:2]) > 0
    grey = pixels.ndim == 2 or pixels.shape[2] == 1
    # Large holes (objects) are filled by exemplar, which continues the texture around them;
    # the network, trained on strokes, would smear them. What is left (strokes) and the
    # exemplar's result as context go to the network.
    rgb, hole, _ = fill_large_holes(rgb, hole, cancel=cancel)
    if not hole.any():
        return from_rgb(rgb, alpha, grey=grey)
    guess = prefill(rgb, hole, model.manifest.params.get("hole_fill"))

    def source(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        tile = np.empty((y1 - y0, x1 - x0, 4), np.float32)
        if guess is None:
            pixels = rgb[y0:y1, x0:x1]
        else:
            pixels = guess.crop(y0, y1, x0, x1)
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
                              finish=finish, progress=progress, cancel=cancel,
                              workers=sessions.tile_workers)
    return from_rgb(result, alpha, grey=grey)
