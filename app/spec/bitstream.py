"""The ``.aei`` container: a versioned, self-describing, checksummed compressed image file.

Layout (all integers little-endian), documented in ``docs/format.md``::

    magic        8 bytes   b"\\x8bAEI\\r\\n\\x1a\\n"
    version      u16       FORMAT_VERSION
    flags        u16       bit 0: grey source, bit 1: alpha chunk present
    id_len       u8        then id_len bytes of UTF-8 model id
    model_hash   8 bytes   first 8 bytes of the model's combined sha256
    width        u32       image width in pixels (output is cropped to it)
    height       u32
    channels     u8        channels of the source image (1, 3 or 4)
    quality      u16       quality x 100 (100 .. 10000)
    pad_bottom   u16       rows added before encoding
    pad_right    u16       columns added before encoding
    n_latents    u8        then n_latents x (u16 channels, u16 height, u16 width)
    n_chunks     u8        then n_chunks x (4-byte ASCII tag, u32 length, payload)
    crc32        u32       CRC-32 of every byte before it

``pack`` and ``unpack`` work on bytes; ``unpack`` checks every field against the data it has
before using it, and raises a subclass of ``BitstreamError`` for anything malformed.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

MAGIC = b"\x8bAEI\r\n\x1a\n"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)
FLAG_GREY = 1
FLAG_ALPHA = 2
MAX_SIDE = 1 << 16
MAX_LATENTS = 8
MAX_CHUNKS = 32


class BitstreamError(ValueError):
    """Base class for every problem reading an ``.aei`` file."""


class NotAeiFileError(BitstreamError):
    """The data does not start with the ``.aei`` magic."""


class UnsupportedVersionError(BitstreamError):
    """The file was written by a newer format version than this reader knows."""


class CorruptFileError(BitstreamError):
    """The file is truncated, fails its checksum or has inconsistent fields."""


@dataclass
class Bitstream:
    model_id: str
    model_hash: bytes
    width: int
    height: int
    channels: int
    quality: float
    pad_bottom: int = 0
    pad_right: int = 0
    latent_shapes: list[tuple[int, int, int]] = field(default_factory=list)
    chunks: dict[str, bytes] = field(default_factory=dict)
    flags: int = 0
    version: int = FORMAT_VERSION


def pack(bs: Bitstream) -> bytes:
    mid = bs.model_id.encode("utf-8")
    if not 0 < len(mid) < 256:
        raise BitstreamError("model id must be 1..255 bytes")
    if len(bs.model_hash) != 8:
        raise BitstreamError("model hash prefix must be 8 bytes")
    if not (0 < bs.width <= MAX_SIDE and 0 < bs.height <= MAX_SIDE):
        raise BitstreamError(f"image size {bs.width}x{bs.height} out of range")
    if len(bs.latent_shapes) > MAX_LATENTS or len(bs.chunks) > MAX_CHUNKS:
        raise BitstreamError("too many latents or chunks")
    out = bytearray(MAGIC)
    out += struct.pack("<HHB", FORMAT_VERSION, bs.flags, len(mid)) + mid + bytes(bs.model_hash)
    out += struct.pack("<IIBHHHB", bs.width, bs.height, bs.channels,
                       int(round(bs.quality * 100)), bs.pad_bottom, bs.pad_right,
                       len(bs.latent_shapes))
    for shape in bs.latent_shapes:
        out += struct.pack("<HHH", *shape)
    out += struct.pack("<B", len(bs.chunks))
    for tag, payload in bs.chunks.items():
        t = tag.encode("ascii")
        if len(t) != 4:
            raise BitstreamError(f"chunk tag {tag!r} must be 4 ASCII characters")
        out += t + struct.pack("<I", len(payload)) + payload
    out += struct.pack("<I", zlib.crc32(out))
    return bytes(out)


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise CorruptFileError(f"truncated file: needed {n} bytes at offset {self.pos}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))


def peek_header(data: bytes) -> tuple[int, str]:
    """Return (version, model id) without checking the CRC: for error messages."""
    r = _Reader(data)
    if r.take(len(MAGIC)) != MAGIC:
        raise NotAeiFileError("not an AE Studio .aei file (bad magic)")
    version, _flags, id_len = r.unpack("<HHB")
    return version, r.take(id_len).decode("utf-8", errors="replace")


def unpack(data: bytes) -> Bitstream:
    data = bytes(data)
    if len(data) < len(MAGIC) or data[:len(MAGIC)] != MAGIC:
        raise NotAeiFileError("not an AE Studio .aei file (bad magic)")
    if len(data) < len(MAGIC) + 8:
        raise CorruptFileError("truncated file")
    version = struct.unpack_from("<H", data, len(MAGIC))[0]
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedVersionError(
            f"format version {version} is newer than this AE Studio reads "
            f"({max(SUPPORTED_VERSIONS)}); please update AE Studio")
    (crc,) = struct.unpack_from("<I", data, len(data) - 4)
    if zlib.crc32(data[:-4]) != crc:
        raise CorruptFileError("checksum mismatch: the file is damaged or truncated")
    r = _Reader(data[:-4])
    r.take(len(MAGIC))
    version, flags, id_len = r.unpack("<HHB")
    if id_len == 0:
        raise CorruptFileError("empty model id")
    try:
        model_id = r.take(id_len).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptFileError("model id is not valid UTF-8") from exc
    model_hash = r.take(8)
    width, height, channels, q100, pad_b, pad_r, n_lat = r.unpack("<IIBHHHB")
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise CorruptFileError(f"image size {width}x{height} out of range")
    if channels not in (1, 3, 4):
        raise CorruptFileError(f"unsupported channel count {channels}")
    if not 100 <= q100 <= 10000:
        raise CorruptFileError(f"quality {q100 / 100} out of range")
    if n_lat > MAX_LATENTS:
        raise CorruptFileError(f"too many latents ({n_lat})")
    shapes = [r.unpack("<HHH") for _ in range(n_lat)]
    (n_chunks,) = r.unpack("<B")
    if n_chunks > MAX_CHUNKS:
        raise CorruptFileError(f"too many chunks ({n_chunks})")
    chunks: dict[str, bytes] = {}
    for _ in range(n_chunks):
        raw_tag = r.take(4)
        (length,) = r.unpack("<I")
        try:
            tag = raw_tag.decode("ascii")
        except UnicodeDecodeError as exc:
            raise CorruptFileError("chunk tag is not ASCII") from exc
        if tag in chunks:
            raise CorruptFileError(f"duplicate chunk {tag!r}")
        chunks[tag] = r.take(length)
    if r.pos != len(r.data):
        raise CorruptFileError("trailing bytes after the last chunk")
    return Bitstream(model_id=model_id, model_hash=model_hash, width=width, height=height,
                     channels=channels, quality=q100 / 100, pad_bottom=pad_b, pad_right=pad_r,
                     latent_shapes=[tuple(s) for s in shapes], chunks=chunks, flags=flags,
                     version=version)
