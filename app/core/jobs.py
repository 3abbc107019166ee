"""File-level jobs: one description per task and one ``run`` used by every front end."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .atomic_write import atomic_write_bytes
from .bounded_read import read_input
from .engine import Engine
from .imageio import load_image, save_image
from .metrics import bits_per_pixel, psnr
from .self_ensemble import resolve_passes

MAX_AEI_BYTES = 1 << 30


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
        suffix = {"compress": ".aei", "decompress": ".png"}.get(self.task)
        if suffix:
            return src.with_suffix(suffix)
        done = {"denoise": "denoised", "inpaint": "inpainted"}[self.task]
        return src.with_name(f"{src.stem}_{done}.png")


@dataclass
class JobResult:
    task: str
    input: str
    output: str
    bytes: int
    seconds: float
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(d.pop("extra"))
        return d


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
    mask = load_image(path).pixels
    mask = mask[..., :3].max(axis=-1) if mask.ndim == 3 else mask
    if mask.shape != shape:
        raise ValueError(f"mask {path} is {mask.shape[1]}x{mask.shape[0]}, the image is "
                         f"{shape[1]}x{shape[0]}")
    return (mask > 127).astype(np.uint8)


def run(job: Job, engine: Engine, progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None) -> JobResult:
    out = _check_output(job)
    t0 = time.perf_counter()
    extra: dict = {}
    if job.task == "compress":
        img = load_image(job.input)
        res = engine.compress(img.pixels, job.quality, job.target_bytes, job.model)
        n = atomic_write_bytes(out, res.data, overwrite=job.force)
        extra = {"bpp": round(bits_per_pixel(n, img.width, img.height), 4),
                 "quality": res.quality, "model": res.model_id}
        if job.measure:
            rec = engine.decompress(res.data)
            extra["psnr"] = round(psnr(img.pixels, rec), 3)
    elif job.task == "decompress":
        pixels = engine.decompress(read_aei(job.input))
        n = save_image(pixels, out, overwrite=job.force)
    elif job.task in ("denoise", "inpaint"):
        img = load_image(job.input)
        extra["passes"] = resolve_passes(job.task, job.passes)
        if job.task == "denoise":
            pixels, sigma = engine.denoise(img.pixels, job.sigma, progress, cancel, job.model,
                                           job.passes, strength=job.strength)
            extra["sigma"] = round(sigma, 2)
            if job.strength != 1.0:
                extra["strength"] = job.strength
        else:
            if job.mask is None:
                raise ValueError("inpaint needs a mask (white = hole)")
            mask = load_mask(job.mask, img.pixels.shape[:2])
            pixels = engine.inpaint(img.pixels, mask, progress, cancel, job.model, job.passes)
            extra["hole_fraction"] = round(float(mask.mean()), 4)
        n = save_image(pixels, out, exif=img.exif, icc_profile=img.icc_profile,
                       overwrite=job.force)
    else:
        raise ValueError(f"unknown task {job.task!r}")
    return JobResult(job.task, str(job.input), str(out), n,
                     round(time.perf_counter() - t0, 4), extra)
