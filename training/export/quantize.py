"""Post-training int8 quantisation of an exported denoiser, layer by layer.

``python -m training quantize training/configs/<id>.json`` reads a shipped fp32 model
(``source``), quantises the convolutions whose ONNX node names contain one of ``nodes``
(static QDQ: per-channel int8 weights with 7-bit range, which avoids the int16 saturation of
AVX2's u8s8 kernels, and uint8 activations calibrated on noisy crops of the training photos),
checks the int8 graph against the fp32 one on other training crops, and writes a new model
folder whose manifest records the source model, the quantised nodes and the measured PSNR
change.  Only convolutions are quantised: the residual additions and the final subtraction
stay in float (quantising every operator costs 0.3 dB at sigma = 15, see docs/training.md).
The crops are Gaussian noise, or (``"calibration": "realnoise"``) the real-noise training
degradations with the source's own estimated noise map (``quantize_crops.py``). A source's
other graphs (a real-noise denoiser's ``noise_map`` estimator) are copied unchanged.
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
from ..data import load_folder
from .quantize_crops import REALNOISE_KINDS, Crop, gauss_crops, realnoise_crops
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
    calibration: str = "gauss"       # or "realnoise" (see quantize_crops.py)
    kinds: list[str] = field(default_factory=lambda: list(REALNOISE_KINDS))  # realnoise only
    # float nodes (skip connections, residual additions) read float tensors, not the 8-bit
    # copies made for the int8 convolutions (float_inputs_for_float_nodes)
    float_inputs: bool = False
    max_psnr_drop: float = 0.05      # dB, at any checked sigma (realnoise: any kind)
    title: str = ""
    description: str = ""            # which layers ``nodes`` picks, in words (for the card)

    @classmethod
    def load(cls, path: str | Path) -> QuantizeConfig:
        raw = json.loads(Path(path).read_text())
        raw["data"] = [DataSource(**d) for d in raw.get("data", [])]
        return cls(**raw)


def _crops(cfg: QuantizeConfig, src: Manifest, images: list[np.ndarray], count: int,
           patch: int, seed: int, sigmas: list[float]) -> list[Crop]:
    if cfg.calibration == "gauss":
        return gauss_crops(images, count, patch, sigmas, seed)
    if cfg.calibration != "realnoise":
        raise ValueError(f"calibration must be gauss or realnoise, not {cfg.calibration!r}")
    spec = src.params.get("noise_map")
    if not isinstance(spec, dict) or spec.get("graph") not in src.files:
        raise ValueError(f"{cfg.source}: realnoise calibration needs a noise_map graph")
    return realnoise_crops(images, count, patch, cfg.kinds, seed,
                           Path(cfg.source) / src.files[spec["graph"]].path,
                           int(spec.get("scale", 4)))


def _psnr_by_label(path: Path, crops: list[Crop]) -> dict[str, float]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    scores: dict[str, list[float]] = {}
    for feed, clean, label in crops:
        out = sess.run(None, feed)[0]
        err = np.mean((np.round(np.clip(out, 0, 1) * 255) - clean * 255) ** 2)
        scores.setdefault(label, []).append(10 * np.log10(255 ** 2 / max(err, 1e-10)))
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


def float_inputs_for_float_nodes(path: Path, quantized: list[str]) -> int:
    """Give the nodes left in float the float tensors that the quantiser rounded for them.

    onnxruntime's QDQ quantiser rounds a tensor for *every* reader once one quantised
    convolution reads it, so a U-Net's skip connection and the residual additions would add
    8-bit copies of float features (a full-resolution skip: -0.05 dB). Only tensors made by
    float nodes are given back: a quantised convolution's own output stays 8-bit, as it must
    for the convolution to run as one int8 kernel. Returns how many inputs were rewired.
    """
    import onnx

    model = onnx.load(str(path))
    graph = model.graph
    producers = {out: n for n in graph.node for out in n.output}
    int8 = set(quantized)
    rewired = 0
    for node in graph.node:
        if node.op_type in ("QuantizeLinear", "DequantizeLinear") or node.name in int8:
            continue
        for i, name in enumerate(node.input):
            dq = producers.get(name)
            q = producers.get(dq.input[0]) if dq is not None and dq.op_type == "DequantizeLinear" \
                else None
            if q is None or q.op_type != "QuantizeLinear":
                continue
            source = producers.get(q.input[0])
            if source is None or source.name not in int8:
                node.input[i] = q.input[0]
                rewired += 1
    while True:  # drop the Q/DQ nodes nothing reads any more
        read = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
        dead = [n for n in graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear")
                and not any(o in read for o in n.output)]
        if not dead:
            break
        for n in dead:
            graph.node.remove(n)
    onnx.save(model, str(path))
    return rewired


def _quantize_into(tmp: Path, fp32: Path, cfg: QuantizeConfig, calib: list[Crop],
                   check: list[Crop]):
    """Write ``tmp/denoise.onnx``; return the int8 node names and PSNR before and after."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod,
                                          QuantFormat, QuantType, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._it = iter([feed for feed, _, _ in calib])

        def get_next(self):
            return next(self._it, None)

    with tempfile.TemporaryDirectory() as work:
        pre = Path(work) / "pre.onnx"
        quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
        nodes = conv_nodes(pre, cfg.nodes)
        quantize_static(str(pre), str(tmp / "denoise.onnx"), Reader(),
                        quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
                        nodes_to_quantize=nodes, op_types_to_quantize=["Conv"],
                        calibrate_method=CalibrationMethod.Percentile,
                        extra_options={"CalibPercentile": cfg.percentile})
    if cfg.float_inputs:
        float_inputs_for_float_nodes(tmp / "denoise.onnx", nodes)
    before, after = _psnr_by_label(fp32, check), _psnr_by_label(tmp / "denoise.onnx", check)
    drops = {s: before[s] - after[s] for s in before}
    named = "sigma " if cfg.calibration == "gauss" else ""
    print(f"{cfg.name}: {len(nodes)} convolutions in int8; PSNR change on training crops "
          + ", ".join(f"{named}{s}: {-d:+.3f} dB" for s, d in drops.items()))
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
        images += load_folder(d.path, d.downscale, min_side=max(cfg.calib_patch,
                                                                  cfg.check_patch))
    calib = _crops(cfg, src, images, cfg.calib_crops, cfg.calib_patch, cfg.seed,
                   cfg.calib_sigmas)
    check = _crops(cfg, src, images, cfg.check_crops, cfg.check_patch, cfg.seed + 1000,
                   cfg.check_sigmas)

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
                        **({"sigmas": cfg.calib_sigmas} if cfg.calibration == "gauss" else
                           {"inputs": "realnoise", "kinds": cfg.kinds}),
                        "data": [d.folder for d in cfg.data]},
        **({"float_inputs": True} if cfg.float_inputs else {}),
        "check_psnr_fp32": {s: round(v, 3) for s, v in before.items()},
        "check_psnr_int8": {s: round(v, 3) for s, v in after.items()},
    }
    files = {"denoise": FileEntry("denoise.onnx", sha256_file(tmp / "denoise.onnx"))}
    for name, entry in src.files.items():  # the other graphs, as they are
        if name != "denoise":
            shutil.copy2(Path(cfg.source) / entry.path, tmp / entry.path)
            files[name] = FileEntry(entry.path, sha256_file(tmp / entry.path))
    manifest = Manifest(id=cfg.name, task=src.task, title=cfg.title or f"{src.title} (int8)",
                        files=files,
                        graphs=src.graphs, value_range=src.value_range, channels=src.channels,
                        downsample=src.downsample, tile_size=src.tile_size,
                        tile_overlap=src.tile_overlap, params=params)
    manifest.save(tmp)
    publish(tmp, out)
    print(f"quantised {src.id} -> {out} (model hash {manifest.model_hash()[:16]})")
    return out
