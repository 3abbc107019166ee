"""Training speed of the codec on this machine: which knobs pay on a CPU.

Times the real training step of a config (forward, rate-distortion loss, backward, Adam) on
random crops for each variant: memory format (NCHW or channels-last), bf16 autocast,
``torch.compile``, crop size and thread count. Prints a table of seconds per step and
training pixels per second, and writes ``benchmarks/results/train_speed.json``.

    python benchmarks/train_speed.py                     # the codec config, every variant
    python benchmarks/train_speed.py --variants base,channels_last --steps 5

Run it on an idle machine: another training on the other core halves what it measures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
# name -> (channels_last, bf16, compile, patch, batch, threads)
VARIANTS = {
    "base": (False, False, False, 128, 8, 2),
    "channels_last": (True, False, False, 128, 8, 2),
    "bf16": (True, True, False, 128, 8, 2),
    "compile": (True, False, True, 128, 8, 2),
    "bf16_compile": (True, True, True, 128, 8, 2),
    "patch192": (True, False, False, 192, 4, 2),  # crops must be multiples of 64
    "patch256": (True, False, False, 256, 2, 2),
    "threads1": (True, False, False, 128, 8, 1),
}


def cpu_info() -> dict:
    """CPU model and the bf16 instructions it has: whether bf16 autocast pays depends on them,
    and the machines this project runs on change from session to session."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {"cpu": platform.processor(), "bf16_instructions": []}
    model = next((ln.split(":", 1)[1].strip() for ln in text.splitlines()
                  if ln.startswith("model name")), platform.processor())
    flags = next((ln.split(":", 1)[1].split() for ln in text.splitlines()
                  if ln.startswith("flags")), [])
    return {"cpu": model, "bf16_instructions": sorted(f for f in flags
                                                      if f in ("avx512_bf16", "amx_bf16"))}


def time_variant(config: str, name: str, steps: int, warmup: int) -> dict:
    import torch

    from training.config import TrainConfig
    from training.engine import build_model
    from training.tasks import STEPS

    channels_last, bf16, compiled, patch, batch, threads = VARIANTS[name]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = TrainConfig.load(config)
    model = build_model(cfg)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt).train()
    optim = torch.optim.Adam(model.parameters(), lr=1e-4)
    step_fn = STEPS[cfg.task]
    forward = torch.compile(step_fn) if compiled else step_fn
    rng = np.random.default_rng(0)
    crops = torch.rand(batch, 3, patch, patch).contiguous(memory_format=fmt)
    times = []
    t_first = time.perf_counter()
    for i in range(warmup + steps):
        t = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss, _ = forward(model, crops, rng)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        if i >= warmup:
            times.append(time.perf_counter() - t)
        elif i == warmup - 1:
            warm_s = time.perf_counter() - t_first
    s = float(np.median(times))
    return {"variant": name, "config": Path(config).name, "channels_last": channels_last,
            "bf16": bf16, "compile": compiled, "patch": patch, "batch": batch,
            "threads": threads, "s_per_step": s, "pixels_per_s": batch * patch * patch / s,
            "warmup_s": warm_s, "steps_timed": steps}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "training/configs/codec-hyperprior-v2.json"))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", type=Path, default=RESULTS / "train_speed.json")
    args = parser.parse_args(argv)
    names = args.variants.split(",")
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    rows, load = [], os.getloadavg()[0]
    cpu = cpu_info()
    print(f"{cpu['cpu']}; bf16 instructions: {', '.join(cpu['bf16_instructions']) or 'none'}")
    print(f"{'variant':<14} {'patch':>5} {'thr':>3} {'s/step':>7} {'Mpix/s':>7} {'vs base':>8}")
    for name in names:
        row = time_variant(args.config, name, args.steps, args.warmup)
        rows.append(row)
        base = next((r for r in rows if r["variant"] == "base"), None)
        rel = f"{row['pixels_per_s'] / base['pixels_per_s']:.2f}x" if base else "-"
        print(f"{name:<14} {row['patch']:>5} {row['threads']:>3} {row['s_per_step']:>7.3f} "
              f"{row['pixels_per_s'] / 1e6:>7.3f} {rel:>8}", flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    info = {"machine": platform.platform(), **cpu, "cpus": os.cpu_count(),
            "load_before": load, "rows": rows}
    args.json.write_text(json.dumps(info, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
