"""Hostile and odd images through the command line (``aestudio compress`` / ``denoise``).

``tests/core/test_imageio.py`` already covers the loader on its own: a PNG whose IHDR declares
5000x4000 refused before decoding (``test_pixel_limit_checked_before_decoding``), the
100000x100000 PNG bomb (``test_pixel_limit_default_catches_bomb``), ``AESTUDIO_MAX_PIXELS`` and
the ``max_pixels`` argument (``test_pixel_limit_env_and_argument``), every EXIF orientation of
PNG and JPEG (``test_exif_orientation_*``), CMYK JPEG, 16-bit PNGs, animated GIF, truncated,
empty and random files.  These tests add the other formats' huge headers and take the odd
images through the real CLI jobs, checking what reaches the models and what is written."""

from __future__ import annotations

import io
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from app.core.engine import Engine
from tests.hardening.conftest import assert_one_error_line, listing, run_cli

ORIENTATION = 0x0112


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def _pattern(h: int, w: int) -> np.ndarray:
    """Asymmetric RGB pattern: every orientation gives different pixels."""
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([yy * 255 // max(h - 1, 1), xx * 255 // max(w - 1, 1),
                     (yy * w + xx) % 251], -1).astype(np.uint8)


def _encoded(fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(_pattern(8, 8)).save(buf, format=fmt, **kw)
    return buf.getvalue()


def _huge_jpeg(w: int, h: int) -> bytes:
    data = bytearray(_encoded("JPEG"))
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, h, w)
    return bytes(data)


def _huge_png(w: int, h: int) -> bytes:
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _png_chunk(b"IEND", b""))


def _huge_bmp(w: int, h: int) -> bytes:
    data = bytearray(_encoded("BMP"))
    struct.pack_into("<ii", data, 18, w, h)
    return bytes(data)


