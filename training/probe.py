"""Score weights on fixed crops of a config's training photos: ``python -m training probe``.

A run's logged loss is one noisy batch at a time, and the evaluation sets are for benchmarks
and model cards only, so this answers "is the run still getting better?" another way: every
weights file is scored on the same crops with the same masks, noise or rate levels (one seed),
in eval mode, with the task's own step function. The crops come from the training photos, so
the numbers compare checkpoints with each other; they are not a measure of quality on unseen
photos.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .config import TrainConfig
from .data import CropSampler, load_folder
from .engine import build_model, init_source, load_weights
from .tasks import STEPS


def probe_crops(cfg: TrainConfig, crops: int, size: int, seed: int) -> torch.Tensor:
    """``crops`` fixed random crops (size²) of the config's training photos, NCHW in [0, 1]."""
    images = []
    for src in cfg.data:
        try:
            images += load_folder(src.path, src.downscale, min_side=size)
        except FileNotFoundError:
            continue  # a folder with no image this large adds nothing
    if not images:
        raise ValueError(f"no training image of {cfg.name} is at least {size}px on each side")
    return torch.from_numpy(CropSampler(images, size, crops, seed=seed)())


def probe(cfg: TrainConfig, weights: list[str | Path], crops: int = 60, size: int = 256,
          batch: int = 10, seed: int = 1234) -> list[dict]:
    """Mean loss and step metrics of each weights file (a ``.safetensors`` file or a
    ``models/<id>`` folder) on the same crops, masks, noise and rate levels."""
    torch.set_num_threads(cfg.threads)
    model = build_model(cfg).eval()  # one network; each weights file is loaded into it
    if size % model.downsample:
        raise ValueError(f"crop size {size} is not a multiple of {cfg.name}'s downsampling "
                         f"factor {model.downsample}")
    clean = probe_crops(cfg, crops, size, seed)
    step = STEPS[cfg.task]
    results = []
    for path in weights:
        load_weights(model, init_source(path)[0])
        rng = np.random.default_rng(seed)  # the same draws for every weights file
        sums: dict[str, float] = {}
        with torch.no_grad():
            for i in range(0, crops, batch):
                part = clean[i:i + batch]
                loss, metrics = step(model, part, rng, **cfg.task_args)
                for k, v in {"loss": float(loss), **metrics}.items():
                    sums[k] = sums.get(k, 0.0) + v * len(part)
        results.append({"weights": str(path), **{k: v / crops for k, v in sums.items()}})
    return results


def format_table(results: list[dict]) -> str:
    keys = [k for k in results[0] if k != "weights"]
    width = max(len("weights"), *(len(r["weights"]) for r in results))
    lines = [f"{'weights':<{width}} " + " ".join(f"{k:>9}" for k in keys)]
    lines += [f"{r['weights']:<{width}} " + " ".join(f"{r[k]:>9.4f}" for k in keys)
              for r in results]
    return "\n".join(lines)
