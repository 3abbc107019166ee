"""Self-ensemble: run a network on flipped and turned copies of a tile and average the results.

A convolutional network trained on randomly flipped and turned crops is nearly, but not
exactly, equivariant to those turns: each copy gives a slightly different estimate, and their
mean has a lower error than any one of them (the "+" results of EDSR and SwinIR). The cost is
one network pass per copy. ``passes`` picks the first 1, 2, 4 or 8 of the eight symmetries of
the square: the identity, a left-right mirror, then an up-down mirror and both, then the four
transposed versions of those.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["DEFAULT_PASSES", "PASSES", "check_passes", "resolve_passes", "self_ensemble"]

PASSES = (1, 2, 4, 8)

# Passes per task when the caller names none. Inpainting averages four mirrored copies: a
# network's guess inside a hole differs most between copies, so averaging gains most there,
# four copies take about all that eight give, and the cost is paid only on the tiles that hold
# holes (app/core/restore/network.py runs no other tile). Denoising runs every tile of the
# photo, so it keeps one pass and its speed; more passes buy a small gain for several times the
# time. The gains measured for each shipped model are in the docs, not here.
DEFAULT_PASSES = {"denoise": 1, "inpaint": 4}

# (mirror up-down, mirror left-right, transpose) for each copy, in the order they are added.
_SYMMETRIES = [(False, False, False), (False, True, False), (True, False, False),
               (True, True, False), (False, False, True), (False, True, True),
               (True, False, True), (True, True, True)]

TileFn = Callable[[np.ndarray], np.ndarray]


def check_passes(passes: int) -> int:
    """``passes`` as an int, or ValueError naming the allowed values."""
    if passes not in PASSES:
        raise ValueError(f"passes must be one of {', '.join(map(str, PASSES))}, not {passes!r}")
    return int(passes)


def resolve_passes(task: str, passes: int | None) -> int:
    """The passes a ``task`` runs with: ``passes``, checked, or the task's default for None."""
    return DEFAULT_PASSES[task] if passes is None else check_passes(passes)


def _forward(x: np.ndarray, flip_y: bool, flip_x: bool, transpose: bool) -> np.ndarray:
    x = x[::-1] if flip_y else x
    x = x[:, ::-1] if flip_x else x
    return np.ascontiguousarray(x.transpose(1, 0, 2) if transpose else x)


def _inverse(y: np.ndarray, flip_y: bool, flip_x: bool, transpose: bool) -> np.ndarray:
    y = y.transpose(1, 0, 2) if transpose else y
    y = y[:, ::-1] if flip_x else y
    return y[::-1] if flip_y else y


def self_ensemble(fn: TileFn, passes: int) -> TileFn:
    """A tile function (HxWxC -> HxWxC') that averages ``fn`` over ``passes`` symmetric copies
    of its input. ``passes == 1`` returns ``fn`` itself."""
    check_passes(passes)
    if passes == 1:
        return fn

    def averaged(tile: np.ndarray) -> np.ndarray:
        total = None
        for sym in _SYMMETRIES[:passes]:
            out = _inverse(np.asarray(fn(_forward(tile, *sym)), dtype=np.float32), *sym)
            total = out.copy() if total is None else np.add(total, out, out=total)
        assert total is not None
        return total / np.float32(passes)

    return averaged
