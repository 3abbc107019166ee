"""onnxruntime sessions: one per (model, graph), created once and reused; CUDA when present."""

from __future__ import annotations

import os
import threading
from importlib import metadata

import numpy as np

from .registry import Model, Registry

# The ONNX runtime comes from an extra, so that CPU and GPU installs never carry both
# (onnxruntime-gpu also provides the ``onnxruntime`` module).
MISSING_RUNTIME = ('no ONNX runtime is installed: pip install "aestudio[cpu]" for the CPU, or '
                   '"aestudio[gpu]" for CUDA (from a checkout: pip install ".[cpu]" or ".[gpu]")')


class RuntimeMissingError(ImportError):
    """Neither onnxruntime nor onnxruntime-gpu is installed."""


try:
    import onnxruntime as ort
except ModuleNotFoundError as exc:
    if exc.name != "onnxruntime":  # installed but broken: its own error says more
        raise
    raise RuntimeMissingError(MISSING_RUNTIME) from exc

PROVIDER_NAMES = {"cuda": "CUDAExecutionProvider", "cpu": "CPUExecutionProvider"}


def runtime_conflict() -> str | None:
    """A warning when both onnxruntime and onnxruntime-gpu are installed (they conflict)."""
    installed = []
    for dist in ("onnxruntime", "onnxruntime-gpu"):
        try:
            metadata.version(dist)
            installed.append(dist)
        except metadata.PackageNotFoundError:
            pass
    if len(installed) == 2:
        return ("both onnxruntime and onnxruntime-gpu are installed; they conflict. "
                "Run: pip uninstall -y onnxruntime onnxruntime-gpu && pip install onnxruntime-gpu")
    return None


def choose_providers(requested: str | None = None) -> list[str]:
    """Provider list: ``requested`` ('cuda', 'cpu' or 'auto'), ``$AESTUDIO_PROVIDER``, or auto."""
    want = (requested or os.environ.get("AESTUDIO_PROVIDER") or "auto").lower()
    available = ort.get_available_providers()
    if want == "auto":
        return [p for p in (PROVIDER_NAMES["cuda"], PROVIDER_NAMES["cpu"]) if p in available]
    if want not in PROVIDER_NAMES:
        raise ValueError(f"unknown provider {want!r}: use auto, cuda or cpu")
    if PROVIDER_NAMES[want] not in available:
        raise ValueError(f"provider {want!r} is not available here (available: "
                         f"{', '.join(available)})")
    return [PROVIDER_NAMES[want]] + ([PROVIDER_NAMES["cpu"]] if want != "cpu" else [])


class SessionPool:
    """Caches inference sessions; thread-safe; reports the provider actually in use."""

    def __init__(self, registry: Registry, provider: str | None = None,
                 threads: int | None = None):
        self.registry = registry
        self.providers = choose_providers(provider)
        self.threads = threads
        self._sessions: dict[tuple[str, str], ort.InferenceSession] = {}
        self._lock = threading.Lock()
        self.active_provider: str | None = None

    def get(self, model: Model, graph: str) -> ort.InferenceSession:
        key = (model.id, graph)
        with self._lock:
            sess = self._sessions.get(key)
            if sess is None:
                graph_bytes = self.registry.read_verified(model, graph)  # hashed = loaded
                opts = ort.SessionOptions()
                if self.threads:
                    opts.intra_op_num_threads = self.threads
                    opts.inter_op_num_threads = 1
                opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                sess = ort.InferenceSession(graph_bytes, sess_options=opts,
                                            providers=self.providers)
                self._sessions[key] = sess
                self.active_provider = sess.get_providers()[0]
            return sess

    def run(self, model: Model, graph: str, **inputs: np.ndarray) -> list[np.ndarray]:
        io = model.manifest.graphs[graph]
        sess = self.get(model, graph)
        feed = {name: np.ascontiguousarray(inputs[name], dtype=np.float32) for name in io.inputs}
        return sess.run(io.outputs, feed)

    @property
    def provider_label(self) -> str:
        name = self.active_provider or self.providers[0]
        return "CUDA" if name.startswith("CUDA") else "CPU"
