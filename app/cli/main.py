"""``aestudio`` commands: parse arguments, call ``app.core``, print results or one error line."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from app import __version__
from app.cli.numbers import bounded_int, finite_float, parse_finite
from app.core.errors import error_line, without_name
from app.core.io.file_types import AEI_SUFFIX

EXIT_ERROR = 1
EXIT_USAGE = 2


def print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Our own warnings (a model folder's broken manifest) as one ``aestudio: warning:`` line."""
    if issubclass(category, UserWarning):
        print(f"aestudio: warning: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))



def parse_size(text: str) -> int:
    from app.core.units import parse_size as parse

    try:
        return parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parse_quality(text: str) -> float:
    q = parse_finite(text)  # NaN would pass any range check
    if not 1 <= q <= 100:
        raise argparse.ArgumentTypeError("quality must be between 1 and 100")
    return q


def parse_passes(text: str) -> int:
    from app.core.restore.self_ensemble import PASSES, check_passes

    try:
        return check_passes(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be one of {', '.join(map(str, PASSES))}, not {text!r}") from None


def passes_help(*tasks: str) -> str:
    from app.core.restore.self_ensemble import DEFAULT_PASSES

    default = ", ".join(f"{DEFAULT_PASSES[t]}" + (f" for {t}" if len(tasks) > 1 else "")
                        for t in tasks)
    return ("network passes per tile on mirrored and turned copies, averaged: more is slightly "
            f"better and proportionally slower (1, 2, 4 or 8; default: {default})")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="aestudio", description="Compress, denoise and inpaint "
                                "photos with learned autoencoders.")
    p.add_argument("--version", action="version", version=f"aestudio {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--provider", choices=["auto", "cuda", "cpu"], default=None,
                        help="execution provider (default: CUDA when available, else CPU)")
    common.add_argument("--models", help="models folder (default: $AESTUDIO_MODELS or bundled)")
    common.add_argument("--json", action="store_true", help="print one JSON object per output")
    out = argparse.ArgumentParser(add_help=False)
    out.add_argument("-o", "--output", type=Path, help="output file")
    out.add_argument("-f", "--force", action="store_true", help="overwrite an existing output")
    out.add_argument("--model", help="model id (default: the installed model for the task)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("models", parents=[common], help="list installed models")
    c = sub.add_parser("compress", parents=[common, out], help="image -> .aei")
    c.add_argument("input", type=Path)
    c.add_argument("-q", "--quality", type=parse_quality, default=75.0,
                   help="1..100, higher is better (default 75)")
    c.add_argument("--target-size", type=parse_size,
                   help="best quality that fits this size (e.g. 40KB)")
    c.add_argument("--metrics", action="store_true", help="also decode and report PSNR")
    d = sub.add_parser("decompress", parents=[common, out], help=".aei -> image")
    d.add_argument("input", type=Path)
    n = sub.add_parser("denoise", parents=[common, out], help="remove noise from a photo")
    n.add_argument("input", type=Path)
    n.add_argument("--sigma", type=finite_float(0, 75),
                   help="noise level 0..75 on the 0-255 scale (default: estimated)")
    n.add_argument("--strength", type=finite_float(0, 4), default=1.0,
                   help="multiply the noise level (estimated map or --sigma) by this, 0..4: "
                   "below 1 keeps more texture, above 1 removes more (default 1)")
    n.add_argument("--passes", type=parse_passes,
                   help=passes_help("denoise"))
    i = sub.add_parser("inpaint", parents=[common, out], help="fill the holes given by a mask")
    i.add_argument("input", type=Path)
    i.add_argument("--mask", type=Path, required=True, help="mask image, white = hole")
    i.add_argument("--passes", type=parse_passes,
                   help=passes_help("inpaint"))
    add_batch_parser(sub, common)
    m = sub.add_parser("demo", parents=[common], help="run every job on the bundled sample")
    m.add_argument("image", nargs="?", type=Path, help="another image to use")
    g = sub.add_parser("gui", help="open the desktop app (optionally on FILE... or a folder)",
                       description="Open the desktop app on FILE (an image or .aei file; "
                       "several: Page Up / Page Down step through them), or on an empty window "
                       "(Open, Open sample). A folder opens the Batch dialog on it. "
                       "`aestudio FILE...` and `aestudio DIR` do the same. Without a display it "
                       "prints one line and exits with status 1.")
    g.add_argument("files", nargs="*", metavar="FILE",
                   help="image or .aei file to open, or a folder for Batch")
    return p


BATCH_EPILOG = """\
The output folder mirrors the input folder (its subfolders too with --recursive); it must not
be the input folder or inside it, and nothing is written into the input folder. Where every
output really lands (symlinks, bind mounts) is checked before any work: a batch that would
write inside the input or masks folder, or onto an input, a mask, the report or another
output, does not start. Output names:
compress -> <stem>.aei, decompress -> <stem>.png, denoise and inpaint -> <stem>.png. Each output
is written to a temporary file and renamed into place, so an interrupted run leaves no partial
output; run again with --skip-existing to continue where it stopped.

A file that cannot be processed (corrupt, not an image, too many pixels, mask missing) is
recorded in the report with its error and the batch goes on.

exit status: 0 every file succeeded (or was skipped), 3 some files failed (see --report),
4 the batch ran but the report could not be written (the summary is printed), 1 the batch
could not start, 2 usage error, 130 interrupted (SIGINT), 143 stopped by SIGTERM.
See docs/batch.md."""


class DeprecatedAlias(argparse.Action):
    """A hidden old name of an option: stores into the new option's ``dest`` and says, on
    stderr, which name to use instead."""

    def __init__(self, option_strings, dest, *, new: str, **kwargs):
        super().__init__(option_strings, dest, help=argparse.SUPPRESS,
                         default=argparse.SUPPRESS, **kwargs)
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"aestudio: warning: {option_string} is deprecated; use {self.new}",
              file=sys.stderr)
        setattr(namespace, self.dest, values)


def add_batch_parser(sub, common) -> None:
    from app.core.batch import BACKENDS

    b = sub.add_parser("batch", parents=[common], help="run a task over every image of a folder",
                       description="Run compress, decompress, denoise or inpaint over a folder.",
                       epilog=BATCH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("input_dir", metavar="IN_DIR", help="input folder (or URL with --backend ray)")
    b.add_argument("output_dir", metavar="OUT_DIR", help="output folder, created if needed")
    b.add_argument("--task", required=True, choices=["denoise", "inpaint", "compress",
                                                     "decompress"])
    b.add_argument("--recursive", action="store_true", help="also process subfolders")
    b.add_argument("--masks", metavar="DIR", help="inpaint: masks folder mirroring IN_DIR "
                   "(same relative path and stem, any image extension; white = hole)")
    b.add_argument("-q", "--quality", type=parse_quality, default=75.0,
                   help="compress: 1..100 (default 75)")
    b.add_argument("--sigma", type=finite_float(0, 75),
                   help="denoise: noise level 0..75 (default: estimated)")
    b.add_argument("--strength", type=finite_float(0, 4), default=1.0,
                   help="denoise: multiply the noise level by this, 0..4 (default 1)")
    b.add_argument("--passes", type=parse_passes,
                   help="denoise, inpaint: " + passes_help("denoise", "inpaint"))
    b.add_argument("--model", help="model id (default: the installed model for the task)")
    b.add_argument("-j", "--workers", type=bounded_int(), default=None, metavar="N",
                   help="inference workers, each with its own model sessions (default: 2 on 2+ cores)")
    b.add_argument("--jobs", dest="workers", type=bounded_int(), action=DeprecatedAlias,
                   new="--workers")
    b.add_argument("--skip-existing", action="store_true",
                   help="skip files whose output exists (continue an interrupted run)")
    b.add_argument("-f", "--force", action="store_true", help="overwrite existing outputs")
    b.add_argument("--report", metavar="FILE", help="write the JSON report here")
    b.add_argument("--backend", choices=BACKENDS, default="local",
                   help="where it runs: local threads (default) or Ray Data")
    b.add_argument("--engine", dest="backend", choices=BACKENDS, action=DeprecatedAlias,
                   new="--backend")
    b.add_argument("--ray-address", metavar="ADDR",
                   help="Ray cluster to use (ray://host:10001 or auto; default: a local one)")


def cmd_batch(args) -> int:
    from app.cli.signals import stop_requested
    from app.core.batch import BatchOptions, TextProgress, default_workers, run_batch
    from app.core.runtime.sessions import runtime_conflict

    conflict = runtime_conflict()
    if conflict:
        print(f"aestudio: warning: {conflict}", file=sys.stderr)
    opts = BatchOptions(task=args.task, input_dir=args.input_dir, output_dir=args.output_dir,
                        recursive=args.recursive, masks=args.masks, quality=args.quality,
                        sigma=args.sigma, strength=args.strength, passes=args.passes,
                        model=args.model,
                        workers=args.workers if args.workers is not None else default_workers(),
                        skip_existing=args.skip_existing, force=args.force,
                        models_dir=args.models, provider=args.provider)
    progress = TextProgress(sys.stderr)
    report = run_batch(opts, args.backend, on_progress=progress, report=args.report,
                       ray_address=args.ray_address, cancel=stop_requested)
    if not report.files:
        print(f"aestudio: warning: no input files found in {args.input_dir}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict(), default=str))
    else:
        print(report.summary())
    for f in report.failures():
        error = without_name(str(f.error), f.relative.rsplit("/", 1)[-1])
        print(f"aestudio: failed: {f.relative}: {error}", file=sys.stderr)
    if report.report_error:  # the batch ran; only its report is missing (exit status 4)
        print(f"aestudio: error: {report.report_error}", file=sys.stderr)
    return report.exit_code


def _engine(args):
    from app.core.engine import Engine
    from app.core.runtime.sessions import runtime_conflict

    conflict = runtime_conflict()
    if conflict:
        print(f"aestudio: warning: {conflict}", file=sys.stderr)
    return Engine(models_dir=args.models, provider=args.provider)


def _print_result(res: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(res, default=str))
        return
    parts = [f"{res['input']} -> {res['output']}", f"{res['bytes']:,} bytes"]
    for key in ("bpp", "quality", "psnr", "sigma", "passes"):
        if key in res:
            parts.append(f"{key} {res[key]}")
    parts.append(f"{res['seconds']:.2f} s")
    print(", ".join(parts))


ORIGIN_LABELS = {"env": "$AESTUDIO_MODELS", "folder": "a models folder",
                 "package": "the installed package"}


def cmd_models(args) -> int:
    from app.core.runtime.registry import Registry

    reg = Registry(args.models)
    models = reg.installed()  # none: an error with the fix, not an empty list
    # The default on the CPU provider, and the one CUDA runs where that differs (an int8 copy
    # runs on the CPU only).
    defaults, cuda_defaults = reg.defaults(), reg.defaults(prefer_float=True)
    rows = []
    for m in models:
        rows.append({"id": m.id, "task": m.task, "title": m.manifest.title,
                     "hash": m.manifest.model_hash()[:16], "path": str(m.directory),
                     "origin": reg.origin, "default": defaults.get(m.task) == m.id,
                     "cuda_default": cuda_defaults.get(m.task) == m.id})
    if args.json:
        print(json.dumps({"models_dir": str(reg.root), "origin": reg.origin,
                          "defaults": defaults, "cuda_defaults": cuda_defaults,
                          "models": rows, "problems": reg.problems,
                          "broken": [{"path": str(b.directory), "manifest": str(b.manifest),
                                      "reason": b.reason} for b in reg.broken]}))
    else:
        print(f"models in {reg.root} (from {ORIGIN_LABELS[reg.origin]}):")
        for r in rows:
            mark = ("default" if r["default"] else "") + (
                "default on CUDA" if r["cuda_default"] and not r["default"] else "")
            print(f"  {r['task']:<8} {r['id']:<24} {r['hash']}  {mark:<15}  {r['title']}")
        for b in reg.broken:  # skipped, with the reason; the models above still work
            print(f"  {'broken':<8} {b.directory.name:<24} {b.manifest}: {b.reason}")
        for prob in reg.problems:
            if not any(prob == b.message for b in reg.broken):
                print(f"  problem: {prob}")
    return 0


def cmd_job(args) -> int:
    from app.core.jobs import Job, run

    job = Job(task=args.command, input=args.input, output=args.output, force=args.force,
              model=args.model, quality=getattr(args, "quality", 75.0),
              target_bytes=getattr(args, "target_size", None), sigma=getattr(args, "sigma", None),
              mask=getattr(args, "mask", None), measure=getattr(args, "metrics", False),
              passes=getattr(args, "passes", None), strength=getattr(args, "strength", 1.0))
    engine = _engine(args)
    _print_result(run(job, engine).to_dict(), args.json)
    return 0


def cmd_demo(args) -> int:
    from app.core.demo import run_demo

    engine = _engine(args)
    rows = run_demo(engine, args.image)
    if args.json:
        from dataclasses import asdict

        from app.core.demo import SAMPLE

        source = str(args.image or SAMPLE)
        for r in rows:  # the documented keys of every --json object; the demo writes no file
            print(json.dumps({"input": source, "output": None, **asdict(r)}))
        return 0
    print(f"AE Studio {__version__} demo on {args.image or 'the bundled sample (kodim23)'}; "
          f"execution provider: {engine.provider_label}")
    print(f"{'step':<34} {'bytes':>9} {'bpp':>7} {'PSNR dB':>8} {'seconds':>8}")

    def fmt(v, spec):
        return format(v, spec) if v is not None else "-"

    for r in rows:
        print(f"{r.step:<34} {fmt(r.bytes, ',d'):>9} {fmt(r.bpp, '.3f'):>7} "
              f"{fmt(r.psnr, '.2f'):>8} {fmt(r.seconds, '.2f'):>8}")
    return 0


COMMANDS = {"models": cmd_models, "compress": cmd_job, "decompress": cmd_job,
            "denoise": cmd_job, "inpaint": cmd_job, "demo": cmd_demo, "batch": cmd_batch}


def usage_problem(args) -> str | None:
    """Option combinations that argparse cannot check by itself (None: all is well)."""
    if args.command == "compress" and args.output is not None \
            and args.output.suffix.lower() != AEI_SUFFIX:
        return (f"the output of compress is an .aei file: {str(args.output)!r} does not end "
                "in .aei")
    if args.command == "batch":
        if args.ray_address and args.backend != "ray":
            return "--ray-address needs --backend ray"
        if args.workers is not None and args.workers < 1:
            return f"--workers must be at least 1, got {args.workers}"
        if args.task == "inpaint" and not args.masks:
            return ("inpaint needs --masks DIR: a folder of masks (white = hole) that mirrors "
                    "the input folder")
    return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if args.command == "gui":
        print("aestudio: error: the GUI is started by the `aestudio` launcher", file=sys.stderr)
        return EXIT_USAGE
    problem = usage_problem(args)
    if problem:  # a usage error: one line, status 2 like argparse's own, nothing written
        print(f"aestudio: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    warnings.showwarning = print_warning
    try:
        from app.cli.signals import run_command  # SIGINT / SIGTERM: clean stop, 130 / 143

        return run_command(COMMANDS[args.command], args)
    except KeyboardInterrupt:
        print("aestudio: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line, never a traceback
        print(f"aestudio: error: {error_line(exc, filename='errno')}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
