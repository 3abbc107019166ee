"""Rate-distortion benchmark of the AE Studio codec against JPEG, WebP, AVIF, JPEG XL and HEIC.

    PYTHONPATH=. python benchmarks/codec.py

Options: ``--limit N`` (first N images), ``--codecs jpeg,webp,avif,jxl,heic,aestudio,plain-ae``,
``--qualities 1,15,30,50,70,85,100`` (AE Studio), ``--baseline-qualities 5,10,...,95``
(Pillow codecs), ``--bd-method pchip|cubic``, ``--threads N`` (ONNX Runtime),
``--data DIR``, ``--json PATH``, ``--plot PATH`` (``--plot ''`` skips the figure).

Every size is the real byte count of the file each codec writes (the .aei container for
AE Studio, in-memory JPEG/WebP/AVIF files from Pillow, JPEG XL from pillow-jxl-plugin (libjxl,
effort 7), HEIC from pillow-heif (libheif + x265, 4:2:0), header + zlib latent for plain-ae),
so bpp = bytes * 8 / (W * H). "plain-ae" is the classic tutorial autoencoder (no entropy
model, 8-bit latent + zlib; benchmarks/plain_ae.py), trained by the same package and exported
to benchmarks/baselines/: it shows what the entropy model and rate-distortion training buy.
It has one operating point, so it is one marker in the plot and its BD-rate is "n/a".
Per codec and quality it reports the mean bpp, mean RGB PSNR and mean MS-SSIM over the
images (MS-SSIM dB is -10*log10(1 - mean MS-SSIM)), the median encode and decode seconds per
image (after one untimed warm-up, so model loading is not counted), and the process's peak
RSS after each codec (a high-water mark, so cumulative in the order the codecs run; the
default order runs the light Pillow codecs first). BD-rates (benchmarks/bdrate.py) are
against JPEG, on PSNR and on MS-SSIM dB; "n/a" with the reason when the curves share no
quality interval or a codec has a single point. A codec whose encoder is not installed is
skipped with the reason, printed and kept in the JSON under "skipped", never silently.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, features

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.compare.extra_formats import encode_extra, extra_format_status  # noqa: E402
from app.core.io.imageio import load_image  # noqa: E402
from app.core.io.pixels import to_rgb  # noqa: E402
from app.core.compare.metrics import bits_per_pixel, ms_ssim, psnr  # noqa: E402
from benchmarks.bdrate import METHODS, bd_rate  # noqa: E402
from benchmarks.rdplot import plot_rd  # noqa: E402
from app.spec.data_paths import data_path  # noqa: E402

DEFAULT_DATA = data_path("kodak")
RESULTS = REPO / "benchmarks" / "results"
AE_QUALITIES = (1, 15, 30, 50, 70, 85, 100)
BASELINE_QUALITIES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
# libheif's quality reaches 1.2 bpp on Kodak at 50 and 5.6 bpp at 90: its default points sit
# where the other codecs are, 0.05-1.5 bpp, instead of mostly above them.
HEIC_QUALITIES = (2, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50)
ALL_CODECS = ("jpeg", "webp", "avif", "jxl", "heic", "aestudio", "plain-ae")  # run order
EXTRA_LABELS = {"jxl": "JPEG XL (libjxl, effort 7)", "heic": "HEIC (x265 intra, 4:2:0)"}
PLAIN_AE_DIR = REPO / "benchmarks" / "baselines" / "plain-autoencoder-v1"
REFERENCE = "jpeg"


@dataclass
class CodecUnderTest:
    name: str
    label: str
    qualities: tuple[float, ...]
    encode: Callable[[np.ndarray, float], bytes]
    decode: Callable[[bytes], np.ndarray]
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImageResult:
    image: str
    bytes: int
    bpp: float
    psnr: float
    ms_ssim: float
    encode_s: float
    decode_s: float


# ------------------------------------------------------------------------------ codecs


def pillow_codec(name: str, fmt: str, label: str, qualities: Sequence[float],
                 **params: Any) -> CodecUnderTest:
    """A Pillow encoder writing a real file into memory; decoded back with Pillow."""
    def encode(pixels: np.ndarray, quality: float) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format=fmt, quality=int(quality), **params)
        return buf.getvalue()

    def decode(data: bytes) -> np.ndarray:
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im.convert("RGB"))

    return CodecUnderTest(name, label, tuple(int(q) for q in qualities), encode, decode,
                          {"format": fmt, **params})


def extra_codec(name: str, qualities: Sequence[float]) -> CodecUnderTest:
    """JPEG XL or HEIC through its optional Pillow plugin (app/core/compare/extra_formats.py)."""
    def decode(data: bytes) -> np.ndarray:
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im.convert("RGB"))

    return CodecUnderTest(name, EXTRA_LABELS[name], tuple(int(q) for q in qualities),
                          lambda px, q: encode_extra(px, name, int(q)), decode,
                          {"format": name, "plugin": _plugin_version(name)})


def _plugin_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    package = {"jxl": "pillow-jxl-plugin", "heic": "pillow-heif"}[name]
    try:
        return f"{package} {version(package)}"
    except PackageNotFoundError:
        return package


def aestudio_codec(qualities: Sequence[float], threads: int | None) -> CodecUnderTest:
    from app.core.engine import Engine

    engine = Engine(models_dir=None, threads=threads)
    model = engine.codec().model
    return CodecUnderTest(
        "aestudio", f"AE Studio ({model.id})", tuple(float(q) for q in qualities),
        lambda px, q: engine.compress(px, q).data, engine.decompress,
        {"model_id": model.id, "model_hash": model.hash_prefix.hex(),
         "model_dir": str(model.directory), "provider": engine.provider_label,
         "threads": threads})


def plain_ae_codec(threads: int | None) -> CodecUnderTest:
    from benchmarks.plain_ae import PlainAE

    ae = PlainAE(PLAIN_AE_DIR, threads)
    return CodecUnderTest(
        "plain-ae", "Plain autoencoder (8-bit latent + zlib)", (100,), ae.encode, ae.decode,
        {"model_id": ae.manifest["id"], "model_dir": str(ae.directory),
         "latent": "uint8 + zlib level 9", "provider": "CPUExecutionProvider",
         "threads": threads})


def make_codecs(names: Sequence[str], ae_qualities: Sequence[float],
                baseline_qualities: Sequence[float], threads: int | None,
                skipped: dict[str, str] | None = None) -> list[CodecUnderTest]:
    """The codecs to run; each one that cannot run here goes into ``skipped`` with why."""
    codecs = []
    skipped = {} if skipped is None else skipped

    def skip(name: str, reason: str) -> None:
        print(f"note: skipping {name}: {reason}", file=sys.stderr)
        skipped[name] = reason

    for name in names:
        if name == "aestudio":
            codecs.append(aestudio_codec(ae_qualities, threads))
        elif name == "plain-ae":
            codecs.append(plain_ae_codec(threads))
        elif name == "jpeg":
            codecs.append(pillow_codec("jpeg", "JPEG", "JPEG (Pillow, 4:2:0, optimized)",
                                       baseline_qualities, optimize=True))
        elif name == "webp":
            codecs.append(pillow_codec("webp", "WEBP", "WebP (method 6)", baseline_qualities,
                                       method=6))
        elif name == "avif":
            if not features.check("avif"):
                skip("avif", "this Pillow has no AVIF support")
                continue
            codecs.append(pillow_codec("avif", "AVIF", "AVIF (speed 6)", baseline_qualities,
                                       speed=6))
        elif name in EXTRA_LABELS:
            reason = extra_format_status(name)
            if reason is not None:
                skip(name, reason)
                continue
            codecs.append(extra_codec(name, HEIC_QUALITIES if name == "heic"
                                      and baseline_qualities == BASELINE_QUALITIES
                                      else baseline_qualities))
    return codecs


# ----------------------------------------------------------------------------- running


def peak_rss_mb() -> float | None:
    """The process's resident-set high-water mark in MiB (None where unavailable)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB


