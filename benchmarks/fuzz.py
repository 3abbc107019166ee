"""Fuzz the ``.aei`` parser and decoder: every malformed file must give one typed error.

    PYTHONPATH=. python benchmarks/fuzz.py                  # 100 000 inputs, tiny codec, seed 0
    PYTHONPATH=. python benchmarks/fuzz.py --count 5000 --seed 7 --models models

Inputs are mutations of valid ``.aei`` files written by the codec (several sizes and qualities,
RGB, grey and RGBA): bit flips, byte overwrites, truncations, inserted and deleted bytes,
header and chunk-length fields set to extremes, consistent but huge geometries, shuffled,
dropped, duplicated, renamed and swapped chunks, damaged range-coded streams and escape lists
(odd lengths, zlib bombs, extreme values), hostile alpha planes, unknown or wrong-task model
ids.  For most of them (``--crc-fix``, default 0.8) the trailing CRC-32 is recomputed, so the
mutation gets past the checksum into the deep decoder.

The only accepted outcomes of ``engine.decompress`` are a decoded image of the size and channel
count the header promises, or a ``BitstreamError`` subclass (``CorruptFileError``,
``NotAeiFileError``, ``UnsupportedVersionError``) or a ``ModelError`` with a one-line message.
Anything else is a crash finding; an input taking longer than ``--timeout`` seconds (2) is a
hang finding (measured per input, interrupted by ``SIGALRM`` in Python code, and by a watchdog
thread that saves the input and ends the run after ten times the limit in native code).  The process runs under ``RLIMIT_AS`` (address space after warm-up plus
``--mem-mb``), so an allocation driven by an unchecked field fails loudly, and the peak RSS is
reported.  Findings are written to ``benchmarks/results/fuzz-findings/`` and the summary to
``benchmarks/results/fuzz.json``.

Without ``--models`` a tiny codec (N=8, M=12) is trained for 300 steps and exported with the
real pipeline into ``runs/fuzz-tiny/`` (once, about 10 s; needs the ``train`` extra), so each
decode costs about a millisecond.  The fuzz sets ``AESTUDIO_MAX_PIXELS`` (``--max-pixels``, default 2**20)
so that a consistent header declaring a huge image stays quick to decode: decoding work is
bounded by the pixel limit, not by the file size (see docs/robustness.md).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import resource
import signal
import struct
import sys
import threading
import time
import traceback
import warnings
import zlib
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from app.core.runtime.registry import ModelError  # noqa: E402
from app.spec import bitstream as bsf  # noqa: E402

TYPED = (bsf.BitstreamError, ModelError)
RESULTS = REPO / "benchmarks" / "results"
DEFAULT_MODELS = REPO / "runs" / "fuzz-tiny" / "models"
TINY_CODEC = "tiny-codec"
TINY_STEPS = 300
# (height, width, channels, quality) of the seed files
SEED_SPECS = [(64, 64, 3, 50.0), (64, 64, 3, 1.0), (64, 64, 3, 100.0), (16, 16, 3, 75.0),
              (33, 47, 1, 40.5), (40, 24, 4, 75.0), (96, 64, 3, 90.0), (1, 1, 3, 50.0),
              (65, 7, 3, 20.0), (70, 90, 4, 10.0)]


class Finding(Exception):
    """The decoder did something other than decode or raise one typed error."""


class Hang(Exception):
    """Raised by the alarm when one input runs past the time limit."""


# ------------------------------------------------------------------------------ the target

_ENGINE = None


def make_engine(models_dir: str | Path | None = None, threads: int = 1):
    from app.core.engine import Engine

    return Engine(models_dir=models_dir or DEFAULT_MODELS, provider="cpu", threads=threads)


def set_engine(engine) -> None:
    global _ENGINE
    _ENGINE = engine


def fuzz_one(data: bytes, engine=None) -> str:
    """Decode ``data``; return ``"decoded"`` or the typed error's class name.

    Raises the original exception for anything but ``BitstreamError``/``ModelError`` (a numpy
    ``RuntimeWarning``, such as a NaN cast to uint8, is raised as an error), and
    :class:`Finding` when a typed error has a multi-line message or a decoded image does not
    match its header."""
    engine = engine or _ENGINE
    if engine is None:
        engine = make_engine()
        set_engine(engine)
    try:
        with warnings.catch_warnings():
            # a numpy RuntimeWarning (NaN cast, overflow) is undefined output: a finding
            warnings.simplefilter("error", RuntimeWarning)
            out = engine.decompress(data)
    except TYPED as exc:
        msg = str(exc)
        if not msg or "\n" in msg or "\r" in msg:
            raise Finding(f"{type(exc).__name__} without a one-line message: {msg!r}") from exc
        return type(exc).__name__
    bs = bsf.unpack(data)
    grey = bool(bs.flags & bsf.FLAG_GREY) and not bs.flags & bsf.FLAG_ALPHA
    channels = 4 if bs.flags & bsf.FLAG_ALPHA else 1 if grey else 3
    if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or \
            out.shape != (bs.height, bs.width, channels) or bs.channels != channels:
        raise Finding(f"decoded {getattr(out, 'dtype', type(out))} {getattr(out, 'shape', '')} "
                      f"for a {bs.width}x{bs.height}x{bs.channels} header (flags {bs.flags})")
    return "decoded"


def error_stage(exc: BaseException) -> str:
    """Where a typed error was raised: parser (app/spec), model (registry/engine) or decoder."""
    tb, last = exc.__traceback__, None
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    name = Path(last or "").name
    if name == "bitstream.py":
        return "parser"
    if name in ("registry.py", "engine.py"):
        return "model"
    return "decoder"


# ------------------------------------------------------------------------- raw container

_HEADER_FIELDS = {"version": "H", "flags": "H", "id_len": "B", "width": "I", "height": "I",
                  "channels": "B", "q100": "H", "pad_b": "H", "pad_r": "H", "n_lat": "B",
                  "n_chunks": "B"}


@dataclass
class Raw:
    """An ``.aei`` file as fields that may hold any value (unlike ``bitstream.pack``)."""
    version: int
    flags: int
    model_id: bytes
    model_hash: bytes
    width: int
    height: int
    channels: int
    q100: int
    pad_b: int
    pad_r: int
    shapes: list[list[int]]
    chunks: list[list]                    # [tag (4 bytes), payload, length or None]
    id_len: int | None = None             # None: the true length
    n_lat: int | None = None
    n_chunks: int | None = None

    @classmethod
    def from_bytes(cls, data: bytes) -> "Raw":
        bs = bsf.unpack(data)
        return cls(bs.version, bs.flags, bs.model_id.encode(), bs.model_hash, bs.width,
                   bs.height, bs.channels, int(round(bs.quality * 100)), bs.pad_bottom,
                   bs.pad_right, [list(s) for s in bs.latent_shapes],
                   [[t.encode("ascii"), p, None] for t, p in bs.chunks.items()])

    def copy(self) -> "Raw":
        return replace(self, shapes=[list(s) for s in self.shapes],
                       chunks=[list(c) for c in self.chunks])

    def body(self) -> tuple[bytes, list[tuple[int, str]]]:
        """The bytes before the CRC, and (offset, struct code) of every integer field."""
        out, fields = bytearray(bsf.MAGIC), []

        def put(fmt: str, value: int) -> None:
            fields.append((len(out), fmt))
            out.extend(struct.pack("<" + fmt, value & ((1 << (8 * struct.calcsize(fmt))) - 1)))

        put("H", self.version)
        put("H", self.flags)
        put("B", len(self.model_id) if self.id_len is None else self.id_len)
        out.extend(self.model_id)
        out.extend(self.model_hash)
        for name in ("width", "height", "channels", "q100", "pad_b", "pad_r"):
            put(_HEADER_FIELDS[name], getattr(self, name))
        put("B", len(self.shapes) if self.n_lat is None else self.n_lat)
        for shape in self.shapes:
            for v in shape:
                put("H", v)
        put("B", len(self.chunks) if self.n_chunks is None else self.n_chunks)
        for tag, payload, length in self.chunks:
            out.extend(tag)
            put("I", len(payload) if length is None else length)
            out.extend(payload)
        return bytes(out), fields


def with_crc(body: bytes) -> bytes:
    return body + struct.pack("<I", zlib.crc32(body))


# ------------------------------------------------------------------------------ mutations

def extremes(bits: int, old: int, rng: random.Random) -> int:
    top = (1 << bits) - 1
    return rng.choice([0, 1, 2, 3, top, top - 1, 1 << (bits - 1), (1 << (bits - 1)) - 1,
                       old + 1, old - 1, old * 2, old // 2, old + 64, old * 256,
                       rng.getrandbits(bits)]) & top


def _png(arr: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _png_header(w: int, h: int, colour: int = 0) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


class Mutator:
    """Makes one fuzz input at a time from the seed files."""

    def __init__(self, seeds: list[bytes], rng: random.Random, crc_fix: float = 0.8,
                 factor: int = 64):
        self.seeds = seeds
        self.raws = [Raw.from_bytes(s) for s in seeds]
        self.rng = rng
        self.crc_fix = crc_fix
        self.factor = factor
        self.structured = [getattr(self, n) for n in sorted(dir(self)) if n.startswith("s_")]
        # the mutations that reach the deep decoder (range decoder, escapes, hyper-synthesis,
        # synthesis, alpha plane) are drawn more often
        self.structured += [self.s_stream] * 4 + [self.s_escapes] * 2 + [self.s_geometry] * 2 \
            + [self.s_foreign_payload, self.s_alpha]
        self.bytewise = [getattr(self, n) for n in sorted(dir(self)) if n.startswith("b_")]
        self._bomb = zlib.compress(bytes(16 << 20), 9)        # 16 MiB of zeros in ~16 KiB

    def __call__(self) -> tuple[bytes, str, bool]:
        """(input, name of the mutations, whether the CRC was recomputed)."""
        rng = self.rng
        i = rng.randrange(len(self.seeds))
        r = rng.random()
        if r < 0.02:
            return self.garbage()
        ops = []
        if r < 0.65:
            raw = self.raws[i].copy()
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                op = rng.choice(self.structured)
                ops.append(op.__name__[2:])
                op(raw, i)
            body, fields = raw.body()
        else:
            body, fields = self.raws[i].body()
        if not ops or rng.random() < 0.3:
            for _ in range(rng.choice((1, 1, 2, 3))):
                op = rng.choice(self.bytewise)
                ops.append(op.__name__[2:])
                body = op(bytearray(body), fields)
        if rng.random() < self.crc_fix:
            return with_crc(bytes(body)), "+".join(ops), True
        return bytes(body) + self.seeds[i][-4:], "+".join(ops), False

    def garbage(self) -> tuple[bytes, str, bool]:
        rng = self.rng
        kind = rng.randrange(4)
        if kind == 0:
            return rng.randbytes(rng.randrange(64)), "garbage", False
        if kind == 1:
            return bsf.MAGIC[:rng.randrange(len(bsf.MAGIC) + 1)], "magic-prefix", False
        body = bsf.MAGIC + rng.randbytes(rng.randrange(80))
        if kind == 2:
            body = bsf.MAGIC + b"\x01\x00" + rng.randbytes(rng.randrange(80))
        return with_crc(body), "magic-garbage", True

    # -- byte-level mutations of the body (before the CRC) ----------------------------------
    def b_bitflip(self, b: bytearray, fields) -> bytes:
        for _ in range(self.rng.choice((1, 1, 2, 4, 8))):
            if b:
                p = self.rng.randrange(len(b))
                b[p] ^= 1 << self.rng.randrange(8)
        return bytes(b)

    def b_byteset(self, b: bytearray, fields) -> bytes:
        for _ in range(self.rng.choice((1, 2, 4))):
            if b:
                b[self.rng.randrange(len(b))] = self.rng.choice((0, 1, 0x7F, 0x80, 0xFF,
                                                                 self.rng.randrange(256)))
        return bytes(b)

    def b_truncate(self, b: bytearray, fields) -> bytes:
        return bytes(b[:self.rng.randrange(len(b) + 1)])

    def b_insert(self, b: bytearray, fields) -> bytes:
        p = self.rng.randrange(len(b) + 1)
        return bytes(b[:p] + self.rng.randbytes(self.rng.choice((1, 2, 4, 16))) + b[p:])

    def b_delete(self, b: bytearray, fields) -> bytes:
        p = self.rng.randrange(len(b) + 1)
        return bytes(b[:p] + b[p + self.rng.choice((1, 2, 4, 16)):])

    def b_field(self, b: bytearray, fields) -> bytes:
        """An integer field (header, latent shape or chunk length) set to an extreme."""
        off, fmt = self.rng.choice(fields)
        if off + struct.calcsize(fmt) > len(b):
            return bytes(b)
        (old,) = struct.unpack_from("<" + fmt, b, off)
        struct.pack_into("<" + fmt, b, off,
                         extremes(8 * struct.calcsize(fmt), old, self.rng))
        return bytes(b)

    def b_splice(self, b: bytearray, fields) -> bytes:
        other = self.rng.choice(self.seeds)[:-4]
        p, q = self.rng.randrange(len(b) + 1), self.rng.randrange(len(other) + 1)
        return bytes(b[:p] + other[q:])

    # -- structured mutations of a Raw --------------------------------------------------------
    def s_header_field(self, raw: Raw, i: int) -> None:
        name = self.rng.choice(list(_HEADER_FIELDS))
        old = getattr(raw, name)
        old = {"id_len": len(raw.model_id), "n_lat": len(raw.shapes),
               "n_chunks": len(raw.chunks)}.get(name, old) if old is None else old
        setattr(raw, name, extremes(8 * struct.calcsize(_HEADER_FIELDS[name]), old, self.rng))

    def s_shape_field(self, raw: Raw, i: int) -> None:
        if raw.shapes:
            s = self.rng.choice(raw.shapes)
            j = self.rng.randrange(3)
            s[j] = extremes(16, s[j], self.rng)

    def s_geometry(self, raw: Raw, i: int) -> None:
        """A consistent header for another image size (latent shapes follow): reaches the pixel
        limit and the decoder with streams that are too short or too long."""
        sizes = (1, 2, 15, 16, 17, 63, 64, 65, 127, 128, 200, 255, 256, 1000, 1024, 1025,
                 4096, 65535, 65536)
        w, h = self.rng.choice(sizes), self.rng.choice(sizes)
        if self.rng.random() < 0.5:
            h = min(h, 256)            # mostly decodable sizes: more inputs reach the decoder
        f = self.factor
        hp, wp = -(-h // f) * f, -(-w // f) * f
        raw.width, raw.height, raw.pad_b, raw.pad_r = w, h, hp - h, wp - w
        m, n = raw.shapes[0][0], raw.shapes[1][0]
        raw.shapes = [[m, hp // 16 & 0xFFFF, wp // 16 & 0xFFFF], [n, hp // 64, wp // 64]]
        if self.rng.random() < 0.3:
            for c in raw.chunks:
                if c[0] in (b"ZSTR", b"YSTR"):
                    c[1] = b""             # an empty stream "decodes" from zero padding

    def s_pads(self, raw: Raw, i: int) -> None:
        raw.pad_b = self.rng.choice((0, self.factor - 1, self.factor, raw.pad_b + 1, 0xFFFF))
        raw.pad_r = self.rng.choice((0, self.factor - 1, self.factor, raw.pad_r + 1, 0xFFFF))

    def s_shuffle_chunks(self, raw: Raw, i: int) -> None:
        self.rng.shuffle(raw.chunks)

    def s_drop_chunk(self, raw: Raw, i: int) -> None:
        if raw.chunks:
            raw.chunks.pop(self.rng.randrange(len(raw.chunks)))

    def s_duplicate_chunk(self, raw: Raw, i: int) -> None:
        if raw.chunks:
            c = list(self.rng.choice(raw.chunks))
            if self.rng.random() < 0.5:
                c[0] = self.rng.choice((b"XTRA", b"exif", b"\x00\x00\x00\x00", b"ZST\xff"))
            raw.chunks.insert(self.rng.randrange(len(raw.chunks) + 1), c)

    def s_rename_chunk(self, raw: Raw, i: int) -> None:
        if raw.chunks:
            c = self.rng.choice(raw.chunks)
            c[0] = self.rng.choice((b"ZSTR", b"ZESC", b"YSTR", b"YESC", b"ALPH", b"zstr",
                                    b"\xffABC", bytes(4)))

    def s_swap_payloads(self, raw: Raw, i: int) -> None:
        if len(raw.chunks) >= 2:
            a, b = self.rng.sample(range(len(raw.chunks)), 2)
            raw.chunks[a][1], raw.chunks[b][1] = raw.chunks[b][1], raw.chunks[a][1]

    def s_foreign_payload(self, raw: Raw, i: int) -> None:
        """A chunk from another seed (valid stream, wrong image)."""
        other = self.rng.choice(self.raws)
        tag, payload, _ = self.rng.choice(other.chunks)
        for c in raw.chunks:
            if c[0] == tag:
                c[1] = payload
                return
        raw.chunks.append([tag, payload, None])

    def s_chunk_length(self, raw: Raw, i: int) -> None:
        if raw.chunks:
            c = self.rng.choice(raw.chunks)
            c[2] = extremes(32, len(c[1]), self.rng)

    def s_stream(self, raw: Raw, i: int) -> None:
        """Damage a range-coded stream (flip, cut, extend, replace)."""
        streams = [c for c in raw.chunks if c[0] in (b"ZSTR", b"YSTR")] or raw.chunks
        if not streams:
            return
        c = self.rng.choice(streams)
        p = bytearray(c[1])
        kind = self.rng.randrange(6)
        if kind == 0 and p:
            for _ in range(self.rng.choice((1, 2, 8))):
                q = self.rng.randrange(len(p))
                p[q] ^= 1 << self.rng.randrange(8)
        elif kind == 1:
            p = p[:self.rng.randrange(len(p) + 1)]            # maybe not a multiple of 4
        elif kind == 2:
            p += self.rng.randbytes(self.rng.choice((1, 4, 64, 400)))
        elif kind == 3:
            p = bytearray(self.rng.randbytes(4 * self.rng.randrange(1, 200)))
        elif kind == 4:
            p = bytearray(self.rng.choice((b"\xff", b"\x00", b"\x80")) * 4 * self.rng.randrange(1, 64))
        else:
            p = bytearray()
        c[1] = bytes(p)

    def s_escapes(self, raw: Raw, i: int) -> None:
        """Damage an escape list: odd length, zlib bomb, not zlib, extreme or extra values."""
        escs = [c for c in raw.chunks if c[0] in (b"ZESC", b"YESC")]
        if not escs:
            return
        c = self.rng.choice(escs)
        kind = self.rng.randrange(9)
        if kind >= 7:                                  # same count, extreme values
            try:
                vals = np.frombuffer(zlib.decompress(c[1]), "<i4").copy()
            except (zlib.error, ValueError):
                vals = np.zeros(1, "<i4")
            for j in range(len(vals)):
                vals[j] = self.rng.choice((2 ** 31 - 1, -2 ** 31, 2 ** 24, -2 ** 24, 0, 1000))
            c[1] = zlib.compress(vals.tobytes())
        elif kind == 0:
            c[1] = zlib.compress(self.rng.randbytes(self.rng.choice((1, 2, 3, 5, 7))))
        elif kind == 1:
            c[1] = self._bomb
        elif kind == 2:
            c[1] = self.rng.randbytes(self.rng.randrange(1, 40))
        elif kind == 3:
            c[1] = c[1][:self.rng.randrange(len(c[1]) + 1)]
        elif kind == 4:
            vals = np.array([self.rng.choice((2 ** 31 - 1, -2 ** 31, 0, 1, -1, 40000, -40000))
                             for _ in range(self.rng.randrange(1, 50))], "<i4")
            c[1] = zlib.compress(vals.tobytes())
        elif kind == 5:
            c[1] = zlib.compress(b"")
        else:
            try:
                extra = zlib.decompress(c[1])
            except zlib.error:                         # already damaged by an earlier step
                extra = b""
            c[1] = zlib.compress(extra + self.rng.randbytes(4 * self.rng.randrange(1, 8)))

    def s_alpha(self, raw: Raw, i: int) -> None:
        """A hostile alpha plane (and the flag set so that it is used)."""
        raw.flags |= bsf.FLAG_ALPHA
        w, h = raw.width, raw.height
        kind = self.rng.randrange(8)
        if kind == 0:
            payload = self.rng.randbytes(self.rng.randrange(100))
        elif kind == 1:
            small = 0 < w * h <= 1 << 16                     # header fields may be extreme
            payload = _png(np.zeros((h + 1, w) if small else (3, 2), np.uint8))  # wrong size
        elif kind == 2:
            payload = _png_header(100_000, 100_000)                           # bomb header
        elif kind == 3:
            payload = _png_header(min(w, 0xFFFF), min(h, 0xFFFF))              # IDAT too short
        elif kind == 4:
            payload = _png(np.zeros((h, w, 3), np.uint8)) if 0 < w * h <= 1 << 16 else b""
        elif kind == 5:
            payload = b"GIF89a" + struct.pack("<HH", w & 0xFFFF, h & 0xFFFF) + bytes(20)
        elif kind == 6 and 0 < w * h <= 1 << 16:
            good = _png(np.full((h, w), 200, np.uint8))
            payload = good[:self.rng.randrange(len(good))]                    # truncated
        else:
            payload = b"BM" + bytes(60)
        for c in raw.chunks:
            if c[0] == b"ALPH":
                c[1] = payload
                return
        raw.chunks.append([b"ALPH", payload, None])

    def s_flags(self, raw: Raw, i: int) -> None:
        raw.flags = self.rng.choice((0, 1, 2, 3, 4, 0x8000, 0xFFFF, raw.flags ^ 1, raw.flags ^ 2))

    def s_model(self, raw: Raw, i: int) -> None:
        """Another model id (missing, wrong task, odd bytes) or a different hash."""
        kind = self.rng.randrange(5)
        if kind == 0:
            raw.model_id = b"codec-from-the-future"
        elif kind == 1:
            raw.model_id = b"tiny-denoise"
        elif kind == 2:
            raw.model_id = self.rng.choice((b"\xff\xfe", b"a\nb", b"../../etc/passwd",
                                            b"x" * 255, "\u2028\u00e9".encode()))
        elif kind == 3:
            raw.model_hash = self.rng.randbytes(8)
        else:
            raw.model_id = b""


# ----------------------------------------------------------------------------- the runner

@dataclass
class Stats:
    inputs: int = 0
    decoded: int = 0
    typed: Counter = field(default_factory=Counter)
    crc_fixed: int = 0
    crashes: int = 0
    hangs: int = 0
    slowest_s: float = 0.0
    findings: list[dict] = field(default_factory=list)


def _alarm(signum, frame):
    raise Hang()


def run_fuzz(engine, seeds: list[bytes], count: int, seed: int = 0, crc_fix: float = 0.8,
             timeout: float = 2.0, findings_dir: Path | None = None, progress: int = 0,
             factor: int = 64, watch: dict | None = None) -> Stats:
    """Run ``count`` mutated inputs through :func:`fuzz_one`; never raises for a finding.

    ``watch`` (optional) is kept up to date with the input in progress, for a watchdog
    thread that catches a hang inside native code, where the alarm cannot interrupt."""
    rng = random.Random(seed)
    mutate = Mutator(seeds, rng, crc_fix, factor)
    stats = Stats()
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal,
                                                                                  "setitimer")
    old = signal.signal(signal.SIGALRM, _alarm) if use_alarm else None
    t_start = time.perf_counter()
    try:
        for n in range(count):
            data, ops, fixed = mutate()
            stats.inputs += 1
            stats.crc_fixed += fixed
            kind = None
            t = time.perf_counter()
            if watch is not None:
                watch.update(data=data, index=n, ops=ops, start=t)
            try:
                if use_alarm:
                    signal.setitimer(signal.ITIMER_REAL, timeout)
                try:
                    outcome = fuzz_one(data, engine)
                finally:
                    if use_alarm:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                if outcome == "decoded":
                    stats.decoded += 1
            except Hang:
                kind, exc_info = "hang", f"interrupted after {timeout} s"
            except Exception as exc:  # noqa: BLE001 - every other exception is a finding
                kind, exc_info = "crash", "".join(
                    traceback.format_exception_only(type(exc), exc)).strip()
                tb = traceback.format_exc()
            else:
                if outcome != "decoded":
                    stats.typed[outcome] += 1
            dt = time.perf_counter() - t
            if watch is not None:
                watch["start"] = None
            stats.slowest_s = max(stats.slowest_s, dt)
            if kind is None and dt > timeout:
                kind, exc_info = "hang", f"took {dt:.2f} s"
            if kind is not None:
                if kind == "hang":
                    stats.hangs += 1
                else:
                    stats.crashes += 1
                rec = {"kind": kind, "index": n, "ops": ops, "crc_fixed": fixed,
                       "seconds": round(dt, 3), "error": exc_info[:500]}
                if findings_dir is not None:
                    findings_dir.mkdir(parents=True, exist_ok=True)
                    path = findings_dir / f"{kind}-{seed}-{n}.aei"
                    path.write_bytes(data)
                    rec["file"] = str(path)
                    if kind == "crash":
                        path.with_suffix(".txt").write_text(tb)
                stats.findings.append(rec)
            if progress and (n + 1) % progress == 0:
                el = time.perf_counter() - t_start
                print(f"  {n + 1:>7} inputs, {el:6.1f} s, {(n + 1) / el:6.0f}/s, "
                      f"{stats.decoded} decoded, {stats.crashes} crashes, {stats.hangs} hangs",
                      flush=True)
    finally:
        if use_alarm:
            signal.signal(signal.SIGALRM, old)
    return stats


def stage_counts(engine, seeds: list[bytes], count: int, seed: int, crc_fix: float,
                 factor: int = 64) -> Counter:
    """Where the typed errors of a (smaller) run of the same inputs come from."""
    rng = random.Random(seed)
    mutate = Mutator(seeds, rng, crc_fix, factor)
    stages = Counter()
    for _ in range(count):
        data, _, _ = mutate()
        try:
            engine.decompress(data)
            stages["decoded"] += 1
        except TYPED as exc:
            stages[error_stage(exc)] += 1
        except Exception:  # noqa: BLE001 - counted by run_fuzz
            stages["crash"] += 1
    return stages


# --------------------------------------------------------------------------- seeds/models

def seed_image(h: int, w: int, channels: int, seed: int) -> np.ndarray:
    """A small photo-like image (gradients, a disc, noise); alpha is a ramp."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([40 + 150 * xx / max(w, 1), 60 + 120 * yy / max(h, 1),
                    200 - 100 * (xx + yy) / max(w + h, 1)], -1)
    disc = (yy - h / 2) ** 2 + (xx - w / 3) ** 2 < (min(h, w) / 3) ** 2
    img[disc] = rng.uniform(0, 255, 3)
    img = np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)
    if channels == 1:
        return img[..., :1]
    if channels == 4:
        alpha = (255 * xx / max(w - 1, 1)).astype(np.uint8)[..., None]
        return np.concatenate([img, alpha], -1)
    return img


