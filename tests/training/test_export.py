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
    # the hyper-synthesis ships as fixed-point integers in tables.npz, not as a graph
    assert set(tasks["codec"].graphs) == {"analysis", "hyper_analysis", "synthesis"}
    assert set(tasks["codec"].files) == {"analysis", "hyper_analysis", "synthesis", "tables"}
    assert tasks["codec"].params["hyper"] == "fixed-point-v1"


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


# -- fixed-point hyper-synthesis ---------------------------------------------------------------
def _tiny_codec_model(tiny_models):
    from training.archs import build
    from training.engine import load_weights

    m = Manifest.load(tiny_models / "tiny-codec")
    model = build(m.params["architecture"], **m.params["arch_args"])
    load_weights(model, tiny_models.parent / "runs" / "tiny-codec" / "weights.safetensors")
    return model.eval()


def test_integer_convolutions_follow_torch_semantics():
    import torch

    from app.fixedpoint.layers import conv2d, conv_transpose2d

    rng = np.random.default_rng(0)
    t = torch.from_numpy
    for h, w in [(1, 1), (2, 3), (5, 4), (7, 9)]:
        x = rng.integers(-99, 100, (1, 6, h, w)).astype(np.float64)
        hwc = x[0].transpose(1, 2, 0)
        b = rng.integers(-9, 10, 5).astype(np.float64)
        for k, s, p, op in [(5, 2, 2, 1), (3, 2, 1, 1), (4, 2, 1, 0), (5, 3, 2, 2), (3, 1, 1, 0)]:
            wt = rng.integers(-30, 31, (6, 5, k, k)).astype(np.float64)
            ref = torch.nn.functional.conv_transpose2d(t(x), t(wt), t(b), stride=s, padding=p,
                                                       output_padding=op)[0].numpy()
            got = conv_transpose2d(hwc, wt, b, s, p, op).transpose(2, 0, 1)
            np.testing.assert_array_equal(got, ref)        # exact: small integers
        for k in (1, 3, 5):
            wc = rng.integers(-30, 31, (5, 6, k, k)).astype(np.float64)
            ref = torch.nn.functional.conv2d(t(x), t(wc), t(b), padding=k // 2)[0].numpy()
            np.testing.assert_array_equal(conv2d(hwc, wc, b, k // 2).transpose(2, 0, 1), ref)


def test_codec_tables_hold_an_exact_integer_hyper_synthesis(tiny_models):
    with np.load(tiny_models / "tiny-codec" / "tables.npz", allow_pickle=False) as t:
        f = int(t["hyper_frac_bits"])
        assert len(t["hyper_clamp"]) == 3 and list(t["hyper_leaky"]) == [41, 12]
        for i, shape in enumerate([(8, 12, 5, 5), (12, 18, 5, 5), (24, 18, 3, 3)]):
            w, b = t[f"hs{i}_w"], t[f"hs{i}_b"]
            assert w.dtype == np.int32 and w.shape == shape and b.dtype == np.int64
            assert np.abs(w).max() <= 2 ** 15 and np.abs(w).max() > 2 ** 13
            per_out = np.abs(w.astype(np.int64)).sum(axis=(0, 2, 3) if i < 2 else (1, 2, 3))
            assert int(per_out.max()) * int(t["hyper_clamp"][i]) + int(np.abs(b).max()) < 2 ** 52
        np.testing.assert_array_equal(t["scale_table_q"],
                                      np.floor(t["scale_table"] * 2.0 ** f).astype(np.int64))
        np.testing.assert_array_equal(t["z_medians_q"],
                                      np.round(t["z_medians"].astype(np.float64) * 2.0 ** f))


def test_fixed_point_matches_the_float_hyper_synthesis(tiny_models):
    import torch

    from training.archs import build
    from training.export.tables import check_hyper_fixed, codec_tables

    trained = _tiny_codec_model(tiny_models)
    with np.load(tiny_models / "tiny-codec" / "tables.npz", allow_pickle=False) as t:
        exported = {k: t[k] for k in t.files}
    torch.manual_seed(0)
    fresh = build("mean_scale_hyperprior", N=32, M=48).eval()
    for model, tables in [(trained, exported), (fresh, codec_tables(fresh))]:
        for seed, size in [(0, (6, 8)), (1, (3, 5))]:
            err = check_hyper_fixed(model, tables, size=size, seed=seed)
            assert err["means"] < 5e-3 and err["scales"] < 5e-3, err
            assert err["index_agreement"] > 0.95, err
    # the check notices tables that no longer match the network
    exported["hs2_w"] = -exported["hs2_w"]
    err = check_hyper_fixed(trained, exported)
    assert max(err["means"], err["scales"]) > 1e-2


def test_exported_tables_follow_the_integer_rules(tiny_models):
    """The kernel the export checks with (and the app decodes with) computes, on exported
    tables, what the rules written directly in integers give."""
    import torch

    from app.fixedpoint.hyper import FixedHyperSynthesis
    from tests.fixedpoint import reference
    from training.archs import build
    from training.export.tables import codec_tables

    with np.load(tiny_models / "tiny-codec" / "tables.npz", allow_pickle=False) as t:
        exported = {k: t[k] for k in t.files}
    torch.manual_seed(1)
    fresh = codec_tables(build("mean_scale_hyperprior", N=32, M=48).eval())
    rng = np.random.default_rng(0)
    for tables in (exported, fresh):
        n = len(tables["z_medians_q"])
        for z in (rng.integers(-9, 10, (1, n, 5, 7)),
                  rng.choice([-(2 ** 31), 0, 2 ** 31 - 1], (1, n, 2, 3))):   # clamped escapes
            got = FixedHyperSynthesis(tables).fixed(z)
            for a, r in zip(got, reference.hyper(tables, z)):
                np.testing.assert_array_equal(a, r)


def test_the_checkerboard_check_runs_the_exported_integer_context(tiny_checkerboard_models):
    from training.archs import build
    from training.engine import load_weights
    from training.export.context_tables import check_checkerboard_fixed

    d = tiny_checkerboard_models / "tiny-checkerboard"
    m = Manifest.load(d)
    model = build(m.params["architecture"], **m.params["arch_args"])
    load_weights(model, tiny_checkerboard_models.parent / "runs" / "tiny-checkerboard"
                 / "weights.safetensors")
    with np.load(d / "tables.npz", allow_pickle=False) as t:
        tables = {k: t[k] for k in t.files}
    err = check_checkerboard_fixed(model.eval(), tables)
    assert max(err["means"], err["scales"]) < 5e-3 and err["index_agreement"] > 0.95, err
    # parameters clamped to +-2**-12: the check sees the integer context's rules at work
    tables["context_param_limit"] = np.array(1, np.int64)
    err = check_checkerboard_fixed(model, tables)
    assert max(err["means"], err["scales"]) > 1e-1, err


def test_export_refuses_tables_outside_the_layout(tiny_models, tmp_path, monkeypatch):
    import pytest

    import training.export as export
    from app.fixedpoint.tables import TablesError
    from training.config import TrainConfig

    m = Manifest.load(tiny_models / "tiny-codec")
    cfg = TrainConfig(name="tiny-codec", task="codec", arch=m.params["architecture"],
                      arch_args=m.params["arch_args"])
    make_tables = export.codec_tables
    monkeypatch.setattr(export, "codec_tables", lambda model: {
        k: v for k, v in make_tables(model).items() if k != "z_len"})
    with pytest.raises(TablesError, match="'z_len' is missing"):
        export.export_model(cfg, weights=str(tiny_models.parent / "runs" / "tiny-codec"
                                             / "weights.safetensors"),
                            models=str(tmp_path / "models"))
    assert not (tmp_path / "models" / "tiny-codec").exists()


def test_manifest_records_how_the_model_was_trained(tiny_models):
    rec = Manifest.load(tiny_models / "tiny-denoise").params["training"]
    assert rec["steps"] == 2 and rec["minutes"] >= 0 and rec["seed"] == 0
    assert rec["config"].endswith("tiny-denoise.json")


def test_training_from_a_shipped_model_continues_its_weights_and_step_count(tiny_models,
                                                                           tmp_path):
    """``init`` names a shipped model folder: its weights are the start, its steps count."""
    import torch
    from safetensors.torch import load_file

    from training.config import DataSource, TrainConfig
    from training.engine import train
    from training.export import export_model

    parent = Manifest.load(tiny_models / "tiny-denoise")
    data = tmp_path / "photos"
    data.mkdir()
    from PIL import Image

    from tests.conftest import smooth_image
    Image.fromarray(smooth_image(80, 96, seed=9)).save(data / "a.png")
    cfg = TrainConfig(name="tiny-denoise-next", task="denoise", arch="denoiser_unet",
                      arch_args=parent.params["arch_args"], data=[DataSource(str(data))],
                      patch=64, batch=2, steps=3, threads=1, bf16=False, lr=1e-12, lr_min=1e-12,
                      init=str(tiny_models / "tiny-denoise"))
    ckpt = train(cfg, root=tmp_path / "runs")
    start = load_file(str(tiny_models / "tiny-denoise" / "weights.safetensors"))
    after = load_file(str(ckpt.with_name("weights.safetensors")))
    for k, v in start.items():  # a vanishing learning rate: still the shipped weights
        if v.is_floating_point():
            assert torch.allclose(after[k], v.float(), atol=1e-3), k
    export_model(cfg, runs=str(tmp_path / "runs"), models=str(tmp_path / "models"))
    rec = Manifest.load(tmp_path / "models" / "tiny-denoise-next").params["training"]
    assert rec["steps"] == 3 and rec["init_from"] == "tiny-denoise"
    assert rec["total_steps"] == parent.params["training"]["steps"] + 3


def test_init_skip_starts_a_smaller_network_from_the_rest_of_a_shipped_one(tiny_models):
    """A network that drops a block of its parent starts from all the parent's other weights;
    without ``init_skip`` the mismatch is an error, not a silent partial load."""
    import pytest
    import torch
    from safetensors.torch import load_file

    from training.archs import build
    from training.engine import load_weights

    parent = Manifest.load(tiny_models / "tiny-denoise")
    weights = tiny_models / "tiny-denoise" / "weights.safetensors"
    args = {**parent.params["arch_args"], "bottleneck_dilations": []}
    small = build("denoiser_unet", **args)
    with pytest.raises(RuntimeError, match="Unexpected key"):
        load_weights(small, weights)
    load_weights(small, weights, skip=["net.bottleneck.1."])
    start = load_file(str(weights))
    kept = small.state_dict()
    assert "net.bottleneck.1.body.0.weight" in start and len(kept) < len(start)
    for k, v in kept.items():
        assert torch.equal(v, start[k].float()), k


def test_a_codec_with_more_rate_points_starts_from_one_with_fewer(tiny_models):
    """Shared lambdas keep their trained gain vectors bit for bit; a new, lower lambda gets
    gains extrapolated in log(lambda) (smaller than the lowest trained ones: coarser steps);
    a codec with the same rate points loads unchanged."""
    import math

    import torch
    from safetensors.torch import load_file

    from training.archs import build
    from training.engine import load_weights

    parent = Manifest.load(tiny_models / "tiny-codec")
    weights = tiny_models / "tiny-codec" / "weights.safetensors"
    start = load_file(str(weights))
    lambdas = parent.params["arch_args"]["lambdas"]  # [0.005, 0.02, 0.08]
    args = {**parent.params["arch_args"], "lambdas": [0.00125] + lambdas}
    wider = build("mean_scale_hyperprior", **args)
    load_weights(wider, weights)
    assert torch.allclose(wider.lambdas, torch.tensor(args["lambdas"]))
    for name in ("log_gain", "log_inv_gain"):
        trained = start[name].float()
        assert torch.equal(getattr(wider, name)[1:], trained)
        # 0.00125 is two log-steps below 0.005 (steps of x4): row0 - 1 * (row1 - row0)
        expected = trained[0] - (math.log(0.005) - math.log(0.00125)) / math.log(4.0) * (
            trained[1] - trained[0])
        assert torch.allclose(getattr(wider, name)[0], expected, atol=1e-3)
    assert (wider.log_gain[0] < wider.log_gain[1]).float().mean() > 0.5
    same = build("mean_scale_hyperprior", **parent.params["arch_args"])
    load_weights(same, weights)
    for k, v in same.state_dict().items():
        assert torch.equal(v, start[k].float()), k


def test_export_leaves_the_model_in_the_mode_it_was_exported_in(tmp_path):
    """The TorchScript exporter switches modules to training mode; the parity check after it
    must compare the graph with the eval-mode model (the inpainter clamps only in eval)."""
    import torch

    from training.archs import build
    from training.export.graphs import GRAPHS, check_parity, export_graph

    model = build("inpainter_unet", widths=[8, 16], blocks=1, bottleneck_dilations=[2]).eval()
    torch.nn.init.normal_(model.net.tail.weight, std=0.5)  # outputs far outside [0, 1]
    spec = GRAPHS["inpaint"]["inpaint"]
    export_graph(model, spec, tmp_path / "inpaint.onnx")
    assert not model.training
    assert check_parity(model, spec, tmp_path / "inpaint.onnx") < 1e-4
