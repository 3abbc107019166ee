"""Where batch outputs really land: every output resolved (symlinks, ``..``, bind mounts) and
refused inside the input or masks tree, onto an input, a mask, the report or another output,
before any model runs; output folders checked again just before each write; the report path,
long names and free space checked up front."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

from app.core.io import atomic_write

from app.core.batch import paths as batch_paths
from app.core.batch.local import BatchRunner
from app.core.batch.plan import BatchOptions, plan_local, remove_stale_temps
from app.core.batch.progress import EXIT_REPORT, BatchReport
from app.main import main
from tests.batch.helpers import temp_files, tree, write_mask, write_photo


def batch(capsys, *argv):
    code = main(["batch", *[str(a) for a in argv]])
    out, err = capsys.readouterr()
    return code, out, err


def assert_refused(code, stdout, err, *needles):
    assert code == 1, err
    assert stdout == "" and "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("aestudio: error:"), err
    for needle in needles:
        assert str(needle) in lines[0], (needle, err)


class NoEngine:
    """An engine that must never be made: the batch is refused before any model runs."""

    def __init__(self, threads):
        raise AssertionError("a model was loaded for a batch that must not start")


# ---------------------------------------------------------------- the cases of issue 24


def test_output_ancestor_of_input_with_a_same_named_subfolder(capsys, tiny_models, tmp_path):
    """photos/raw -> photos with photos/raw/raw/a.png: the output photos/raw/a.png is the
    original photos/raw/a.png; refused, with --force too, nothing touched."""
    photos = tmp_path / "photos"
    write_photo(photos / "raw" / "a.png", seed=1)
    write_photo(photos / "raw" / "raw" / "a.png", seed=2)
    before = tree(photos)
    code, out, err = batch(capsys, photos / "raw", photos, "--task", "denoise", "--recursive",
                           "--force", "--models", tiny_models)
    assert_refused(code, out, err, photos / "raw" / "a.png", "input folder")
    assert tree(photos) == before


def test_output_subfolder_symlinked_into_the_input(capsys, tiny_models, tmp_path):
    src = tmp_path / "in"
    write_photo(src / "a.png")
    write_photo(src / "sub" / "b.png", seed=3)
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").symlink_to(src)             # out/sub/b.png would be in/b.png
    before = tree(src)
    code, stdout, err = batch(capsys, src, out, "--task", "denoise", "--recursive",
                              "--models", tiny_models)
    assert_refused(code, stdout, err, out / "sub" / "b.png", src / "b.png")
    assert tree(src) == before and not (out / "a.png").exists()


def test_masks_folder_equal_to_the_output_folder_with_force(capsys, tiny_models, tmp_path):
    src = tmp_path / "in"
    write_photo(src / "a.png")
    masks = tmp_path / "masks"
    write_mask(masks / "a.png")
    before = tree(masks)
    code, out, err = batch(capsys, src, masks, "--task", "inpaint", "--masks", masks,
                           "--force", "--models", tiny_models)
    assert_refused(code, out, err, "masks folder")
    assert tree(masks) == before


def test_output_inside_the_masks_folder_through_a_symlink(capsys, tiny_models, tmp_path):
    src = tmp_path / "in"
    write_photo(src / "a.png")
    masks = tmp_path / "masks"
    write_mask(masks / "a.png")
    (tmp_path / "out").symlink_to(masks)
    before = tree(masks)
    code, out, err = batch(capsys, src, tmp_path / "out", "--task", "inpaint", "--masks",
                           masks, "--force", "--models", tiny_models)
    assert_refused(code, out, err, "masks folder")
    assert tree(masks) == before


@pytest.mark.parametrize("where", ["input", "mask", "output"])
def test_report_path_onto_an_input_a_mask_or_an_output(capsys, tiny_models, tmp_path, where):
    src = tmp_path / "in"
    write_photo(src / "a.png")
    masks = tmp_path / "masks"
    write_mask(masks / "a.png")
    out = tmp_path / "out"
    report = {"input": src / "a.png", "mask": masks / "a.png", "output": out / "a.png"}[where]
    before = tree(tmp_path)
    code, stdout, err = batch(capsys, src, out, "--task", "inpaint", "--masks", masks,
                              "--force", "--report", report, "--models", tiny_models)
    assert_refused(code, stdout, err, report)
    assert tree(tmp_path) == before and not out.exists()


def test_two_outputs_resolving_to_the_same_file_are_refused(capsys, tiny_models, tmp_path):
    src = tmp_path / "in"
    write_photo(src / "a" / "x.png", seed=1)
    write_photo(src / "b" / "x.png", seed=2)
    out = tmp_path / "out"
    (out / "b").mkdir(parents=True)
    (out / "a").symlink_to(out / "b")
    code, stdout, err = batch(capsys, src, out, "--task", "denoise", "--recursive",
                              "--models", tiny_models)
    assert_refused(code, stdout, err, out / "a" / "x.png", out / "b" / "x.png", "same file")
    assert list((out / "b").iterdir()) == []


def test_refused_before_any_model_is_loaded(tmp_path):
    src = tmp_path / "in"
    write_photo(src / "a.png")
    write_photo(src / "in" / "a.png")
    opts = BatchOptions("denoise", str(src), str(tmp_path), recursive=True, force=True)
    with pytest.raises(ValueError, match="input folder"):
        BatchRunner(opts, engine_factory=NoEngine).run()


def test_a_symlinked_input_file_protects_its_real_folder(capsys, tiny_models, tmp_path):
    """in/a.png -> library/a.png and an output folder that is the library: refused."""
    library = tmp_path / "library"
    write_photo(library / "a.png")
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.png").symlink_to(library / "a.png")
    before = tree(library)
    code, stdout, err = batch(capsys, src, library, "--task", "denoise", "--force",
                              "--models", tiny_models)
    assert_refused(code, stdout, err, "folder of the input")
    assert tree(library) == before


def test_output_through_a_bind_mount_of_the_input_is_refused(capsys, tiny_models, tmp_path):
    src = tmp_path / "in"
    write_photo(src / "a.png")
    bound = tmp_path / "bound"
    bound.mkdir()
    try:
        proc = subprocess.run(["mount", "--bind", str(src), str(bound)], capture_output=True,
                              timeout=30)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("no mount command")
    if proc.returncode != 0:
        pytest.skip("cannot bind-mount here (needs root)")
    try:
        before = tree(src)
        code, stdout, err = batch(capsys, src, bound / "out", "--task", "denoise",
                                  "--models", tiny_models)
        assert_refused(code, stdout, err, "input folder")
        assert tree(src) == before
    finally:
        subprocess.run(["umount", str(bound)], capture_output=True, timeout=30)


# ---------------------------------------------------------------- checked again mid-run


class SwappingEngine:
    """Wraps a real engine; before its first inference the planned output folder out/sub is
    swapped for a symlink into the input folder (a hostile or confused neighbour)."""

    def __init__(self, engine, out: Path, src: Path):
        self.engine, self.out, self.src, self.swapped = engine, out, src, False

    def denoise(self, *a, **k):
        if not self.swapped:
            self.swapped = True
            (self.out / "sub").rename(self.out / "sub-old")
            (self.out / "sub").symlink_to(self.src)
        return self.engine.denoise(*a, **k)


def test_folder_swapped_for_a_symlink_mid_run_is_refused(tiny_models, tmp_path):
    from app.core.engine import Engine

    src = tmp_path / "in"
    write_photo(src / "sub" / "a.png", seed=1)
    write_photo(src / "sub" / "b.png", seed=2)
    out = tmp_path / "out"
    before = tree(src)
    opts = BatchOptions("denoise", str(src), str(out), recursive=True, workers=1, threads=1)
    report = BatchRunner(opts, engine_factory=lambda t: SwappingEngine(
        Engine(tiny_models, provider="cpu", threads=t), out, src)).run()
    assert tree(src) == before                       # nothing landed in in/ (no in/a.png)
    assert report.totals["failed"] == 2
    assert all("refusing to write" in f.error for f in report.failures())
    assert not temp_files(src)


def test_write_check_runs_just_before_the_rename(tmp_path):
    """destination_check sees the target before the temporary file and again before the
    move: a refusal then leaves nothing."""
    calls = []

    def check(target):
        calls.append(target)
        if len(calls) == 2:
            raise ValueError("swapped")

    with atomic_write.destination_check(check), pytest.raises(ValueError, match="swapped"):
        atomic_write.atomic_write_bytes(tmp_path / "x.bin", b"data")
    assert calls == [tmp_path / "x.bin"] * 2 and list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- preflight


def test_unwritable_report_is_refused_before_any_work(capsys, tiny_models, tmp_path):
    src = tmp_path / "in"
    write_photo(src / "a.png")
    out = tmp_path / "out"
    report = tmp_path / "no-such-folder" / "r.json"
    code, stdout, err = batch(capsys, src, out, "--task", "denoise", "--report", report,
                              "--models", tiny_models)
    assert_refused(code, stdout, err, report)
    assert not out.exists()
    code, stdout, err = batch(capsys, src, out, "--task", "denoise", "--report", tmp_path,
                              "--models", tiny_models)
    assert_refused(code, stdout, err, "report")
    assert not out.exists()


def test_report_unwritable_at_the_end_keeps_the_summary(capsys, tiny_models, tmp_path,
                                                       monkeypatch):
    src = tmp_path / "in"
    write_photo(src / "a.png")
    report = tmp_path / "r.json"

    def refuse(self, path):
        raise OSError(errno.EACCES, os.strerror(errno.EACCES), str(path))

    monkeypatch.setattr(BatchReport, "write", refuse)
    code, stdout, err = batch(capsys, src, tmp_path / "out", "--task", "denoise", "--report",
                              report, "--models", tiny_models)
    assert code == EXIT_REPORT == 4
    assert "1 ok, 0 failed" in stdout
    assert "aestudio: error: cannot write the report" in err and str(report) in err
    assert (tmp_path / "out" / "a.png").exists()


def test_not_enough_free_space_is_refused_before_any_work(capsys, tiny_models, tmp_path,
                                                          monkeypatch):
    src = tmp_path / "in"
    write_photo(src / "a.png")

    class Usage:
        free = 10

    monkeypatch.setattr(batch_paths.shutil, "disk_usage", lambda p: Usage)
    code, stdout, err = batch(capsys, src, tmp_path / "out", "--task", "denoise",
                              "--models", tiny_models)
    assert_refused(code, stdout, err, "free space")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- names of 251-255 bytes


@pytest.mark.parametrize("length", [251, 255])
def test_longest_legal_output_names_work(capsys, tiny_models, tmp_path, length):
    stem = "n" * (length - len(".png"))
    src = tmp_path / "in"
    write_photo(src / f"{stem}.png")
    out = tmp_path / "out"
    code, _, err = batch(capsys, src, out, "--task", "denoise", "--models", tiny_models)
    assert code == 0, err
    assert [p.name for p in out.iterdir()] == [f"{stem}.png"]
    # and a single-file command
    single = tmp_path / "single" / f"{stem}.png"
    single.parent.mkdir()
    code = main(["denoise", str(src / f"{stem}.png"), "-o", str(single), "--models",
                 str(tiny_models)])
    capsys.readouterr()
    assert code == 0 and [p.name for p in single.parent.iterdir()] == [single.name]


def test_long_name_temporary_files_stay_within_name_max_and_are_cleared(tmp_path):
    name = "m" * 255
    stem = atomic_write.temp_stem(name)
    assert len(f".{stem}.01234567.part") == 255 and name.startswith(stem)
    assert atomic_write.temp_stem("short.png") == "short.png"
    # a multibyte name is cut on a character boundary, within the byte limit
    wide = "é" * 127
    cut = atomic_write.temp_stem(wide)
    assert len(os.fsencode(f".{cut}.01234567.part")) <= 255 and wide.startswith(cut)
    # a killed run's temporary file of a long output is found and removed
    src = tmp_path / "in"
    write_photo(src / (name[:-4] + ".png"))
    out = tmp_path / "out"
    out.mkdir()
    stale = out / f".{atomic_write.temp_stem(name[:-4] + '.png')}.0123abcd.part"
    stale.write_bytes(b"half")
    other = out / ".unrelated.0123abcd.part"
    other.write_bytes(b"not ours")
    items = plan_local(BatchOptions("denoise", str(src), str(out)))
    assert remove_stale_temps(items) == 1
    assert not stale.exists() and other.exists()


def test_report_json_is_still_the_documented_object(capsys, tiny_models, tmp_path):
    src = tmp_path / "in"
    write_photo(src / "a.png")
    report = tmp_path / "r.json"
    code, _, _ = batch(capsys, src, tmp_path / "out", "--task", "denoise", "--report", report,
                       "--models", tiny_models)
    rep = json.loads(report.read_text())
    assert code == 0 and rep["exit_code"] == 0 and "report_error" not in rep