def load_images(folder: Path, limit: int | None) -> list[tuple[str, np.ndarray]]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")
    if limit:
        files = files[:limit]
    if not files:
        raise SystemExit(f"no PNG images in {folder}")
    return [(p.name, to_rgb(load_image(p).pixels)[0]) for p in files]


def measure(codec: CodecUnderTest, name: str, pixels: np.ndarray, quality: float) -> ImageResult:
    t0 = time.perf_counter()
    data = codec.encode(pixels, quality)
    t1 = time.perf_counter()
    decoded = codec.decode(data)
    t2 = time.perf_counter()
    if decoded.shape != pixels.shape:
        raise RuntimeError(f"{codec.name} decoded {name} as {decoded.shape}, not {pixels.shape}")
    h, w = pixels.shape[:2]
    return ImageResult(name, len(data), bits_per_pixel(len(data), w, h), psnr(pixels, decoded),
                       ms_ssim(pixels, decoded), t1 - t0, t2 - t1)


def ms_ssim_db(value: float) -> float:
    return math.inf if value >= 1.0 else -10.0 * math.log10(1.0 - value)


def summarise(quality: float, results: list[ImageResult]) -> dict[str, Any]:
    mean_ms = float(np.mean([r.ms_ssim for r in results]))
    return {"quality": quality, "bpp": float(np.mean([r.bpp for r in results])),
            "psnr": float(np.mean([r.psnr for r in results])), "ms_ssim": mean_ms,
            "ms_ssim_db": ms_ssim_db(mean_ms),
            "encode_s": float(np.median([r.encode_s for r in results])),
            "decode_s": float(np.median([r.decode_s for r in results])),
            "images": len(results), "per_image": [asdict(r) for r in results]}


