"""Single-thread CPU time of each stage behind a quality change in Compress mode.

Wall-clock latencies (``benchmarks/gui_latency.py``) depend on what else runs; the CPU time of
each stage on one onnxruntime thread does much less, so the latency on an idle machine can be
predicted from it: the critical path of a first move is debounce + analysis + entropy coding +
decode (+ screen image); the preview runs beside it on the other core; MS-SSIM and the classic
side follow the shown result.

Run: ``python -m benchmarks.gui_stages [--image PATH]`` (default: the first 768×512 Kodak
image, else the synthetic photo of ``gui_latency``). Each stage's best of three runs.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

QUALITY = 40


def _cpu(fn, runs: int = 3):
    best, out = float("inf"), None
    for _ in range(runs):
        c = time.process_time()
        out = fn()
        best = min(best, time.process_time() - c)
    return best, out


def stages(pixels: np.ndarray) -> list[tuple[str, float]]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.core.compare.metrics import ms_ssim, psnr
    from app.core.compare.same_size import encode_at_size
    from app.core.engine import Engine
    from app.gui.compress_preview import _upscaled, downscaled
    from app.gui.screen_images import prepare
    from app.spec import bitstream as bsf

    QApplication.instance() or QApplication([])
    engine = Engine(provider="cpu", threads=1)
    codec = engine.codec()
    h, w = pixels.shape[:2]
    rows = []

    def add(name, fn, runs=3):
        t, out = _cpu(fn, runs)
        rows.append((name, t))
        return out

    a = add("analysis (encoder network)", lambda: codec.analyse(pixels))
    data = add("entropy coding (fixed-point context + coder)",
               lambda: codec.encode_analysis(a, QUALITY))
    bs = bsf.unpack(data)
    add("decode: entropy decoding (fixed-point context)", lambda: codec.decode_symbols(bs))
    rec = add("decode: all (entropy + synthesis network)", lambda: engine.decompress(data))
    add("PSNR", lambda: psnr(pixels, rec))
    add("MS-SSIM", lambda: ms_ssim(pixels, rec))
    add("screen image (prepare)", lambda: prepare(rec.copy()))
    small = downscaled(pixels)
    if small is not None:
        sa = add("preview: downscale + analysis", lambda: codec.analyse(downscaled(pixels)))
        sd = add("preview: entropy coding", lambda: codec.encode_analysis(sa, QUALITY))
        sr = add("preview: decode", lambda: engine.decompress(sd))
        add("preview: upscale + screen image", lambda: prepare(_upscaled(sr, w, h)))
    for fmt in ("webp", "jpeg"):
        found = add(f"{fmt}: same-size search, no guess",
                    lambda f=fmt: encode_at_size(pixels, f, len(data)), runs=2)
        add(f"{fmt}: same-size search, last quality as guess",
            lambda f=fmt, q=found.quality: encode_at_size(pixels, f, int(len(data) * 1.1),
                                                           guess=q), runs=2)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", help="an image file (default: a 768×512 Kodak image)")
    args = parser.parse_args(argv)
    if args.image:
        from PIL import Image

        pixels, name = np.asarray(Image.open(args.image).convert("RGB")), args.image
    else:
        from benchmarks.gui_latency import source_image

        pixels, name = source_image(768, 512)
    print(f"{name} ({pixels.shape[1]}×{pixels.shape[0]}), quality {QUALITY}, "
          "CPU seconds on one thread:")
    for stage, seconds in stages(pixels):
        print(f"  {stage:<52} {seconds:6.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
