"""Bounded input (issue 24): every input goes through one reader that refuses devices, FIFOs
and folders, caps the bytes it reads whatever ``st_size`` says, and the decoder budgets its
memory from the header before allocating anything."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.core.io import bounded_read

from app.core.runtime import memory_budget
from app.core.io.bounded_read import InputFileError, read_input
from app.core.codec.image_codec import DecodeBudgetError, decode_peak_bytes
from app.core.io.imageio import ImageIOError, load_image
from app.core.jobs import read_aei
from app.spec import bitstream as bsf
from tests.hardening.conftest import assert_one_error_line, listing, run_cli

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")


def _in_thread(fn, timeout: float = 10.0):
    """Run ``fn`` in a daemon thread; fail (instead of hanging the suite) if it blocks."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), f"blocked for more than {timeout} s"
    if "error" in box:
        raise box["error"]
    return box.get("value")


# ------------------------------------------------------------------------ the reader itself


def test_dev_zero_is_refused_without_reading():
    with pytest.raises(InputFileError, match="character device"):
        _in_thread(lambda: read_input("/dev/zero"))


@needs_fifo
def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "x.aei"
    os.mkfifo(fifo)
    with pytest.raises(InputFileError, match="FIFO"):
        _in_thread(lambda: read_input(fifo))


def test_folder_is_refused(tmp_path):
    with pytest.raises(InputFileError, match="folder"):
        read_input(tmp_path)


def test_oversize_file_is_refused_from_its_size(tmp_path):
    big = tmp_path / "big.aei"
    big.write_bytes(b"x" * 5000)
    with pytest.raises(InputFileError, match="too large"):
        read_input(big, max_bytes=4096)
    assert read_input(big, max_bytes=5000) == b"x" * 5000


def test_byte_cap_holds_when_st_size_lies(tmp_path, monkeypatch):
    """A filesystem (or a device) that reports a small size: the count of bytes actually read
    stops the read, one chunk past the limit at most."""
    path = tmp_path / "liar.aei"
    path.write_bytes(b"y" * 100_000)
    real_fstat = os.fstat

    class Small:
        def __init__(self, st):
            self.st_mode, self.st_size = st.st_mode, 10

    monkeypatch.setattr(bounded_read.os, "fstat", lambda fd: Small(real_fstat(fd)))
    monkeypatch.setattr(bounded_read, "CHUNK_BYTES", 1024)
    reads = []
    real_read = os.read
    monkeypatch.setattr(bounded_read.os, "read",
                        lambda fd, n: reads.append(n) or real_read(fd, n))
    with pytest.raises(InputFileError, match="too large"):
        read_input(path, max_bytes=4096)
    assert sum(reads) <= 4096 + 1


