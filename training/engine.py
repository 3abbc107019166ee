"""One training loop for every task: resumable checkpoints, cosine schedule, progress lines."""

from __future__ import annotations

import json
import math
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from . import archs
from .config import TrainConfig
from .data import CropSampler, load_folder
from .tasks import STEPS


def build_model(cfg: TrainConfig) -> torch.nn.Module:
    return archs.build(cfg.arch, **cfg.arch_args)


def run_dir(cfg: TrainConfig, root: str | Path = "runs") -> Path:
    d = Path(root) / cfg.name
    d.mkdir(parents=True, exist_ok=True)
    return d


def save_checkpoint(path: Path, model, optim, state: dict) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optim": optim.state_dict(), "state": state}, tmp)
    tmp.replace(path)
    weights = path.with_name("weights.safetensors")
    tmp_w = weights.with_suffix(".tmp")
    prior = state.get("init", {})
    meta = {"step": str(state["step"]), "elapsed_s": f"{state['elapsed']:.0f}",
            "init_from": prior.get("from", ""), "init_steps": str(prior.get("steps", 0)),
            "init_elapsed_s": f"{prior.get('elapsed', 0.0):.0f}"}
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp_w),
              metadata=meta)
    tmp_w.replace(weights)


def keep_snapshot(run: Path, step: int, kept: int) -> Path:
    """Copy the run's current ``weights.safetensors`` to ``snapshots/weights-<step>.safetensors``
    and delete all but the newest ``kept`` snapshots (names sort by step)."""
    folder = run / "snapshots"
    folder.mkdir(exist_ok=True)
    dest = folder / f"weights-{step:08d}.safetensors"
    tmp = dest.with_suffix(".tmp")
    shutil.copyfile(run / "weights.safetensors", tmp)
    tmp.replace(dest)
    for old in sorted(folder.glob("weights-*.safetensors"))[:-kept]:
        old.unlink()
    return dest


def init_source(init: str | Path) -> tuple[Path, dict]:
    """Weights file to start from and the training it already had (steps and seconds).

    ``init`` is a shipped model folder (``models/<id>``, whose manifest records its training)
    or a ``.safetensors`` file written by :func:`save_checkpoint`.
    """
    init = Path(init)
    if init.is_dir():
        record = json.loads((init / "manifest.json").read_text())["params"]["training"]
        steps = record.get("total_steps", record["steps"])
        minutes = record.get("total_minutes", record["minutes"])
        return init / "weights.safetensors", {"from": init.name, "steps": int(steps),
                                               "elapsed": float(minutes) * 60}
    from safetensors import safe_open

    with safe_open(str(init), framework="pt") as f:
        meta = f.metadata() or {}
    steps = int(meta.get("step", 0)) + int(meta.get("init_steps", 0))
    elapsed = float(meta.get("elapsed_s", 0)) + float(meta.get("init_elapsed_s", 0))
    return init, {"from": init.name, "steps": steps, "elapsed": elapsed}


def load_weights(model: torch.nn.Module, path: str | Path, skip: list[str] = ()) -> None:
    """Load weights of any float dtype (shipped models keep fp16 copies) into ``model``.

    ``skip``: prefixes of parameters to leave out, for a model that drops layers of the one it
    starts from; everything else must match exactly, except what the model's own
    ``adapt_init_state(params)`` maps (a codec's gain vectors for other rate points, an
    inpainter's first-guess convolution that its parent lacks).
    """
    params = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(path)).items()
              if not any(k.startswith(p) for p in skip)}
    adapt = getattr(model, "adapt_init_state", None)
    model.load_state_dict(adapt(params) if adapt else params)


def param_groups(model: torch.nn.Module, lr_scale: dict[str, float]) -> list[dict]:
    """Adam parameter groups: one per ``lr_scale`` prefix (its parameters get that multiple of
    the learning rate), then the rest at 1x. Every prefix must name some parameter."""
    named = list(model.named_parameters())
    groups, taken = [], set()
    for prefix, scale in lr_scale.items():
        names = [n for n, _ in named if n.startswith(prefix) and n not in taken]
        if not names:
            raise ValueError(f"lr_scale: no parameter of the model starts with {prefix!r}")
        taken.update(names)
        groups.append({"params": [p for n, p in named if n in names], "scale": float(scale)})
    rest = [p for n, p in named if n not in taken]
    return [{"params": rest, "scale": 1.0}, *groups]


