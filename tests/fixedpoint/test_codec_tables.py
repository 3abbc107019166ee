"""``CodecTables`` holds a tables.npz to its layout: every shipped codec's loads, and a file
with a missing, mis-shaped, mistyped or unknown array is refused with one line naming it."""

from pathlib import Path

import numpy as np
import pytest

from app.fixedpoint.tables import CodecTables, TablesError
from tests.fixedpoint import reference as ref

MODELS = Path(__file__).resolve().parents[2] / "models"


def full_tables(m=8, n=8, levels=3) -> dict[str, np.ndarray]:
    """Every array a channel-group codec has, in the order an export writes them."""
    rng = np.random.default_rng(0)
    width = 12
    d = {"gains": rng.uniform(0.5, 2, (levels, m)), "inv_gains": rng.uniform(0.5, 2, (levels, m)),
         "lambdas": np.geomspace(0.005, 0.08, levels),
         "scale_table": np.exp(np.linspace(np.log(0.11), np.log(256), 64)),
         "y_pmf": rng.uniform(0, 1, (64, width)), "y_len": np.full(64, width, np.int32),
         "z_pmf": rng.uniform(0, 1, (n, width)), "z_len": np.full(n, 10, np.int32),
         "z_medians": rng.normal(0, 1, n).astype(np.float32)}
    d.update(ref.random_hyper(n=n, m=m))
    d.update(ref.random_checkerboard(m=m))
    d.update(ref.random_channels((2, 2, 4)))
    return d


def test_every_shipped_codec_loads_with_every_array_in_its_place():
    paths = sorted(MODELS.glob("codec-*/tables.npz"))
    assert paths
    for path in paths:
        tables = CodecTables.load(path)
        assert tables.hyper_fixed is not None and tables.channel_fixed is None
        with np.load(path) as npz:
            assert list(tables.arrays()) == npz.files
            for k in ("gains", "z_medians", "hs2_w", "scale_table_q"):
                assert np.array_equal(tables.arrays()[k], npz[k]), k


def test_a_full_layout_round_trips_in_order(tmp_path):
    d = full_tables()
    tables = CodecTables.from_arrays(d)
    assert tables.levels == 3 and set(tables.channel_fixed) >= {"cc_groups", "cc5_ep1_w"}
    assert "cc0_cx_w" not in tables.channel_fixed       # nothing is decoded before pass 0
    tables.save(tmp_path / "tables.npz")
    again = CodecTables.load(tmp_path / "tables.npz")
    assert list(again.arrays()) == list(d)
    for k, v in d.items():
        np.testing.assert_array_equal(again.arrays()[k], v)
    # a hyperprior without any context: its groups are absent, not empty
    plain = CodecTables.from_arrays({k: v for k, v in d.items()
                                     if not k.startswith(("cx_", "ep", "context_", "cc"))})
    assert plain.context_fixed is None and plain.channel_fixed is None


def _refused(tmp_path, arrays, match):
    np.savez(tmp_path / "tables.npz", **arrays)
    with pytest.raises(TablesError, match=match) as info:
        CodecTables.load(tmp_path / "tables.npz")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["gains", "z_len", "hyper_leaky", "hs1_b", "scale_table_q",
                                  "cx_geom", "ep2_w", "context_param_limit", "cc_clamp",
                                  "cc5_ep1_shift"])
def test_a_missing_array_is_named(tmp_path, name):
    arrays = full_tables()
    del arrays[name]
    _refused(tmp_path, arrays, f"'{name}' is missing")


@pytest.mark.parametrize("name, value, match", [
    ("inv_gains", np.ones((3, 7)), r"'inv_gains' has shape \(3, 7\), expected \(3, 8\)"),
    ("lambdas", np.ones((3, 1)), "'lambdas' has shape"),
    ("y_len", np.full(63, 12, np.int32), r"'y_len' has shape \(63,\)"),
    ("y_len", np.full(64, 13, np.int32), "'y_len' must lie in 2 .. 12"),
    ("z_medians", np.zeros((8, 1), np.float32), "'z_medians' has shape"),
    ("z_medians_q", np.zeros(7, np.int64), r"'z_medians_q' has shape \(7,\), expected \(8,\)"),
    ("hs0_geom", np.array([1, 2, 2], np.int64), "'hs0_geom' has shape"),
    ("hs2_w", np.zeros((16, 12, 3), np.int32), "'hs2_w' has shape"),
    ("ep0_shift", np.array([12], np.int64), "'ep0_shift' has shape"),
    ("hs0_w", np.zeros((8, 8, 5, 5), np.float32), "'hs0_w' must hold integers, not float32"),
    ("y_pmf", np.ones((64, 12), np.int64), "'y_pmf' must hold floats"),
    ("cc_clamp", np.ones((5, 3), np.int64), "'cc_clamp' has 5 rows for 3 groups"),
])
def test_a_mis_shaped_or_mistyped_array_is_named(tmp_path, name, value, match):
    _refused(tmp_path, {**full_tables(), name: value}, match)


def test_stray_arrays_and_groups_without_their_base_are_refused(tmp_path):
    _refused(tmp_path, {**full_tables(), "notes": np.zeros(1)}, "unexpected array 'notes'")
    _refused(tmp_path, {**full_tables(), "cc6_ep0_w": np.zeros((1, 1, 1, 1), np.int32)},
             "unexpected array 'cc6_ep0_w'")
    no_marker = {k: v for k, v in full_tables().items() if k != "hyper_frac_bits"}
    _refused(tmp_path, no_marker, "unexpected array")            # h_s layers, no h_s
    no_hyper = {k: v for k, v in full_tables().items()
                if not k.startswith(("hs", "hyper_", "z_medians_q", "scale_table_q"))}
    _refused(tmp_path, no_hyper, "need the fixed-point hyper-synthesis")
    one_level = full_tables(levels=1)
    _refused(tmp_path, one_level, "at least 2")