def make_seeds(engine, model_id: str | None = None) -> list[bytes]:
    return [engine.compress(seed_image(h, w, c, k), q, model_id=model_id).data
            for k, (h, w, c, q) in enumerate(SEED_SPECS)]


def build_tiny_models(models: Path = DEFAULT_MODELS) -> Path:
    """Train (two steps) and export a tiny codec with the real training pipeline."""
    if (models / TINY_CODEC / "manifest.json").exists():
        return models
    from PIL import Image

    from training.config import DataSource, TrainConfig
    from training.engine import train
    from training.export import export_model

    root = models.parent
    data = root / "photos"
    data.mkdir(parents=True, exist_ok=True)
    for i in range(3):
        Image.fromarray(seed_image(96, 112, 3, i)).save(data / f"p{i}.png")
    cfg = TrainConfig(name=TINY_CODEC, task="codec", arch="mean_scale_hyperprior",
                      arch_args={"N": 8, "M": 12, "lambdas": [0.005, 0.02, 0.08]})
    cfg.data = [DataSource(str(data))]
    # 300 steps (~10 s): enough for latents that carry information, so the seed files have
    # real range-coded streams and escape lists (two steps give 4-byte streams)
    cfg.patch, cfg.batch, cfg.steps, cfg.threads, cfg.bf16 = 64, 2, TINY_STEPS, 1, False
    cfg.log_every = 100
    train(cfg, root=root / "runs")
    export_model(cfg, runs=str(root / "runs"), models=str(models))
    return models


