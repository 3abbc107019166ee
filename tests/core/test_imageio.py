"""Tests for app.core.io image files: loading (modes, EXIF, corrupt files, limits), atomic saving."""

from __future__ import annotations

import errno
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageFile, features

from app.core.io import atomic_write, imageio
from app.core.io.atomic_write import atomic_write_bytes
from app.core.io.image_save import encode_image_bytes, save_image
from app.core.io.imageio import (
    DEFAULT_MAX_PIXELS,
    ImageIOError,
    LoadedImage,
    PixelLimitError,
    load_image,
    load_image_bytes,
)
from app.core.io.pixels import from_rgb, to_rgb

ORIENTATION = 0x0112


def _pattern(h: int = 24, w: int = 40) -> np.ndarray:
    """Asymmetric RGB pattern: every pixel distinct."""
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([yy * 10 % 256, xx * 6 % 256, (yy * w + xx) % 251], axis=2).astype(np.uint8)


def _blocks(h: int = 24, w: int = 40, size: int = 8) -> np.ndarray:
    """Asymmetric pattern of flat 8x8 blocks (survives JPEG)."""
    by, bx = np.mgrid[0:h, 0:w] // size
    idx = by * (w // size) + bx
    return np.stack([idx * 17 % 256, 255 - idx * 13 % 256, idx * 41 % 256], axis=2).astype(np.uint8)


def _stored_for(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The stored pixels that EXIF ``orientation`` turns into ``upright`` (numpy only)."""
    t = np.transpose(upright, (1, 0, 2))
    return {
        1: upright,
        2: upright[:, ::-1],
        3: upright[::-1, ::-1],
        4: upright[::-1],
        5: t,
        6: np.rot90(upright, 1),
        7: t[::-1, ::-1],
        8: np.rot90(upright, -1),
    }[orientation]


def _exif_bytes(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "AE Studio test"  # Make
    return exif.tobytes()


def _png16_rgb(w: int, h: int) -> bytes:
    """A 48-bit RGB PNG written by hand."""
    rng = np.random.default_rng(0)
    rows = b"".join(b"\x00" + rng.integers(0, 65536, w * 3).astype(">u2").tobytes()
                    for _ in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


# ---------------------------------------------------------------- EXIF orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_png_exact(tmp_path: Path, orientation: int) -> None:
    upright = _pattern()
    path = tmp_path / f"o{orientation}.png"
    Image.fromarray(np.ascontiguousarray(_stored_for(upright, orientation))).save(
        path, exif=_exif_bytes(orientation))
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.pixels, upright)
    assert loaded.exif is not None
    exif = Image.Exif()
    exif.load(loaded.exif)
    assert exif.get(ORIENTATION, 1) == 1
    assert exif.get(0x010F) == "AE Studio test"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_jpeg(tmp_path: Path, orientation: int) -> None:
    upright = _blocks()
    path = tmp_path / f"o{orientation}.jpg"
    Image.fromarray(np.ascontiguousarray(_stored_for(upright, orientation))).save(
        path, quality=95, exif=_exif_bytes(orientation))
    loaded = load_image(path)
    assert loaded.pixels.shape == upright.shape
    errors = {o: np.abs(loaded.pixels.astype(int) - _stored_for(upright, o)).mean()
              for o in range(1, 9) if _stored_for(upright, o).shape == upright.shape}
    assert errors[1] < 8 and min(errors, key=errors.get) == 1
    exif = Image.Exif()
    exif.load(loaded.exif)
    assert exif.get(ORIENTATION, 1) == 1


# ---------------------------------------------------------------- modes


def test_rgb_png_roundtrip_and_properties(tmp_path: Path) -> None:
    px = _pattern(20, 30)
    path = tmp_path / "a.png"
    Image.fromarray(px).save(path)
    loaded = load_image(path)
    assert isinstance(loaded, LoadedImage)
    np.testing.assert_array_equal(loaded.pixels, px)
    assert (loaded.width, loaded.height, loaded.channels) == (30, 20, 3)
    assert loaded.source_mode == "RGB"
    assert loaded.path == path
    assert loaded.file_bytes == path.stat().st_size
    assert loaded.notes == [] and loaded.exif is None
    assert loaded.pixels.flags.writeable and loaded.pixels.dtype == np.uint8


def test_grey(tmp_path: Path) -> None:
    g = np.arange(16 * 16, dtype=np.uint8).reshape(16, 16)
    path = tmp_path / "g.png"
    Image.fromarray(g).save(path)
    loaded = load_image(path)
    assert loaded.pixels.shape == (16, 16, 1) and loaded.source_mode == "L"
    assert loaded.pixels.flags.writeable
    np.testing.assert_array_equal(loaded.pixels[:, :, 0], g)


def test_bilevel_becomes_grey(tmp_path: Path) -> None:
    im = Image.new("1", (8, 8), 0)
    im.putpixel((3, 2), 1)
    path = tmp_path / "b.png"
    im.save(path)
    loaded = load_image(path)
    assert loaded.pixels.shape == (8, 8, 1)
    assert loaded.pixels[2, 3, 0] == 255 and loaded.pixels.sum() == 255


def test_la_becomes_rgba(tmp_path: Path) -> None:
    g = np.arange(64, dtype=np.uint8).reshape(8, 8) * 3
    a = np.full((8, 8), 200, np.uint8)
    a[0, 0] = 0
    path = tmp_path / "la.png"
    Image.fromarray(np.stack([g, a], axis=2)).save(path)
    loaded = load_image(path)
    assert loaded.pixels.shape == (8, 8, 4) and loaded.source_mode == "LA"
    for c in range(3):
        np.testing.assert_array_equal(loaded.pixels[:, :, c], g)
    np.testing.assert_array_equal(loaded.pixels[:, :, 3], a)


def test_rgba_kept(tmp_path: Path) -> None:
    px = np.dstack([_pattern(10, 12), np.arange(120, dtype=np.uint8).reshape(10, 12)])
    path = tmp_path / "rgba.png"
    Image.fromarray(px).save(path)
    loaded = load_image(path)
    np.testing.assert_array_equal(loaded.pixels, px)


def test_palette_with_transparency(tmp_path: Path) -> None:
    im = Image.new("P", (6, 4), 0)
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (256 * 3 - 9))
    im.putpixel((1, 1), 1)
    im.putpixel((2, 3), 2)
    im.info["transparency"] = 0
    path = tmp_path / "p.png"
    im.save(path, transparency=0)
    loaded = load_image(path)
    assert loaded.pixels.shape == (4, 6, 4) and loaded.source_mode == "P"
    assert tuple(loaded.pixels[1, 1]) == (0, 255, 0, 255)
    assert tuple(loaded.pixels[3, 2]) == (0, 0, 255, 255)
    assert loaded.pixels[0, 0, 3] == 0
    assert any("palette" in n for n in loaded.notes)


def test_palette_without_transparency_is_rgb(tmp_path: Path) -> None:
    im = Image.fromarray(_pattern(8, 8)).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    path = tmp_path / "p.png"
    im.save(path)
    loaded = load_image(path)
    assert loaded.pixels.shape == (8, 8, 3)
    np.testing.assert_array_equal(loaded.pixels, np.asarray(im.convert("RGB")))


def test_16bit_grey_png(tmp_path: Path) -> None:
    v = np.array([[0, 128, 129, 257], [32896, 65279, 65407, 65535]], dtype=np.uint16)
    path = tmp_path / "16.png"
    Image.fromarray(v).save(path)
    loaded = load_image(path)
    assert loaded.source_mode.startswith("I")
    assert loaded.pixels.shape == (2, 4, 1) and loaded.pixels.dtype == np.uint8
    np.testing.assert_array_equal(loaded.pixels[:, :, 0], [[0, 0, 1, 1], [128, 254, 255, 255]])
    assert any("16-bit" in n for n in loaded.notes)


def test_16bit_rgb_png_noted(tmp_path: Path) -> None:
    path = tmp_path / "48.png"
    path.write_bytes(_png16_rgb(5, 3))
    loaded = load_image(path)
    assert loaded.pixels.shape == (3, 5, 3)
    assert any("16-bit" in n for n in loaded.notes)


def test_cmyk_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(path, quality=95)
    loaded = load_image(path)
    assert loaded.source_mode == "CMYK" and loaded.pixels.shape == (16, 16, 3)
    assert np.abs(loaded.pixels.astype(int) - [255, 0, 0]).max() < 10
    assert any("CMYK" in n for n in loaded.notes)


def test_animated_gif_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    loaded = load_image(path)
    assert loaded.pixels.shape[:2] == (8, 8) and loaded.pixels.shape[2] in (3, 4)
    assert tuple(loaded.pixels[4, 4, :3]) == (255, 0, 0)
    assert any("animated" in n for n in loaded.notes)


def test_icc_profile_kept_and_saved(tmp_path: Path) -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = tmp_path / "icc.png"
    Image.fromarray(_pattern(8, 8)).save(path, icc_profile=icc)
    loaded = load_image(path)
    assert loaded.icc_profile == icc
    out = tmp_path / "out.jpg"
    save_image(loaded.pixels, out, icc_profile=loaded.icc_profile, exif=_exif_bytes(1))
    with Image.open(out) as im:
        assert im.info.get("icc_profile") == icc
        assert im.getexif().get(0x010F) == "AE Studio test"


def test_load_image_bytes(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    Image.fromarray(_pattern(6, 7)).save(path)
    data = path.read_bytes()
    loaded = load_image_bytes(data, name="mem.png")
    np.testing.assert_array_equal(loaded.pixels, _pattern(6, 7))
    assert loaded.path is None and loaded.file_bytes == len(data)


# ---------------------------------------------------------------- bad files


def _noise_file(tmp_path: Path, name: str) -> Path:
    rng = np.random.default_rng(1)
    path = tmp_path / name
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path)
    return path


@pytest.mark.parametrize("name", ["cut.png", "cut.jpg"])
def test_truncated(tmp_path: Path, name: str) -> None:
    path = _noise_file(tmp_path, name)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageIOError, match=name.replace(".", r"\.")) as info:
        load_image(path)
    assert "Traceback" not in str(info.value)
    with pytest.raises(ImageIOError, match="bytes.png"):
        load_image_bytes(data[: len(data) // 2], name="bytes.png")


def test_zero_bytes(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageIOError, match="empty.png.*empty"):
        load_image(path)
    with pytest.raises(ImageIOError):
        load_image_bytes(b"")


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.jpg"
    path.write_bytes(np.random.default_rng(2).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(ImageIOError, match="noise.jpg.*not a recognised image"):
        load_image(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageIOError, match="nope.png"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageIOError, match="folder"):
        load_image(tmp_path)


# ---------------------------------------------------------------- pixel limit


def _huge_header_png(w: int, h: int) -> bytes:
    """PNG declaring w x h with a bogus IDAT: decoding it would fail, not hit the limit."""
    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def test_pixel_limit_checked_before_decoding(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(_huge_header_png(5000, 4000))

    def no_decoding(self: Image.Image) -> None:
        raise AssertionError("decoded before the pixel check")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(PixelLimitError, match="big.png.*5000x4000"):
        load_image(path, max_pixels=1_000_000)


def test_pixel_limit_default_catches_bomb(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_huge_header_png(100_000, 100_000))
    with pytest.raises(PixelLimitError, match="bomb.png"):
        load_image(path)


def test_pixel_limit_env_and_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "small.png"
    Image.fromarray(_pattern(20, 20)).save(path)
    assert load_image(path, max_pixels=400).width == 20
    with pytest.raises(PixelLimitError):
        load_image(path, max_pixels=399)
    monkeypatch.setenv("AESTUDIO_MAX_PIXELS", "100")
    assert imageio.max_pixels_limit() == 100
    with pytest.raises(PixelLimitError, match="AESTUDIO_MAX_PIXELS"):
        load_image(path)
    assert load_image(path, max_pixels=10_000).height == 20
    monkeypatch.setenv("AESTUDIO_MAX_PIXELS", "garbage")
    assert imageio.max_pixels_limit() == DEFAULT_MAX_PIXELS
    assert issubclass(PixelLimitError, ImageIOError) and issubclass(ImageIOError, ValueError)


# ---------------------------------------------------------------- saving


def _listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize("ext", [".png", ".tif", ".tiff", ".bmp"])
def test_save_lossless_roundtrip(tmp_path: Path, ext: str) -> None:
    rgba = np.dstack([_pattern(9, 13), np.full((9, 13), 77, np.uint8)])
    for px in (_pattern(9, 13), _pattern(9, 13)[:, :, :1]) + ((rgba,) if ext != ".bmp" else ()):
        path = tmp_path / f"x{px.shape[2]}{ext}"
        n = save_image(px, path)
        assert n == path.stat().st_size > 0
        np.testing.assert_array_equal(load_image(path).pixels, px)
    assert not [n for n in _listing(tmp_path) if n.endswith(".part")]


def test_save_lossy_formats(tmp_path: Path) -> None:
    px = _blocks()
    for ext in (".jpg", ".jpeg", ".webp"):
        path = tmp_path / f"x{ext}"
        save_image(px, path, quality=95)
        assert np.abs(load_image(path).pixels.astype(int) - px).mean() < 6


def test_save_unknown_extension(tmp_path: Path) -> None:
    with pytest.raises(ImageIOError, match="x.gifx"):
        save_image(_pattern(4, 4), tmp_path / "x.gifx")


@pytest.mark.parametrize("ext", [".jpg", ".bmp"])
def test_jpeg_drops_alpha(tmp_path: Path, ext: str) -> None:
    px = np.zeros((16, 16, 4), np.uint8)
    px[:, :, 0] = 200
    px[:, :8, 3] = 255  # left opaque red, right fully transparent
    path = tmp_path / f"a{ext}"
    save_image(px, path)
    with Image.open(path) as im:
        assert im.mode == "RGB"
    out = load_image(path).pixels.astype(int)
    assert out.shape == (16, 16, 3)
    assert np.abs(out[:, :6] - [200, 0, 0]).max() < 12
    assert np.abs(out[:, 10:] - 255).max() < 12


def test_save_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    save_image(_pattern(4, 4), path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        save_image(_pattern(8, 8), path)
    assert path.read_bytes() == before
    with pytest.raises(FileExistsError):
        atomic_write_bytes(path, b"xyz")
    assert path.read_bytes() == before
    save_image(_pattern(8, 8), path, overwrite=True)
    np.testing.assert_array_equal(load_image(path).pixels, _pattern(8, 8))
    assert _listing(tmp_path) == ["a.png"]


@pytest.mark.parametrize("overwrite", [False, True])
def test_save_failure_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     overwrite: bool) -> None:
    path = tmp_path / "a.png"
    if overwrite:
        path.write_bytes(b"old")

    def failing_save(self: Image.Image, fp, *args, **kwargs) -> None:  # noqa: ANN001
        fp.write(b"\x89PNG partial data")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OSError) as info:
        save_image(_pattern(8, 8), path, overwrite=overwrite)
    assert info.value.errno == errno.ENOSPC
    assert _listing(tmp_path) == (["a.png"] if overwrite else [])
    if overwrite:
        assert path.read_bytes() == b"old"


def test_atomic_write_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "f.aei"
    assert atomic_write_bytes(path, b"hello") == 5
    assert path.read_bytes() == b"hello"
    assert atomic_write_bytes(path, b"bye", overwrite=True) == 3
    assert path.read_bytes() == b"bye"

    def failing_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(atomic_write.os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        atomic_write_bytes(tmp_path / "g.aei", b"data")
    assert _listing(tmp_path) == ["f.aei"]


def test_atomic_temp_file_is_hidden_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real_replace, real_link = os.replace, os.link

    def spy(src, dst, *a, **k):  # noqa: ANN001, ANN002, ANN003
        seen.append(Path(src).name)
        return (real_replace if spy.kind == "replace" else real_link)(src, dst, *a, **k)

    spy.kind = "link"
    monkeypatch.setattr(atomic_write.os, "link", spy)
    atomic_write_bytes(tmp_path / "a.bin", b"1")
    spy.kind = "replace"
    monkeypatch.setattr(atomic_write.os, "replace", spy)
    atomic_write_bytes(tmp_path / "a.bin", b"2", overwrite=True)
    assert len(seen) == 2
    assert all(n.startswith(".a.bin") and n.endswith(".part") for n in seen)
    assert _listing(tmp_path) == ["a.bin"]


def test_save_missing_directory_is_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        save_image(_pattern(4, 4), tmp_path / "nope" / "a.png")


# ---------------------------------------------------------------- helpers


def test_to_rgb_from_rgb() -> None:
    rgba = np.dstack([_pattern(5, 6), np.full((5, 6), 9, np.uint8)])
    rgb, alpha = to_rgb(rgba)
    assert rgb.shape == (5, 6, 3) and alpha is not None and alpha.shape == (5, 6)
    np.testing.assert_array_equal(from_rgb(rgb, alpha), rgba)

    rgb3, a3 = to_rgb(_pattern(5, 6))
    assert a3 is None
    np.testing.assert_array_equal(from_rgb(rgb3), _pattern(5, 6))

    grey = np.arange(30, dtype=np.uint8).reshape(5, 6, 1) * 8
    rgbg, ag = to_rgb(grey)
    assert ag is None and rgbg.shape == (5, 6, 3)
    np.testing.assert_array_equal(from_rgb(rgbg, grey=True), grey)
    assert to_rgb(grey[:, :, 0])[0].shape == (5, 6, 3)
    assert from_rgb(rgbg, ag, grey=True).shape == (5, 6, 1)
    assert from_rgb(rgbg, np.zeros((5, 6), np.uint8), grey=True).shape == (5, 6, 4)
    # luma matches Pillow's RGB -> L
    px = _pattern(7, 9)
    np.testing.assert_array_equal(from_rgb(px, grey=True)[:, :, 0],
                                  np.asarray(Image.fromarray(px).convert("L")))
    with pytest.raises(ValueError):
        to_rgb(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError):
        from_rgb(rgb, np.zeros((2, 2), np.uint8))


def test_encode_image_bytes() -> None:
    px = _blocks()
    for fmt in ("jpeg", "JPG", "webp", "png"):
        data = encode_image_bytes(px, fmt, 90)
        out = load_image_bytes(data).pixels
        assert out.shape == px.shape
    assert encode_image_bytes(px, "jpeg", 20) != encode_image_bytes(px, "jpeg", 90)
    np.testing.assert_array_equal(load_image_bytes(encode_image_bytes(px, "png", 90)).pixels, px)
    if features.check("avif"):
        assert load_image_bytes(encode_image_bytes(px, "avif", 60)).pixels.shape == px.shape
    else:
        with pytest.raises(ImageIOError, match="AVIF"):
            encode_image_bytes(px, "avif", 60)
    with pytest.raises(ImageIOError):
        encode_image_bytes(px, "gif", 60)
    rgba = np.dstack([px, np.zeros(px.shape[:2], np.uint8)])
    assert load_image_bytes(encode_image_bytes(rgba, "jpeg", 90)).channels == 3
