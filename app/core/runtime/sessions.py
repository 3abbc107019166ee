"""onnxruntime sessions: one per (model, graph), created once and reused; CUDA when present."""

from __future__ import annotations

import os
import threading
from importlib import metadata

import numpy as np

from . import heap
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


# One CPU memory arena for every session of the process, registered in onnxruntime's
# environment (:func:`share_cpu_arena`). Each session otherwise has an arena of its own that
# keeps the largest working set it ever needed: a 12 MP compress in the GUI held the analysis,
# hyper-analysis and synthesis arenas, and the preview's runs on each, side by side. Shared, a
# run reuses what an earlier run of another graph left free, and the releasing run at the end
# of a big image (:meth:`SessionPool.run_releasing`) gives back what every graph left.
ENV_ALLOCATORS = "session.use_env_allocators"
_arena_lock = threading.Lock()
_shared_arena: bool | None = None


def share_cpu_arena() -> bool:
    """Register the process's shared CPU arena once; True when sessions can use it (False
    where this onnxruntime cannot register one: each session then keeps its own)."""
    global _shared_arena
    with _arena_lock:
        if _shared_arena is None:
            info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0,
                                     ort.OrtMemType.DEFAULT)
            try:  # 0 / -1: onnxruntime's defaults (no cap, doubling regions)
                ort.create_and_register_allocator(info, ort.OrtArenaCfg(0, -1, -1, -1))
                _shared_arena = True
            except (AttributeError, RuntimeError, ValueError):
                _shared_arena = False
        return _shared_arena


def _options(threads: int, shared_arena: bool = False) -> ort.SessionOptions:
    opts = ort.SessionOptions()
    if shared_arena:
        opts.add_session_config_entry(ENV_ALLOCATORS, "1")
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    # Idle intra-op threads sleep instead of spinning: spinning threads take CPU time that
    # another job sharing the machine, or the other tiles' runs, need.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return opts


def _releasing_run() -> ort.RunOptions:
    """Run options that make the CPU memory arena hand its unused memory back to the system
    at the end of the run."""
    opts = ort.RunOptions()
    opts.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return opts


_RELEASING = _releasing_run()


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


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# Tiled inference runs this many tiles at once at most: each holds its own activations
# (about 160 MB for a 448-pixel tile of the shipped denoiser), and more cores than this go to
# each run's own threads instead.
MAX_TILE_WORKERS = 4


class SessionPool:
    """Caches inference sessions; thread-safe; reports the provider actually in use.

    ``threads``: the CPU threads one operation may use (default: every usable core). Whole-image
    graphs run on one session with that many intra-op threads. Tiled inference
    (:meth:`run_tile`) instead runs :attr:`tile_workers` tiles at once on sessions with the
    threads shared out between them: on 2 cores, two tiles on one thread each. A run on one
    thread never waits for another at the end of each operator, so it keeps its core busy,
    and it slows down gracefully when another job takes a core, where a 2-thread run, whose
    threads meet at every operator, then ran slower than a 1-thread one.
    """

    def __init__(self, registry: Registry, provider: str | None = None,
                 threads: int | None = None):
        self.registry = registry
        self.providers = choose_providers(provider)
        self.threads = threads
        self._sessions: dict[tuple[str, str, int], ort.InferenceSession] = {}
        self._lock = threading.Lock()
        self.active_provider: str | None = None
        # on the CPU, every session shares one arena
        self.shared_arena = self.providers[0] == PROVIDER_NAMES["cpu"] and share_cpu_arena()

    @property
    def tile_workers(self) -> int:
        """Tiles to run at once: on the CPU one per thread, up to MAX_TILE_WORKERS; on a GPU 1."""
        if self.providers[0] != PROVIDER_NAMES["cpu"]:
            return 1
        return max(1, min(self.threads or usable_cores(), MAX_TILE_WORKERS))

    def get(self, model: Model, graph: str, threads: int = 0) -> ort.InferenceSession:
        """The session of ``graph`` with ``threads`` intra-op threads (0: the pool's)."""
        threads = threads or self.threads or 0
        key = (model.id, graph, threads)
        with self._lock:
            sess = self._sessions.get(key)
            if sess is None:
                graph_bytes = self.registry.read_verified(model, graph)  # hashed = loaded
                options = _options(threads, self.shared_arena)
                sess = ort.InferenceSession(graph_bytes, sess_options=options,
                                            providers=self.providers)
                self._sessions[key] = sess
                self.active_provider = sess.get_providers()[0]
            return sess

    def run(self, model: Model, graph: str, **inputs: np.ndarray) -> list[np.ndarray]:
        return self._run(self.get(model, graph), model, graph, inputs)

    def run_releasing(self, model: Model, graph: str, **inputs: np.ndarray) -> list[np.ndarray]:
        """As :meth:`run`, then the CPU arena gives back the memory it holds unused (on the CPU
        the arena all sessions share: what every graph's runs left free).

        The arena otherwise keeps the largest working set any run needed (0.3 GB for the
        codec's analysis tile, 0.5 GB for its synthesis tile) for the process's lifetime.
        Giving it back costs the next run the page faults of a fresh working
        set (0.2 s each time for a Kodak-sized encode on one core), so it is worth it only at
        the end of a long series of runs, such as the last tile of a big image.
        """
        out = self._run(self.get(model, graph), model, graph, inputs, _RELEASING)
        heap.give_back()  # and what the stage's numpy work freed (app/core/runtime/heap.py)
        return out

    def run_tile(self, model: Model, graph: str, **inputs: np.ndarray) -> list[np.ndarray]:
        """As :meth:`run`, for one of the :attr:`tile_workers` tiles that run at once."""
        workers = self.tile_workers
        threads = max(1, (self.threads or usable_cores()) // workers) if workers > 1 else 0
        return self._run(self.get(model, graph, threads), model, graph, inputs)

    @staticmethod
    def _run(sess: ort.InferenceSession, model: Model, graph: str,
             inputs: dict[str, np.ndarray],
             options: ort.RunOptions | None = None) -> list[np.ndarray]:
        io = model.manifest.graphs[graph]
        feed = {name: np.ascontiguousarray(inputs[name], dtype=np.float32) for name in io.inputs}
        return sess.run(io.outputs, feed, options)

    @property
    def provider_label(self) -> str:
        name = self.active_provider or self.providers[0]
        return "CUDA" if name.startswith("CUDA") else "CPU"
