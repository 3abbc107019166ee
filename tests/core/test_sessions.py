from importlib import metadata

import pytest

from app.core.runtime import sessions


def test_auto_prefers_cuda_and_always_keeps_cpu(monkeypatch):
    monkeypatch.setattr(sessions.ort, "get_available_providers",
                        lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert sessions.choose_providers("auto") == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert sessions.choose_providers("cpu") == ["CPUExecutionProvider"]
    monkeypatch.setattr(sessions.ort, "get_available_providers", lambda: ["CPUExecutionProvider"])
    assert sessions.choose_providers(None) == ["CPUExecutionProvider"]
    with pytest.raises(ValueError, match="not available"):
        sessions.choose_providers("cuda")


def test_environment_override(monkeypatch):
    monkeypatch.setenv("AESTUDIO_PROVIDER", "cpu")
    assert sessions.choose_providers() == ["CPUExecutionProvider"]


def test_both_runtimes_installed_is_reported(monkeypatch):
    monkeypatch.setattr(sessions.metadata, "version", lambda name: "1.0")
    assert "conflict" in sessions.runtime_conflict()

    def only_cpu(name):
        if name == "onnxruntime-gpu":
            raise metadata.PackageNotFoundError(name)
        return "1.0"

    monkeypatch.setattr(sessions.metadata, "version", only_cpu)
    assert sessions.runtime_conflict() is None


def test_sessions_are_created_once_and_report_the_provider(tiny_engine):
    model = tiny_engine.model("denoise")
    a = tiny_engine.sessions.get(model, "denoise")
    b = tiny_engine.sessions.get(model, "denoise")
    assert a is b
    assert tiny_engine.provider_label == "CPU"
    assert tiny_engine.sessions.active_provider == "CPUExecutionProvider"


def test_tiles_run_at_once_on_sessions_with_the_threads_shared_out(tiny_engine, monkeypatch):
    import numpy as np

    model = tiny_engine.model("denoise")
    feed = {"image": np.zeros((1, 3, 16, 16), np.float32),
            "sigma": np.zeros((1, 1, 16, 16), np.float32)}

    def used(threads):
        pool = sessions.SessionPool(tiny_engine.registry, "cpu", threads=threads)
        asked = []
        get = pool.get
        monkeypatch.setattr(pool, "get", lambda m, g, t=0: asked.append(t) or get(m, g, t))
        pool.run_tile(model, "denoise", **feed)
        sess = get(model, "denoise", asked[0])
        opts = sess.get_session_options()
        assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        return pool.tile_workers, opts.intra_op_num_threads

    assert used(1) == (1, 1)
    assert used(2) == (2, 1)  # two tiles at once, one thread each
    assert used(8) == (sessions.MAX_TILE_WORKERS, 8 // sessions.MAX_TILE_WORKERS)
    monkeypatch.setattr(sessions, "usable_cores", lambda: 3)
    assert used(None) == (3, 1)
    gpu = sessions.SessionPool(tiny_engine.registry, "cpu", threads=4)
    gpu.providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert gpu.tile_workers == 1


def test_denoise_and_inpaint_are_the_same_with_tiles_run_at_once(tiny_engine):
    import dataclasses

    import numpy as np

    from app.core.restore import network
    from tests.conftest import smooth_image

    one = sessions.SessionPool(tiny_engine.registry, "cpu", threads=1)
    two = sessions.SessionPool(tiny_engine.registry, "cpu", threads=2)
    assert (one.tile_workers, two.tile_workers) == (1, 2)
    img = smooth_image(150, 230, seed=5)
    mask = np.zeros(img.shape[:2], np.uint8)
    mask[20:26, 10:220] = 1
    mask[90:140, 100:104] = 1

    def small_tiles(task):
        model = tiny_engine.model(task)
        manifest = dataclasses.replace(model.manifest, tile_size=64, tile_overlap=16)
        return dataclasses.replace(model, manifest=manifest)

    denoiser, inpainter = small_tiles("denoise"), small_tiles("inpaint")
    (denoised, inpainted), (denoised2, inpainted2) = (
        (network.denoise(pool, denoiser, img, sigma=20)[0],
         network.inpaint(pool, inpainter, img, mask)) for pool in (one, two))
    np.testing.assert_array_equal(denoised2, denoised)
    np.testing.assert_array_equal(inpainted2, inpainted)
