"""Folder jobs: one task over every image of a folder, for the CLI (``aestudio batch``) and the
GUI's batch dialog alike.

The modules, each importing only those above it in this list:

* ``plan``: options, items, inputs and outputs, masks, skip-existing and the folder checks
  (nothing is ever written into the input folder);
* ``progress``: each file's result, the report (its exit code) and progress displays;
* ``paths``: where every planned output really lands (symlinks, ``..``, bind mounts), checked
  before any model runs and again as each file is written; the report path and free space;
* ``items``: one file run through :func:`app.core.jobs.run` (the code of the single-file
  commands), a bad file recorded rather than raised;
* ``engine_proxies``: stand-ins for the core Engine that let threads share engines;
* ``locations``: folders as paths or pyarrow URLs (Ray backend);
* the backends: ``local`` (a thread pipeline, :class:`BatchRunner`) and ``ray_backend``
  (Ray Data); ``backends`` picks one by name (:func:`run_batch`).

Only what the front ends use is importable from here; everything else from its module.
"""

from .backends import BACKENDS, run_batch
from .items import describe_error
from .local import BatchRunner
from .plan import BatchError, BatchOptions, default_threads, default_workers
from .progress import BatchProgress, BatchReport, FileResult, TextProgress

__all__ = [
    "BACKENDS", "BatchError", "BatchOptions", "BatchProgress", "BatchReport", "BatchRunner",
    "FileResult", "TextProgress", "default_threads", "default_workers", "describe_error",
    "run_batch",
]
