"""Measure the noise estimator's bias on *training* photos and print the correction table.

    PYTHONPATH=. python benchmarks/sigma_calibration.py [--images 120]

Users' files are 8-bit: noise is clipped at 0 and 255 and rounded, so the raw estimate of
``app.core.restore.noise_level`` comes out low at high noise levels (clipping removes part of the
noise). This adds Gaussian noise of known σ to photos from ``$AESTUDIO_DATA/train``
(never an evaluation set), clips and rounds like a user's file, and reports the median raw
estimate per σ: those medians and the σ added are the piecewise-linear correction
``_SIGMA_CALIBRATION`` in ``app/core/restore/noise_level.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.io.imageio import load_image  # noqa: E402
from app.core.io.pixels import to_rgb  # noqa: E402
from app.core.restore.noise_level import raw_sigma_estimate  # noqa: E402
from app.spec.data_paths import data_path  # noqa: E402

TRAIN = data_path("train")
SIGMAS = (0, 5, 10, 15, 20, 25, 30, 40, 50, 60, 75)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--images", type=int, default=120)
    args = ap.parse_args(argv)
    files = sorted(TRAIN.glob("*.png")) + sorted(TRAIN.glob("*.jpg"))
    files = files[:: max(1, len(files) // args.images)][: args.images]
    rng = np.random.default_rng(2026)
    print(f"{len(files)} training photos")
    print(f"{'sigma':>6} {'median est':>11} {'p10':>7} {'p90':>7}")
    photos = [to_rgb(load_image(f).pixels)[0] for f in files]
    pairs = []
    for sigma in SIGMAS:
        est = []
        for rgb in photos:
            noisy = np.clip(np.rint(rgb + rng.normal(0, sigma, rgb.shape)), 0, 255)
            est.append(raw_sigma_estimate(noisy.astype(np.uint8)))
        med = float(np.median(est))
        pairs.append((round(med, 2), sigma))
        print(f"{sigma:>6} {med:>11.2f} {np.percentile(est, 10):>7.2f} "
              f"{np.percentile(est, 90):>7.2f}")
    print("_SIGMA_CALIBRATION =", (tuple(e for e, _ in pairs), tuple(float(s) for _, s in pairs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
