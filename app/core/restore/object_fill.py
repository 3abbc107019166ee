"""Exemplar-based filling of large holes (object removal): coarse to fine, each level an EM
of PatchMatch and patch voting (Wexler, Shechtman and Irani 2007, "Space-time completion of
video"), so the fill continues the texture and edges around the hole instead of blurring them.

Only objects take this path: holes whose part that holds a square of side
``2 * MIN_RADIUS + 1`` covers at least MIN_AREA of the photo (strokes and small blobs are
filled better, by PSNR, by the inpainting network, which ``app.core.restore.network`` still runs on
what is left). Each cluster of large holes is worked on in a crop of its bounding box
plus a margin, so removing one object from a 12-megapixel photo touches a few megapixels at
most. The mask of a large hole is first grown by a few pixels (MASK_GROW); known pixels
further away never change, and a seed fixes the result. The fill's brightness is then matched
to the hole's edge (``app.core.restore.seam``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .morphology import clusters, dilate, erode
from .patchmatch import STEPS, PatchImage, nearest_field
from .seam import match_edges
from ..runtime.tiling import check_cancel

# A hole is an object, filled by exemplar, where its part that holds a 49-pixel square covers
# at least 4 % of the photo (a door or a person in a 768x512 photo). Smaller blobs and
# strokes stay with the network, which fills them better from the pixels right beside them
# than a copied exemplar does; the thick parts of the kodak_masks strokes and boxes cover up
# to 3.4 % of a photo, below the threshold.
MIN_RADIUS = 24
MIN_AREA = 0.04
PATCH_RADIUS = 3  # 7x7 patches
COARSE_SIDE = 64  # the coarsest level's longer side, about
MARGIN = 0.6  # crop margin around a cluster, times its longer side (at least MIN_MARGIN)
MIN_MARGIN, MAX_MARGIN = 48, 512
MAX_CROP = 8_000_000  # larger crops (a quarter of a 48 MP photo) go to the network
BLOCK = 32  # grid that clusters large holes into crops
OBJECT_CELL = 8  # grid that tells objects apart
GROW = 6  # pixels a large hole grows through the mask per step
FULL_SEARCH = 100_000  # targets above which a level only refines its carried-up field
# The user's mask grows by this fraction of the photo's longer side (4 px at 768, 21 px at
# 4000) before a large hole is filled: masks painted by hand miss an object's edge, shadow
# or colour halo, which would otherwise stay and be copied into the fill (IOPaint and LaMa
# grow masks too).
MASK_GROW = 1 / 192
# In the patch distance, hole pixels (holding the current guess) count this much against
# known ones: a patch on the hole's edge then matches what is really there, and a guess
# that has drifted (water spreading up into the sky) is not reinforced.
HOLE_WEIGHT = 0.3


@dataclass(frozen=True)
class Box:
    y0: int
    y1: int
    x0: int
    x1: int


def large_holes(hole: np.ndarray, min_radius: int | None = None,
                min_area: float | None = None) -> tuple[np.ndarray, list[Box]]:
    """The pixels of the large holes (each connected part of the hole, gaps of up to GROW
    pixels bridged, whose part that holds a square of radius ``min_radius`` covers at least
    ``min_area`` of the image) and one crop box per cluster of them (None: MIN_RADIUS,
    MIN_AREA)."""
    min_radius = MIN_RADIUS if min_radius is None else min_radius
    min_area = MIN_AREA if min_area is None else min_area
    h, w = hole.shape
    region = np.zeros_like(hole)
    if not hole.any():
        return region, []
    ys, xs = np.nonzero(hole.any(axis=1))[0], np.nonzero(hole.any(axis=0))[0]
    pad = min_radius + GROW + 1  # work on the hole's bounding box (plus what dilation reaches)
    a, b = max(ys[0] - pad, 0), min(ys[-1] + pad + 1, h)
    c, d = max(xs[0] - pad, 0), min(xs[-1] + pad + 1, w)
    sub = hole[a:b, c:d]
    core = erode(sub, min_radius)
    if not core.any():
        return region, []
    # The whole of each hole that holds a core (strokes that touch an object go with it),
    # grown through the hole a few pixels at a time.
    thick = _objects(dilate(core, min_radius) & sub, min_area * h * w)
    if not thick.any():
        return region, []
    grown = thick
    while True:
        more = dilate(grown, GROW) & sub
        if np.array_equal(more, grown):
            break
        grown = more
    region[a:b, c:d] = grown
    # Cluster on a coarse grid; cells closer than two blocks share a crop.
    gh, gw = -(-h // BLOCK), -(-w // BLOCK)
    cells = np.zeros((gh * BLOCK, gw * BLOCK), bool)
    cells[:h, :w] = region
    grid = cells.reshape(gh, BLOCK, gw, BLOCK).any(axis=(1, 3))
    boxes = []
    for cluster in clusters(dilate(grid, 1)):
        cy, cx = np.array(cluster).T
        keep = grid[cy, cx]
        if not keep.any():
            continue
        y0, y1 = cy[keep].min() * BLOCK, min((cy[keep].max() + 1) * BLOCK, h)
        x0, x1 = cx[keep].min() * BLOCK, min((cx[keep].max() + 1) * BLOCK, w)
        rows = np.nonzero(region[y0:y1, x0:x1].any(axis=1))[0]
        cols = np.nonzero(region[y0:y1, x0:x1].any(axis=0))[0]
        if not rows.size:  # cleared with a neighbour too big to fill here
            continue
        y0, y1, x0, x1 = y0 + rows[0], y0 + rows[-1] + 1, x0 + cols[0], x0 + cols[-1] + 1
        m = min(MAX_MARGIN, max(MIN_MARGIN, int(MARGIN * max(y1 - y0, x1 - x0))))
        box = Box(int(max(y0 - m, 0)), int(min(y1 + m, h)), int(max(x0 - m, 0)),
                  int(min(x1 + m, w)))
        if (box.y1 - box.y0) * (box.x1 - box.x0) <= MAX_CROP:
            boxes.append(box)
        else:  # a hole this big is left to the network, which works in bounded memory
            region[box.y0:box.y1, box.x0:box.x1] = False
    return region, boxes


def _objects(thick: np.ndarray, min_pixels: float) -> np.ndarray:
    """The parts of ``thick`` (HxW bool) whose clusters (8-connected on a grid of
    OBJECT_CELL-pixel cells) hold at least ``min_pixels`` pixels: objects, not blobs."""
    h, w = thick.shape
    c = OBJECT_CELL
    gh, gw = -(-h // c), -(-w // c)
    cells = np.zeros((gh * c, gw * c), np.int32)
    cells[:h, :w] = thick
    count = cells.reshape(gh, c, gw, c).sum(axis=(1, 3))
    keep = np.zeros((gh, gw), bool)
    for cluster in clusters(count > 0):
        cy, cx = np.array(cluster).T
        if count[cy, cx].sum() >= min_pixels:
            keep[cy, cx] = True
    return thick & np.repeat(np.repeat(keep, c, 0), c, 1)[:h, :w]


def _down(image: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Half resolution: the mean of the known pixels of each 2x2 block; a block with any
    hole pixel is a hole (so no coarse source patch holds colour from the hole)."""
    h, w = hole.shape
    ph, pw = h % 2, w % 2
    img = np.pad(image, [(0, ph), (0, pw), (0, 0)], mode="edge")
    hol = np.pad(hole, [(0, ph), (0, pw)], mode="edge")
    keep = (~hol).astype(np.float32)
    s = lambda a: a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]  # noqa: E731
    weight = s(keep)
    value = s(img * keep[..., None]) / np.maximum(weight, 1.0)[..., None]
    return value.astype(np.float32), weight < 4