def _huge_gif(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("P", (4, 4)).save(buf, format="GIF")
    data = bytearray(buf.getvalue())
    struct.pack_into("<HH", data, 6, w, h)                    # logical screen
    frame = data.find(b"\x2c", 13)
    struct.pack_into("<HH", data, frame + 5, w, h)            # first image descriptor
    return bytes(data)


def _huge_tiff(w: int, h: int) -> bytes:
    """A TIFF whose ImageWidth/ImageLength tags (SHORT or LONG) declare w x h."""
    data = bytearray(_encoded("TIFF"))
    (ifd,) = struct.unpack_from("<I", data, 4)
    (n,) = struct.unpack_from("<H", data, ifd)
    for i in range(n):
        off = ifd + 2 + 12 * i
        tag, typ = struct.unpack_from("<HH", data, off)
        if tag in (256, 257):
            struct.pack_into("<HHI", data, off, tag, 4, 1)     # LONG, count 1
            struct.pack_into("<I", data, off + 8, w if tag == 256 else h)
    return bytes(data)


@pytest.fixture
def no_decoding(monkeypatch):
    """Fail if any image data is decoded (the size check must come first)."""
    def refuse(self):
        raise AssertionError("pixels decoded before the pixel limit was checked")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


@pytest.fixture
def spy(monkeypatch):
    """Record the pixels each engine job receives (and still run it)."""
    seen: dict[str, list[np.ndarray]] = {"compress": [], "denoise": []}
    real_compress, real_denoise = Engine.compress, Engine.denoise

    def compress(self, pixels, *a, **k):
        seen["compress"].append(np.array(pixels))
        return real_compress(self, pixels, *a, **k)

    def denoise(self, pixels, *a, **k):
        seen["denoise"].append(np.array(pixels))
        return real_denoise(self, pixels, *a, **k)

    monkeypatch.setattr(Engine, "compress", compress)
    monkeypatch.setattr(Engine, "denoise", denoise)
    return seen


# -------------------------------------------------------------------- huge declared sizes


@pytest.mark.parametrize("fmt, make", [
    ("jpg", _huge_jpeg), ("png", _huge_png), ("bmp", _huge_bmp), ("gif", _huge_gif),
    ("tif", _huge_tiff),
])
@pytest.mark.parametrize("command", ["compress", "denoise"])
def test_huge_declared_size_is_refused_before_decoding(capsys, tiny_models, tmp_path,
                                                       no_decoding, fmt, make, command):
    """A few hundred bytes declaring tens of thousands of pixels a side: refused from the
    header, quickly, with one line naming the file; nothing is written."""
    w, h = (60000, 50000) if fmt != "gif" else (65535, 65535)
    path = tmp_path / f"huge.{fmt}"
    path.write_bytes(make(w, h))
    t = time.perf_counter()
    code, out, err = run_cli(capsys, command, path, "--models", tiny_models)
    assert time.perf_counter() - t < 5
    assert_one_error_line(code, err, f"huge.{fmt}", "limit")
    assert listing(tmp_path) == [f"huge.{fmt}"]


def test_jpeg_over_the_configured_limit_names_the_setting(capsys, tiny_models, tmp_path,
                                                           no_decoding, monkeypatch):
    """Between our limit and Pillow's own guard (twice as high) our check speaks."""
    monkeypatch.setenv("AESTUDIO_MAX_PIXELS", "1000000")
    path = tmp_path / "big.jpg"
    path.write_bytes(_huge_jpeg(1500, 1000))
    code, _, err = run_cli(capsys, "compress", path, "--models", tiny_models)
    assert_one_error_line(code, err, "big.jpg", "1500x1000", "AESTUDIO_MAX_PIXELS")


def test_pillow_guard_message_speaks_of_our_limit(capsys, tiny_models, tmp_path, monkeypatch):
    monkeypatch.setenv("AESTUDIO_MAX_PIXELS", "1000000")
    path = tmp_path / "bomb.png"
    path.write_bytes(_huge_png(30000, 30000))              # above 2x: Pillow's guard fires
    code, _, err = run_cli(capsys, "compress", path, "--models", tiny_models)
    assert_one_error_line(code, err, "bomb.png", "900,000,000 pixels", "1,000,000",
                          "AESTUDIO_MAX_PIXELS")


# ---------------------------------------------------------------- the configurable limit


def test_decompression_bomb_limit_is_configurable_for_every_command(capsys, tiny_models, photo,
                                                                    tmp_path, monkeypatch):
    code, _, _ = run_cli(capsys, "compress", photo, "--models", tiny_models)
    assert code == 0
    aei = photo.with_suffix(".aei")
    monkeypatch.setenv("AESTUDIO_MAX_PIXELS", "1000")        # the photo has 72x96 = 6912
    for argv in (["compress", photo, "-o", tmp_path / "again.aei"],
                 ["denoise", photo],
                 ["decompress", aei, "-o", tmp_path / "back.png"]):
        code, _, err = run_cli(capsys, *argv, "--models", tiny_models)
        assert_one_error_line(code, err, "limit")
    assert listing(tmp_path) == ["photo.aei", "photo.png"]
    monkeypatch.setenv("AESTUDIO_MAX_PIXELS", "6912")        # exactly the image: allowed
    code, _, _ = run_cli(capsys, "denoise", photo, "--sigma", "5", "--models", tiny_models)
    assert code == 0


def test_thin_image_is_limited_by_its_padded_area(capsys, tiny_models, tmp_path, monkeypatch):
    """A 1x3000 strip is coded as 64x3008: compress refuses it (in one line) where that is
    more than twice the limit, so that it never writes a file its decoder would refuse."""
    path = tmp_path / "strip.png"
    Image.fromarray(_pattern(1, 3000)).save(path)
    monkeypatch.setenv("AESTUDIO_MAX_PIXELS", "3000")
    code, _, err = run_cli(capsys, "compress", path, "--models", tiny_models)
    assert_one_error_line(code, err, "coded as 3008x64", "AESTUDIO_MAX_PIXELS")
    assert listing(tmp_path) == ["strip.png"]
    monkeypatch.setenv("AESTUDIO_MAX_PIXELS", str(3008 * 32))       # exactly twice: allowed
    assert run_cli(capsys, "compress", path, "--models", tiny_models)[0] == 0


def test_text_chunk_bomb_is_one_clear_line(capsys, tiny_models, tmp_path):
    """A PNG whose zTXt chunk inflates to 64 MiB: Pillow stops at its text limit."""
    good = _encoded("PNG")
    bomb = _png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"A" * (64 << 20), 9))
    path = tmp_path / "text.png"
    path.write_bytes(good[:33] + bomb + good[33:])
    code, _, err = run_cli(capsys, "compress", path, "--models", tiny_models)
    assert_one_error_line(code, err, "text.png")
    assert listing(tmp_path) == ["text.png"]


# ------------------------------------------------------------------------ EXIF orientation


