import struct
import zlib

import pytest

from app.spec import bitstream as bsf


def sample(**kw):
    base = dict(model_id="codec-x", model_hash=bytes(range(8)), width=100, height=70, channels=3,
                quality=42.5, pad_bottom=58, pad_right=28,
                latent_shapes=[(192, 8, 8), (128, 2, 2)],
                chunks={"ZSTR": b"\x01\x02\x03\x04", "YSTR": b"abcd" * 10, "ZESC": b""})
    base.update(kw)
    return bsf.Bitstream(**base)


def test_round_trip_keeps_every_field():
    bs = sample(flags=bsf.FLAG_ALPHA)
    out = bsf.unpack(bsf.pack(bs))
    assert out == bs


def test_header_starts_with_magic_and_version():
    data = bsf.pack(sample())
    assert data.startswith(bsf.MAGIC)
    assert struct.unpack_from("<H", data, len(bsf.MAGIC))[0] == bsf.FORMAT_VERSION
    assert bsf.peek_header(data) == (bsf.FORMAT_VERSION, "codec-x")


def test_bad_magic_is_not_an_aei_file():
    with pytest.raises(bsf.NotAeiFileError):
        bsf.unpack(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)


def test_newer_version_is_refused_with_a_clear_error():
    data = bytearray(bsf.pack(sample()))
    struct.pack_into("<H", data, len(bsf.MAGIC), 99)
    with pytest.raises(bsf.UnsupportedVersionError, match="newer"):
        bsf.unpack(bytes(data))


@pytest.mark.parametrize("cut", [1, 5, 20, 40])
def test_truncation_is_detected(cut):
    data = bsf.pack(sample())
    with pytest.raises(bsf.CorruptFileError):
        bsf.unpack(data[:-cut])


def test_every_single_bit_flip_is_detected():
    data = bsf.pack(sample())
    for i in range(len(bsf.MAGIC) + 2, len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 0x10
        with pytest.raises(bsf.BitstreamError):
            bsf.unpack(bytes(flipped))


def _with_valid_crc(body: bytes) -> bytes:
    return body + struct.pack("<I", zlib.crc32(body))


def test_chunk_length_beyond_the_data_is_corrupt_even_with_a_valid_crc():
    data = bsf.pack(sample(chunks={"YSTR": b"abcd"}))
    body = bytearray(data[:-4])
    pos = body.index(b"YSTR") + 4
    struct.pack_into("<I", body, pos, 0xFFFFFFF0)
    with pytest.raises(bsf.CorruptFileError, match="truncated"):
        bsf.unpack(_with_valid_crc(bytes(body)))


def test_out_of_range_size_is_corrupt_even_with_a_valid_crc():
    data = bsf.pack(sample())
    body = bytearray(data[:-4])
    pos = len(bsf.MAGIC) + 5 + len("codec-x") + 8
    struct.pack_into("<I", body, pos, 0)
    with pytest.raises(bsf.CorruptFileError, match="size"):
        bsf.unpack(_with_valid_crc(bytes(body)))


def test_pack_rejects_invalid_fields():
    with pytest.raises(bsf.BitstreamError):
        bsf.pack(sample(model_hash=b"short"))
    with pytest.raises(bsf.BitstreamError):
        bsf.pack(sample(chunks={"TOOLONG": b""}))
