"""Tiled inference for images of any size, blended without seams.

The image is cut into overlapping windows (:func:`plan_tiles`); each window goes
through ``fn`` and the results are blended with a raised-cosine ramp across every
overlap (weights never fade at the image border). Working memory is one band of tile rows:
finished rows leave the band as soon as no later tile touches them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

__all__ = ["Cancelled", "Steps", "check_cancel", "plan_tiles", "rescaling_tile_count",
           "run_rescaling_tiles", "run_tiled", "run_tiled_source", "stage"]

TileFn = Callable[[np.ndarray], np.ndarray]
Progress = Callable[[int, int], None]


class Cancelled(Exception):
    """Raised by :func:`run_tiled` when ``cancel()`` returns True."""


def check_cancel(cancel: Callable[[], bool] | None) -> None:
    """Raise :class:`Cancelled` when ``cancel()`` returns True (no ``cancel``: never)."""
    if cancel is not None and cancel():
        raise Cancelled()


def _check_tiling(tile: int, overlap: int) -> None:
    if tile < 1:
        raise ValueError(f"tile must be >= 1, got {tile}")
    if not 0 <= overlap < tile:
        raise ValueError(f"overlap must be in [0, tile), got overlap={overlap}, tile={tile}")


def _axis_spans(n: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """Equal windows of at most ``tile`` spread evenly over ``n``, each overlap >= ``overlap``."""
    if n <= tile:
        return [(0, n)]
    count = -(-(n - overlap) // (tile - overlap))  # ceil
    # The shortest windows that still overlap by >= overlap: a 500-pixel side with 448-pixel
    # tiles takes two 267-pixel windows, not two 448-pixel ones (less recomputed overlap).
    length = min(tile, -(-(n + (count - 1) * overlap) // count) + 1)
    span = n - length
    gaps = count - 1
    starts = [(i * span + gaps // 2) // gaps for i in range(count)]
    return [(s, s + length) for s in starts]


def _spans(h: int, w: int, tile: int, overlap: int) -> tuple[list[tuple[int, int]],
                                                                list[tuple[int, int]]]:
    """Row windows and column windows (see :func:`plan_tiles`)."""
    if h * w <= tile * tile:
        return [(0, h)], [(0, w)]
    return _axis_spans(h, tile, overlap), _axis_spans(w, tile, overlap)


def plan_tiles(h: int, w: int, tile: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """Tile windows ``(y0, y1, x0, x1)`` covering an ``h`` x ``w`` image, row by row.

    One window when the image has no more pixels than a ``tile`` x ``tile`` tile (a 481x321
    photo runs in one pass rather than as two overlapping windows: same memory, no work done
    twice); otherwise, on each axis longer than ``tile``, the fewest windows of at most
    ``tile`` (as short as they can be) that overlap their neighbours by >= ``overlap``.
    """
    _check_tiling(tile, overlap)
    if h < 1 or w < 1:
        raise ValueError(f"image size must be positive, got {h}x{w}")
    ys, xs = _spans(h, w, tile, overlap)
    return [(y0, y1, x0, x1) for (y0, y1) in ys for (x0, x1) in xs]


def _ramp(length: int) -> np.ndarray:
    """Raised cosine rising over ``length`` samples, strictly inside (0, 1).

    ``_ramp(n) + _ramp(n)[::-1] == 1``, so two tiles sharing an overlap sum to one.
    """
    i = np.arange(length, dtype=np.float64)
    return 0.5 - 0.5 * np.cos(np.pi * (i + 0.5) / length)


def _axis_weights(spans: list[tuple[int, int]]) -> list[np.ndarray]:
    """1-D blending weights for each span: ramps on shared edges only, 1 elsewhere."""
    weights = []
    for k, (s, e) in enumerate(spans):
        wgt = np.ones(e - s, dtype=np.float64)
        if k > 0:
            left = min(spans[k - 1][1] - s, e - s)
            if left > 0:
                wgt[:left] = np.minimum(wgt[:left], _ramp(left))
        if k < len(spans) - 1:
            right = min(e - spans[k + 1][0], e - s)
            if right > 0:
                wgt[e - s - right:] = np.minimum(wgt[e - s - right:], _ramp(right)[::-1])
        weights.append(wgt)
    return weights


def _call_padded(fn: TileFn, x: np.ndarray, multiple: int) -> np.ndarray:
    """Pad ``x`` (bottom/right) to a multiple of ``multiple``, run ``fn``, crop back."""
    h, w = x.shape[:2]
    ph, pw = -h % multiple, -w % multiple
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "edge"
        x = np.pad(x, ((0, ph), (0, pw), (0, 0)), mode=mode)
    y = np.asarray(fn(np.ascontiguousarray(x)))
    if y.ndim != 3 or y.shape[:2] != (h + ph, w + pw):
        raise ValueError(f"tile function returned shape {y.shape}, expected "
                         f"({h + ph}, {w + pw}, C)")
    return y[:h, :w].astype(np.float32, copy=False)


def run_tiled(image: np.ndarray, fn: TileFn, *, tile: int, overlap: int,
              multiple: int = 1, extra: np.ndarray | None = None,
              progress: Callable[[int, int], None] | None = None,
              cancel: Callable[[], bool] | None = None, workers: int = 1) -> np.ndarray:
    """Apply ``fn`` to ``image`` (``HxWxC`` float32) tile by tile; return ``HxWxCout`` float32.

    ``fn`` gets an ``hxwx(C+k)`` float32 tile (the image tile, then the matching ``extra``
    tile when ``extra`` (``HxWxk``) is given) whose sides are multiples of ``multiple``
    (reflect padding, or edge padding for tiny tiles), and returns ``hxwxCout``.
    ``progress(done, total)`` follows each tile; ``cancel()`` is checked before each
    and raises :class:`Cancelled` when it returns True. ``workers``: as in
    :func:`run_tiled_source`.
    """
    img = np.asarray(image, dtype=np.float32)
    if img.ndim != 3:
        raise ValueError(f"image must be HxWxC, got shape {img.shape}")
    h, w = img.shape[:2]
    ex = None
    if extra is not None:
        ex = np.asarray(extra, dtype=np.float32)
        if ex.ndim != 3 or ex.shape[:2] != (h, w):
            raise ValueError(f"extra must be {h}x{w}xk, got shape {ex.shape}")

    def source(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        x = img[y0:y1, x0:x1]
        return x if ex is None else np.concatenate([x, ex[y0:y1, x0:x1]], axis=2)

    return run_tiled_source(source, h, w, fn, tile=tile, overlap=overlap, multiple=multiple,
                            progress=progress, cancel=cancel, workers=workers)


Finish = Callable[[np.ndarray, int, int], np.ndarray]


def _in_order(tiles: list[tuple[int, int, int, int]], compute: Callable[..., np.ndarray],
              workers: int, cancel: Callable[[], bool] | None) -> Iterator[np.ndarray]:
    """``compute(*t)`` for each tile ``t``, yielded in order; up to ``workers`` at once.

    ``cancel()`` is checked before each tile is queued; queued tiles that have not started
    are dropped when it fires. With several workers the caller blends one result while the
    next tiles run, and the results (blended in the same order) are the same as with one.
    Up to 4 tiles a worker are queued, so that a worker whose core is shared with another
    job holds up only its own tile while the others go on to the next ones (with one tile a
    worker, a 12 MP denoise on 2 cores, one of them busy with a training run, took 35 s for
    27 s on one thread).
    """
    if workers <= 1:
        for t in tiles:
            check_cancel(cancel)
            yield compute(*t)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="tile") as pool:
        running: deque[Future] = deque()
        try:
            for t in tiles:
                check_cancel(cancel)
                running.append(pool.submit(compute, *t))
                if len(running) == 4 * workers:
                    yield running.popleft().result()
            while running:
                yield running.popleft().result()
        finally:
            for f in running:
                f.cancel()


def run_tiled_source(source: Callable[[int, int, int, int], np.ndarray], h: int, w: int,
                     fn: TileFn, *, tile: int, overlap: int, multiple: int = 1,
                     finish: Finish | None = None,
                     progress: Callable[[int, int], None] | None = None,
                     cancel: Callable[[], bool] | None = None, workers: int = 1) -> np.ndarray:
    """Tiled inference that never holds a float copy of the whole image.

    ``source(y0, y1, x0, x1)`` returns the float32 input tile (so a big uint8 image is
    converted one tile at a time). Tiles run row by row; blended rows that no later tile
    touches go through ``finish(rows, y0, y1)`` (default: kept as float32; e.g. rounded to
    uint8) into the result, so working memory is one band of tile rows, not the image.
    ``workers`` > 1 runs that many tiles at once (``source`` and ``fn`` then run on worker
    threads): for a runtime whose one run keeps one core busy, this uses the other cores
    without the per-operator synchronisation of intra-op threads.
    """
    if multiple < 1:
        raise ValueError(f"multiple must be >= 1, got {multiple}")
    tiles = plan_tiles(h, w, tile, overlap)
    total = len(tiles)
    spans_y, spans_x = _spans(h, w, tile, overlap)
    wy = dict(zip(spans_y, _axis_weights(spans_y)))
    wx = dict(zip(spans_x, _axis_weights(spans_x)))
    finish = finish or (lambda rows, _y0, _y1: rows)
    band_h = max(y1 - y0 for y0, y1 in spans_y)
    out: np.ndarray | None = None
    band = wband = None

    def compute(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        return _call_padded(fn, source(y0, y1, x0, x1), multiple)

    results = _in_order(tiles, compute, workers, cancel)
    for done, ((y0, y1, x0, x1), y) in enumerate(zip(tiles, results), 1):
        if band is None or wband is None:
            band = np.zeros((band_h, w, y.shape[2]), dtype=np.float32)
            wband = np.zeros((band_h, w), dtype=np.float32)
        elif y.shape[2] != band.shape[2]:
            raise ValueError(f"tile function returned {y.shape[2]} channels, "
                             f"earlier tiles had {band.shape[2]}")
        wt = np.outer(wy[(y0, y1)], wx[(x0, x1)]).astype(np.float32)
        band[:y1 - y0, x0:x1] += y * wt[:, :, None]
        wband[:y1 - y0, x0:x1] += wt
        if progress is not None:
            progress(done, total)
        if x1 < w:
            continue
        # rows above the next row of tiles are final: blend, finish and store them
        i = spans_y.index((y0, y1))
        final = (spans_y[i + 1][0] if i + 1 < len(spans_y) else y1) - y0
        rows = finish(band[:final] / wband[:final, :, None], y0, y0 + final)
        if out is None:
            out = np.empty((h,) + rows.shape[1:], dtype=rows.dtype)
        out[y0:y0 + final] = rows
        keep = y1 - y0 - final  # rows shared with the next row of tiles
        band[:keep] = band[final:final + keep]
        wband[:keep] = wband[final:final + keep]
        band[keep:] = 0
        wband[keep:] = 0
    assert out is not None
    return out


class Steps:
    """The steps of one operation that are not tiles (e.g. an entropy coding's passes):
    ``cancel()`` is checked before the first and each next one, ``progress(done, total)``
    follows each."""

    def __init__(self, total: int, progress: Progress | None = None,
                 cancel: Callable[[], bool] | None = None) -> None:
        self.total, self.done = total, 0
        self._progress, self._cancel = progress, cancel
        check_cancel(cancel)

    def next(self) -> None:
        """A step has ended; the next one starts unless cancelled."""
        self.done += 1
        if self._progress is not None:
            self._progress(self.done, self.total)
        if self.done < self.total:
            check_cancel(self._cancel)


def stage(progress: Progress | None, start: int, total: int) -> Progress | None:
    """``progress`` for one stage of a longer operation: the stage's ``(done, n)`` is reported
    as ``(start + done, total)``, so several stages make one count that only goes up."""
    if progress is None:
        return None
    return lambda done, _n: progress(start + done, total)


Store = Callable[[np.ndarray, int, int], None]


def rescaling_tile_count(h: int, w: int, tile: int) -> int:
    """How many tiles :func:`run_rescaling_tiles` runs on an ``h`` x ``w`` array."""
    return -(-h // tile) * -(-w // tile)


def run_rescaling_tiles(x: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], *, tile: int,
                        overlap: int, num: int = 1, den: int = 1,
                        last: Callable[[np.ndarray], np.ndarray] | None = None,
                        store: Store | None = None, progress: Progress | None = None,
                        cancel: Callable[[], bool] | None = None) -> np.ndarray | None:
    """Run a fully convolutional ``fn`` that scales NCHW ``x`` by ``num/den`` on tiles.

    Each ``tile`` x ``tile`` block is computed with ``overlap`` extra context on every side
    and only its own block of the output is kept (no blending). When the overlap covers the
    network's receptive field, the result equals one pass over the whole array, while memory
    stays bounded by the tile size. ``tile`` and ``overlap`` must be multiples of ``den``.

    ``last``, when given, runs the final tile instead of ``fn`` (e.g. one that then lets go
    of the network's working memory). ``store(block, y0, x0)``, when given, receives each
    kept output block (a view, ``N x C x h x w``, at output position ``y0, x0``) and nothing
    is returned: the caller keeps what it needs (e.g. 8-bit pixels) instead of a float array
    of the whole output. ``progress(done, total)`` follows each tile; ``cancel()`` is checked
    before each and raises :class:`Cancelled` when it returns True.
    """
    if tile % den or overlap % den:
        raise ValueError("tile and overlap must be multiples of the downscaling factor")
    _, _, h, w = x.shape
    starts = [(y0, x0) for y0 in range(0, h, tile) for x0 in range(0, w, tile)]
    out = None
    for i, (y0, x0) in enumerate(starts):
        check_cancel(cancel)
        y1, x1 = min(y0 + tile, h), min(x0 + tile, w)
        a0, b0 = max(0, y0 - overlap), max(0, x0 - overlap)
        run = last if last is not None and i == len(starts) - 1 else fn
        res = run(x[:, :, a0:min(h, y1 + overlap), b0:min(w, x1 + overlap)])
        oy, ox = (y0 - a0) * num // den, (x0 - b0) * num // den
        th, tw = (y1 - y0) * num // den, (x1 - x0) * num // den
        block = res[:, :, oy:oy + th, ox:ox + tw]
        if store is not None:
            store(block, y0 * num // den, x0 * num // den)
        else:
            if out is None:
                out = np.empty(res.shape[:2] + (h * num // den, w * num // den), res.dtype)
            out[:, :, y0 * num // den:y0 * num // den + th,
                x0 * num // den:x0 * num // den + tw] = block
        if progress is not None:
            progress(i + 1, len(starts))
    return out
