import numpy as np
import pytest

from app.core.codec import entropy
from app.spec.bitstream import CorruptFileError


def laplace_tables(n_tables=5, k=12):
    rows, lens = [], []
    for i in range(n_tables):
        b = 0.5 + i
        x = np.arange(-k, k + 1)
        pmf = np.exp(-np.abs(x) / b)
        pmf /= pmf.sum() * 1.001
        rows.append(np.append(pmf, 0.001))
        lens.append(len(rows[-1]))
    return entropy.TableSet(np.array(rows), np.array(lens))


def test_lossless_round_trip_with_escapes():
    rng = np.random.default_rng(0)
    tables = laplace_tables()
    idx = rng.integers(0, len(tables), size=(3, 17, 11))
    sym = np.round(rng.laplace(0, 1 + idx, size=idx.shape)).astype(np.int64)
    sym[0, 0, 0] = 1000      # far outside every table: escaped
    sym[1, 2, 3] = -77
    stream, esc = entropy.encode(sym, idx, tables)
    out = entropy.decode(stream, esc, idx, tables)
    np.testing.assert_array_equal(out, sym)
    assert out.shape == sym.shape


def test_well_modelled_symbols_cost_close_to_their_entropy():
    rng = np.random.default_rng(1)
    tables = laplace_tables(1)
    sym = np.round(rng.laplace(0, 0.5, size=20000)).astype(np.int64)
    idx = np.zeros_like(sym)
    stream, _ = entropy.encode(sym, idx, tables)
    p = tables.pmf[0, :tables.lengths[0]] / tables.pmf[0].sum()
    ideal_bits = -np.log2(p[np.clip(sym + tables.half[0], 0, len(p) - 1)]).sum()
    assert len(stream) * 8 < ideal_bits * 1.02 + 64


def test_decoding_rejects_a_damaged_escape_list():
    tables = laplace_tables()
    idx = np.zeros(10, np.int64)
    sym = np.full(10, 500)
    stream, esc = entropy.encode(sym, idx, tables)
    with pytest.raises(CorruptFileError):
        entropy.decode(stream, esc[:-3], idx, tables)
    with pytest.raises(CorruptFileError):
        entropy.decode(stream[:-1], esc, idx, tables)


def test_table_index_out_of_range_is_corrupt():
    tables = laplace_tables()
    stream, esc = entropy.encode(np.zeros(4), np.zeros(4), tables)
    with pytest.raises(CorruptFileError):
        entropy.decode(stream, esc, np.full(4, 99), tables)
