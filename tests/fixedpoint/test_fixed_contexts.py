"""The fixed-point checkerboard context and the channel groups on top of it equal the
all-integer reference, band and block sizes do not change them, and every pass reads only the
symbols decoded before it."""

import numpy as np
import pytest

from app.fixedpoint import checkerboard, layers
from app.fixedpoint.channel_groups import FixedChannelCheckerboard
from app.fixedpoint.checkerboard import FixedCheckerboard, anchor_mask
from app.fixedpoint.hyper import FixedHyperSynthesis
from app.fixedpoint.tables import TablesError
from tests.fixedpoint import reference as ref

M = 8
GROUPS = (2, 2, 4)


def checkerboard_tables(seed=0):
    return {**ref.random_hyper(n=8, m=M, seed=seed), **ref.random_checkerboard(m=M, seed=seed)}


def channel_tables(seed=0):
    return {**checkerboard_tables(seed), **ref.random_channels(GROUPS, seed=seed)}


def context(d):
    return FixedCheckerboard(d, FixedHyperSynthesis(d))


def groups(d):
    return FixedChannelCheckerboard(d, context(d))


# (tables, kernel, the reference's rules) of the checkerboard and of the channel groups
KERNELS = {"checkerboard": (checkerboard_tables, context, ref.checkerboard),
           "channel groups": (channel_tables, groups, ref.channel_groups)}


@pytest.mark.parametrize("kind", KERNELS)
def test_every_pass_equals_the_integer_reference(kind):
    tables, kernel, rules = KERNELS[kind]
    d = tables()
    ref.assert_follows_the_rules(kernel(d).fixed, rules, d, 8, M, (3, 4), (12, 16))


@pytest.mark.parametrize("kind", KERNELS)
def test_bands_and_blocks_do_not_change_the_parameters(kind, monkeypatch):
    tables, kernel, _ = KERNELS[kind]
    d = tables(seed=4)
    z, y = ref.symbols(5, 8, M, (5, 3), (20, 12), spread=20)
    whole = kernel(d).fixed(z, y)
    monkeypatch.setattr(checkerboard, "BAND_POSITIONS", 1)   # one row per band: many halos
    monkeypatch.setattr(layers, "BLOCK_BYTES", 1)            # one im2col row per product
    assert all(a.tobytes() == b.tobytes() for a, b in zip(whole, kernel(d).fixed(z, y)))


def test_anchors_are_where_row_plus_column_is_even():
    np.testing.assert_array_equal(anchor_mask(2, 3), [[1, 0, 1], [0, 1, 0]])


def test_the_two_passes_store_the_exact_means_and_scale_indexes():
    d = checkerboard_tables(seed=2)
    ctx = context(d)
    z, y = ref.symbols(3, 8, M, (2, 3), (8, 12))
    p = ctx.hyper_params(z)
    means, index = ctx.first_pass(p)
    ctx.second_pass(p, y, means, index)
    means_q, scales_q = ctx.fixed(z, y)
    np.testing.assert_array_equal(means, (means_q * 2.0 ** -ref.F).astype(np.float32))
    np.testing.assert_array_equal(index, ref.scale_index(d, scales_q))


def test_the_group_passes_store_the_exact_means_and_scale_indexes_in_order():
    d = channel_tables(seed=2)
    kernel = groups(d)
    z, y = ref.symbols(3, 8, M, (2, 3), (8, 12))
    seen = []

    def take(i, ch, sel, means, index):
        seen.append(i)
        return y[0, ch][:, sel]

    means, index, y_sym = kernel.run(z, take)
    assert seen == list(range(2 * len(GROUPS)))
    np.testing.assert_array_equal(y_sym, y)
    means_q, scales_q = kernel.fixed(z, y)
    np.testing.assert_array_equal(means, (means_q * 2.0 ** -ref.F).astype(np.float32))
    np.testing.assert_array_equal(index, ref.scale_index(d, scales_q))


def test_the_second_checkerboard_pass_reads_only_the_anchors():
    """The other positions' symbols (not decoded yet) change no parameter; the anchors' do."""
    ctx = context(checkerboard_tables(seed=6))
    z, y = ref.symbols(7, 8, M, (2, 3), (8, 12))
    a = anchor_mask(8, 12)
    y2 = y.copy()
    y2[..., ~a] += np.random.default_rng(8).integers(5, 50, y2[..., ~a].shape)
    assert all(u.tobytes() == v.tobytes() for u, v in zip(ctx.fixed(z, y), ctx.fixed(z, y2)))
    y3 = y.copy()
    y3[..., a] += 20
    assert not np.array_equal(ctx.fixed(z, y)[0][..., ~a], ctx.fixed(z, y3)[0][..., ~a])


def test_each_group_pass_reads_only_symbols_decoded_before_it():
    """Changing the symbols of pass p (and later ones) leaves every parameter of passes up to
    p unchanged, and does reach the passes after it."""
    kernel = groups(channel_tables(seed=4))
    z, y = ref.symbols(5, 8, M, (3, 4), (12, 16))
    ref_means, ref_scales = kernel.fixed(z, y)
    a = anchor_mask(12, 16)
    passes = np.zeros((M, 12, 16), int)
    for g, (o, c) in enumerate(zip(np.cumsum([0, *GROUPS]), GROUPS)):
        passes[o:o + c] = np.where(a, g, len(GROUPS) + g)
    rng = np.random.default_rng(6)
    for p in range(2 * len(GROUPS)):
        y2 = y.copy()
        y2[0][passes >= p] += rng.integers(5, 40, int((passes >= p).sum()))
        means, scales = kernel.fixed(z, y2)
        upto = (passes <= p)[None]
        assert means[upto].tobytes() == ref_means[upto].tobytes(), p
        assert scales[upto].tobytes() == ref_scales[upto].tobytes(), p
        if p + 1 < 2 * len(GROUPS):
            later = (passes > p)[None]
            assert not np.array_equal(means[later], ref_means[later]), p


def test_tables_that_could_round_or_do_not_fit_are_refused():
    d = checkerboard_tables()
    d["context_clamp"] = d["context_clamp"].copy()
    d["context_clamp"][0] *= 2                               # the context's input clamp
    with pytest.raises(TablesError, match="exact"):
        context(d)
    d = checkerboard_tables()
    d["context_param_limit"] = np.array(2 ** 24, np.int64)   # a float32 mean could round
    with pytest.raises(TablesError, match="clamps"):
        context(d)
    d = channel_tables()
    d["cc_groups"] = np.array([2, 2, 2], np.int64)
    with pytest.raises(TablesError, match="do not split"):
        groups(d)
    d = channel_tables()
    d["cc_clamp"] = d["cc_clamp"].copy()
    d["cc_clamp"][4, 0] = 2 ** 51
    with pytest.raises(TablesError, match="exact"):
        groups(d)