def _limit_memory(extra_mb: int) -> int | None:
    """RLIMIT_AS = current address space + ``extra_mb``; returns the limit in bytes."""
    try:
        with open("/proc/self/status") as f:
            vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
        limit = vm + (extra_mb << 20)
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        return limit
    except (OSError, ValueError, StopIteration):
        return None


def _start_watchdog(watch: dict, limit: float, findings: Path, json_path: Path,
                    seed: int) -> None:
    """A thread that ends the process when one input runs ``limit`` seconds (a hang in
    native code: the alarm only interrupts Python code), saving the input first."""
    def run() -> None:
        while True:
            time.sleep(0.5)
            start = watch.get("start")
            if start is not None and time.perf_counter() - start > limit:
                findings.mkdir(parents=True, exist_ok=True)
                path = findings / f"hang-{seed}-{watch['index']}.aei"
                path.write_bytes(watch["data"])
                json_path.parent.mkdir(parents=True, exist_ok=True)
                json_path.write_text(json.dumps({
                    "seed": seed, "hangs": 1, "aborted": True, "findings": [{
                        "kind": "hang", "index": watch["index"], "ops": watch["ops"],
                        "error": f"still running after {limit} s (native code)",
                        "file": str(path)}]}, indent=2) + "\n")
                print(f"HANG: input #{watch['index']} ({watch['ops']}) still running after "
                      f"{limit} s; saved {path}", flush=True)
                os._exit(3)

    threading.Thread(target=run, name="fuzz-watchdog", daemon=True).start()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--count", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models", type=Path, help="models folder (default: a tiny codec built "
                   "into runs/fuzz-tiny/models)")
    p.add_argument("--model", help="codec id to make the seeds with (default: the installed)")
    p.add_argument("--crc-fix", type=float, default=0.8,
                   help="share of inputs whose CRC is recomputed (default 0.8)")
    p.add_argument("--timeout", type=float, default=2.0, help="hang limit per input, seconds")
    p.add_argument("--max-pixels", type=int, default=1 << 20,
                   help="AESTUDIO_MAX_PIXELS for the run (default 2**20)")
    p.add_argument("--mem-mb", type=int, default=2048,
                   help="address space allowed beyond the warmed-up process (RLIMIT_AS)")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    p.add_argument("--json", type=Path, default=RESULTS / "fuzz.json")
    p.add_argument("--findings", type=Path, default=RESULTS / "fuzz-findings")
    p.add_argument("--stages", type=int, default=5000,
                   help="inputs re-run to count where typed errors are raised (0: skip)")
    args = p.parse_args(argv)

    os.environ["AESTUDIO_MAX_PIXELS"] = str(args.max_pixels)
    models = args.models or build_tiny_models()
    engine = make_engine(models, args.threads)
    set_engine(engine)
    codec = engine.codec(args.model)
    seeds = make_seeds(engine, args.model)
    for s in seeds:                                   # warm-up: every seed decodes
        assert fuzz_one(s, engine) == "decoded"
    limit = _limit_memory(args.mem_mb)
    print(f"fuzzing {args.count:,} inputs: model {codec.model.id} ({models}), {len(seeds)} seed "
          f"files of {min(map(len, seeds))}..{max(map(len, seeds))} bytes, seed {args.seed}, "
          f"CRC recomputed for {args.crc_fix:.0%}, timeout {args.timeout} s, "
          f"AESTUDIO_MAX_PIXELS {args.max_pixels:,}, RLIMIT_AS "
          f"{'%.0f MiB' % (limit / 2**20) if limit else 'not set'}", flush=True)
    watch: dict = {"start": None}
    _start_watchdog(watch, max(30.0, 10 * args.timeout), args.findings, args.json, args.seed)
    t0 = time.perf_counter()
    stats = run_fuzz(engine, seeds, args.count, args.seed, args.crc_fix, args.timeout,
                     args.findings, progress=max(args.count // 10, 1),
                     factor=codec.factor, watch=watch)
    seconds = time.perf_counter() - t0
    stages = stage_counts(engine, seeds, min(args.stages, args.count), args.seed,
                          args.crc_fix, codec.factor) if args.stages else Counter()
    typed_total = sum(stats.typed.values())
    result = {
        "inputs": stats.inputs, "seed": args.seed, "crc_recomputed": stats.crc_fixed,
        "decoded": stats.decoded, "typed_errors": typed_total,
        "typed_errors_by_class": dict(stats.typed.most_common()),
        "crashes": stats.crashes, "hangs": stats.hangs,
        "seconds": round(seconds, 1), "inputs_per_second": round(stats.inputs / seconds, 1),
        "slowest_input_s": round(stats.slowest_s, 3), "timeout_s": args.timeout,
        "peak_rss_mib": round(_peak_rss_mb(), 1),
        "rlimit_as_mib": round(limit / 2**20) if limit else None,
        "max_pixels": args.max_pixels,
        f"stages_of_first_{min(args.stages, args.count)}": dict(stages.most_common()),
        "model": codec.model.id, "models_dir": str(models), "seed_files": len(seeds),
        "python": platform.python_version(), "machine": platform.machine(),
        "findings": stats.findings[:200],
    }
    print(f"inputs {stats.inputs:,} (CRC recomputed {stats.crc_fixed:,}), seed {args.seed}")
    print(f"typed errors {typed_total:,}: " + ", ".join(f"{k} {v:,}"
                                                      for k, v in stats.typed.most_common()))
    if stages:
        print(f"where (first {min(args.stages, args.count):,} inputs): "
              + ", ".join(f"{k} {v:,}" for k, v in stages.most_common()))
    print(f"successful decodes {stats.decoded:,}")
    print(f"crashes {stats.crashes}, hangs {stats.hangs}")
    print(f"{result['inputs_per_second']:,} inputs/s ({seconds:.0f} s), slowest input "
          f"{stats.slowest_s:.3f} s, peak RSS {result['peak_rss_mib']} MiB")
    for f in stats.findings[:10]:
        print(f"  {f['kind']}: #{f['index']} {f['ops']}: {f['error'].splitlines()[-1]}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0 if stats.crashes == 0 and stats.hangs == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
