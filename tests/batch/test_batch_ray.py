"""``--backend ray`` on a local Ray instance: same outputs and report as the local backend, on
paths and on pyarrow URLs (``file://``)."""

from __future__ import annotations

import json

import pytest

from app.core.batch.plan import BatchOptions
from app.main import main
from tests.batch.helpers import temp_files, tree, write_mask

ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")
pytest.importorskip("pyarrow.fs")


@pytest.fixture(scope="module")
def local_ray():
    """One small local Ray instance for the module (the CLI reuses a running one)."""
    if not ray.is_initialized():
        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_backend_on_local_paths(capsys, local_ray, tiny_models, photos, tmp_path):
    src = photos(["a.png", "b.jpg", "sub/c.png"])
    (src / "sub" / "broken.png").write_bytes(b"nope")
    before = tree(src)
    out, report = tmp_path / "out", tmp_path / "report.json"
    code = main(["batch", str(src), str(out), "--task", "denoise", "--recursive",
                 "--models", str(tiny_models), "--backend", "ray", "--report", str(report)])
    _, err = capsys.readouterr()
    assert code == 3
    rep = json.loads(report.read_text())
    assert rep["engine"] == "ray"
    assert rep["totals"] == {"files": 4, "ok": 3, "failed": 1, "skipped": 0}
    failed = [f for f in rep["files"] if f["status"] == "failed"]
    assert failed[0]["relative"] == "sub/broken.png" and "not a recognised" in failed[0]["error"]
    assert sorted(tree(out)) == ["a.png", "b.png", "sub/c.png"]
    assert tree(src) == before and not temp_files(out)
    assert "aestudio: failed: sub/broken.png" in err

    # a rerun skips everything that exists
    code = main(["batch", str(src), str(out), "--task", "denoise", "--recursive", "--models",
                 str(tiny_models), "--backend", "ray", "--skip-existing", "--json"])
    rep = json.loads(capsys.readouterr().out)
    assert rep["totals"]["skipped"] == 3 and rep["totals"]["failed"] == 1


def test_ray_backend_on_pyarrow_urls(local_ray, tiny_models, photos, tmp_path):
    from app.core.batch.ray_backend import run_ray

    src = photos(["x.png", "deep/y.png"])
    masks = tmp_path / "masks"
    write_mask(masks / "x.png")
    write_mask(masks / "deep" / "y.jpg")
    out = tmp_path / "out"
    opts = BatchOptions("inpaint", src.as_uri(), out.as_uri(), recursive=True,
                        masks=masks.as_uri(), models_dir=str(tiny_models), provider="cpu")
    rep = run_ray(opts)
    assert rep.totals == {"files": 2, "ok": 2, "failed": 0, "skipped": 0}
    assert sorted(tree(out)) == ["deep/y.png", "x.png"]
    assert all(f.output.startswith("file://") for f in rep.files)
    assert not temp_files(out)
    # an existing output without --force / --skip-existing is a per-file error
    rep = run_ray(opts)
    assert rep.totals["failed"] == 2 and "exists" in rep.files[0].error


def test_output_url_inside_input_url_is_refused(tiny_models, photos):
    from app.core.batch.plan import BatchError, check_folders

    src = photos(["x.png"])
    with pytest.raises(BatchError, match="inside the input folder"):
        check_folders(BatchOptions("denoise", src.as_uri(), (src / "o").as_uri()))
    with pytest.raises(BatchError, match="inside the input folder"):
        check_folders(BatchOptions("denoise", "s3://bucket/photos", "s3://bucket/photos/out"))
    check_folders(BatchOptions("denoise", "s3://bucket/photos", "s3://bucket/photos-out"))