def learning_rate(cfg: TrainConfig, step: int, elapsed_s: float) -> float:
    """Cosine decay from ``lr`` to ``lr_min`` over the step or time budget, whichever runs out
    first, after a linear warm-up of ``warmup_steps``."""
    progress = min(1.0, max(step / cfg.steps, elapsed_s / (cfg.max_minutes * 60)))
    lr = cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * progress))
    if cfg.warmup_steps:
        lr *= min(1.0, (step + 1) / cfg.warmup_steps)
    return lr


def train(cfg: TrainConfig, init: str | None = None, root: str | Path = "runs") -> Path:
    if cfg.snapshot_every and cfg.snapshots_kept < 1:
        raise ValueError("snapshots_kept must be at least 1 when snapshot_every is set")
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    out = run_dir(cfg, root)
    (out / "config.json").write_text(json.dumps(cfg.__dict__, default=lambda o: o.__dict__,
                                                indent=2))
    model = build_model(cfg).to(memory_format=torch.channels_last)
    optim = torch.optim.Adam(param_groups(model, cfg.lr_scale), lr=cfg.lr)
    state = {"step": 0, "elapsed": 0.0}
    ckpt = out / "last.pt"
    if ckpt.exists():
        saved = torch.load(ckpt, weights_only=True)
        model.load_state_dict(saved["model"])
        optim.load_state_dict(saved["optim"])
        state = saved["state"]
        print(f"resumed {cfg.name} at step {state['step']} ({state['elapsed'] / 60:.1f} min)")
    elif init or cfg.init:
        weights, state["init"] = init_source(init or cfg.init)
        load_weights(model, weights, skip=cfg.init_skip)
        print(f"initialised {cfg.name} from {weights} ({state['init']['steps']} steps before)")

    images = []
    for src in cfg.data:
        images += load_folder(src.path, src.downscale, min_side=cfg.patch)
    print(f"{len(images)} training images; {sum(p.numel() for p in model.parameters()):,} "
          f"parameters", flush=True)
    rng = np.random.default_rng(cfg.seed + state["step"])
    sampler = CropSampler(images, cfg.patch, cfg.batch, seed=cfg.seed + state["step"])
    step_fn = torch.compile(STEPS[cfg.task]) if cfg.compile else STEPS[cfg.task]
    budget = cfg.max_minutes * 60
    model.train()
    t_start, t_log = time.time(), time.time()
    base_elapsed = state["elapsed"]
    sums: dict[str, float] = {}
    saved_at = state["step"] if ckpt.exists() else None  # a resumed run has saved this step
    while state["step"] < cfg.steps and state["elapsed"] < budget:
        lr = learning_rate(cfg, state["step"], state["elapsed"])
        for g in optim.param_groups:
            g["lr"] = lr * g["scale"]  # param_groups gives every group its multiple
        batch = torch.from_numpy(sampler()).contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            loss, metrics = step_fn(model, batch, rng, **cfg.task_args)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optim.step()
        state["step"] += 1
        state["elapsed"] = base_elapsed + time.time() - t_start
        for k, v in {"loss": float(loss.detach()), **metrics}.items():
            sums[k] = sums.get(k, 0.0) + v
        if state["step"] % cfg.log_every == 0:
            now = time.time()
            avg = " ".join(f"{k}={v / cfg.log_every:.4g}" for k, v in sums.items())
            print(f"step {state['step']} {avg} lr={lr:.2e} "
                  f"{cfg.log_every / (now - t_log):.2f} it/s elapsed={state['elapsed'] / 60:.1f}m",
                  flush=True)
            sums, t_log = {}, now
        snapshot = cfg.snapshot_every and state["step"] % cfg.snapshot_every == 0
        if snapshot or state["step"] % cfg.checkpoint_every == 0:
            save_checkpoint(ckpt, model, optim, state)
            saved_at = state["step"]
        if snapshot:  # a copy of the weights file the checkpoint just wrote
            keep_snapshot(out, state["step"], cfg.snapshots_kept)
    if saved_at != state["step"]:  # the last step was not saved in the loop
        save_checkpoint(ckpt, model, optim, state)
        if cfg.snapshot_every:  # the final weights belong to the late ones that get averaged
            keep_snapshot(out, state["step"], cfg.snapshots_kept)
    print(f"done {cfg.name}: {state['step']} steps, {state['elapsed'] / 60:.1f} min", flush=True)
    return ckpt
