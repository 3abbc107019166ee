"""Where a batch runs: its backend, chosen by name (``aestudio batch --backend``).

``local`` is the thread pipeline on this machine (:class:`app.core.batch.local.BatchRunner`);
``ray`` spreads the same per-file work over Ray Data (:func:`app.core.batch.ray_backend.run_ray`,
imported only when asked for, since Ray and pyarrow are optional). Both plan, check and report
the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .local import BatchRunner
from .plan import BatchError, BatchOptions
from .progress import BatchProgress, BatchReport

__all__ = ["BACKENDS", "run_batch"]

BACKENDS = ("local", "ray")


def run_batch(opts: BatchOptions, backend: str = "local", *,
              on_progress: Callable[[BatchProgress], None] | None = None,
              cancel: Callable[[], bool] | None = None, report: str | None = None,
              ray_address: str | None = None,
              engine_factory: Callable[[int], Any] | None = None) -> BatchReport:
    """Run a batch on the ``local`` thread pipeline or on ``ray`` (Ray Data).

    ``engine_factory(threads)`` makes the local backend's engines (default: an
    :class:`~app.core.engine.Engine` per worker); ``ray_address`` is the Ray cluster to use.
    """
    if backend == "local":
        return BatchRunner(opts, engine_factory=engine_factory, on_progress=on_progress,
                           cancel=cancel, report=report).run()
    if backend == "ray":
        from .ray_backend import run_ray

        return run_ray(opts, address=ray_address, on_progress=on_progress, cancel=cancel,
                       report=report)
    raise BatchError(f"unknown batch backend {backend!r} (use {' or '.join(BACKENDS)})")
