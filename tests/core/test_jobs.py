"""File jobs (app.core.jobs) on a scripted engine: the typed result of each task and the
object ``--json`` prints from it, the mask rule, the task tables."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from app.core.jobs import (
    JOB_TASKS,
    MODEL_TASK,
    CompressJobResult,
    DenoiseJobResult,
    InpaintJobResult,
    Job,
    JobResult,
    load_mask,
    run,
)
from app.spec.manifest import TASKS as MODEL_TASKS
from app.core.runtime.tiling import Cancelled
from tests.conftest import smooth_image
from tests.core.fake_engine import FakeEngine

COMMON = ["task", "input", "output", "bytes", "seconds"]


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(smooth_image(24, 32, seed=4)).save(path)
    return path


def test_compress_result_and_its_json_keys(photo):
    engine = FakeEngine()
    res = run(Job("compress", photo, quality=40), engine)
    assert isinstance(res, CompressJobResult)
    d = res.to_dict()
    assert list(d) == COMMON + ["bpp", "quality", "model"]          # no psnr unless measured
    assert d["output"] == str(photo.with_suffix(".aei")) and d["bytes"] == 40
    assert d["bpp"] == round(40 * 8 / (24 * 32), 4) and d["model"] == "fake-codec"
    assert engine.calls == ["compress"]
    assert res.extra == {"bpp": d["bpp"], "quality": 40.0, "model": "fake-codec"}

    res = run(Job("compress", photo, quality=40, force=True, measure=True), engine)
    assert list(res.to_dict()) == COMMON + ["bpp", "quality", "model", "psnr"]
    assert 40 < res.psnr < 60 and res.psnr == round(res.psnr, 3)   # every value off by one
    json.dumps(res.to_dict())


def test_decompress_result_has_the_common_keys_only(photo, tmp_path):
    engine = FakeEngine()
    run(Job("compress", photo), engine)
    res = run(Job("decompress", photo.with_suffix(".aei"), output=tmp_path / "back.png"),
              engine)
    assert type(res) is JobResult and list(res.to_dict()) == COMMON and res.extra == {}


def test_compress_and_decompress_jobs_report_steps_and_stop_when_cancelled(photo, tmp_path):
    engine, seen = FakeEngine(), []
    run(Job("compress", photo), engine, progress=lambda d, t: seen.append(("c", d, t)))
    back = tmp_path / "back.png"
    run(Job("decompress", photo.with_suffix(".aei"), output=back), engine,
        progress=lambda d, t: seen.append(("d", d, t)))
    assert seen == [("c", 1, 1), ("d", 1, 1)]
    back.unlink()
    with pytest.raises(Cancelled):
        run(Job("decompress", photo.with_suffix(".aei"), output=back), engine,
            cancel=lambda: True)
    assert not back.exists()


def test_denoise_result_shows_strength_only_where_it_is_not_one(photo, tmp_path):
    res = run(Job("denoise", photo), FakeEngine())
    assert isinstance(res, DenoiseJobResult)
    assert list(res.to_dict()) == COMMON + ["passes", "sigma"] and res.sigma == 12.35
    res = run(Job("denoise", photo, output=tmp_path / "b.png", strength=0.5, passes=2),
              FakeEngine())
    assert res.extra == {"passes": 2, "sigma": 12.35, "strength": 0.5}


def test_inpaint_result_and_the_mask_rule(photo, tmp_path):
    mask = np.zeros((24, 32), np.uint8)
    mask[:6, :] = 128                                # a quarter of the rows, just over half way
    Image.fromarray(mask).save(tmp_path / "mask.png")
    res = run(Job("inpaint", photo, mask=tmp_path / "mask.png"), FakeEngine())
    assert isinstance(res, InpaintJobResult)
    assert list(res.to_dict()) == COMMON + ["passes", "hole_fraction"]
    assert res.hole_fraction == 0.25
    out = np.asarray(Image.open(res.output))
    assert (out[:6] == 255).all() and not (out[6:] == 255).all()
    with pytest.raises(ValueError, match="needs a mask"):
        run(Job("inpaint", photo, force=True), FakeEngine())


def test_load_mask_names_the_file_on_a_size_mismatch(tmp_path):
    path = tmp_path / "m.png"
    Image.fromarray(np.full((4, 5), 255, np.uint8)).save(path)
    assert load_mask(path, (4, 5)).all()
    with pytest.raises(ValueError, match=rf"^mask {path} is 5x4, the image is 3x2$"):
        load_mask(path, (2, 3))


def test_unknown_task_is_refused(photo, tmp_path):
    with pytest.raises(ValueError, match="unknown task"):
        run(Job("sharpen", photo, output=tmp_path / "x.png"), FakeEngine())


def test_task_tables_agree_with_the_model_tasks():
    assert set(MODEL_TASK) < set(JOB_TASKS)          # decompress: the codec the file names
    assert set(MODEL_TASK.values()) == set(MODEL_TASKS)


def test_batch_uses_the_same_tables():
    from app.core.batch import plan
    from app.core.io.file_types import AEI_SUFFIX, IMAGE_SUFFIXES

    assert plan.JOB_TASKS is JOB_TASKS
    assert plan.IMAGE_SUFFIXES is IMAGE_SUFFIXES and plan.AEI_SUFFIX == AEI_SUFFIX
