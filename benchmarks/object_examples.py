"""The README's object-removal figure (docs/object-removal.png): four Kodak photos, each shown
with a hand-drawn object mask in magenta beside what the real ``aestudio inpaint`` CLI makes.

    python benchmarks/object_examples.py [--out docs/object-removal.png] [--keep DIR]

The masks are defined below as boxes and ellipses (pixel coordinates of the 768x512 photos),
drawn the way a user paints an object: roughly, sometimes missing an edge. Each photo and mask
is written to a temporary folder and filled by running the installed ``aestudio`` command (the
one beside this Python), exactly as a user would; ``--keep DIR`` keeps those files.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from app.spec.data_paths import data_path  # noqa: E402

KODAK = data_path("kodak")
OUT = REPO / "docs" / "object-removal.png"
PANEL_WIDTH = 384  # px per panel in the figure (the photos are halved)

# name -> shapes: ("box", y0, y1, x0, x1) or ("ellipse", cy, cx, ry, rx); a hole is their union
EXAMPLES = {
    "kodim01": [("box", 258, 457, 218, 319)],  # the door
    "kodim06": [("box", 52, 268, 288, 386), ("box", 268, 393, 120, 571)],  # boat and mast
    "kodim12": [("ellipse", 226, 305, 175, 108)],  # the couple
    "kodim16": [("box", 192, 265, 222, 613)],  # the palm island on the horizon
}

# Other photos and objects, to check that the fill is not tuned to the four above
# (``--extra``: renders these instead, to --out).
EXTRA = {
    "kodim21": [("box", 60, 322, 304, 396)],  # the lighthouse
    "kodim13": [("ellipse", 218, 455, 60, 100)],  # the bushes by the stream
    "kodim23": [("ellipse", 250, 560, 130, 75)],  # the parrot on the right
}


def mask_for(shapes: list[tuple], h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[:h, :w]
    hole = np.zeros((h, w), bool)
    for kind, *p in shapes:
        if kind == "box":
            y0, y1, x0, x1 = p
            hole |= (y >= y0) & (y < y1) & (x >= x0) & (x < x1)
        else:
            cy, cx, ry, rx = p
            hole |= ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1.0
    return hole


def with_mask(rgb: np.ndarray, hole: np.ndarray) -> np.ndarray:
    out = rgb.astype(np.float32)
    out[hole] = 0.45 * out[hole] + 0.55 * np.array([255, 0, 255], np.float32)
    return out.astype(np.uint8)


def run_cli(photo: Path, mask: Path, out: Path) -> float:
    cli = Path(sys.executable).parent / "aestudio"
    t = time.perf_counter()
    subprocess.run([str(cli), "inpaint", str(photo), "--mask", str(mask), "-o", str(out), "-f"],
                   check=True, capture_output=True, text=True)
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=KODAK)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--keep", type=Path, default=None, help="keep photos, masks and results here")
    ap.add_argument("--extra", action="store_true", help="the EXTRA photos instead")
    args = ap.parse_args(argv)
    examples = EXTRA if args.extra else EXAMPLES
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name, shapes in examples.items():
            rgb = np.asarray(Image.open(args.data / f"{name}.png").convert("RGB"))
            hole = mask_for(shapes, *rgb.shape[:2])
            mask_path, out_path = work / f"{name}_mask.png", work / f"{name}_filled.png"
            Image.fromarray(hole.astype(np.uint8) * 255).save(mask_path)
            secs = run_cli(args.data / f"{name}.png", mask_path, out_path)
            filled = np.asarray(Image.open(out_path).convert("RGB"))
            print(f"{name}: hole {100 * hole.mean():.1f} %, {secs:.1f} s", flush=True)
            rows.append(np.concatenate([with_mask(rgb, hole), filled], axis=1))
    width = PANEL_WIDTH * 2
    panels = [Image.fromarray(r).resize((width, round(r.shape[0] * width / r.shape[1])),
                                        Image.LANCZOS) for r in rows]
    gap = 4
    sheet = Image.new("RGB", (width + gap, sum(p.height for p in panels) + gap * 3), "white")
    y = 0
    for p in panels:  # a white gap between the photo and the result, and between rows
        half = p.width // 2
        sheet.paste(p.crop((0, 0, half, p.height)), (0, y))
        sheet.paste(p.crop((half, 0, p.width, p.height)), (half + gap, y))
        y += p.height + gap
    # 256 adaptive colours keep the figure small enough for the README
    sheet.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG
                   ).save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
