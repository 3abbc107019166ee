"""Peak memory of denoise and inpaint on a 48-megapixel photo stays under 1.5 GB.

Each run is a fresh process (so its peak RSS is its own), with the tiny models trained by the
test session: the image buffers, tiles and bands are the same as with the shipped models; the
shipped models' per-tile working memory is measured by ``benchmarks/large_images.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

LIMIT_MIB = 1536
H, W = 6000, 8000  # 48 megapixels

CHILD = textwrap.dedent("""
    import json, resource, sys
    import numpy as np
    from app.core.engine import Engine

    models, task = sys.argv[1], sys.argv[2]
    h, w, big = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
    rng = np.random.default_rng(0)
    patch = rng.integers(0, 256, (500, 500, 3), dtype=np.uint8)
    img = np.tile(patch, (h // 500, w // 500, 1))
    engine = Engine(models_dir=models, provider="cpu")
    if task == "denoise":
        out, _ = engine.denoise(img)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ok = out.shape == img.shape and out.dtype == np.uint8
    else:
        mask = np.zeros((h, w), np.uint8)
        if big:  # a quarter of the image: the first guess's pyramid and relaxation work most
            mask[h // 4:3 * h // 4, w // 4:3 * w // 4] = 1
        else:
            mask[1000:1400, 2000:2600] = 1
        out = engine.inpaint(img, mask)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        ok = out.shape == img.shape and bool((out[mask == 0] == img[mask == 0]).all())
        ok = ok and bool((out[mask == 1] != img[mask == 1]).any())
    # (the peak is read before the checks: their boolean-indexed copies are the test's own)
    print(json.dumps({"ok": ok, "peak_mib": peak}))
""")


@pytest.mark.parametrize("task", ["denoise", "inpaint", "inpaint-fill", "inpaint-harmonic"])
def test_48_megapixels_stay_under_1_5_gb(request, task):
    """``inpaint-fill`` / ``inpaint-harmonic``: inpainters that first fill the holes by
    push-pull / the harmonic fill on the whole image (app/core/restore/hole_fill.py) before the tiles
    run; the mask of those two runs covers a quarter of the image."""
    fixture = {"inpaint-fill": "tiny_fill_models", "inpaint-harmonic": "tiny_harmonic_models"}
    models = request.getfixturevalue(fixture.get(task, "tiny_models"))
    big_mask = task in fixture
    task = task.split("-")[0]
    proc = subprocess.run([sys.executable, "-c", CHILD, str(models), task, str(H), str(W),
                           str(int(big_mask))],
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["ok"]
    assert result["peak_mib"] < LIMIT_MIB, f"{task}: peak {result['peak_mib']:.0f} MiB"
