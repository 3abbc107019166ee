"""Rate-distortion figure for benchmarks/codec.py: bpp vs PSNR and bpp vs MS-SSIM (dB).

matplotlib is optional: without it :func:`plot_rd` prints a note and writes nothing.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

MAX_BPP = 2.0
MARKERS = ("o", "s", "^", "D", "v", "P", "X")


def plot_rd(results: dict[str, dict[str, Any]], path: Path, title: str) -> bool:
    """Write a two-panel RD plot of ``results`` (codec name -> {"label", "points"}) to
    ``path``; return False (after a note on stderr) when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib is not installed; skipping the RD plot "
              "(pip install matplotlib)", file=sys.stderr)
        return False

    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    panels = (("psnr", "RGB PSNR (dB)"), ("ms_ssim_db", "MS-SSIM (dB) = -10 log10(1 - MS-SSIM)"))
    for ax, (key, ylabel) in zip(axes, panels):
        for i, res in enumerate(results.values()):
            pts = sorted((p["bpp"], p[key]) for p in res["points"] if math.isfinite(p[key]))
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, marker=MARKERS[i % len(MARKERS)], markersize=5,
                        linestyle="-" if len(xs) > 1 else "none",  # one point: one marker
                        linewidth=1.5, label=res["label"])
        _fit_y(ax, results, key)
        ax.set_xlim(0, MAX_BPP)
        ax.set_xlabel("bits per pixel (real file bytes)")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.35)
        ax.legend(loc="best", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def _fit_y(ax: Any, results: dict[str, dict[str, Any]], key: str) -> None:
    """Y range over the points that fall inside the plotted bpp range."""
    ys = [p[key] for res in results.values() for p in res["points"]
          if p["bpp"] <= MAX_BPP and math.isfinite(p[key])]
    if ys:
        lo, hi = min(ys), max(ys)
        pad = max(0.5, 0.05 * (hi - lo))
        ax.set_ylim(lo - pad, hi + pad)
