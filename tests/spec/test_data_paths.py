"""The data root is one setting: ``$AESTUDIO_DATA``, else ``../shared/data`` beside the repo."""

from pathlib import Path

from app.spec.data_paths import DEFAULT_DATA_ROOT, ENV_VAR, data_folder, data_path, data_root

REPO = Path(__file__).resolve().parents[2]


def test_the_default_is_shared_data_beside_the_repository(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert data_root() == DEFAULT_DATA_ROOT == REPO.parent / "shared" / "data"
    assert data_path("kodak", "kodim01.png") == REPO.parent / "shared" / "data" / "kodak" / "kodim01.png"


def test_the_setting_moves_every_path(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert data_root() == tmp_path
    assert data_path("kodak_masks") == tmp_path / "kodak_masks"
    monkeypatch.setenv(ENV_VAR, "  ")  # blank counts as unset
    assert data_root() == DEFAULT_DATA_ROOT


def test_config_folders_are_under_the_root_in_the_new_and_the_old_form(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert data_folder("train") == tmp_path / "train"
    assert data_folder("../shared/data/train_extra") == tmp_path / "train_extra"
    assert data_folder(str(tmp_path / "elsewhere")) == tmp_path / "elsewhere"


def test_training_configs_resolve_their_folders(monkeypatch, tmp_path):
    from training.config import TrainConfig

    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    cfg = TrainConfig.load(REPO / "training" / "configs" / "codec-hyperprior-v15.json")
    assert [d.path for d in cfg.data] == [tmp_path / "train", tmp_path / "train_extra"]
    old = TrainConfig.load(REPO / "training" / "configs" / "codec-hyperprior-v14.json")
    assert [d.path for d in old.data] == [d.path for d in cfg.data]
