"""The layout of a codec's ``tables.npz``: what training writes and the app reads.

Every array has a name, a kind (float or integer) and a shape tied to a few sizes: ``levels``
rate points, ``M`` latent and ``N`` hyper-latent channels, ``S`` scale-table entries.  Always:

==============  =========  ===============================================================
``gains``       float      (levels, M): the latent's gain per rate point (``inv_gains`` alike)
``lambdas``     float      (levels,): the rate-distortion weights they were trained for
``scale_table`` float      (S,): increasing scales of the latent's Gaussian tables
``y_pmf``       float      (S, width): per scale, a pmf over ``-K .. K`` then an escape bin
``y_len``       integer    (S,): the used length ``2K + 2`` of each row
``z_pmf``       float      (N, width): per hyper-latent channel, centred on its median
``z_len``       integer    (N,)
``z_medians``   float      (N,)
==============  =========  ===============================================================

Then the fixed-point groups, each present exactly when its marker is (an array of a group
whose marker is absent is an error):

- ``hyper_frac_bits`` marks the integer ``h_s`` (:mod:`app.fixedpoint.hyper`): scalars
  ``hyper_frac_bits``, ``hyper_clamp`` (L,), ``hyper_leaky`` (2,), ``z_medians_q`` (N,),
  ``scale_table_q`` (S,) and the layers ``hs0 .. hs{L-1}``;
- ``context_clamp`` (needs ``h_s``) marks the checkerboard
  (:mod:`app.fixedpoint.checkerboard`): ``context_clamp`` (1 + E,), ``context_param_limit``,
  the layer ``cx`` and the layers ``ep0 .. ep{E-1}``;
- ``cc_groups`` (needs the checkerboard) marks the channel groups
  (:mod:`app.fixedpoint.channel_groups`): ``cc_groups`` (K,), ``cc_clamp`` (2K, 1 + E), and
  for each pass ``i`` the layers ``cc{i}_ep0 .. cc{i}_ep{E-1}`` and, optionally,
  ``cc{i}_cx``.

A layer ``p`` is four integer arrays: ``p_w`` (4-D), ``p_b`` (1-D), ``p_shift`` (scalar) and
``p_geom`` (4,) (:mod:`app.fixedpoint.layers`).  This module checks names, kinds and shapes;
the fixed-point classes check, when they load a group, that its layers chain and keep their
sums exact.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO, Mapping

import numpy as np

Arrays = Mapping[str, np.ndarray]
LAYER_PARTS = (("w", 4), ("b", 1), ("shift", 0), ("geom", (4,)))  # (part, ndim or shape)
# (field, marker, name prefixes of the group's arrays)
GROUPS = (("hyper_fixed", "hyper_frac_bits", ("hs", "hyper_", "z_medians_q", "scale_table_q")),
          ("context_fixed", "context_clamp", ("cx_", "ep", "context_")),
          ("channel_fixed", "cc_groups", ("cc",)))


class TablesError(ValueError):
    """The tables are missing an array, hold one of the wrong kind or shape, or their
    fixed-point layers are inconsistent or not provably exact."""


@dataclass(eq=False)
class CodecTables:
    """The arrays of one codec's ``tables.npz``, checked against the layout above."""

    gains: np.ndarray
    inv_gains: np.ndarray
    lambdas: np.ndarray
    scale_table: np.ndarray
    y_pmf: np.ndarray
    y_len: np.ndarray
    z_pmf: np.ndarray
    z_len: np.ndarray
    z_medians: np.ndarray
    hyper_fixed: dict[str, np.ndarray] | None = None    # fixed-point h_s
    context_fixed: dict[str, np.ndarray] | None = None  # checkerboard context
    channel_fixed: dict[str, np.ndarray] | None = None  # channel groups

    def __post_init__(self) -> None:
        levels, m = _shape(self.gains, "gains", float, 2)
        _expect(self.inv_gains, "inv_gains", float, (levels, m))
        _expect(self.lambdas, "lambdas", float, (levels,))
        if levels < 2:
            raise TablesError(f"'gains' has {levels} rate point; at least 2 are needed")
        (s,) = _shape(self.scale_table, "scale_table", float, 1)
        _pmf_rows(self.y_pmf, self.y_len, "y", s)
        (n,) = _shape(self.z_medians, "z_medians", float, 1)
        _pmf_rows(self.z_pmf, self.z_len, "z", n)
        if self.context_fixed is not None and self.hyper_fixed is None:
            raise TablesError("the checkerboard tables need the fixed-point hyper-synthesis")
        if self.channel_fixed is not None and self.context_fixed is None:
            raise TablesError("the channel-group tables need the checkerboard tables")
        if self.hyper_fixed is not None:
            _check_group(self.hyper_fixed, _hyper_names(self.hyper_fixed, n, s))
        if self.context_fixed is not None:
            _check_group(self.context_fixed, _context_names(self.context_fixed))
        if self.channel_fixed is not None:
            _check_group(self.channel_fixed, _channel_names(self.channel_fixed))

    @classmethod
    def from_arrays(cls, arrays: Arrays) -> CodecTables:
        """The tables of a name -> array mapping; every array must belong to the layout."""
        d = dict(arrays)
        top = {}
        for name in _always():
            if name not in d:
                raise TablesError(f"array '{name}' is missing")
            top[name] = d.pop(name)
        groups = {}
        for name, marker, prefixes in GROUPS:
            keys = [k for k in d if k.startswith(prefixes)] if marker in d else []
            groups[name] = {k: d.pop(k) for k in keys} or None
        if d:
            raise TablesError(f"unexpected array '{next(iter(d))}'")
        return cls(**top, **groups)

    @classmethod
    def load(cls, file: str | Path | IO[bytes]) -> CodecTables:
        """Read a ``tables.npz`` (never unpickling) and check it."""
        with np.load(file, allow_pickle=False) as npz:
            return cls.from_arrays({k: npz[k] for k in npz.files})

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array by its name in the file."""
        out = {name: getattr(self, name) for name in _always()}
        for group in (self.hyper_fixed, self.context_fixed, self.channel_fixed):
            out.update(group or {})
        return out

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, **self.arrays())

    @property
    def levels(self) -> int:
        return len(self.gains)


def _always() -> list[str]:
    """The names of the arrays every codec has: the fields that are not a group."""
    groups = {name for name, _, _ in GROUPS}
    return [f.name for f in fields(CodecTables) if f.name not in groups]


def _kind_ok(a: np.ndarray, kind: type) -> bool:
    return a.dtype.kind in ("f" if kind is float else "iu")


def _shape(a, name: str, kind: type, ndim: int) -> tuple[int, ...]:
    if not isinstance(a, np.ndarray) or not _kind_ok(a, kind):
        got = a.dtype if isinstance(a, np.ndarray) else type(a).__name__
        raise TablesError(f"'{name}' must hold {'floats' if kind is float else 'integers'}, "
                          f"not {got}")
    if a.ndim != ndim:
        raise TablesError(f"'{name}' has shape {a.shape}, expected {ndim} dimension(s)")
    return a.shape


def _expect(a, name: str, kind: type, shape: tuple[int, ...]) -> None:
    if _shape(a, name, kind, len(shape)) != shape:
        raise TablesError(f"'{name}' has shape {a.shape}, expected {shape}")


def _pmf_rows(pmf, lengths, prefix: str, rows: int) -> None:
    _, width = _shape(pmf, f"{prefix}_pmf", float, 2)
    _expect(pmf, f"{prefix}_pmf", float, (rows, width))
    _expect(lengths, f"{prefix}_len", int, (rows,))
    if rows and (lengths.min() < 2 or lengths.max() > width):
        raise TablesError(f"'{prefix}_len' must lie in 2 .. {width}")


def _layer(prefix: str) -> dict[str, tuple[type, int | tuple[int, ...]]]:
    return {f"{prefix}_{part}": (int, shape) for part, shape in LAYER_PARTS}


def _size(group: Arrays, name: str, ndim: int = 1) -> tuple[int, ...]:
    if name not in group:
        raise TablesError(f"array '{name}' is missing")
    return _shape(group[name], name, int, ndim)


def _hyper_names(group: Arrays, n: int, s: int) -> dict:
    (layers,) = _size(group, "hyper_clamp")
    names = {"hyper_frac_bits": (int, 0), "hyper_clamp": (int, 1), "hyper_leaky": (int, (2,)),
             "z_medians_q": (int, (n,)), "scale_table_q": (int, (s,))}
    for i in range(layers):
        names.update(_layer(f"hs{i}"))
    return names


def _context_names(group: Arrays) -> dict:
    (clamps,) = _size(group, "context_clamp")
    names = {"context_clamp": (int, 1), "context_param_limit": (int, 0), **_layer("cx")}
    for i in range(clamps - 1):
        names.update(_layer(f"ep{i}"))
    return names


def _channel_names(group: Arrays) -> dict:
    (k,) = _size(group, "cc_groups")
    rows, clamps = _size(group, "cc_clamp", 2)
    if rows != 2 * k:
        raise TablesError(f"'cc_clamp' has {rows} rows for {k} groups, expected {2 * k}")
    names = {"cc_groups": (int, 1), "cc_clamp": (int, 2)}
    for i in range(2 * k):
        if f"cc{i}_cx_w" in group:
            names.update(_layer(f"cc{i}_cx"))
        for j in range(clamps - 1):
            names.update(_layer(f"cc{i}_ep{j}"))
    return names


def _check_group(group: Arrays, names: dict) -> None:
    """Every array of ``names`` present with its kind and dimensions (or shape), no other."""
    for name, (kind, shape) in names.items():
        if name not in group:
            raise TablesError(f"array '{name}' is missing")
        if isinstance(shape, tuple):
            _expect(group[name], name, kind, shape)
        else:
            _shape(group[name], name, kind, shape)
    extra = [k for k in group if k not in names]
    if extra:
        raise TablesError(f"unexpected array '{extra[0]}'")
