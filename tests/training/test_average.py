"""Checkpoint averaging (training/average.py): the mean of the weights, the newest file's
metadata, and a refusal for files of different models."""

import pytest

pytest.importorskip("torch")


def test_average_is_the_mean_and_keeps_the_newest_metadata(tmp_path):
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from training.__main__ import main

    a, b, c = (tmp_path / f"{n}.safetensors" for n in "abc")
    save_file({"w": torch.tensor([1.0, 2.0]), "n": torch.tensor([3])}, str(a),
              metadata={"step": "200", "elapsed_s": "60", "init_from": "m-v1"})
    save_file({"w": torch.tensor([3.0, 6.0]), "n": torch.tensor([3])}, str(b),
              metadata={"step": "400", "elapsed_s": "120", "init_from": "m-v1"})
    save_file({"w": torch.tensor([2.0, 1.0]), "n": torch.tensor([3])}, str(c),
              metadata={"step": "300", "elapsed_s": "90", "init_from": "m-v1"})
    out = tmp_path / "avg.safetensors"
    assert main(["average", str(out), str(a), str(b), str(c)]) == 0
    mean = load_file(str(out))
    assert torch.equal(mean["w"], torch.tensor([2.0, 3.0])) and torch.equal(mean["n"],
                                                                             torch.tensor([3]))
    with safe_open(str(out), framework="pt") as f:
        meta = f.metadata()
    assert meta["step"] == "400" and meta["elapsed_s"] == "120" and meta["init_from"] == "m-v1"
    assert meta["averaged_steps"] == "200,300,400"


def test_average_refuses_files_that_do_not_match(tmp_path):
    import torch
    from safetensors.torch import save_file

    from training.average import average_weights

    a, b = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    save_file({"w": torch.zeros(2)}, str(a))
    save_file({"w": torch.zeros(3)}, str(b))
    with pytest.raises(ValueError, match="same tensors"):
        average_weights([a, b], tmp_path / "out.safetensors")
    save_file({"w": torch.zeros(2), "n": torch.tensor([1])}, str(a))
    save_file({"w": torch.zeros(2), "n": torch.tensor([2])}, str(b))
    with pytest.raises(ValueError, match="not floating point"):
        average_weights([a, b], tmp_path / "out.safetensors")
    with pytest.raises(ValueError, match="at least two"):
        average_weights([a], tmp_path / "out.safetensors")
    assert not (tmp_path / "out.safetensors").exists()


def test_export_of_averaged_weights_records_the_steps(tiny_models, tmp_path):
    import json

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    from training.average import average_weights
    from training.config import TrainConfig
    from training.export import export_model

    run = tiny_models.parent / "runs" / "tiny-denoise"
    with safe_open(str(run / "weights.safetensors"), framework="pt") as f:
        meta = f.metadata()
    params = load_file(str(run / "weights.safetensors"))
    early = tmp_path / "early.safetensors"
    save_file({k: v * 0.5 for k, v in params.items()}, str(early), metadata={**meta, "step": "1"})
    avg = average_weights([early, run / "weights.safetensors"], tmp_path / "avg.safetensors")
    cfg = TrainConfig.load(run / "config.json")
    out = export_model(cfg, weights=str(avg), models=str(tmp_path / "models"))
    record = json.loads((out / "manifest.json").read_text())["params"]["training"]
    assert record["averaged_steps"] == [1, int(meta["step"])]
    assert record["steps"] == int(meta["step"])


def test_a_run_keeps_its_newest_snapshots_for_averaging(tiny_models, tmp_path):
    from safetensors import safe_open

    from training.average import average_weights
    from training.config import DataSource, TrainConfig
    from training.engine import train

    cfg = TrainConfig(name="tiny-snap", task="codec", arch="mean_scale_hyperprior",
                      arch_args={"N": 8, "M": 12, "lambdas": [0.005, 0.02]},
                      data=[DataSource(str(tiny_models.parent / "photos"))], patch=64, batch=2,
                      steps=5, threads=1, snapshot_every=2, snapshots_kept=2)
    train(cfg, root=tmp_path)
    snaps = sorted((tmp_path / "tiny-snap" / "snapshots").glob("*.safetensors"))
    # every second step, then the run's final weights (step 5), the newest two kept
    assert [p.name for p in snaps] == ["weights-00000004.safetensors",
                                       "weights-00000005.safetensors"]
    for p, step in zip(snaps, ("4", "5")):
        with safe_open(str(p), framework="pt") as f:
            assert f.metadata()["step"] == step
    assert not list((tmp_path / "tiny-snap" / "snapshots").glob("*.tmp"))
    avg = average_weights(snaps, tmp_path / "avg.safetensors")
    with safe_open(str(avg), framework="pt") as f:
        assert f.metadata()["averaged_steps"] == "4,5"
    cfg.snapshots_kept = 0
    with pytest.raises(ValueError, match="snapshots_kept"):
        train(cfg, root=tmp_path / "none")


def test_a_run_ending_on_a_saved_step_writes_it_once(tiny_models, tmp_path, monkeypatch):
    import training.engine as engine
    from training.config import DataSource, TrainConfig

    saves = []
    real_save = engine.save_checkpoint
    monkeypatch.setattr(engine, "save_checkpoint",
                        lambda path, model, optim, state: (saves.append(state["step"]),
                                                           real_save(path, model, optim, state)))
    cfg = TrainConfig(name="tiny-once", task="codec", arch="mean_scale_hyperprior",
                      arch_args={"N": 8, "M": 12, "lambdas": [0.005, 0.02]},
                      data=[DataSource(str(tiny_models.parent / "photos"))], patch=64, batch=2,
                      steps=4, threads=1, snapshot_every=2, snapshots_kept=3)
    engine.train(cfg, root=tmp_path)
    assert saves == [2, 4]
    snaps = sorted((tmp_path / "tiny-once" / "snapshots").glob("*.safetensors"))
    assert [p.name for p in snaps] == ["weights-00000002.safetensors",
                                       "weights-00000004.safetensors"]
    cfg.steps = 5  # resumed at step 4, one more step, which the loop does not save
    engine.train(cfg, root=tmp_path)
    assert saves == [2, 4, 5]
