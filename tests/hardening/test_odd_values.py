"""Valid but odd inputs (issue 24): float and integer images get the right pixels by the rule in
docs/robustness.md, never a silent black image; NaN and infinity are refused in every numeric
option (exit 2) and by the core functions behind the GUI."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from app.cli.numbers import bounded_int, finite_float
from app.core.io.imageio import ImageIOError, load_image
from tests.hardening.conftest import listing, run_cli

RAMP = np.linspace(0.0, 1.0, 64, dtype=np.float32).reshape(8, 8)
EXPECTED = np.rint(RAMP * 255).astype(np.uint8)


def _tiff(tmp_path, arr, name="odd.tif"):
    path = tmp_path / name
    Image.fromarray(arr).save(path)
    return path


def _grey(path) -> np.ndarray:
    loaded = load_image(path)
    assert loaded.pixels.shape[2] == 1
    return loaded.pixels[:, :, 0]


# ------------------------------------------------------------------------------- images


def test_float_tiff_in_0_1_with_values_above_1_is_clipped_not_black(tmp_path):
    arr = RAMP.copy()
    arr[0, :3] = (1.2, 1.7, 4.0)  # a few highlights over 1.0
    px = _grey(_tiff(tmp_path, arr))
    assert px.mean() > 100  # the old rule read it on the 0..255 scale: all 0 or 1
    np.testing.assert_array_equal(px[1:], EXPECTED[1:])
    assert list(px[0, :3]) == [255, 255, 255]


def test_float_tiff_in_0_1_is_scaled(tmp_path):
    np.testing.assert_array_equal(_grey(_tiff(tmp_path, RAMP)), EXPECTED)


def test_float_tiff_in_0_255_keeps_its_values_and_clips_the_rest(tmp_path):
    arr = RAMP * 255
    arr[0, 0], arr[0, 1] = -20.0, 300.0
    px = _grey(_tiff(tmp_path, arr))
    np.testing.assert_array_equal(px[1:], EXPECTED[1:])
    assert (px[0, 0], px[0, 1]) == (0, 255)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_float_tiff_with_nan_or_inf_is_refused(tmp_path, bad):
    arr = RAMP.copy()
    arr[3, 3] = bad
    with pytest.raises(ImageIOError, match=r"odd.tif: .*NaN or infinite"):
        load_image(_tiff(tmp_path, arr))


def test_int32_tiff_holding_0_255_is_the_same_picture(tmp_path):
    arr = EXPECTED.astype(np.int32)
    px = _grey(_tiff(tmp_path, arr))
    np.testing.assert_array_equal(px, EXPECTED)  # the old rule divided by 257: black


def test_int32_tiff_holding_16_bit_values_is_read_as_16_bit(tmp_path):
    arr = (EXPECTED.astype(np.int32) * 257)
    np.testing.assert_array_equal(_grey(_tiff(tmp_path, arr)), EXPECTED)


def test_int32_tiff_beyond_16_bits_is_scaled_by_its_range(tmp_path):
    arr = EXPECTED.astype(np.int32) * 1_000_000 // 255
    px = _grey(_tiff(tmp_path, arr))
    assert np.abs(px.astype(int) - EXPECTED).max() <= 1 and px.max() == 255


def test_16_bit_tiff_uses_the_16_bit_scale(tmp_path):
    arr = EXPECTED.astype(np.uint16) * 257
    np.testing.assert_array_equal(_grey(_tiff(tmp_path, arr)), EXPECTED)
    dark = np.full((4, 4), 200, np.uint16)  # a dark 16-bit picture stays dark
    assert _grey(_tiff(tmp_path, dark, "dark.tif")).max() == 1


def test_float_image_reaches_the_model_as_the_right_picture(tmp_path):
    """Through ``jobs.run`` (CLI, batch): the codec gets the ramp, not a black image."""
    from app.core.jobs import Job, run

    arr = np.tile(np.linspace(0.1, 0.9, 48, dtype=np.float32), (32, 1))
    arr[0, 0] = 1.5
    seen = []

    class Engine:
        def compress(self, pixels, quality, target_bytes, model, progress=None, cancel=None):
            seen.append(pixels)
            return type("R", (), {"data": b"aei", "quality": quality, "model_id": "m"})()

    run(Job("compress", _tiff(tmp_path, arr), tmp_path / "f.aei"), Engine())
    px = seen[0][:, :, 0]
    np.testing.assert_array_equal(px[1:], np.rint(arr[1:] * 255).astype(np.uint8))
    assert px[0, 0] == 255


# ------------------------------------------------------------------------ numeric options

NON_FINITE = ["nan", "NaN", "inf", "-inf", "Infinity"]


def _argvs(tmp_path, models):
    photo = tmp_path / "p.png"
    Image.fromarray(np.full((16, 16, 3), 100, np.uint8)).save(photo)
    src = tmp_path / "in"
    src.mkdir(exist_ok=True)
    Image.fromarray(np.full((16, 16, 3), 100, np.uint8)).save(src / "a.png")
    m = ["--models", models]
    out = tmp_path / "out"
    return {
        "denoise --sigma": lambda v: ["denoise", photo, "--sigma", v, *m],
        "compress --quality": lambda v: ["compress", photo, f"--quality={v}", *m],
        "compress --target-size": lambda v: ["compress", photo, f"--target-size={v}", *m],
        "denoise --passes": lambda v: ["denoise", photo, f"--passes={v}", *m],
        "batch --sigma": lambda v: ["batch", src, out, "--task", "denoise", f"--sigma={v}", *m],
        "batch --quality": lambda v: ["batch", src, out, "--task", "compress",
                                      f"--quality={v}", *m],
        "batch --workers": lambda v: ["batch", src, out, "--task", "denoise", f"--workers={v}", *m],
        "batch --passes": lambda v: ["batch", src, out, "--task", "denoise", f"--passes={v}",
                                     *m],
    }


@pytest.mark.parametrize("value", NON_FINITE)
def test_non_finite_values_are_usage_errors_in_every_numeric_option(capsys, tmp_path,
                                                                   tiny_models, value):
    for option, argv in _argvs(tmp_path, tiny_models).items():
        before = listing(tmp_path)
        with pytest.raises(SystemExit) as info:
            run_cli(capsys, *argv(value))
        err = capsys.readouterr().err
        assert info.value.code == 2, (option, err)
        assert "error: argument" in err, (option, err)
        assert listing(tmp_path) == before, option  # nothing written


def test_sigma_out_of_range_is_a_usage_error(capsys, tmp_path, tiny_models):
    argv = _argvs(tmp_path, tiny_models)["denoise --sigma"]("-3")
    with pytest.raises(SystemExit) as info:
        run_cli(capsys, *argv)
    assert info.value.code == 2


def test_number_types():
    number = finite_float(0, 75)
    assert number("12.5") == 12.5 and number(" 0 ") == 0.0
    for bad in ("nan", "inf", "-inf", "1e999", "x", "76", "-0.1"):
        with pytest.raises(Exception) as info:
            number(bad)
        assert "argument" not in str(info.value)  # argparse adds the option name itself
    whole = bounded_int(1, 8)
    assert whole("4") == 4
    for bad in ("nan", "inf", "2.5", "0", "9"):
        with pytest.raises(Exception):
            whole(bad)


# ------------------------------------------------------------- core entry points (GUI)


def test_core_refuses_non_finite_sigma_and_quality(tiny_engine):
    img = np.full((24, 24, 3), 100, np.uint8)
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError, match="finite"):
            tiny_engine.denoise(img, sigma=bad)
        with pytest.raises(ValueError, match="finite"):
            tiny_engine.compress(img, quality=bad)
    out, sigma = tiny_engine.denoise(img, sigma=5.0)
    assert out.shape == img.shape and sigma == 5.0
