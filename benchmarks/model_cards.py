"""Write ``models/<id>/card.md`` for each shipped model from its training config, its
checkpoint's metadata and the measured results of ``benchmarks/quick_eval.py``.

    python benchmarks/quick_eval.py --json benchmarks/results/quick_eval.json
    python benchmarks/model_cards.py benchmarks/results/quick_eval.json [more.json ...]

Reports of ``benchmarks/denoise.py`` and ``benchmarks/inpaint.py`` are read as well.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.spec.manifest import Manifest  # noqa: E402

DATA = ("`$AESTUDIO_DATA/train` (432 BSDS500 photos, 481x321) and `$AESTUDIO_DATA/train_extra` "
        "(863 ImageNet sample photos, downscaled by 2 to remove JPEG artifacts); random crops, "
        "flips and 90-degree turns. No evaluation image was trained on.")


def training_facts(m: Manifest) -> dict:
    t = m.params.get("training", {})
    return {"steps": t.get("total_steps", t.get("steps", "?")),
            "minutes": t.get("total_minutes", t.get("minutes", "?")),
            "run_steps": t.get("steps", "?"), "run_minutes": t.get("minutes", "?"),
            "init_from": t.get("init_from"), "averaged_steps": t.get("averaged_steps")}


def training_line(facts: dict) -> str:
    line = (f"- trained here on 2 CPU cores (no GPU), shared with other jobs: {facts['steps']} "
            f"steps, {facts['minutes']} minutes of wall time in all")
    if facts["init_from"]:
        line += (f" ({facts['run_steps']} steps and {facts['run_minutes']} minutes in this run, "
                 f"started from the weights of `{facts['init_from']}`)")
    return line


def codec_results(r: dict) -> list[str]:
    lines = ["| quality | Kodak bpp | Kodak PSNR (dB) | encode s | decode s |", "|---|---|---|---|---|"]
    for row in r["kodak"]:
        lines.append(f"| {row['quality']:g} | {row['bpp']:.3f} | {row['psnr']:.2f} | "
                     f"{row['encode_s']:.2f} | {row['decode_s']:.2f} |")
    lines += ["", "kodim23 alone (real file bytes):", "",
              "| quality | bpp | PSNR (dB) |", "|---|---|---|"]
    lines += [f"| {row['quality']:g} | {row['bpp']:.3f} | {row['psnr']:.2f} |"
              for row in r["kodim23"]]
    if r.get("bd_rate"):
        bd = r["bd_rate"]
        lines += ["", f"BD-rate against Pillow JPEG (q 5-95) on Kodak: {bd['psnr']:+.1f} % on "
                  f"RGB PSNR, {bd['ms_ssim_db']:+.1f} % on MS-SSIM (dB)."]
    return lines


def denoise_results(r: list) -> list[str]:
    lines = ["CBSD68, Gaussian noise with a fixed seed, clipped and rounded to 8 bits:", "",
             "| sigma | noisy PSNR | blind (estimated sigma) | known sigma | seconds / image |",
             "|---|---|---|---|---|"]
    lines += [f"| {row['sigma']} | {row['psnr_noisy']:.2f} | {row['psnr_blind']:.2f} | "
              + ("–" if row["psnr_known_sigma"] is None else f"{row['psnr_known_sigma']:.2f}")
              + f" | {row['seconds']:.2f} |" for row in r]
    return lines


def inpaint_results(r: dict) -> list[str]:
    rows = [(r.get("passes", 1), r)] + [(p, row) for p, row in r.get("other_passes", {}).items()]
    return ["Kodak with `$AESTUDIO_DATA/kodak_masks` (whole-image RGB PSNR; passes: the network "
            "runs on that many mirrored copies of each tile, averaged; the app's default first):",
            "", "| holes left black | passes | AE Studio | PSNR inside the holes | seconds / image |",
            "|---|---|---|---|---|",
            *(f"| {r['psnr_black_holes']:.2f} | {p} | {row['psnr']:.2f} | "
              f"{row['psnr_in_holes']:.2f} | {row['seconds']:.2f} |" for p, row in rows),
            *([] if r.get("telea") is None else
              ["", f"OpenCV Telea (radius 3) on the same images: {r['telea']:.2f} dB."])]


LIMITS = {
    "codec": "Far from converged (published hyperprior models train for millions of GPU steps); "
             "its rate-distortion on Kodak is ahead of JPEG and WebP but still below AVIF: see "
             "`benchmarks/codec.py`. "
             "Files it writes stay decodable: a retrained codec ships under a new model id.",
    "denoise": "Trained for Gaussian noise only (sigma 0-55); published CBSD68 sigma=25 "
               "references: CBM3D 30.71 dB, DnCNN 31.23 dB, FFDNet 31.21 dB.",
    "inpaint": "A modest receptive field and a loss over the hole pixels that rewards the "
               "likeliest colours: large holes come out smooth and blurry rather than textured; "
               "its PSNR against OpenCV's Telea is in the table above. Timings are on one "
               "thread; only tiles that hold holes are run, each once per pass.",
}

# A config's task_args "loss" (training/tasks.py) in words.
LOSSES = {"l1": "mean absolute error over the hole pixels",
          "l2": "mean squared error over the hole pixels",
          "psnr": "minus the mean over crops of each crop's PSNR inside its holes"}


def recipe_lines(m: Manifest, facts: dict) -> list[str]:
    """How the model was made: the training command, or the training of the fp32 model it was
    quantised from plus the quantisation command."""
    quant = m.params.get("quantization")
    source = quant["from"] if quant else m.id
    config = f"training/configs/{source}.json"
    cfg = json.loads((REPO / config).read_text())
    lines = [
        f"- data: {DATA}",
        f"- recipe: `python -m training train {config}` (seed {cfg['seed']}, patch {cfg['patch']}, "
        f"batch {cfg['batch']}, Adam lr {cfg['lr']} with a time-based cosine decay to "
        f"{cfg['lr_min']}), then `python -m training export {config}`",
        training_line(facts),
    ]
    averaged = facts["averaged_steps"]
    if averaged:
        lines.append(f"- shipped weights: the mean of {len(averaged)} checkpoints of this run, "
                     f"from step {averaged[0]} to {averaged[-1]} (`python -m training average`)")
    if cfg.get("bf16"):
        lines.append("- bf16 autocast in training (the network's layers in bf16, every task's "
                     "loss in fp32); the exported ONNX model is fp32")
    if m.params.get("context") == "checkerboard-v1":
        lines.append("- entropy model: the mean-scale hyperprior plus a checkerboard context "
                     "(He et al. 2021): half the latent is decoded first, the other half with "
                     "parameters that also see it; both passes in exact fixed point "
                     "(`docs/format.md`)")
    if m.params.get("context") == "channel-checkerboard-v1":
        lines.append("- entropy model: the mean-scale hyperprior plus a checkerboard context "
                     "and a channel context with uneven groups (Minnen & Singh 2020, ELIC): "
                     "the anchors, then the other half, each group by group, every group's "
                     "parameters seeing the groups decoded before it; all passes in exact "
                     "fixed point (`docs/format.md`)")
    loss = cfg.get("task_args", {}).get("loss")
    if loss:
        lines.append(f"- loss: {LOSSES.get(loss, loss)}")
    if cfg.get("lr_scale"):
        lines.append("- learning-rate multiples for new layers: " + ", ".join(
            f"`{p}*` {k:g}x" for p, k in cfg["lr_scale"].items()))
    if cfg.get("init_skip"):
        lines.append("- layers left out of the starting weights (this network drops them): "
                     + ", ".join(f"`{p}`" for p in cfg["init_skip"]))
    if quant:
        fp32 = quant["check_psnr_fp32"]
        change = ", ".join(f"sigma {s}: {quant['check_psnr_int8'][s] - fp32[s]:+.3f} dB"
                           for s in fp32)
        lines += [
            f"- int8: `python -m training quantize {quant['config']}` (seed {quant['seed']}) "
            f"quantises {len(quant['nodes'])} convolutions of `{source}` (model hash "
            f"`{quant['from_hash']}`): {quant['description']}. Scheme: {quant['scheme']}; "
            f"calibration on {quant['calibration']['crops']} noisy crops of the training "
            "photos.",
            f"- PSNR change against the float model on other training crops: {change}",
            f"- continue training from `models/{source}`, then quantise again",
        ]
        return lines
    return lines + [
        "- continue training: copy the config under a new id and set `\"init\": "
        f"\"models/{m.id}\"` (or pass `--init models/{m.id}`)",
        f"- time budget in the config: {cfg['max_minutes']} minutes"
        + (f"; this run was stopped at {facts['run_minutes']:.0f} minutes, before it ran out"
           if isinstance(facts["run_minutes"], float)
           and facts["run_minutes"] < cfg["max_minutes"] - 2 else ""),
    ]


def write_card(model_dir: Path, results: dict) -> Path:
    m = Manifest.load(model_dir)
    facts = training_facts(m)
    body = {"codec": codec_results, "denoise": denoise_results,
            "inpaint": inpaint_results}[m.task](results[m.task])
    text = "\n".join([
        f"# {m.id}", "", m.title, "",
        "## Model", "",
        f"- task: {m.task}; architecture `{m.params.get('architecture')}` "
        f"{json.dumps(m.params.get('arch_args', {}))}",
        f"- ONNX graphs: {', '.join(sorted(m.graphs))}; model hash `{m.model_hash()[:16]}`",
        f"- downsampling factor {m.downsample}; tiles {m.tile_size} px with {m.tile_overlap} px "
        "overlap" if m.tile_size else f"- downsampling factor {m.downsample}",
        *([f"- holes are first filled by `{m.params['hole_fill']}` (app/core/restore/hole_fill.py, "
           "on the whole image); the network refines that guess"]
          if m.params.get("hole_fill") else []),
        "",
        "## Training", "",
        *recipe_lines(m, facts),
        "",

        "",
        "## Measured results", "",
        f"Measured with `{results.get('sources', {}).get(m.task, 'python benchmarks/quick_eval.py')}`"
        f" (execution provider: "
        f"{results.get('provider')}).", "",
        *body, "",
        "## Limitations", "", LIMITS[m.task], "",
    ])
    path = model_dir / "card.md"
    path.write_text(text)
    return path


def from_benchmark(report: dict) -> dict:
    """The quick_eval shape of a ``benchmarks/codec.py``, ``denoise.py`` or ``inpaint.py``
    report (Kodak for the codec, CBSD68 rows for the denoiser, the Kodak masks for the
    inpainter)."""
    if "codecs" in report:  # codec.py
        ae = report["codecs"]["aestudio"]
        points = ae["points"]
        kodim23 = [{"quality": pt["quality"], **next(r for r in pt["per_image"]
                                                     if r["image"] == "kodim23.png")}
                   for pt in points if any(r["image"] == "kodim23.png" for r in pt["per_image"])]
        return {"provider": ae["settings"]["provider"],
                "models": {"codec": ae["settings"]["model_id"]},
                "sources": {"codec": "python benchmarks/codec.py"},
                "codec": {"kodak": points, "kodim23": kodim23,
                          "bd_rate": report.get("bd_rate", {}).get("aestudio")}}
    settings = report["methods"]["aestudio"]["settings"]
    out: dict = {"provider": settings["provider"], "models": {}, "sources": {}}
    if "sigmas" in report:  # denoise.py
        cells = report["results"]["cbsd68"]

        def rows(method: str, known: str | None) -> list[dict]:
            return [{"sigma": int(s), "psnr_noisy": c["noisy"]["psnr"],
                     "psnr_blind": c[method]["psnr"],
                     "psnr_known_sigma": c.get(known, c[method])["psnr"] if known else None,
                     "seconds": c[method]["seconds"]} for s, c in cells.items()]

        out["denoise"] = rows("aestudio", "aestudio-oracle")
        out["models"]["denoise"] = settings["model_id"]
        out["sources"]["denoise"] = "python benchmarks/denoise.py --oracle-sigma"
        # models run beside the default (``--also-model ID``): blind rows of their own
        out["denoise_also"] = {name.split(":", 1)[1]: rows(name, None)
                               for name in report["methods"] if name.startswith("aestudio:")}
    else:  # inpaint.py
        r = report["results"]

        def row(name: str) -> dict:
            return {"psnr": r[name]["psnr"], "psnr_in_holes": r[name]["psnr_holes"],
                    "seconds": r[name]["seconds"]}

        # rows of other pass counts (``--passes``), named aestudio-p<N>
        others = {report["methods"][n]["settings"]["passes"]: row(n)
                  for n in report["methods"] if n.startswith("aestudio-p")}
        out["inpaint"] = {"psnr_black_holes": r["black"]["psnr"], **row("aestudio"),
                          "images": r["aestudio"]["images"], "passes": settings.get("passes", 1),
                          "other_passes": dict(sorted(others.items())),
                          "telea": r.get("telea", {}).get("psnr")}
        out["models"]["inpaint"] = settings["model_id"]
        out["sources"]["inpaint"] = "python benchmarks/inpaint.py"
    return out


def main() -> int:
    results: dict = {"models": {}}
    for arg in sys.argv[1:]:  # several result files merge (e.g. restoration and codec runs)
        report = json.loads(Path(arg).read_text())
        if "methods" in report or "codecs" in report:  # a benchmarks/*.py report
            report = from_benchmark(report)
        results["models"].update(report.pop("models", {}))
        results.setdefault("sources", {}).update(report.pop("sources", {}))
        results.update(report)
    for d in sorted((REPO / "models").iterdir()):
        if (d / "manifest.json").exists():
            m = Manifest.load(d)
            measured = results.get("models", {}).get(m.task)
            also = results.get(f"{m.task}_also", {})
            if m.task in results and measured in (None, m.id):  # the model that was measured
                print(write_card(d, results))
            elif m.id in also:  # measured beside it, blind only
                print(write_card(d, {**results, m.task: also[m.id], "sources": {
                    **results.get("sources", {}),
                    m.task: f"{results['sources'][m.task]} --also-model {m.id}"}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
