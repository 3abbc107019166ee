"""Full disks and read-only folders: one clear line, exit 1, and no partial or temporary file.

Faults are injected into the atomic writer, ``app.core.io.atomic_write`` (the write or the fsync of
its hidden ``.part`` file fails with ENOSPC), and - where the machine allows it - produced for
real: a full 64 KiB tmpfs, a read-only tmpfs or a ``chmod 0o555`` folder (root ignores
permissions, so as root a read-only mount is used; without either, EROFS/EACCES is injected)."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess

import pytest
from PIL import Image

from app.core.io import atomic_write
from tests.conftest import smooth_image
from tests.hardening.conftest import assert_one_error_line, listing, run_cli

COMMANDS = ["compress", "denoise", "decompress"]


@pytest.fixture
def inputs(tmp_path, tiny_engine):
    """An input folder (photo.png, photo.aei) apart from the output folder."""
    src = tmp_path / "in"
    src.mkdir()
    img = smooth_image(72, 96, seed=5)
    Image.fromarray(img).save(src / "photo.png")
    (src / "photo.aei").write_bytes(tiny_engine.compress(img, 50).data)
    return src


def _argv(command: str, src, out_dir, models):
    source = src / ("photo.aei" if command == "decompress" else "photo.png")
    output = out_dir / {"compress": "photo.aei", "denoise": "photo_denoised.png",
                        "decompress": "photo.png"}[command]
    return [command, source, "-o", output, "--models", models], output


class _FullDiskFile:
    """A file whose writes put half the bytes on disk, then fail with ENOSPC."""

    def __init__(self, f):
        self._f = f

    def write(self, data):
        data = bytes(data)
        self._f.write(data[:len(data) // 2])
        self._f.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._f.__exit__(*exc)


@pytest.fixture
def full_disk(monkeypatch):
    """Inject ENOSPC into the atomic writer's temporary file at the point asked for."""
    fds: set[int] = set()
    real_create, real_fdopen, real_fsync = atomic_write._create_temp, os.fdopen, os.fsync

    def create(directory, name):
        tmp, fd = real_create(directory, name)
        fds.add(fd)
        return tmp, fd

    def inject(where: str) -> None:
        monkeypatch.setattr(atomic_write, "_create_temp", create)
        if where == "write":
            monkeypatch.setattr(atomic_write.os, "fdopen", lambda fd, *a, **k: _FullDiskFile(
                real_fdopen(fd, *a, **k)) if fd in fds else real_fdopen(fd, *a, **k))
        else:
            def fsync(fd):
                if fd in fds:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                return real_fsync(fd)
            monkeypatch.setattr(atomic_write.os, "fsync", fsync)

    inject.fds = fds
    return inject


@pytest.mark.parametrize("where", ["write", "fsync"])
@pytest.mark.parametrize("command", COMMANDS)
def test_injected_full_disk_is_one_line_and_leaves_nothing(capsys, tiny_models, inputs,
                                                           tmp_path, full_disk, command, where):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    argv, output = _argv(command, inputs, out_dir, tiny_models)
    full_disk(where)
    code, out, err = run_cli(capsys, *argv)
    assert full_disk.fds, "the atomic writer was not used"
    assert_one_error_line(code, err, "No space left on device", output.name)
    assert ".part" not in err                                  # names the file asked for
    assert out == "" and listing(out_dir) == []
    assert listing(inputs) == ["photo.aei", "photo.png"]


@pytest.mark.parametrize("command", ["compress", "denoise"])
def test_full_disk_with_force_keeps_the_old_output(capsys, tiny_models, inputs, tmp_path,
                                                   full_disk, command):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    argv, output = _argv(command, inputs, out_dir, tiny_models)
    output.write_bytes(b"the previous result")
    full_disk("write")
    code, _, err = run_cli(capsys, *argv, "--force")
    assert_one_error_line(code, err, "No space left on device")
    assert output.read_bytes() == b"the previous result"
    assert listing(out_dir) == [output.name]


# ------------------------------------------------------------------------- real file systems


def _mount_tmpfs(path, options: str) -> bool:
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    path.mkdir(exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True, timeout=30)
    return proc.returncode == 0


def _umount(path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True, timeout=30)


@pytest.fixture
def small_tmpfs(tmp_path):
    mnt = tmp_path / "small"
    if not _mount_tmpfs(mnt, "size=64k,mode=0777"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        with open(mnt / "filler", "wb", buffering=0) as f:     # fill it to the last page
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        yield mnt
    finally:
        _umount(mnt)


@pytest.mark.parametrize("command", COMMANDS)
def test_real_full_disk_is_one_line_and_leaves_nothing(capsys, tiny_models, inputs,
                                                       small_tmpfs, command):
    argv, output = _argv(command, inputs, small_tmpfs, tiny_models)
    code, _, err = run_cli(capsys, *argv)
    assert_one_error_line(code, err, "No space left on device", output.name)
    assert listing(small_tmpfs) == ["filler"]


@pytest.fixture
def readonly_dir(tmp_path):
    """A folder that cannot be written for real: chmod 0o555 as a normal user, a read-only
    tmpfs as root (root ignores permissions); skipped where neither is possible."""
    d = tmp_path / "ro"
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        d.mkdir()
        d.chmod(0o555)
        try:
            yield d, "Permission denied"
        finally:
            d.chmod(0o755)
    elif _mount_tmpfs(d, "ro,size=64k"):
        try:
            yield d, "Read-only file system"
        finally:
            _umount(d)
    else:
        pytest.skip("running as root without mount: chmod would not stop root")


@pytest.mark.parametrize("command", COMMANDS)
def test_read_only_output_folder_is_one_line(capsys, tiny_models, inputs, readonly_dir,
                                             command):
    d, reason = readonly_dir
    argv, output = _argv(command, inputs, d, tiny_models)
    code, _, err = run_cli(capsys, *argv)
    assert_one_error_line(code, err, reason, output.name)
    assert ".part" not in err and listing(d) == []


@pytest.mark.parametrize("err_no", [errno.EROFS, errno.EACCES])
@pytest.mark.parametrize("command", ["compress", "denoise"])
def test_injected_read_only_folder_is_one_line(capsys, tiny_models, inputs, tmp_path,
                                               monkeypatch, command, err_no):
    """Where the temporary file cannot be created (works as root too)."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    real_open = os.open

    def refuse(path, flags, *a, **k):
        if os.path.dirname(os.fspath(path)) == str(out_dir) and flags & os.O_CREAT:
            raise OSError(err_no, os.strerror(err_no), os.fspath(path))
        return real_open(path, flags, *a, **k)

    monkeypatch.setattr(atomic_write.os, "open", refuse)
    argv, output = _argv(command, inputs, out_dir, tiny_models)
    code, _, err = run_cli(capsys, *argv)
    assert_one_error_line(code, err, os.strerror(err_no), output.name)
    assert ".part" not in err and listing(out_dir) == []
