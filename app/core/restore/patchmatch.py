"""PatchMatch (Barnes et al. 2009): an approximate nearest-neighbour field between the
square patches of one image, vectorised over all target patches at once.

The field maps each *target* patch centre to a *source* patch centre of the same image (hole
filling matches the patches that overlap a hole against the patches that lie wholly in known
pixels). Distances are sums of squared RGB differences over the patch. The sequential scan
of the paper becomes whole-field steps, as in GPU versions:

- propagation: each target tries its neighbour's match, shifted by the step to it, for steps
  of 4, 2 and 1 pixels in the four directions, so a good match spreads several pixels per
  iteration instead of one (the paper's scan spreads it across the image in one pass, which
  numpy cannot do without a Python loop per pixel);
- random search: each target tries one random source centre in windows of halving radius
  around its current match.

Everything random comes from the ``numpy.random.Generator`` passed in, so a seed fixes the
result.
"""

from __future__ import annotations

import numpy as np

STEPS = (4, 2, 1)  # propagation distances, longest first


class PatchImage:
    """An HxWx3 float32 image padded by the patch radius (edge pixels repeated), held flat so
    that a patch is a fixed set of offsets from its centre's flat index."""

    def __init__(self, image: np.ndarray, radius: int):
        self.h, self.w = image.shape[:2]
        self.radius = r = radius
        self.wp = self.w + 2 * r
        self.flat = np.pad(image, [(r, r), (r, r), (0, 0)], mode="edge").reshape(-1, 3)
        dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
        self.offsets = (dy * self.wp + dx).ravel()
        self.conf: np.ndarray | None = None  # per-pixel weights of the target's patch

    def set_confidence(self, known: np.ndarray | None) -> None:
        """Count only the target-patch pixels where ``known`` (HxW bool) is set in the
        distance (None: all). A target's patch is compared with every source under the same
        weights, so which source is nearest stays a fair choice."""
        self.conf = None if known is None else np.pad(
            known.astype(np.float32), self.radius, mode="edge").ravel()

    def index(self, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """Flat indices (in the padded image) of the unpadded pixels (ys, xs)."""
        return (ys + self.radius) * self.wp + (xs + self.radius)

    def set_pixels(self, ys: np.ndarray, xs: np.ndarray, values: np.ndarray) -> None:
        self.flat[self.index(ys, xs)] = values

    def distance(self, t: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Sum of squared differences between the patches centred at flat indices t and s."""
        total = np.zeros(t.shape[0], np.float32)
        flat = self.flat
        for o in self.offsets:
            d = flat[t + o] - flat[s + o]
            if self.conf is None:
                total += np.einsum("ij,ij->i", d, d)
            else:
                total += np.einsum("ij,ij->i", d, d) * self.conf[t + o]
        return total


def _improve(img: PatchImage, t_flat: np.ndarray, field: np.ndarray, dist: np.ndarray,
             cand: np.ndarray, ok: np.ndarray, valid: np.ndarray) -> None:
    """Replace the matches of the targets ``ok`` by ``cand`` (Nx2 centres) where that is a
    valid source and closer."""
    ys, xs = cand[:, 0], cand[:, 1]
    ok = ok & (ys >= 0) & (ys < img.h) & (xs >= 0) & (xs < img.w)
    sel = np.flatnonzero(ok)
    if not sel.size:
        return
    sel = sel[valid[ys[sel], xs[sel]]]
    if not sel.size:
        return
    d = img.distance(t_flat[sel], img.index(ys[sel], xs[sel]))
    better = d < dist[sel]
    sel = sel[better]
    field[sel] = cand[sel]
    dist[sel] = d[better]


def random_sources(valid: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` source centres drawn uniformly from the ``valid`` pixels (Nx2 int)."""
    ys, xs = np.nonzero(valid)
    if not ys.size:
        raise ValueError("no source patch lies wholly in known pixels")
    pick = rng.integers(0, ys.size, n)
    return np.stack([ys[pick], xs[pick]], axis=1)


def nearest_field(img: PatchImage, targets: np.ndarray, valid: np.ndarray,
                  field: np.ndarray | None, rng: np.random.Generator, iterations: int = 2,
                  search_radius: int | None = None, steps: tuple[int, ...] = STEPS
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The approximate nearest source patch of each target patch.

    ``targets``: HxW bool, the patch centres to match (row-major order is the field's order);
    ``valid``: HxW bool, the allowed source centres; ``field``: Nx2 int32 starting matches
    (None: random). ``search_radius``: the largest random-search window (None: the image
    size; a field carried up from a coarser level needs only a local search); ``steps``: the
    propagation distances. Returns the
    field (Nx2, source (y, x)) and each match's distance (N float32).
    """
    ty, tx = np.nonzero(targets)
    n = ty.size
    if field is None:
        field = random_sources(valid, n, rng)
    field = np.asarray(field, dtype=np.int64).copy()
    bad = ~valid[field[:, 0], field[:, 1]]
    if bad.any():  # a carried-up match may land on a patch that is no longer wholly known
        field[bad] = random_sources(valid, int(bad.sum()), rng)
    t_flat = img.index(ty, tx)
    dist = img.distance(t_flat, img.index(field[:, 0], field[:, 1]))
    # Target index of each pixel, -1 where there is none, for the propagation steps.
    tid = np.full(targets.shape, -1, np.int64)
    tid[ty, tx] = np.arange(n)
    neighbours = []
    for step in steps:
        for dy, dx in ((0, step), (step, 0), (0, -step), (-step, 0)):
            qy, qx = ty - dy, tx - dx
            inside = (qy >= 0) & (qy < img.h) & (qx >= 0) & (qx < img.w)
            q = np.full(n, -1, np.int64)
            q[inside] = tid[qy[inside], qx[inside]]
            neighbours.append((q, np.array([dy, dx])))
    top = max(img.h, img.w) if search_radius is None else search_radius
    for _ in range(iterations):
        for q, shift in neighbours:
            has = q >= 0
            cand = np.where(has[:, None], field[np.maximum(q, 0)] + shift, field)
            _improve(img, t_flat, field, dist, cand, has, valid)
        radius = top
        while radius >= 1:
            cand = field + rng.integers(-radius, radius + 1, (n, 2))
            _improve(img, t_flat, field, dist, cand, np.ones(n, bool), valid)
            radius //= 2
    return field, dist
