"""``python -m training train CONFIG`` / ``export CONFIG`` / ``quantize CONFIG`` /
``probe CONFIG WEIGHTS...`` / ``average OUT WEIGHTS...``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training")
    sub = parser.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train", help="train (or resume) a model from a config file")
    t.add_argument("config")
    t.add_argument("--init", help="start from these weights (.safetensors)")
    t.add_argument("--runs", default="runs", help="checkpoint folder (default: runs/)")
    t.add_argument("--max-minutes", type=float, help="override the config's time budget")
    t.add_argument("--threads", type=int, help="override the config's thread count")
    e = sub.add_parser("export", help="export a trained model to ONNX under models/")
    e.add_argument("config")
    e.add_argument("--weights", help="weights (.safetensors); default runs/<name>/")
    e.add_argument("--runs", default="runs")
    e.add_argument("--models", default="models")
    q = sub.add_parser("quantize", help="int8 copy of a shipped denoiser (config: source, "
                                        "nodes, calibration data)")
    q.add_argument("config")
    q.add_argument("--models", default="models")
    p = sub.add_parser("probe", help="score weights on fixed crops of the config's training "
                                     "photos (compare checkpoints while a run trains)")
    p.add_argument("config")
    p.add_argument("weights", nargs="+", help=".safetensors files or models/<id> folders")
    p.add_argument("--crops", type=int, default=60)
    p.add_argument("--size", type=int, default=256, help="crop side in pixels")
    p.add_argument("--seed", type=int, default=1234)
    a = sub.add_parser("average", help="average checkpoints of one run into one weights file "
                                       "(score it with probe, ship it with export --weights)")
    a.add_argument("out", help="the averaged .safetensors file to write")
    a.add_argument("weights", nargs="+", help="checkpoints' .safetensors files")
    args = parser.parse_args(argv)

    if args.cmd == "average":
        from .average import average_weights

        print(f"wrote {average_weights(args.weights, args.out)}")
        return 0
    if args.cmd == "quantize":
        from .export.quantize import QuantizeConfig, quantize_model

        quantize_model(QuantizeConfig.load(args.config), models=args.models)
        return 0

    from .config import TrainConfig

    cfg = TrainConfig.load(args.config)
    if args.cmd == "train":
        from .engine import train

        if args.max_minutes is not None:
            cfg.max_minutes = args.max_minutes
        if args.threads is not None:
            cfg.threads = args.threads
        train(cfg, init=args.init, root=args.runs)
    elif args.cmd == "probe":
        from .probe import format_table, probe

        print(format_table(probe(cfg, args.weights, crops=args.crops, size=args.size,
                                 seed=args.seed)))
    else:
        from .export import export_model

        export_model(cfg, weights=args.weights, runs=args.runs, models=args.models)
    return 0


if __name__ == "__main__":
    sys.exit(main())
