"""Typed training configuration, read from JSON files in ``training/configs/``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from app.spec.data_paths import data_folder


@dataclass
class DataSource:
    # Relative to the data root ($AESTUDIO_DATA, app/spec/data_paths.py), e.g. "train"; the older
    # "../shared/data/train" names the same folder; an absolute path is taken as it is.
    folder: str
    downscale: int = 1

    @property
    def path(self) -> Path:
        """Where the photos are, with the data root applied."""
        return data_folder(self.folder)


@dataclass
class TrainConfig:
    name: str
    task: str
    arch: str
    arch_args: dict = field(default_factory=dict)
    data: list[DataSource] = field(default_factory=list)
    patch: int = 128
    batch: int = 8
    steps: int = 100_000
    max_minutes: float = 60.0
    lr: float = 1e-4
    lr_min: float = 1e-5
    grad_clip: float = 1.0
    warmup_steps: int = 0  # linear learning-rate warm-up (a fresh Adam on trained weights)
    seed: int = 0
    threads: int = 2
    # bf16 autocast: about 2.5x faster on a CPU with AMX, 9x slower on one without AVX-512 BF16
    # (docs/training.md)
    bf16: bool = False
    compile: bool = False  # torch.compile the training step: 1.4x on the codec here
    checkpoint_every: int = 200
    # Keep a copy of the weights every this many steps, and of the final weights, in
    # runs/<name>/snapshots/ (0: none), at most snapshots_kept of them: the late checkpoints
    # that `training average` takes.
    snapshot_every: int = 0
    snapshots_kept: int = 8
    log_every: int = 50
    title: str = ""
    init: str = ""  # a models/<id> folder or .safetensors file to start from
    init_skip: list[str] = field(default_factory=list)  # parameter prefixes init leaves out
    task_args: dict = field(default_factory=dict)  # extra keyword arguments of the task's step
    # parameter prefix -> learning-rate multiplier (new layers beside trained ones learn faster)
    lr_scale: dict = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        raw = json.loads(Path(path).read_text())
        raw["data"] = [DataSource(**d) for d in raw.get("data", [])]
        return cls(**raw)
