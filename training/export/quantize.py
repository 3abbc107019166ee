"""Post-training int8 quantisation of an exported denoiser, layer by layer.

``python -m training quantize training/configs/<id>.json`` reads a shipped fp32 model
(``source``), quantises the convolutions whose ONNX node names contain one of ``nodes``
(static QDQ: per-channel int8 weights with 7-bit range, which avoids the int16 saturation of
AVX2's u8s8 kernels, and uint8 activations calibrated on noisy crops of the training photos),
checks the int8 graph against the fp32 one on other training crops, and writes a new model
folder whose manifest records the source model, the quantised nodes and the measured PSNR
change.  Only convolutions are quantised: the residual additions and the final subtraction
stay in float (quantising every operator costs 0.3 dB at sigma = 15, see docs/training.md).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.spec.manifest import FileEntry, Manifest, sha256_file

from ..config import DataSource
from ..data import CropSampler, load_folder
from .staging import publish, staging_dir


@dataclass
class QuantizeConfig:
    name: str
    source: str                      # a models/<id> folder holding the fp32 denoiser
    nodes: list[str]                 # substrings of the ONNX Conv node names to quantise
    data: list[DataSource] = field(default_factory=list)
    seed: int = 0
    calib_crops: int = 48
    calib_patch: int = 128
    calib_sigmas: list[float] = field(default_factory=lambda: [0, 5, 10, 15, 25, 35, 50])
    percentile: float = 99.999
    check_crops: int = 24
    check_patch: int = 192
    check_sigmas: list[float] = field(default_factory=lambda: [15, 25, 50])
    max_psnr_drop: float = 0.05      # dB, at any checked sigma
    title: str = ""
    description: str = ""            # which layers ``nodes`` picks, in words (for the card)

    @classmethod
    def load(cls, path: str | Path) -> QuantizeConfig:
        raw = json.loads(Path(path).read_text())
        raw["data"] = [DataSource(**d) for d in raw.get("data", [])]
        return cls(**raw)


def noisy_crops(images: list[np.ndarray], count: int, patch: int, sigmas: list[float],
                seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, float]]:
    """(noisy, sigma map, clean, sigma) crops: noise clipped and rounded to 8 bits."""
    sampler = CropSampler(images, patch, 1, seed=seed)
    rng = np.random.default_rng(seed + 1)
    out = []
    for i in range(count):
        clean = sampler()
        sigma = float(sigmas[i % len(sigmas)])
        noisy = np.round(np.clip(clean + rng.standard_normal(clean.shape) * sigma / 255, 0, 1)
                         * 255) / 255
        out.append((noisy.astype(np.float32), np.full((1, 1, patch, patch), sigma / 255,
                                                       np.float32), clean, sigma))
    return out


def _psnr_by_sigma(path: Path, crops) -> dict[float, float]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    scores: dict[float, list[float]] = {}
    for noisy, smap, clean, sigma in crops:
        out = sess.run(None, {"image": noisy, "sigma": smap})[0]
        err = np.mean((np.round(np.clip(out, 0, 1) * 255) - clean * 255) ** 2)
        scores.setdefault(sigma, []).append(10 * np.log10(255 ** 2 / max(err, 1e-10)))
    return {s: float(np.mean(v)) for s, v in scores.items()}


def conv_nodes(model_path: Path, fragments: list[str]) -> list[str]:
    """Names of the Conv/ConvTranspose nodes that contain any of ``fragments``."""
    import onnx

    graph = onnx.load(str(model_path)).graph
    names = [n.name for n in graph.node if n.op_type in ("Conv", "ConvTranspose")
             and any(f in n.name for f in fragments)]
    if not names:
        raise ValueError(f"no convolution node matches {fragments}")
    return names


def _quantize_into(tmp: Path, fp32: Path, cfg: QuantizeConfig, calib, check):
    """Write ``tmp/denoise.onnx``; return the int8 node names and PSNR before and after."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod,
                                          QuantFormat, QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._it = iter([{"image": n, "sigma": s} for n, s, _, _ in calib])

        def get_next(self):
            return next(self._it, None)

    with tempfile.TemporaryDirectory() as work:
        pre = Path(work) / "pre.onnx"
        quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
        nodes = conv_nodes(pre, cfg.nodes)
        quantize_static(str(pre), str(tmp / "denoise.onnx"), Reader(),
                        quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                        nodes_to_quantize=nodes, calibrate_method=CalibrationMethod.Percentile,
                        extra_options={"CalibPercentile": cfg.percentile})
    before, after = _psnr_by_sigma(fp32, check), _psnr_by_sigma(tmp / "denoise.onnx", check)
    drops = {s: before[s] - after[s] for s in before}
    print(f"{cfg.name}: {len(nodes)} convolutions in int8; PSNR change on training crops "
          + ", ".join(f"sigma {s:g}: {-d:+.3f} dB" for s, d in drops.items()))
    if max(drops.values()) > cfg.max_psnr_drop:
        raise RuntimeError(f"int8 loses up to {max(drops.values()):.3f} dB "
                           f"(limit {cfg.max_psnr_drop} dB): quantise fewer nodes")
    return nodes, before, after


def quantize_model(cfg: QuantizeConfig, models: str = "models") -> Path:
    src = Manifest.load(Path(cfg.source))
    if src.task != "denoise" or "denoise" not in src.files:
        raise ValueError(f"{cfg.source}: only denoise models can be quantised (task {src.task})")
    images = []
    for d in cfg.data:
        images += load_folder(d.folder, d.downscale, min_side=max(cfg.calib_patch,
                                                                  cfg.check_patch))
    calib = noisy_crops(images, cfg.calib_crops, cfg.calib_patch, cfg.calib_sigmas, cfg.seed)
    check = noisy_crops(images, cfg.check_crops, cfg.check_patch, cfg.check_sigmas,
                        cfg.seed + 1000)

    out = Path(models) / cfg.name
    tmp = staging_dir(out)
    try:
        nodes, before, after = _quantize_into(tmp, Path(cfg.source) / src.files["denoise"].path,
                                              cfg, calib, check)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    params = dict(src.params)
    params["quantization"] = {
        "from": src.id, "from_hash": src.model_hash()[:16], "match": cfg.nodes, "nodes": nodes,
        "description": cfg.description,
        "config": f"training/configs/{cfg.name}.json", "seed": cfg.seed,
        "scheme": "static QDQ, int8 per-channel weights (reduce_range), uint8 activations, "
                  f"percentile {cfg.percentile} calibration",
        "calibration": {"crops": cfg.calib_crops, "patch": cfg.calib_patch,
                        "sigmas": cfg.calib_sigmas, "data": [d.folder for d in cfg.data]},
        "check_psnr_fp32": {f"{s:g}": round(v, 3) for s, v in before.items()},
        "check_psnr_int8": {f"{s:g}": round(v, 3) for s, v in after.items()},
    }
    manifest = Manifest(id=cfg.name, task=src.task, title=cfg.title or f"{src.title} (int8)",
                        files={"denoise": FileEntry("denoise.onnx",
                                                    sha256_file(tmp / "denoise.onnx"))},
                        graphs=src.graphs, value_range=src.value_range, channels=src.channels,
                        downsample=src.downsample, tile_size=src.tile_size,
                        tile_overlap=src.tile_overlap, params=params)
    manifest.save(tmp)
    publish(tmp, out)
    print(f"quantised {src.id} -> {out} (model hash {manifest.model_hash()[:16]})")
    return out
