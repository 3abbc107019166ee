"""Batch options, items and planning: what ``aestudio batch`` (and the GUI's batch dialog) will
do, decided before anything runs.

:func:`plan_local` finds the inputs (optionally recursively), mirrors their relative paths into
the output folder, finds each inpainting mask in the masks folder (same relative path and stem,
any image extension), skips outputs that exist (``skip_existing``), and :func:`check_folders`
refuses an output folder equal to or inside the input folder. Where each planned output really
lands (symlinks, bind mounts, masks and report) is checked by ``app.core.batch.paths``.
Nothing is ever written into the input folder. :func:`plan_items` is shared with the Ray Data
backend (``app.core.batch.ray_backend``), whose folders may be URLs; :func:`remove_stale_temps`
clears what a killed run left behind.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..io.atomic_write import name_max, temp_stem, temp_stem_of
from ..io.file_types import AEI_SUFFIX, IMAGE_SUFFIXES
from ..jobs import JOB_TASKS

__all__ = [
    "BatchError", "BatchItem", "BatchOptions", "check_folders", "default_threads",
    "default_workers", "input_suffixes", "is_url", "mask_index", "output_name", "plan_items",
    "plan_local", "remove_stale_temps", "scan_local",
]


class BatchError(ValueError):
    """The batch cannot start (bad folders or options); the message says why."""


def is_url(location: str | os.PathLike[str]) -> bool:
    """Whether a location is a URL (``s3://bucket/dir``, ``file:///data``) rather than a path."""
    return "://" in str(location)


def default_workers() -> int:
    """Two inference workers on a machine with two or more cores: while one worker's file
    is being read or written, the other keeps the model busy (measured in
    benchmarks/batch.py: 97 % of the pure inference rate, against 79 % with one worker)."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def default_threads(workers: int) -> int:
    """Intra-op threads of each of ``workers`` inference workers: the usable cores shared out."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, workers))


# ============================================================================ options, items


@dataclass
class BatchOptions:
    task: str
    input_dir: str
    output_dir: str
    recursive: bool = False
    masks: str | None = None
    quality: float = 75.0
    sigma: float | None = None
    passes: int | None = None   # denoise, inpaint: network passes per tile (None: default)
    strength: float = 1.0       # denoise: multiplies the noise level (map or sigma)
    model: str | None = None
    workers: int = field(default_factory=lambda: default_workers())  # inference workers
    skip_existing: bool = False
    force: bool = False
    models_dir: str | None = None
    provider: str | None = None
    threads: int | None = None  # intra-op threads per worker (default: cores // workers)

    def worker_threads(self) -> int:
        return self.threads or default_threads(self.workers)


@dataclass
class BatchItem:
    """One input file: where it is, where its output goes, and its mask (inpaint)."""

    relative: str                # input path relative to the input folder (POSIX separators)
    input: str
    output: str
    mask: str | None = None
    error: str | None = None     # known before running (mask missing, name clash): fails
    skip: str | None = None      # why it is skipped (output exists)



# ============================================================================ planning


def output_name(task: str, relative: str) -> str:
    """The output's relative path: compress -> ``.aei``, everything else -> ``.png``."""
    suffix = AEI_SUFFIX if task == "compress" else ".png"
    return str(PurePosixPath(relative).with_suffix(suffix))


def input_suffixes(task: str) -> tuple[str, ...]:
    return (AEI_SUFFIX,) if task == "decompress" else IMAGE_SUFFIXES


def _mask_key(relative: str) -> str:
    return str(PurePosixPath(relative).with_suffix(""))


def mask_index(relatives: Iterable[str]) -> dict[str, str]:
    """Relative mask paths by relative path without extension (PNG preferred on a tie)."""
    index: dict[str, str] = {}
    rank = {s: i for i, s in enumerate(IMAGE_SUFFIXES)}
    for rel in sorted(relatives):
        key = _mask_key(rel)
        old = index.get(key)
        if old is None or rank[PurePosixPath(rel).suffix.lower()] < \
                rank[PurePosixPath(old).suffix.lower()]:
            index[key] = rel
    return index


def plan_items(opts: BatchOptions, inputs: list[str], join_in: Callable[[str], str],
               join_out: Callable[[str], str], out_exists: Callable[[list[str]], list[bool]],
               masks: dict[str, str] | None = None,
               join_mask: Callable[[str], str] | None = None) -> list[BatchItem]:
    """Items for the relative ``inputs``; shared by local folders and URLs.

    ``out_exists`` gets all output locations at once (one listing call on remote stores).
    """
    items: list[BatchItem] = []
    claimed: dict[str, str] = {}
    for rel in sorted(inputs):
        out_rel = output_name(opts.task, rel)
        item = BatchItem(relative=rel, input=join_in(rel), output=join_out(out_rel))
        if out_rel in claimed:
            item.error = (f"output {out_rel} is already the output of {claimed[out_rel]} "
                          "(two inputs with the same name and different extensions)")
        else:
            claimed[out_rel] = rel
        if opts.task == "inpaint" and item.error is None:
            found = (masks or {}).get(_mask_key(rel))
            if found is None:
                item.error = (f"no mask for {rel} in {opts.masks} (expected "
                              f"{_mask_key(rel)}.png or another image extension)")
            else:
                item.mask = join_mask(found) if join_mask else found
        items.append(item)
    if opts.skip_existing:
        exists = out_exists([it.output for it in items]) if items else []
        for item, there in zip(items, exists):
            if there and item.error is None:
                item.skip = "output exists"
    return items


def _real(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(os.path.abspath(os.path.expanduser(str(path)))))


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def check_folders(opts: BatchOptions, report: str | os.PathLike[str] | None = None) -> None:
    """Refuse what would write into the input folder, and options that cannot work."""
    if opts.task not in JOB_TASKS:
        raise BatchError(f"unknown task {opts.task!r} (use one of {', '.join(JOB_TASKS)})")
    if opts.workers < 1:
        raise BatchError(f"--workers must be at least 1, got {opts.workers}")
    if opts.task == "inpaint" and not opts.masks:
        raise BatchError("inpaint needs --masks DIR: a folder of masks (white = hole) that "
                         "mirrors the input folder")
    if is_url(opts.input_dir) or is_url(opts.output_dir):
        from urllib.parse import urlsplit

        def norm(loc: str) -> tuple[str, str, str]:
            if not is_url(loc):
                return ("file", "", str(_real(loc)))
            u = urlsplit(loc)
            return (u.scheme.lower(), u.netloc, "/" + u.path.strip("/"))

        (s1, n1, p1), (s2, n2, p2) = norm(opts.input_dir), norm(opts.output_dir)
        if (s1, n1) == (s2, n2) and (p2 == p1 or p2.startswith(p1.rstrip("/") + "/")):
            raise BatchError(f"the output folder {opts.output_dir} is inside the input folder "
                             f"{opts.input_dir}: choose one outside it (nothing is ever "
                             "written into the input folder)")
        return
    src, dst = _real(opts.input_dir), _real(opts.output_dir)
    if not src.is_dir():
        raise BatchError(f"input folder {opts.input_dir} does not exist or is not a folder")
    if _inside(dst, src):
        what = "is the input folder" if dst == src else "is inside the input folder"
        raise BatchError(f"the output folder {opts.output_dir} {what} {opts.input_dir}: choose "
                         "one outside it (nothing is ever written into the input folder)")
    if dst.exists() and not dst.is_dir():
        raise BatchError(f"output {opts.output_dir} exists and is not a folder")
    if report is not None and _inside(_real(report), src):
        raise BatchError(f"the report {report} would be written inside the input folder "
                         f"{opts.input_dir}: choose another place")
    if opts.masks is not None and not is_url(opts.masks) and not _real(opts.masks).is_dir():
        raise BatchError(f"masks folder {opts.masks} does not exist or is not a folder")


def scan_local(root: str | os.PathLike[str], recursive: bool, suffixes: Iterable[str],
               exclude: Iterable[Path] = ()) -> list[str]:
    """Relative POSIX paths of the files under ``root`` with one of ``suffixes``.

    Hidden files and folders (a leading dot, e.g. temporary ``.part`` files) are ignored, and
    so are the ``exclude`` folders (a masks folder inside the input folder).
    """
    base = Path(root)
    wanted = tuple(s.lower() for s in suffixes)
    skip = {_real(p) for p in exclude}
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(base):
        here = Path(dirpath)
        if recursive:
            dirnames[:] = sorted(d for d in dirnames
                                 if not d.startswith(".") and _real(here / d) not in skip)
        else:
            dirnames[:] = []
        for name in filenames:
            if name.startswith(".") or not name.lower().endswith(wanted):
                continue
            if (here / name).is_file():
                found.append((here / name).relative_to(base).as_posix())
    return sorted(found)


def plan_local(opts: BatchOptions) -> list[BatchItem]:
    """The items of a batch over local folders (see :func:`plan_items`)."""
    if is_url(opts.input_dir) or is_url(opts.output_dir) or (opts.masks and is_url(opts.masks)):
        raise BatchError("URLs (s3://…, file://…) need --backend ray")
    src, dst = Path(opts.input_dir), Path(opts.output_dir)
    exclude = [Path(opts.masks)] if opts.masks else []
    inputs = scan_local(src, opts.recursive, input_suffixes(opts.task), exclude)
    masks = None
    if opts.task == "inpaint":
        masks = mask_index(scan_local(Path(opts.masks), opts.recursive, IMAGE_SUFFIXES))
    return plan_items(
        opts, inputs,
        join_in=lambda rel: str(src / rel), join_out=lambda rel: str(dst / rel),
        out_exists=lambda outs: [os.path.isfile(o) for o in outs], masks=masks,
        join_mask=lambda rel: str(Path(opts.masks) / rel))


def remove_stale_temps(items: Iterable[BatchItem]) -> int:
    """Delete the temporary files a killed run left beside the outputs it was writing.

    Only ``.<output name>.<8 hex>.part`` files of this batch's own outputs are touched (with
    the name cut short where the whole would pass NAME_MAX, as the atomic writer does).
    """
    by_dir: dict[str, set[str]] = {}
    for item in items:
        d, name = os.path.split(item.output)
        by_dir.setdefault(d, set()).add(name)
    removed = 0
    for d, names in by_dir.items():
        try:
            entries = os.listdir(d)
        except OSError:
            continue
        limit = name_max(d)
        stems = {temp_stem(name, limit) for name in names}
        for entry in entries:
            if temp_stem_of(entry) in stems:
                try:
                    os.unlink(os.path.join(d, entry))
                    removed += 1
                except OSError:
                    pass
    return removed