def _vote(img: PatchImage, hole: np.ndarray, targets: np.ndarray, field: np.ndarray,
          dist: np.ndarray, best: bool = False) -> np.ndarray:
    """New colours of the hole pixels: the mean of what every patch that covers a pixel says
    it is, each patch weighted by how well it matched (Wexler et al.'s similarity weights);
    ``best``: only what the best-matching patch says."""
    r = img.radius
    hy, hx = np.nonzero(hole)
    tid = np.full(hole.shape, -1, np.int64)
    tid[targets] = np.arange(field.shape[0])
    sigma2 = max(float(np.percentile(dist, 75)), 1e-6)
    weight = np.exp(-dist / (2 * sigma2)).astype(np.float32) + 1e-6
    src = img.index(field[:, 0], field[:, 1])
    acc = np.zeros((hy.size, 3), np.float32)
    total = np.zeros(hy.size, np.float32)
    least = np.full(hy.size, np.inf, np.float32)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            qy, qx = hy - dy, hx - dx
            ok = (qy >= 0) & (qy < hole.shape[0]) & (qx >= 0) & (qx < hole.shape[1])
            t = np.full(hy.size, -1, np.int64)
            t[ok] = tid[qy[ok], qx[ok]]
            ok = t >= 0
            if best:
                ok[ok] = dist[t[ok]] < least[ok]
                least[ok] = dist[t[ok]]
                acc[ok] = img.flat[src[t[ok]] + dy * img.wp + dx]
                total[ok] = 1.0
                continue
            w = weight[t[ok]]
            acc[ok] += img.flat[src[t[ok]] + dy * img.wp + dx] * w[:, None]
            total[ok] += w
    return acc / np.maximum(total, 1e-12)[:, None]


