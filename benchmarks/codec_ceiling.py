"""Where a trained codec loses: its transforms, its quantisation or its rate.

    python benchmarks/codec_ceiling.py [--model models/<codec id>] [--images 4]

For every gain level of the PyTorch model (the weights shipped beside the ONNX graphs) on the
first Kodak images, this prints the PSNR of the analysis and synthesis transforms with the
latent left unquantised (the transforms' ceiling), the PSNR with the latent rounded as in the
codec, and the rate the entropy model estimates. When the unquantised PSNR is barely above the
rounded one at the top level, the transforms, not the quantisation, bound the high-rate end.
Needs the ``train`` extra (torch); writes ``benchmarks/results/codec_ceiling.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.spec.data_paths import data_path  # noqa: E402


def psnr(a, b) -> float:
    import torch

    return float(10 * torch.log10(1 / ((a.clamp(0, 1) - b) ** 2).mean()))


def pad_to(x, multiple: int):
    """Replicate-pad an NCHW tensor on the bottom and right to a multiple of ``multiple``."""
    from torch.nn import functional as F

    h, w = x.shape[2:]
    return F.pad(x, (0, -w % multiple, 0, -h % multiple), mode="replicate")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument("--model", type=Path, default=None,
                    help="a codec's model folder (default: the app's default codec)")
    ap.add_argument("--kodak", type=Path, default=data_path("kodak"))
    ap.add_argument("--images", type=int, default=4)
    ap.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" /
                    "codec_ceiling.json")
    args = ap.parse_args(argv)
    if args.model is None:
        from app.core.runtime.registry import Registry

        args.model = Registry(REPO / "models").resolve("codec").directory

    import torch
    from PIL import Image

    from training import archs
    from training.engine import load_weights
    from training.tasks import bits

    torch.set_num_threads(1)
    params = json.loads((args.model / "manifest.json").read_text())["params"]
    model = archs.build(params["architecture"], **params.get("arch_args", {}))
    load_weights(model, args.model / "weights.safetensors")
    model.eval()
    files = sorted(args.kodak.glob("*.png"))[: args.images]
    photos = [torch.from_numpy(np.asarray(Image.open(f).convert("RGB")) / 255.0).float()
              .permute(2, 0, 1)[None] for f in files]
    rows = []
    print(f"{args.model.name} on {len(files)} Kodak images")
    print(f"{'level':>5} {'lambda':>8} {'unquantised dB':>15} {'rounded dB':>11} {'est. bpp':>9}")
    with torch.no_grad():
        for level in range(model.levels):
            lv = torch.tensor([level])
            gain, inv_gain = model.gains(lv)
            open_db, round_db, bpp = [], [], []
            for x in photos:
                h, w = x.shape[2:]
                padded = pad_to(x, model.downsample)
                y = model.g_a(padded) * gain
                open_db.append(psnr(model.g_s(y * inv_gain)[..., :h, :w], x))
                out = model(padded, lv)
                round_db.append(psnr(out["x_hat"][..., :h, :w], x))
                bpp.append(float(bits(out["likelihoods"])) / (h * w))
            row = {"level": level, "lambda": float(model.lambdas[level]),
                   "unquantised_psnr": float(np.mean(open_db)),
                   "rounded_psnr": float(np.mean(round_db)), "estimated_bpp": float(np.mean(bpp))}
            rows.append(row)
            print(f"{level:>5} {row['lambda']:>8.4f} {row['unquantised_psnr']:>15.2f} "
                  f"{row['rounded_psnr']:>11.2f} {row['estimated_bpp']:>9.3f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"model": args.model.name,
                                     "images": [f.name for f in files], "levels": rows},
                                    indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
