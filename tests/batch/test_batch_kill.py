"""A batch killed with SIGKILL leaves no partial output, and a rerun with --skip-existing
completes the folder, skipping what was done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image

from app.main import main
from tests.batch.helpers import slow_denoise_cli, temp_files, tree
from tests.conftest import REPO

# The child is the real CLI, with each inference slowed down so that the kill lands in the
# middle of the folder (the tiny models are otherwise done in a blink).
SLOW_CLI = slow_denoise_cli(0.25)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_kill_then_resume_with_skip_existing(capsys, tiny_models, photos, tmp_path):
    names = [f"p{i:02d}.png" for i in range(8)] + [f"sub/q{i:02d}.jpg" for i in range(8)]
    src = photos(names)
    before = tree(src)
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_CLI, "batch", str(src), str(out), "--task", "denoise",
         "--recursive", "--models", str(tiny_models), "--workers", "2"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if out.exists() and any(p.suffix == ".png" and not p.name.startswith(".")
                                    for p in out.rglob("*")):
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the batch ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    assert proc.returncode == -signal.SIGKILL

    # every output there is complete; the folder is unfinished
    done = {p.relative_to(out).as_posix() for p in out.rglob("*.png")
            if not p.name.startswith(".")}
    assert 1 <= len(done) < len(names)
    for rel in done:
        with Image.open(out / rel) as im:
            im.load()
            assert im.size == (48, 40)
    # a temporary file of an interrupted write (planted, in case the kill missed one)
    (out / ".p07.png.0123abcd.part").write_bytes(b"half a png")

    report = tmp_path / "resume.json"
    code = main(["batch", str(src), str(out), "--task", "denoise", "--recursive", "--models",
                 str(tiny_models), "--skip-existing", "--report", str(report)])
    capsys.readouterr()
    assert code == 0
    rep = json.loads(report.read_text())
    skipped = {f["relative"] for f in rep["files"] if f["status"] == "skipped"}
    ok = {f["relative"] for f in rep["files"] if f["status"] == "ok"}
    assert {s.rsplit(".", 1)[0] + ".png" for s in skipped} == done
    assert len(ok) == len(names) - len(done) and not (ok & skipped)
    assert rep["totals"]["failed"] == 0
    assert sorted(tree(out)) == sorted(n.rsplit(".", 1)[0] + ".png" for n in names)
    assert not temp_files(out)
    assert tree(src) == before
