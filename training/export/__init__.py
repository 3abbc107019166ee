"""Export trained models to ONNX + frozen tables + manifest under ``models/<id>/``,
then check onnxruntime against torch."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from app.fixedpoint import versions
from app.fixedpoint.tables import CodecTables
from app.spec.manifest import FileEntry, GraphIO, Manifest, sha256_file

from ..config import TrainConfig
from ..engine import build_model, load_weights
from .channel_tables import channel_fixed_tables, check_channel_fixed
from .context_tables import check_checkerboard_fixed, checkerboard_fixed_tables
from .graphs import GRAPHS, check_parity, export_graph
from .staging import publish, staging_dir
from .tables import check_hyper_fixed, codec_tables


def training_record(weights: Path, cfg: TrainConfig) -> dict:
    """Steps and wall time the checkpoint records, with the config that produced it."""
    with safe_open(str(weights), framework="pt") as f:
        meta = f.metadata() or {}
    steps = int(meta.get("step", -1))
    # a checkpoint written outside the engine records no time: 0, since JSON has no NaN
    minutes = float(meta.get("elapsed_s", 0)) / 60
    record = {"steps": steps, "minutes": round(minutes, 1),
              "config": f"training/configs/{cfg.name}.json", "seed": cfg.seed,
              "data": [d.folder for d in cfg.data]}
    if meta.get("averaged_steps"):  # written by ``python -m training average``
        record["averaged_steps"] = [int(n) for n in meta["averaged_steps"].split(",")]
    if meta.get("init_from"):
        record.update(init_from=meta["init_from"],
                      total_steps=steps + int(meta.get("init_steps", 0)),
                      total_minutes=round(minutes + float(meta.get("init_elapsed_s", 0)) / 60, 1))
    return record


def report_fixed_point(what: str, check: dict[str, float], tol: float) -> None:
    """Print a fixed-point parity check and refuse the export when it exceeds ``tol``."""
    print(f"{what}: fixed point vs torch mean relative diff means {check['means']:.1e}, "
          f"scales {check['scales']:.1e}; scale indexes agree {check['index_agreement']:.2%}")
    if max(check["means"], check["scales"]) > tol:
        raise RuntimeError(f"{what}: fixed-point parity {check} exceeds {tol:.0e}")


def export_model(cfg: TrainConfig, weights: str | None = None, runs: str = "runs",
                 models: str = "models", parity_tol: float = 2e-3,
                 hyper_tol: float = 1e-2) -> Path:
    weights = Path(weights or Path(runs) / cfg.name / "weights.safetensors")
    model = build_model(cfg)
    load_weights(model, weights)
    model.eval()
    out = Path(models) / cfg.name
    tmp = staging_dir(out)
    files: dict[str, FileEntry] = {}
    graphs: dict[str, GraphIO] = {}
    for name, spec in GRAPHS[cfg.task].items():
        path = tmp / f"{name}.onnx"
        export_graph(model, spec, path)
        err = check_parity(model, spec, path)
        print(f"{name}: onnxruntime vs torch max abs diff {err:.2e}")
        if err > parity_tol:
            raise RuntimeError(f"{name}: ONNX parity {err:.2e} exceeds {parity_tol:.0e}")
        graphs[name] = GraphIO(list(spec.inputs), list(spec.outputs))
    params = {"architecture": cfg.arch, "arch_args": cfg.arch_args,
              "training": training_record(weights, cfg)}
    if getattr(model, "estimator", None) is not None:  # the app estimates the map with it
        params["noise_map"] = {"graph": "noise_map", "scale": int(model.map_scale)}
    if getattr(model, "hole_fill", None):
        params["hole_fill"] = model.hole_fill  # the app fills the holes that way first
    if cfg.task == "codec":
        tables = codec_tables(model)
        report_fixed_point("hyper_synthesis", check_hyper_fixed(model, tables), hyper_tol)
        params.update(levels=int(model.levels), latent_channels=int(model.M),
                      hyper_channels=int(model.N), hyper=versions.HYPER)
        version = getattr(model, "context_version", None)
        if version in versions.CONTEXTS:
            tables.update(checkerboard_fixed_tables(model, int(tables["hyper_frac_bits"])))
            report_fixed_point("checkerboard context", check_checkerboard_fixed(model, tables),
                               hyper_tol)
            if version == versions.CHANNEL_CHECKERBOARD:  # groups on top of the checkerboard
                tables.update(channel_fixed_tables(model, int(tables["hyper_frac_bits"])))
                report_fixed_point("channel context", check_channel_fixed(model, tables),
                                   hyper_tol)
            params["context"] = version
        CodecTables.from_arrays(tables).save(tmp / "tables.npz")  # the layout the app reads
    half = {k: v.detach().to(torch.float16) if v.is_floating_point() else v
            for k, v in model.state_dict().items()}
    save_file({k: v.contiguous() for k, v in half.items()}, str(tmp / "weights.safetensors"))
    (tmp / "weights.safetensors").chmod(0o644)
    for p in sorted(tmp.iterdir()):
        if p.suffix in (".onnx", ".npz"):
            files[p.stem] = FileEntry(p.name, sha256_file(p))
    manifest = Manifest(id=cfg.name, task=MANIFEST_TASK.get(cfg.task, cfg.task), title=cfg.title or cfg.name, files=files,
                        graphs=graphs, downsample=int(getattr(model, "downsample", 1)),
                        tile_size=GRAPHS_TILE[cfg.task][0], tile_overlap=GRAPHS_TILE[cfg.task][1],
                        params=params)
    manifest.save(tmp)
    publish(tmp, out)
    print(f"exported {cfg.name} -> {out} (model hash {manifest.model_hash()[:16]})")
    return out


# (tile size, overlap) used by the app for tiled inference of each task. The denoiser runs
# 1.3x faster on 448-pixel tiles than on 512-pixel ones on this CPU (docs/training.md).
GRAPHS_TILE = {"codec": (0, 0), "autoencoder": (0, 0), "denoise": (448, 32), "inpaint": (512, 96),
               "denoise_realnoise": (448, 32)}
# Training tasks that ship as one of the app's tasks (a variant with its own training step).
MANIFEST_TASK = {"denoise_realnoise": "denoise"}
