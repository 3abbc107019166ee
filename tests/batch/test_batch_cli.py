"""``aestudio batch`` over local folders: mirroring, bad inputs, untouched originals, refusals,
skip-existing, every task, metadata, the report and the exit codes."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from app.core.batch import (
    BatchError,
    BatchOptions,
    BatchProgress,
    BatchRunner,
    TextProgress,
    run_batch,
)
from app.core.batch.progress import EXIT_FAILED
from app.main import main
from tests.batch.helpers import temp_files, tree, write_mask, write_photo


def batch(capsys, *argv):
    code = main(["batch", *[str(a) for a in argv]])
    out, err = capsys.readouterr()
    return code, out, err


def load_report(path):
    return json.loads(path.read_text())


def test_recursive_mirrors_the_input_tree(capsys, tiny_models, photos, tmp_path):
    src = photos(["a.png", "b.jpg", "sub/c.png", "sub/deeper/d.tif", ".hidden.png"])
    (src / "notes.txt").write_text("not a photo, ignored")
    out = tmp_path / "out"
    code, stdout, err = batch(capsys, src, out, "--task", "denoise", "--recursive",
                              "--models", tiny_models, "--report", tmp_path / "r.json")
    assert code == 0, err
    assert sorted(tree(out)) == ["a.png", "b.png", "sub/c.png", "sub/deeper/d.png"]
    report = load_report(tmp_path / "r.json")
    assert report["totals"] == {"files": 4, "ok": 4, "failed": 0, "skipped": 0}
    assert report["images_per_second"] > 0 and report["exit_code"] == 0
    for f in report["files"]:
        assert f["status"] == "ok" and f["error"] is None and f["seconds"] > 0
        assert (out / f["relative"]).with_suffix(".png").as_posix() == \
            f["output"].replace("\\", "/")
        assert Image.open(f["output"]).size == (48, 40)
    assert "4 ok, 0 failed" in stdout
    assert "batch:" in err  # progress lines (stderr is not a TTY here)

    # without --recursive only the top level is processed
    flat = tmp_path / "flat"
    code, _, _ = batch(capsys, src, flat, "--task", "denoise", "--models", tiny_models)
    assert code == 0 and sorted(tree(flat)) == ["a.png", "b.png"]


def test_bad_inputs_are_recorded_and_exit_code_is_3(capsys, tiny_models, photos, tmp_path,
                                                    monkeypatch):
    src = photos(["good1.png", "sub/good2.png"])
    (src / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (src / "text.jpg").write_text("this is not an image")
    (src / "empty.png").write_bytes(b"")
    truncated = (src / "good1.png").read_bytes()
    (src / "truncated.png").write_bytes(truncated[: len(truncated) // 2])
    write_photo(src / "huge.png", seed=7, size=(80, 90))  # over the limit set below
    monkeypatch.setenv("AESTUDIO_MAX_PIXELS", "5000")
    out, report_path = tmp_path / "out", tmp_path / "report.json"
    code, stdout, err = batch(capsys, src, out, "--task", "denoise", "--recursive",
                              "--models", tiny_models, "--report", report_path, "--json")
    assert code == EXIT_FAILED == 3
    report = json.loads(stdout)
    assert report == load_report(report_path)
    status = {f["relative"]: f for f in report["files"]}
    assert {k for k, f in status.items() if f["status"] == "ok"} == {"good1.png",
                                                                      "sub/good2.png"}
    failed = {k: f["error"] for k, f in status.items() if f["status"] == "failed"}
    assert set(failed) == {"corrupt.png", "text.jpg", "empty.png", "truncated.png",
                           "huge.png"}
    assert "not a recognised image" in failed["text.jpg"]
    assert "empty" in failed["empty.png"]
    assert "limit" in failed["huge.png"]
    assert report["totals"] == {"files": 7, "ok": 2, "failed": 5, "skipped": 0}
    assert sorted(tree(out)) == ["good1.png", "sub/good2.png"]
    for name in failed:
        assert f"aestudio: failed: {name}:" in err
    assert "Traceback" not in err and not temp_files(out)


def test_originals_are_never_modified(capsys, tiny_models, photos, tmp_path):
    src = photos(["x.png", "y.jpg", "s/z.png"])
    masks = tmp_path / "masks"
    for rel in ("x.png", "y.png", "s/z.jpg"):
        write_mask(masks / rel)
    before, masks_before = tree(src), tree(masks)
    runs = [("denoise", []), ("compress", ["-q", "30"]), ("inpaint", ["--masks", masks])]
    for task, extra in runs:
        code, _, err = batch(capsys, src, tmp_path / task, "--task", task, "--recursive",
                             "--models", tiny_models, *extra)
        assert code == 0, err
    code, _, err = batch(capsys, tmp_path / "compress", tmp_path / "decoded", "--task",
                         "decompress", "--recursive", "--models", tiny_models)
    assert code == 0, err
    assert tree(src) == before and tree(masks) == masks_before


def test_every_task_and_output_names(capsys, tiny_models, photos, tmp_path):
    src = photos(["p.png", "q.jpg", "sub/r.webp"])
    masks = tmp_path / "masks"
    write_mask(masks / "p.png")
    write_mask(masks / "q.jpg")
    code, _, _ = batch(capsys, src, tmp_path / "aei", "--task", "compress", "--recursive",
                       "--quality", "40", "--models", tiny_models)
    assert code == 0
    assert sorted(tree(tmp_path / "aei")) == ["p.aei", "q.aei", "sub/r.aei"]
    code, _, _ = batch(capsys, tmp_path / "aei", tmp_path / "png", "--task", "decompress",
                       "--recursive", "--models", tiny_models)
    assert code == 0
    assert sorted(tree(tmp_path / "png")) == ["p.png", "q.png", "sub/r.png"]
    assert Image.open(tmp_path / "png" / "sub" / "r.png").size == (48, 40)

    # inpaint: sub/r has no mask -> a per-file error, the others are filled
    report = tmp_path / "inpaint.json"
    code, _, err = batch(capsys, src, tmp_path / "filled", "--task", "inpaint", "--recursive",
                         "--masks", masks, "--models", tiny_models, "--report", report,
                         "--passes", "2")
    assert code == 3
    files = {f["relative"]: f for f in load_report(report)["files"]}
    assert files["sub/r.webp"]["status"] == "failed"
    assert "no mask" in files["sub/r.webp"]["error"]
    assert files["p.png"]["status"] == files["q.jpg"]["status"] == "ok"
    assert files["p.png"]["details"]["passes"] == 2
    filled = np.asarray(Image.open(tmp_path / "filled" / "p.png"))
    keep = np.asarray(Image.open(masks / "p.png")) == 0
    np.testing.assert_array_equal(filled[keep], np.asarray(Image.open(src / "p.png"))[keep])


def test_masks_folder_inside_the_input_folder_is_not_processed(capsys, tiny_models, photos,
                                                               tmp_path):
    src = photos(["a.png", "b.png"])
    write_mask(src / "masks" / "a.png")
    write_mask(src / "masks" / "b.png")
    code, _, err = batch(capsys, src, tmp_path / "out", "--task", "inpaint", "--recursive",
                         "--masks", src / "masks", "--models", tiny_models)
    assert code == 0, err
    assert sorted(tree(tmp_path / "out")) == ["a.png", "b.png"]


@pytest.mark.parametrize("where", ["same", "inside", "deeper"])
def test_output_folder_inside_the_input_folder_is_refused(capsys, tiny_models, photos,
                                                          tmp_path, where):
    src = photos(["a.png"])
    out = {"same": src, "inside": src / "out", "deeper": src / "x" / ".." / "x" / "y"}[where]
    before = tree(src)
    code, stdout, err = batch(capsys, src, out, "--task", "denoise", "--models", tiny_models)
    assert code == 1 and stdout == ""
    assert err.startswith("aestudio: error:") and "input folder" in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert tree(src) == before


def test_report_inside_the_input_folder_is_refused(capsys, tiny_models, photos, tmp_path):
    src = photos(["a.png"])
    code, _, err = batch(capsys, src, tmp_path / "out", "--task", "denoise", "--models",
                         tiny_models, "--report", src / "report.json")
    assert code == 1 and "report" in err
    assert not (src / "report.json").exists() and not (tmp_path / "out").exists()


def test_usage_errors(capsys, tiny_models, photos, tmp_path):
    src = photos(["a.png"])
    code, _, err = batch(capsys, tmp_path / "missing", tmp_path / "o", "--task", "denoise",
                         "--models", tiny_models)
    assert code == 1 and "does not exist" in err
    code, _, err = batch(capsys, src, tmp_path / "o", "--task", "inpaint", "--models",
                         tiny_models)
    assert code == 2 and "--masks" in err  # usage errors: status 2, as argparse's
    code, _, err = batch(capsys, src, tmp_path / "o", "--task", "denoise", "--workers", "0",
                         "--models", tiny_models)
    assert code == 2 and "--workers must be at least 1" in err
    code, _, err = batch(capsys, src, tmp_path / "o", "--task", "denoise", "--ray-address",
                         "auto", "--models", tiny_models)
    assert code == 2 and "--ray-address needs --backend ray" in err
    code, _, err = batch(capsys, src, tmp_path / "o", "--task", "denoise", "--models",
                         tmp_path / "no-models")
    assert code == 1 and "denoise" in err and "Traceback" not in err


def test_existing_outputs_skip_force_and_fail(capsys, tiny_models, photos, tmp_path):
    src = photos(["a.png", "b.png", "c.png"])
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.png").write_bytes(b"precious")
    report = tmp_path / "r.json"
    code, _, err = batch(capsys, src, out, "--task", "denoise", "--models", tiny_models,
                         "--report", report)
    assert code == 3 and "--force" in err
    assert (out / "b.png").read_bytes() == b"precious"
    code, _, _ = batch(capsys, src, out, "--task", "denoise", "--models", tiny_models,
                       "--skip-existing", "--report", report)
    assert code == 0
    rep = load_report(report)
    assert rep["totals"] == {"files": 3, "ok": 0, "failed": 0, "skipped": 3}
    assert {f["note"] for f in rep["files"]} == {"output exists"}
    code, _, _ = batch(capsys, src, out, "--task", "denoise", "--models", tiny_models,
                       "--force")
    assert code == 0 and (out / "b.png").read_bytes() != b"precious"


def test_same_stem_with_two_extensions_is_a_per_file_error(capsys, tiny_models, photos,
                                                           tmp_path):
    src = photos(["a.png", "a.jpg", "b.png"])
    report = tmp_path / "r.json"
    code, _, _ = batch(capsys, src, tmp_path / "out", "--task", "denoise", "--models",
                       tiny_models, "--report", report)
    assert code == 3
    files = {f["relative"]: f for f in load_report(report)["files"]}
    assert files["a.jpg"]["status"] == "ok" and files["b.png"]["status"] == "ok"
    assert files["a.png"]["status"] == "failed" and "already" in files["a.png"]["error"]


def test_metadata_is_carried_over(capsys, tiny_models, tmp_path):
    from PIL import ImageCms

    src = tmp_path / "in"
    src.mkdir()
    exif = Image.Exif()
    exif[0x010F] = "AE Studio test camera"  # Make
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(np.full((40, 48, 3), 120, np.uint8)).save(
        src / "meta.jpg", exif=exif.tobytes(), icc_profile=icc, quality=95)
    code, _, _ = batch(capsys, src, tmp_path / "out", "--task", "denoise", "--models",
                       tiny_models)
    assert code == 0
    with Image.open(tmp_path / "out" / "meta.png") as im:
        assert im.getexif().get(0x010F) == "AE Studio test camera"
        assert im.info.get("icc_profile") == icc


def test_empty_folder(capsys, tiny_models, tmp_path):
    (tmp_path / "in").mkdir()
    code, stdout, err = batch(capsys, tmp_path / "in", tmp_path / "out", "--task", "denoise",
                              "--models", tiny_models)
    assert code == 0 and "no input files" in err and "0 ok" in stdout


def test_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["batch", "--help"])
    text = capsys.readouterr().out
    for word in ("--skip-existing", "--masks", "--backend", "-j N, --workers N", "--ray-address",
                 "3 some files"):
        assert word in text
    for old in ("--engine", "--jobs"):  # the old names still work, but are not offered
        assert old not in text


@pytest.mark.parametrize("names", [("--backend", "--workers"), ("--backend", "-j"),
                                   ("--engine", "--jobs")])
def test_backend_and_workers_under_new_and_old_names(capsys, tiny_models, photos, tmp_path,
                                                     names):
    """``--engine`` / ``--jobs`` are the deprecated names of ``--backend`` / ``--workers``;
    the report keeps its keys: ``"engine"`` (the backend) and ``"jobs"`` (the workers)."""
    backend, workers = names
    src = photos(["a.png", "b.png"])
    code, _, err = batch(capsys, src, tmp_path / "out", "--task", "denoise", "--models",
                         tiny_models, backend, "local", workers, "1", "--report",
                         tmp_path / "r.json")
    assert code == 0, err
    report = load_report(tmp_path / "r.json")
    assert report["engine"] == "local" and report["jobs"] == 1
    assert report["totals"]["ok"] == 2
    deprecated = [line for line in err.splitlines() if "is deprecated" in line]
    if backend == "--engine":
        assert deprecated == ["aestudio: warning: --engine is deprecated; use --backend",
                              "aestudio: warning: --jobs is deprecated; use --workers"]
    else:
        assert deprecated == []


def test_an_unknown_backend_is_refused(tmp_path):
    with pytest.raises(BatchError, match="unknown batch backend 'spark'"):
        run_batch(BatchOptions("denoise", str(tmp_path), str(tmp_path / "o")), "spark")


# ---------------------------------------------------------------- the runner itself


class CountingEngine:
    """Wraps a real engine; counts calls and remembers the threads it was made with."""

    made: list = []

    def __init__(self, engine, threads):
        self.engine, self.threads, self.calls = engine, threads, 0
        CountingEngine.made.append(self)

    def model(self, *a, **k):
        return self.engine.model(*a, **k)

    def denoise(self, *a, **k):
        self.calls += 1
        return self.engine.denoise(*a, **k)


def test_one_engine_per_worker_reused_over_the_folder(tiny_models, photos, tmp_path):
    from app.core.engine import Engine

    src = photos([f"p{i:02d}.png" for i in range(8)])
    CountingEngine.made = []

    def factory(threads):
        return CountingEngine(Engine(tiny_models, provider="cpu", threads=threads), threads)

    events: list[BatchProgress] = []
    opts = BatchOptions("denoise", str(src), str(tmp_path / "out"), workers=2, threads=1)
    report = BatchRunner(opts, engine_factory=factory, on_progress=events.append).run()
    assert report.totals["ok"] == 8
    assert len(CountingEngine.made) == 2 and all(e.threads == 1 for e in CountingEngine.made)
    assert sum(e.calls for e in CountingEngine.made) == 8
    assert events[-1].finished and events[-1].done == 8 and events[-1].ok == 8
    assert all(0 <= e.done <= e.total == 8 for e in events)
    assert all(f.details["inference_seconds"] > 0 for f in report.files)


def test_external_cancel_stops_the_batch(tiny_models, photos, tmp_path):
    src = photos([f"p{i:02d}.png" for i in range(10)])
    done: list[BatchProgress] = []
    opts = BatchOptions("denoise", str(src), str(tmp_path / "out"), models_dir=str(tiny_models),
                        provider="cpu")
    report = run_batch(opts, on_progress=done.append,
                       cancel=lambda: any(p.ok >= 2 for p in done))
    assert report.cancelled
    t = report.totals
    assert t["ok"] >= 2 and t["skipped"] >= 1 and t["ok"] + t["skipped"] == 10
    assert len(tree(tmp_path / "out")) == t["ok"]
    assert not temp_files(tmp_path / "out")


def test_text_progress_tty_and_plain():
    p = BatchProgress(done=3, total=10, ok=2, failed=1, skipped=0, current="sub/x.png",
                      elapsed=2.0, rate=1.5, eta=4.7)
    line = TextProgress.line(p)
    for part in ("3/10", "30%", "1.50 img/s", "ETA 0:05", "1 failed", "sub/x.png"):
        assert part in line
    tty = io.StringIO()
    bar = TextProgress(tty, tty=True, min_redraw=0)
    bar(p)
    bar(BatchProgress(10, 10, 9, 1, 0, "y.png", 5.0, 2.0, 0.0, finished=True))
    text = tty.getvalue()
    assert text.startswith("\r") and text.count("\r") == 2 and text.endswith("\n")
    plain = io.StringIO()
    bar = TextProgress(plain, tty=False, interval=3600)
    bar(p)                                   # the first line is printed
    bar(BatchProgress(4, 10, 3, 1, 0, "z.png", 3.0, 1.3, 4.0))   # within the interval: not
    bar(BatchProgress(10, 10, 9, 1, 0, "y.png", 5.0, 2.0, 0.0, finished=True))
    bar(BatchProgress(10, 10, 9, 1, 0, "y.png", 5.0, 2.0, 0.0, finished=True))
    lines = plain.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in plain.getvalue()
    assert lines[0].startswith("batch: ") and "10/10" in lines[1]
