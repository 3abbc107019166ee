from importlib import metadata

import pytest

from app.core import sessions


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
