import json

import numpy as np
import onnx

from app.spec.manifest import Manifest, sha256_file


def test_every_task_exports_onnx_with_dynamic_size_and_a_verified_manifest(tiny_models):
    tasks = {}
    for d in sorted(tiny_models.iterdir()):
        m = Manifest.load(d)
        tasks[m.task] = m
        for name, entry in m.files.items():
            assert sha256_file(d / entry.path) == entry.sha256
        for graph in m.graphs:
            proto = onnx.load(str(d / m.files[graph].path))
            dims = proto.graph.input[0].type.tensor_type.shape.dim
            assert dims[2].dim_param and dims[3].dim_param, "height/width must be dynamic"
        assert (d / "weights.safetensors").exists()
    assert set(tasks) == {"codec", "denoise", "inpaint"}
    assert set(tasks["codec"].graphs) == {"analysis", "hyper_analysis", "hyper_synthesis",
                                          "synthesis"}
    assert "tables" in tasks["codec"].files


def test_codec_tables_are_frozen_probability_tables(tiny_models):
    with np.load(tiny_models / "tiny-codec" / "tables.npz", allow_pickle=False) as t:
        assert t["gains"].shape == t["inv_gains"].shape == (3, 12)
        assert len(t["scale_table"]) == len(t["y_len"]) == t["y_pmf"].shape[0]
        for pmf, n in zip(t["y_pmf"], t["y_len"]):
            assert abs(pmf[:n].sum() - 1) < 1e-3 and (pmf[:n] >= 0).all()
        assert t["z_pmf"].shape[0] == len(t["z_medians"]) == 8


def test_export_parity_is_checked_against_torch(tiny_models, capsys):
    # export_model raises when onnxruntime and torch disagree; check its record on a fresh graph
    import torch

    from training.archs import build
    from training.export.graphs import GRAPHS, check_parity, export_graph

    model = build("denoiser_unet", widths=[8, 16], blocks=1).eval()
    torch.nn.init.normal_(model.net.tail.weight, std=0.1)  # make the output depend on the net
    spec = GRAPHS["denoise"]["denoise"]
    path = tiny_models.parent / "parity.onnx"
    export_graph(model, spec, path)
    assert check_parity(model, spec, path) < 1e-4
    with torch.no_grad():
        model.net.tail.bias.add_(0.5)  # the exported graph no longer matches the model
    assert check_parity(model, spec, path) > 0.1


def test_manifest_round_trips(tiny_models):
    d = tiny_models / "tiny-codec"
    m = Manifest.load(d)
    again = Manifest.from_dict(json.loads((d / "manifest.json").read_text()))
    assert again.model_hash() == m.model_hash()
