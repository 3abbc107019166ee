"""Entropy coding of integer latents with ``constriction`` from frozen probability tables.

A table is a pmf over symbols ``-K .. K`` plus a final escape bin.  Symbols are grouped by
table index (scale index for the latent, channel for the hyper-latent) and each group is
range-coded with its table's categorical model; values outside ``-K .. K`` are coded as the
escape bin and stored, in order, in a separate zlib-compressed int32 list.  The decoder knows
every symbol's table index before decoding, so it replays the same groups in the same order.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import constriction
import numpy as np

from app.fixedpoint.tables import CodecTables
from app.spec.bitstream import CorruptFileError

from ..runtime import heap

_Categorical = constriction.stream.model.Categorical


class TableSet:
    """A stack of pmf rows with their lengths; builds one categorical model per row lazily."""

    def __init__(self, pmf: np.ndarray, lengths: np.ndarray):
        self.pmf = np.asarray(pmf, np.float64)
        self.lengths = np.asarray(lengths, np.int64)
        self.half = (self.lengths - 2) // 2
        self._models: dict[int, object] = {}

    def __len__(self) -> int:
        return len(self.lengths)

    def model(self, i: int):
        m = self._models.get(i)
        if m is None:
            m = _Categorical(self.pmf[i, :self.lengths[i]], perfect=False)
            self._models[i] = m
        return m


def encode(symbols: np.ndarray, indexes: np.ndarray, tables: TableSet) -> tuple[bytes, bytes]:
    """Code integer ``symbols`` whose table rows are ``indexes`` (same shape).

    Returns (range-coded stream, zlib-compressed escapes).
    """
    return encode_passes([(symbols, indexes)], tables)


def encode_passes(passes: list[tuple[np.ndarray, np.ndarray]], tables: TableSet
                  ) -> tuple[bytes, bytes]:
    """Code several (symbols, indexes) passes one after the other into one stream, for a
    decoder that learns each pass's indexes only after decoding the passes before it."""
    encoder = constriction.stream.queue.RangeEncoder()
    escapes = []
    n_symbols = 0
    for symbols, indexes in passes:
        n_symbols += np.size(symbols)
        sym = np.asarray(symbols, np.int64).ravel()
        for i, pos in _groups(np.asarray(indexes, np.int64).ravel(), len(tables)):
            v = sym[pos] + tables.half[i]
            esc = (v < 0) | (v >= tables.lengths[i] - 1)
            if esc.any():
                escapes.append(sym[pos][esc])
                v[esc] = tables.lengths[i] - 1
            encoder.encode(v.astype(np.int32), tables.model(i))
    esc_arr = np.concatenate(escapes).astype("<i4") if escapes else np.zeros(0, "<i4")
    if n_symbols >= heap.TRIM_SYMBOLS:  # a big latent's temporaries and its context's
        heap.give_back()
    return encoder.get_compressed().astype("<u4").tobytes(), zlib.compress(esc_arr.tobytes(), 9)


def _groups(idx: np.ndarray, n_tables: int):
    """(table, positions in order) for every table that ``idx`` uses, in table order: the
    order in which encoder and decoder visit a pass's symbols."""
    order = np.argsort(idx, kind="stable")
    bounds = np.searchsorted(idx[order], np.arange(n_tables + 1))
    for i in range(n_tables):
        if bounds[i + 1] > bounds[i]:
            yield i, order[bounds[i]:bounds[i + 1]]


def decode(stream: bytes, escapes: bytes, indexes: np.ndarray, tables: TableSet) -> np.ndarray:
    """Inverse of :func:`encode`; returns int64 symbols with the shape of ``indexes``."""
    decoder = StreamDecoder(stream, escapes, int(np.size(indexes)), tables)
    out = decoder.decode(indexes)
    decoder.finish()
    return out


