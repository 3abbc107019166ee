"""File-level jobs: one description per task and one ``run`` used by every front end.

:func:`run` returns a typed result per task; its :meth:`JobResult.to_dict` is the object the
CLI prints with ``--json`` and a batch report records.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from .io.atomic_write import atomic_write_bytes
from .io.bounded_read import read_input
from .engine_protocol import CancelFn, EngineProtocol, ProgressFn
from .io.file_types import AEI_SUFFIX
from .io.image_save import save_image
from .io.imageio import LoadedImage, load_image
from .compare.metrics import bits_per_pixel
from .restore.hole_mask import hole_mask
from .restore.self_ensemble import resolve_passes
from .round_trip import measure

MAX_AEI_BYTES = 1 << 30

JOB_TASKS = ("compress", "decompress", "denoise", "inpaint")
# the kind of model each job task runs (decompress: the codec the file names)
MODEL_TASK = {"compress": "codec", "denoise": "denoise", "inpaint": "inpaint"}


@dataclass
class Job:
    task: str                      # compress | decompress | denoise | inpaint
    input: Path
    output: Path | None = None
    quality: float = 75.0
    target_bytes: int | None = None
    sigma: float | None = None
    mask: Path | None = None
    model: str | None = None
    force: bool = False
    measure: bool = False          # compress: also decode and report PSNR
    passes: int | None = None      # denoise, inpaint: network passes per tile (None: default)
    strength: float = 1.0          # denoise: multiplies the noise level (map or sigma)

    def output_path(self) -> Path:
        if self.output is not None:
            return Path(self.output)
        src = Path(self.input)
        suffix = {"compress": AEI_SUFFIX, "decompress": ".png"}.get(self.task)
        if suffix:
            return src.with_suffix(suffix)
        done = {"denoise": "denoised", "inpaint": "inpainted"}[self.task]
        return src.with_name(f"{src.stem}_{done}.png")


@dataclass
class JobResult:
    """What a job did; decompress says no more, the other tasks add their own fields."""

    task: str
    input: str
    output: str
    bytes: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The fields in order, less the optional ones a job left out (None)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @property
    def extra(self) -> dict[str, Any]:
        """The task's own fields (``bpp``, ``sigma``, ...) as :meth:`to_dict` has them."""
        common = {f.name for f in fields(JobResult)}
        return {k: v for k, v in self.to_dict().items() if k not in common}


@dataclass
class CompressJobResult(JobResult):
    bpp: float
    quality: float                 # the one used (found, with a target size)
    model: str
    psnr: float | None = None      # with Job.measure


@dataclass
class DenoiseJobResult(JobResult):
    passes: int
    sigma: float                   # the noise level used
    strength: float | None = None  # where it is not 1


@dataclass
class InpaintJobResult(JobResult):
    passes: int
    hole_fraction: float


def _check_output(job: Job) -> Path:
    out = job.output_path()
    if out.resolve() == Path(job.input).resolve():
        raise FileExistsError(f"output {out} would overwrite the input")
    if out.exists() and not job.force:
        raise FileExistsError(f"output {out} exists (use --force to overwrite)")
    return out


def read_aei(path: Path) -> bytes:
    """The bytes of an .aei file, through the one bounded reader (regular files only)."""
    return read_input(path, max_bytes=MAX_AEI_BYTES)


def load_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """The hole mask (1 = hole) of the mask image at ``path`` for an image of ``shape``."""
    return hole_mask(load_image(path).pixels, shape, what=f"mask {path}")


def _done(job: Job, out: Path, n: int, t0: float) -> dict[str, Any]:
    """The fields every result has (``n`` bytes written, seconds since ``t0``)."""
    return {"task": job.task, "input": str(job.input), "output": str(out), "bytes": n,
            "seconds": round(time.perf_counter() - t0, 4)}


def _save_like(pixels: np.ndarray, img: LoadedImage, out: Path, job: Job) -> int:
    """Save ``pixels`` with the metadata (EXIF, ICC profile) of the input ``img``."""
    return save_image(pixels, out, exif=img.exif, icc_profile=img.icc_profile,
                      overwrite=job.force)


def _compress(job: Job, engine: EngineProtocol, out: Path, t0: float,
              progress: ProgressFn | None, cancel: CancelFn | None) -> CompressJobResult:
    img = load_image(job.input)
    res = engine.compress(img.pixels, job.quality, job.target_bytes, job.model,
                          progress=progress, cancel=cancel)
    n = atomic_write_bytes(out, res.data, overwrite=job.force)
    psnr = round(measure(engine, img.pixels, res, cancel=cancel).psnr, 3) if job.measure else None
    return CompressJobResult(**_done(job, out, n, t0),
                             bpp=round(bits_per_pixel(n, img.width, img.height), 4),
                             quality=res.quality, model=res.model_id, psnr=psnr)


def _decompress(job: Job, engine: EngineProtocol, out: Path, t0: float,
                progress: ProgressFn | None, cancel: CancelFn | None) -> JobResult:
    pixels = engine.decompress(read_aei(job.input), progress=progress, cancel=cancel)
    n = save_image(pixels, out, overwrite=job.force)
    return JobResult(**_done(job, out, n, t0))


def _denoise(job: Job, engine: EngineProtocol, out: Path, t0: float,
             progress: ProgressFn | None, cancel: CancelFn | None) -> DenoiseJobResult:
    img = load_image(job.input)
    passes = resolve_passes(job.task, job.passes)
    pixels, sigma = engine.denoise(img.pixels, job.sigma, progress, cancel, job.model,
                                   job.passes, strength=job.strength)
    n = _save_like(pixels, img, out, job)
    return DenoiseJobResult(**_done(job, out, n, t0), passes=passes, sigma=round(sigma, 2),
                            strength=job.strength if job.strength != 1.0 else None)


def _inpaint(job: Job, engine: EngineProtocol, out: Path, t0: float,
             progress: ProgressFn | None, cancel: CancelFn | None) -> InpaintJobResult:
    img = load_image(job.input)
    passes = resolve_passes(job.task, job.passes)
    if job.mask is None:
        raise ValueError("inpaint needs a mask (white = hole)")
    mask = load_mask(job.mask, img.pixels.shape[:2])
    pixels = engine.inpaint(img.pixels, mask, progress, cancel, job.model, job.passes)
    n = _save_like(pixels, img, out, job)
    return InpaintJobResult(**_done(job, out, n, t0), passes=passes,
                            hole_fraction=round(float(mask.mean()), 4))


_RUNS = {"compress": _compress, "decompress": _decompress, "denoise": _denoise,
         "inpaint": _inpaint}


def run(job: Job, engine: EngineProtocol, progress: ProgressFn | None = None,
        cancel: CancelFn | None = None) -> JobResult:
    out = _check_output(job)
    t0 = time.perf_counter()
    task_run = _RUNS.get(job.task)
    if task_run is None:
        raise ValueError(f"unknown task {job.task!r}")
    return task_run(job, engine, out, t0, progress, cancel)