def _carry_up(field: np.ndarray, coarse_targets: np.ndarray, targets: np.ndarray,
              shape: tuple[int, int]) -> np.ndarray:
    """The coarse field at the next finer level: each fine target takes its coarse parent's
    match, doubled, plus its own position within the 2x2 block."""
    tid = np.full(coarse_targets.shape, -1, np.int64)
    tid[coarse_targets] = np.arange(field.shape[0])
    ty, tx = np.nonzero(targets)
    parent = tid[np.minimum(ty // 2, tid.shape[0] - 1), np.minimum(tx // 2, tid.shape[1] - 1)]
    out = np.zeros((ty.size, 2), np.int64)
    has = parent >= 0
    out[has] = 2 * field[parent[has]] + np.stack([ty[has] % 2, tx[has] % 2], axis=1)
    out[~has] = field[0] * 2  # never happens for a dilated hole; kept for safety
    out[:, 0] = np.clip(out[:, 0], 0, shape[0] - 1)
    out[:, 1] = np.clip(out[:, 1], 0, shape[1] - 1)
    return out


def _peel(img: PatchImage, hole: np.ndarray, valid: np.ndarray,
          rng: np.random.Generator) -> None:
    """Fill ``hole`` from its edge inwards, a ring of pixels at a time: each takes the centre
    of the source patch that best matches its patch's already-known pixels. This seeds the
    coarsest level with texture; a smooth seed would match the smoothest source patches
    and the whole pyramid would converge to a smear."""
    known = ~hole
    while not known.all():
        front = dilate(known, 1) & ~known
        img.set_confidence(known)
        field, _ = nearest_field(img, front, valid, None, rng, 3)
        fy, fx = np.nonzero(front)
        img.set_pixels(fy, fx, img.flat[img.index(field[:, 0], field[:, 1])])
        known |= front
    img.set_confidence(None)


def fill_crop(crop: np.ndarray, hole: np.ndarray, rng: np.random.Generator,
              patch_radius: int = PATCH_RADIUS) -> np.ndarray:
    """``crop`` (HxWx3 uint8) with its ``hole`` pixels filled from its known pixels."""
    r = patch_radius
    levels = [(crop.astype(np.float32), hole)]
    while max(levels[-1][1].shape) > COARSE_SIDE and min(levels[-1][1].shape) > 4 * r:
        img, hol = _down(*levels[-1])
        if not (~dilate(hol, r)).any():
            break
        levels.append((img, hol))
    field = coarse_targets = None
    for depth in range(len(levels) - 1, -1, -1):
        image, hol = levels[depth]
        if not hol.any():
            continue
        targets, valid = dilate(hol, r), ~dilate(hol, r)
        img = PatchImage(image, r)
        hy, hx = np.nonzero(hol)
        if field is None:  # coarsest level: peeled in from the edge, random matches
            _peel(img, hol, valid, rng)
            rounds, iters, search = 4, 3, None
        else:
            field = _carry_up(field, coarse_targets, targets, hol.shape)
            field, dist = nearest_field(img, targets, valid, field, rng, 0)
            # Vote with the carried-up field first: the patches it copies hold this level's
            # detail, which the upsampled image lacks (matching against that blur alone
            # would pull the field towards the smoothest source patches).
            img.set_pixels(hy, hx, _vote(img, hol, targets, field, dist))
            n = int(targets.sum())
            rounds, iters, search = (2, 2, 16) if n < FULL_SEARCH else (1, 1, 4)
            if n > 4 * FULL_SEARCH:  # 12-megapixel objects: the carried-up vote alone
                rounds = 0
        img.set_confidence(np.where(hol, np.float32(HOLE_WEIGHT), np.float32(1)))
        steps = STEPS if field is None or n < FULL_SEARCH else (2, 1)
        for i in range(rounds):
            field, dist = nearest_field(img, targets, valid, field, rng, iters, search, steps)
            # the last vote of the finest level takes each pixel from its best-matching
            # patch: averaging the patches that disagree (water, foliage) blurs the texture
            img.set_pixels(hy, hx, _vote(img, hol, targets, field, dist,
                                         best=depth == 0 and i == rounds - 1))
        coarse_targets = targets
        filled = img.flat.reshape(image.shape[0] + 2 * r, -1, 3)[r:-r, r:-r]
        if depth:
            finer_img, finer_hole = levels[depth - 1]
            # the finer level starts from this level's fill, upsampled, in its hole pixels
            fh, fw = finer_hole.shape
            up = np.repeat(np.repeat(filled, 2, 0), 2, 1)[:fh, :fw]
            levels[depth - 1] = (np.where(finer_hole[..., None], up, finer_img), finer_hole)
    return match_edges(crop, hole, filled)


def fill_large_holes(rgb: np.ndarray, hole: np.ndarray, seed: int = 0,
                     min_radius: int | None = None, cancel: Callable[[], bool] | None = None
                     ) -> tuple[np.ndarray, np.ndarray, list[Box]]:
    """Fill the large holes of ``rgb`` (HxWx3 uint8; ``hole``: HxW bool) by exemplar.

    Returns (the image, the hole pixels still unfilled, the crop boxes worked on). Only the
    large holes, grown by MASK_GROW, change; each crop's random numbers come from ``seed``
    and the crop's position, so the result does not depend on the order of the crops."""
    region, boxes = large_holes(hole, min_radius)
    if not boxes:
        return rgb, hole, []
    grow = int(round(MASK_GROW * max(hole.shape)))
    if grow:
        region = dilate(region, grow)
    out = rgb.copy()
    left = hole | region
    for box in boxes:
        check_cancel(cancel)
        sl = (slice(box.y0, box.y1), slice(box.x0, box.x1))
        # Holes in the crop that are not this cluster's stay holes (no source colour comes
        # from them) but are written back only if they belong to the large region.
        rng = np.random.default_rng([seed, box.y0, box.x0])
        filled = fill_crop(out[sl], left[sl], rng)
        mine = region[sl] & left[sl]
        out[sl][mine] = filled[mine]
        left[sl] &= ~mine
    return out, left, boxes