def test_a_fifo_swapped_in_after_the_stat_is_refused(tmp_path, monkeypatch):
    """The stat sees a regular file, the open gets a FIFO: O_NONBLOCK keeps the open from
    blocking and the fstat refuses it."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    fifo = tmp_path / "swapped.png"
    os.mkfifo(fifo)
    regular = tmp_path / "regular.png"
    regular.write_bytes(b"x")
    real_stat = os.stat
    monkeypatch.setattr(bounded_read.os, "stat",
                        lambda p, *a, **k: real_stat(regular if Path(p) == fifo else p))
    with pytest.raises(InputFileError, match="FIFO"):
        _in_thread(lambda: read_input(fifo))


# -------------------------------------------------------- every front end uses the reader


def test_load_image_and_read_aei_refuse_devices(tmp_path):
    with pytest.raises(ImageIOError, match="character device"):
        _in_thread(lambda: load_image("/dev/zero"))
    with pytest.raises(InputFileError, match="character device"):
        _in_thread(lambda: read_aei(Path("/dev/zero")))


def test_cli_decompress_dev_zero_fails_fast(capsys, tmp_path, tiny_models):
    out = tmp_path / "z.png"
    t = time.perf_counter()
    code, _, err = _in_thread(lambda: run_cli(capsys, "decompress", "/dev/zero", "-o", out,
                                              "--models", tiny_models))
    assert time.perf_counter() - t < 5
    assert_one_error_line(code, err, "/dev/zero", "character device")
    assert not out.exists()


@needs_fifo
@pytest.mark.parametrize("command,name", [("decompress", "x.aei"), ("compress", "x.png"),
                                          ("denoise", "x.png")])
def test_cli_fifo_input_fails_fast(capsys, tmp_path, tiny_models, command, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    before = listing(tmp_path)
    code, _, err = _in_thread(lambda: run_cli(capsys, command, fifo, "--models", tiny_models))
    assert_one_error_line(code, err, "FIFO")
    assert listing(tmp_path) == before


@needs_fifo
def test_batch_reports_a_fifo_and_goes_on(capsys, tmp_path, tiny_models):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(src / "good.png")
    os.mkfifo(src / "pipe.png")
    code, _, err = _in_thread(lambda: run_cli(
        capsys, "batch", src, tmp_path / "out", "--task", "denoise", "--sigma", "5",
        "--models", tiny_models, "--workers", "1"), timeout=120)
    # the planner may leave the FIFO out, or list it as a failure naming it: never a hang
    assert code in (0, 3), err
    assert code == 0 or ("pipe.png" in err and "FIFO" in err)
    assert (tmp_path / "out" / "good.png").exists()
    assert not (tmp_path / "out" / "pipe.png").exists()


# ---------------------------------------------------------------- decoder memory budget


def _huge_claim(codec, side: int = 10_000) -> bytes:
    """A valid header (consistent latent shapes) for a side x side image, ~0.7 MB of junk."""
    f = codec.factor
    padded = -(-side // f) * f
    m, n = codec.tables.gains.shape[1], len(codec.tables.z)
    bs = bsf.Bitstream(
        model_id=codec.model.id, model_hash=codec.model.hash_prefix, width=side, height=side,
        channels=3, quality=50.0, pad_bottom=padded - side, pad_right=padded - side,
        latent_shapes=[(m, padded // 16, padded // 16), (n, padded // 64, padded // 64)],
        chunks={"ZSTR": b"\x00" * 727_000, "ZESC": b"", "YSTR": b"\x00" * 8, "YESC": b""})
    return bsf.pack(bs)


def test_a_small_file_claiming_100_megapixels_is_refused_at_once(tiny_engine, monkeypatch):
    monkeypatch.setenv("AESTUDIO_MAX_MEMORY", "2GB")
    codec = tiny_engine.codec()
    data = _huge_claim(codec)
    assert len(data) < 750_000
    t = time.perf_counter()
    with pytest.raises(DecodeBudgetError, match="AESTUDIO_MAX_MEMORY") as info:
        tiny_engine.decompress(data)
    assert time.perf_counter() - t < 0.5
    assert isinstance(info.value, bsf.BitstreamError)  # a typed decode error for the fuzzer
    assert "\n" not in str(info.value)


def test_cli_refuses_the_100_megapixel_claim_in_one_line(capsys, tmp_path, tiny_engine,
                                                        tiny_models, monkeypatch):
    monkeypatch.setenv("AESTUDIO_MAX_MEMORY", "2GB")
    aei = tmp_path / "claim.aei"
    aei.write_bytes(_huge_claim(tiny_engine.codec()))
    code, _, err = run_cli(capsys, "decompress", aei, "--models", tiny_models)
    assert_one_error_line(code, err, "memory", "AESTUDIO_MAX_MEMORY")
    assert not (tmp_path / "claim.png").exists()


def test_budget_estimate_grows_with_the_header_and_admits_normal_files(tiny_engine):
    codec = tiny_engine.codec()
    small = decode_peak_bytes(64, 64, 0, 0, [(12, 4, 4), (8, 1, 1)])
    big = decode_peak_bytes(10_000, 10_000, 48, 48, [(12, 628, 628), (8, 157, 157)])
    assert small < 128 << 20 < 2 << 30 < big
    img = np.full((40, 56, 3), 120, np.uint8)
    out = tiny_engine.decompress(tiny_engine.compress(img, 50).data)
    assert out.shape == img.shape
    assert codec is tiny_engine.codec()


def test_encoder_refuses_what_its_decoder_would_refuse(tiny_engine, monkeypatch):
    monkeypatch.setenv("AESTUDIO_MAX_MEMORY", "60MB")  # below the fixed part of any decode
    with pytest.raises(memory_budget.MemoryBudgetError, match="AESTUDIO_MAX_MEMORY"):
        tiny_engine.compress(np.full((64, 64, 3), 10, np.uint8), 50)


def test_concurrent_reservations_stay_within_the_budget(monkeypatch):
    monkeypatch.setenv("AESTUDIO_MAX_MEMORY", "1000")
    peak, inside, lock = [0], [0], threading.Lock()

    def work():
        with memory_budget.reserve(600, "a decode"):
            with lock:
                inside[0] += 600
                peak[0] = max(peak[0], inside[0])
            time.sleep(0.02)
            with lock:
                inside[0] -= 600

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert peak[0] == 600  # two at 600 would pass 1000: they took turns
    with pytest.raises(memory_budget.MemoryBudgetError):
        with memory_budget.reserve(1001, "too much"):
            pass


def test_jobs_are_capped_by_memory(monkeypatch):
    assert memory_budget.max_workers_for_memory(1 << 30, budget=2 << 30) == 2
    assert memory_budget.max_workers_for_memory(3 << 30, budget=2 << 30) == 1
    monkeypatch.setenv("AESTUDIO_MAX_MEMORY", "512MiB")
    assert memory_budget.memory_budget() == 512 << 20
    assert memory_budget.max_workers_for_memory() == 2  # 256 MiB per worker


def test_batch_jobs_capped_by_memory(capsys, tmp_path, tiny_models, monkeypatch):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(src / "a.png")
    monkeypatch.setenv("AESTUDIO_MAX_MEMORY", "600MiB")  # two 256 MiB workers fit, not 8
    report = tmp_path / "report.json"
    code, _, err = run_cli(capsys, "batch", src, tmp_path / "out", "--task", "denoise",
                           "--sigma", "5", "--models", tiny_models, "--workers", "8",
                           "--report", report)
    assert code == 0, err
    import json

    assert json.loads(report.read_text())["jobs"] == 2


def test_sniffing_a_fifo_named_like_an_image_does_not_block(tmp_path):
    """The GUI sniffs dropped files for the .aei magic; a FIFO must not hang it."""
    from app.gui.files import is_aei

    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    result: list[bool] = []
    t = threading.Thread(target=lambda: result.append(is_aei(fifo)), daemon=True)
    t.start()
    t.join(5)
    assert result == [False]