class StreamDecoder:
    """Inverse of :func:`encode_passes`: :meth:`decode` once per pass, then :meth:`finish`.

    ``n_symbols`` (all passes together) bounds the escape list a damaged file may inflate."""

    def __init__(self, stream: bytes, escapes: bytes, n_symbols: int, tables: TableSet):
        if len(stream) % 4:
            raise CorruptFileError("entropy stream length is not a multiple of 4")
        self.tables = tables
        self.n_symbols = n_symbols
        self.escapes = _read_escapes(escapes, n_symbols)
        self.used = 0
        self.decoder = constriction.stream.queue.RangeDecoder(
            np.frombuffer(stream, "<u4").copy())

    def decode(self, indexes: np.ndarray) -> np.ndarray:
        """The next pass: int64 symbols with the shape of ``indexes``."""
        tables = self.tables
        idx = np.asarray(indexes, np.int64).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= len(tables)):
            raise CorruptFileError("table index out of range")
        out = np.empty(idx.size, np.int64)
        for i, pos in _groups(idx, len(tables)):
            try:
                v = np.asarray(self.decoder.decode(tables.model(i), len(pos)), np.int64)
            except (AssertionError, ValueError, RuntimeError, OverflowError) as exc:
                # constriction refuses data that no encoder could have produced with this model
                raise CorruptFileError("entropy stream is damaged (invalid for its model)") \
                    from exc
            escaped = v == tables.lengths[i] - 1
            vals = v - tables.half[i]
            n_esc = int(escaped.sum())
            if n_esc:
                if self.used + n_esc > len(self.escapes):
                    raise CorruptFileError("escape list is shorter than the stream needs")
                vals[escaped] = self.escapes[self.used:self.used + n_esc]
                self.used += n_esc
            out[pos] = vals
        return out.reshape(np.shape(indexes))

    def finish(self) -> None:
        """Check the escapes were all used; after a big latent, the memory its decoding (and
        its context's) freed goes back to the system before the synthesis needs its own."""
        if self.used != len(self.escapes):
            raise CorruptFileError("escape list does not match the stream")
        if self.n_symbols >= heap.TRIM_SYMBOLS:
            heap.give_back()


def _read_escapes(escapes: bytes, n_symbols: int) -> np.ndarray:
    """The escape list as int64; it can hold at most one value per symbol, so a zlib bomb is
    refused after inflating at most ``4 * n_symbols + 4`` bytes."""
    d = zlib.decompressobj()
    try:
        raw = d.decompress(escapes, 4 * n_symbols + 4)
    except zlib.error as exc:
        raise CorruptFileError(f"escape list is damaged: {exc}") from exc
    if len(raw) > 4 * n_symbols or d.unconsumed_tail:
        raise CorruptFileError("escape list is longer than the stream needs")
    if not d.eof:
        raise CorruptFileError("escape list is damaged: truncated")
    if len(raw) % 4:
        raise CorruptFileError("escape list length is not a multiple of 4")
    return np.frombuffer(raw, "<i4").astype(np.int64)


@dataclass(eq=False)
class EntropyTables(CodecTables):
    """A codec model's checked ``tables.npz`` (:class:`app.fixedpoint.CodecTables`) with what
    coding needs on top: the :class:`TableSet` of the latent (``y``) and of the hyper-latent
    (``z``), and the gain vectors of a quality."""

    y: TableSet = field(init=False)
    z: TableSet = field(init=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.z_medians = self.z_medians.astype(np.float32)  # z is float32: so is z - median
        self.y = TableSet(self.y_pmf, self.y_len)
        self.z = TableSet(self.z_pmf, self.z_len)

    def gain_vectors(self, quality: float) -> tuple[np.ndarray, np.ndarray]:
        """Interpolated (gain, inverse gain) for a quality in [1, 100] (log-linear between
        the trained rate points)."""
        t = (min(max(quality, 1.0), 100.0) - 1.0) / 99.0 * (self.levels - 1)
        lo = min(int(np.floor(t)), self.levels - 2)
        a = t - lo

        def interp(g):
            return np.exp((1 - a) * np.log(g[lo]) + a * np.log(g[lo + 1])).astype(np.float32)

        return interp(self.gains), interp(self.inv_gains)
