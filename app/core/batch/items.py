"""One planned file of a batch, run to its :class:`~app.core.batch.progress.FileResult`.

Both backends (``app.core.batch.local`` and ``app.core.batch.ray_backend``) run every file
through :func:`process_item`, which calls :func:`app.core.jobs.run` (the code of the single-file
commands) and turns whatever goes wrong with that file into a one-line error in its result,
so a bad file never stops the batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from ..engine_protocol import EngineProtocol
from ..errors import error_line
from ..io.atomic_write import destination_check
from ..jobs import Job, run
from ..runtime.tiling import Cancelled
from .paths import OutputGuard
from .plan import BatchItem, BatchOptions
from .progress import FileResult

__all__ = ["describe_error", "process_item", "skipped"]


def describe_error(exc: BaseException) -> str:
    """One line for the report: the core's rule, an OS error's file name after its reason."""
    return error_line(exc, filename="after")


def process_item(item: BatchItem, engine: EngineProtocol, opts: BatchOptions,
                 cancel: Callable[[], bool] | None = None,
                 guard: OutputGuard | None = None) -> FileResult:
    """Run one file through :func:`app.core.jobs.run`; never raises except :class:`Cancelled`.

    ``engine`` is anything with the Engine's ``compress/decompress/denoise/inpaint``. With a
    ``guard``, the output folder is created and checked one level at a time, and checked again
    just before the output is written (a folder swapped for a symlink mid-run is refused).
    """
    result = FileResult(item.relative, item.input, item.output, "failed")
    if item.skip:
        result.status, result.note = "skipped", item.skip
        return result
    if item.error:
        result.error = item.error
        return result
    t0 = time.perf_counter()
    job = Job(task=opts.task, input=Path(item.input), output=Path(item.output),
              quality=opts.quality, sigma=opts.sigma, passes=opts.passes,
              strength=opts.strength,
              mask=Path(item.mask) if item.mask else None, model=opts.model, force=opts.force)
    try:
        if guard is None:
            Path(item.output).parent.mkdir(parents=True, exist_ok=True)
            res = run(job, engine, cancel=cancel)
        else:
            guard.make_dirs(Path(item.output).parent)
            with destination_check(guard.check_target):
                res = run(job, engine, cancel=cancel)
    except Cancelled:
        raise
    except Exception as exc:  # noqa: BLE001 - a bad file is recorded, the batch goes on
        result.error = describe_error(exc)
    else:
        result.status, result.bytes, result.details = "ok", res.bytes, dict(res.extra)
    result.seconds = round(time.perf_counter() - t0, 4)
    return result


def skipped(item: BatchItem, note: str) -> FileResult:
    """The result of a file that was not run (``note``: why, e.g. "cancelled")."""
    return FileResult(item.relative, item.input, item.output, "skipped", note=note)