_TO_STORED = {  # the transpose that makes the stored pixels of an upright image
    1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_through_compress_and_denoise(capsys, tiny_models, tmp_path, spy,
                                                             orientation):
    """The codec and the denoiser get upright pixels; the .aei decodes to the upright size;
    the denoised file is upright with its orientation tag reset (no double rotation)."""
    upright = _pattern(40, 64)
    im = Image.fromarray(upright)
    if _TO_STORED[orientation] is not None:
        im = im.transpose(_TO_STORED[orientation])
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    path = tmp_path / "turned.png"
    im.save(path, exif=exif.tobytes())
    assert Image.open(path).size == ((64, 40) if orientation < 5 else (40, 64))

    m = ["--models", tiny_models]
    code, _, err = run_cli(capsys, "compress", path, *m)
    assert code == 0, err
    np.testing.assert_array_equal(spy["compress"][0], upright)
    code, _, err = run_cli(capsys, "decompress", tmp_path / "turned.aei", "-o",
                           tmp_path / "back.png", *m)
    assert code == 0, err
    assert Image.open(tmp_path / "back.png").size == (64, 40)

    code, _, err = run_cli(capsys, "denoise", path, "--sigma", "5", *m)
    assert code == 0, err
    np.testing.assert_array_equal(spy["denoise"][0], upright)
    with Image.open(tmp_path / "turned_denoised.png") as out:
        assert out.size == (64, 40)
        assert out.getexif().get(ORIENTATION, 1) == 1


# -------------------------------------------------------------------------- unusual modes


def _png16_rgb(h: int, w: int) -> bytes:
    rows = b"".join(b"\x00" + (_pattern(h, w)[y].astype(">u2") * 257).tobytes() for y in range(h))
    return (b"\x89PNG\r\n\x1a\n"
            + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
            + _png_chunk(b"IDAT", zlib.compress(rows)) + _png_chunk(b"IEND", b""))


def _cli_compress_and_denoise(capsys, models: Path, path: Path, tmp_path: Path):
    m = ["--models", models]
    code, _, err = run_cli(capsys, "compress", path, *m)
    assert code == 0, err
    back = tmp_path / "back.png"
    code, _, err = run_cli(capsys, "decompress", path.with_suffix(".aei"), "-o", back, *m)
    assert code == 0, err
    code, _, err = run_cli(capsys, "denoise", path, "--sigma", "10", *m)
    assert code == 0, err
    return Image.open(back), Image.open(path.with_name(f"{path.stem}_denoised.png"))


def test_cmyk_jpeg_through_compress_and_denoise(capsys, tiny_models, tmp_path, spy):
    cmyk = np.concatenate([_pattern(48, 64), np.full((48, 64, 1), 30, np.uint8)], -1)
    path = tmp_path / "cmyk.jpg"
    Image.fromarray(cmyk, "CMYK").save(path, quality=95)
    back, den = _cli_compress_and_denoise(capsys, tiny_models, path, tmp_path)
    expected = np.asarray(Image.open(path).convert("RGB"))
    np.testing.assert_array_equal(spy["compress"][0], expected)
    np.testing.assert_array_equal(spy["denoise"][0], expected)
    assert back.mode == "RGB" and back.size == (64, 48)
    assert den.mode == "RGB" and den.size == (64, 48)


def test_16bit_grey_png_through_compress_and_denoise(capsys, tiny_models, tmp_path, spy):
    values = (np.arange(40 * 56, dtype=np.uint32).reshape(40, 56) * 29 % 65536).astype(np.uint16)
    path = tmp_path / "grey16.png"
    Image.fromarray(values).save(path)
    back, den = _cli_compress_and_denoise(capsys, tiny_models, path, tmp_path)
    expected = ((values.astype(np.int64) + 128) // 257).astype(np.uint8)[:, :, None]
    np.testing.assert_array_equal(spy["compress"][0], expected)
    np.testing.assert_array_equal(spy["denoise"][0], expected)
    assert back.mode == "L" and den.mode == "L" and back.size == den.size == (56, 40)


def test_48bit_rgb_png_through_compress_and_denoise(capsys, tiny_models, tmp_path, spy):
    path = tmp_path / "rgb48.png"
    path.write_bytes(_png16_rgb(40, 56))
    back, den = _cli_compress_and_denoise(capsys, tiny_models, path, tmp_path)
    np.testing.assert_array_equal(spy["compress"][0], _pattern(40, 56))
    assert back.mode == "RGB" and den.mode == "RGB" and den.size == (56, 40)


def test_animated_gif_uses_the_first_frame(capsys, tiny_models, tmp_path, spy):
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [Image.new("RGB", (48, 32), c) for c in colours]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    back, den = _cli_compress_and_denoise(capsys, tiny_models, path, tmp_path)
    for pixels in (spy["compress"][0], spy["denoise"][0]):
        assert pixels.shape == (32, 48, 3)
        assert (pixels.reshape(-1, 3) == colours[0]).all()
    assert getattr(den, "n_frames", 1) == 1 and den.size == back.size == (48, 32)


@pytest.mark.parametrize("h, w", [(1, 1), (1, 300), (300, 1), (2, 3), (65, 129)])
def test_tiny_and_thin_images_keep_their_size(capsys, tiny_models, tmp_path, h, w):
    path = tmp_path / "odd.png"
    Image.fromarray(_pattern(h, w)).save(path)
    back, den = _cli_compress_and_denoise(capsys, tiny_models, path, tmp_path)
    assert back.size == den.size == (w, h)