def run_codec(codec: CodecUnderTest, images: list[tuple[str, np.ndarray]]) -> dict[str, Any]:
    rss_before = peak_rss_mb()
    name, first = images[0]
    codec.decode(codec.encode(first, codec.qualities[len(codec.qualities) // 2]))  # warm-up
    points = []
    for q in codec.qualities:
        t = time.perf_counter()
        points.append(summarise(q, [measure(codec, n, px, q) for n, px in images]))
        p = points[-1]
        print(f"  {codec.name} q={q:g}: {p['bpp']:.3f} bpp, {p['psnr']:.2f} dB "
              f"({time.perf_counter() - t:.1f} s)", file=sys.stderr, flush=True)
    return {"label": codec.label, "settings": codec.settings, "points": points,
            "peak_rss_mb_before": rss_before, "peak_rss_mb": peak_rss_mb()}


def bd_rates(results: dict[str, dict[str, Any]], method: str) -> dict[str, dict[str, Any]]:
    """BD-rate of every codec against JPEG on PSNR and on MS-SSIM dB (None + reason if n/a)."""
    if REFERENCE not in results:
        return {}

    def curve(points: list[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
        kept = [p for p in points if math.isfinite(p[key]) and p["bpp"] > 0]
        return [p["bpp"] for p in kept], [p[key] for p in kept]

    table: dict[str, dict[str, Any]] = {}
    for name, res in results.items():
        row: dict[str, Any] = {}
        for key in ("psnr", "ms_ssim_db"):
            try:
                test = curve(res["points"], key)
                if len(test[0]) < 2:
                    n = len(test[0])
                    raise ValueError(f"{n} operating point{'s' * (n != 1)}: a BD-rate needs a "
                                     f"curve of 2 or more")
                row[key] = bd_rate(*curve(results[REFERENCE]["points"], key), *test,
                                   method=method)
            except ValueError as exc:
                row[key], row[f"{key}_error"] = None, str(exc)
        table[name] = row
    return table


# ----------------------------------------------------------------------------- output


def print_rd_table(results: dict[str, dict[str, Any]]) -> None:
    print(f"{'codec':<9} {'quality':>7} {'bpp':>7} {'PSNR':>7} {'MS-SSIM':>8} {'MS-SSIM dB':>10}"
          f" {'enc s':>7} {'dec s':>7}")
    for name, res in results.items():
        for p in res["points"]:
            print(f"{name:<9} {p['quality']:>7g} {p['bpp']:>7.3f} {p['psnr']:>7.2f} "
                  f"{p['ms_ssim']:>8.4f} {p['ms_ssim_db']:>10.2f} {p['encode_s']:>7.3f} "
                  f"{p['decode_s']:>7.3f}")
        rss = res["peak_rss_mb"]
        print(f"{name:<9} peak RSS of the process after this codec: "
              f"{'n/a' if rss is None else f'{rss:.0f} MiB'}")


def print_bd_table(table: dict[str, dict[str, Any]], method: str) -> None:
    if not table:
        print(f"\nBD-rate: skipped ({REFERENCE} is the reference and was not run)")
        return
    print(f"\nBD-rate vs {REFERENCE} ({method}; negative = fewer bits for the same quality)")
    print(f"{'codec':<9} {'on PSNR':>10} {'on MS-SSIM dB':>14}")
    notes = []
    for name, row in table.items():
        cells = []
        for key in ("psnr", "ms_ssim_db"):
            if row[key] is None:
                cells.append("n/a")
                notes.append(f"  {name}, {key}: {row[f'{key}_error']}")
            else:
                cells.append(f"{row[key]:+.1f}%")
        print(f"{name:<9} {cells[0]:>10} {cells[1]:>14}")
    for note in notes:
        print(note)


def _finite(obj: Any) -> Any:
    """JSON-safe copy: non-finite floats become None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def environment() -> dict[str, Any]:
    import PIL

    env = {"python": platform.python_version(), "platform": platform.platform(),
           "numpy": np.__version__, "pillow": PIL.__version__,
           "avif": bool(features.check("avif"))}
    try:
        import onnxruntime

        env["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    return env


# -------------------------------------------------------------------------------- CLI


def _numbers(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    if not values or any(not 0 <= v <= 100 for v in values):
        raise argparse.ArgumentTypeError(f"qualities must be in 0..100, got {text!r}")
    return values


def _codec_names(text: str) -> tuple[str, ...]:
    names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in ALL_CODECS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown codec(s) {', '.join(unknown) or '(none)'}: use {','.join(ALL_CODECS)}")
    return tuple(dict.fromkeys(names))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of PNG images")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N images")
    ap.add_argument("--codecs", type=_codec_names, default=ALL_CODECS)
    ap.add_argument("--qualities", type=_numbers, default=AE_QUALITIES,
                    help="AE Studio qualities (continuous 1..100)")
    ap.add_argument("--baseline-qualities", type=_numbers, default=BASELINE_QUALITIES,
                    help="JPEG/WebP/AVIF/JPEG XL qualities (HEIC's default: "
                    f"{','.join(map(str, HEIC_QUALITIES))}; this option sets it too)")
    ap.add_argument("--bd-method", choices=METHODS, default="pchip")
    ap.add_argument("--threads", type=int, default=None, help="ONNX Runtime intra-op threads")
    ap.add_argument("--json", type=Path, default=RESULTS / "codec.json")
    ap.add_argument("--reuse", type=Path, default=None,
                    help="take the codecs not run now from this earlier JSON (same images)")
    ap.add_argument("--plot", type=str, default=str(RESULTS / "codec_rd.png"),
                    help="RD plot PNG ('' to skip)")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    images = load_images(args.data, args.limit)
    set_name = f"{args.data.name} ({len(images)} image{'s' * (len(images) != 1)})"
    print(f"{set_name}: {', '.join(n for n, _ in images[:4])}{' ...' * (len(images) > 4)}",
          file=sys.stderr)
    results: dict[str, dict[str, Any]] = {}
    if args.reuse:
        old = json.loads(args.reuse.read_text())
        if old["images"] != [n for n, _ in images]:
            raise SystemExit(f"--reuse: {args.reuse} was measured on other images")
        results.update({k: v for k, v in old["codecs"].items() if k not in args.codecs})
    skipped: dict[str, str] = {}
    for codec in make_codecs(args.codecs, args.qualities, args.baseline_qualities, args.threads,
                             skipped):
        results[codec.name] = run_codec(codec, images)
    bd = bd_rates(results, args.bd_method)
    print_rd_table(results)
    print_bd_table(bd, args.bd_method)

    report = {"dataset": str(args.data), "images": [n for n, _ in images],
              "bd_method": args.bd_method, "bd_reference": REFERENCE,
              "environment": environment(), "codecs": results, "bd_rate": bd,
              "skipped": skipped}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(_finite(report), indent=1) + "\n")
    print(f"\nwrote {args.json}")
    if args.plot:
        if plot_rd(results, Path(args.plot), f"Rate-distortion on {set_name}"):
            print(f"wrote {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
