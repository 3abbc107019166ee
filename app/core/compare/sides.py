"""What each side of the Squoosh-style comparison shows, without Qt.

Each side (left, right) picks the original, the AE Studio file, or a classic codec (JPEG,
WebP, AVIF, JPEG XL, HEIC where installed). A classic side is encoded either at its own
quality or at "the other side's size" (the fair comparison: same bytes, which looks
better?). The document (:mod:`app.core.document`) keeps one :class:`SideChoice` and one
classic-codec result per side; this module holds the choices, the rule that decides how a
classic side is encoded (:func:`encode_plan`) and the caption wording, so all three are
tested without widgets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .same_size import FORMATS

__all__ = [
    "KINDS", "KIND_LABELS", "SIDES", "SUFFIXES", "SideChoice", "encode_plan", "other",
    "percent_smaller", "side_caption", "times_smaller",
]

SIDES = ("left", "right")
KINDS = ("original", "aestudio", *FORMATS)
KIND_LABELS = {"original": "Original", "aestudio": "AE Studio", "jpeg": "JPEG",
               "webp": "WebP", "avif": "AVIF", "jxl": "JPEG XL", "heic": "HEIC"}
SUFFIXES = {"original": ".png", "aestudio": ".aei", "jpeg": ".jpg", "webp": ".webp",
            "avif": ".avif", "jxl": ".jxl", "heic": ".heic"}
DEFAULT_QUALITY = 75


@dataclass(frozen=True)
class SideChoice:
    """What one side shows. ``quality`` and ``match`` only matter for a classic codec."""

    kind: str = "original"
    quality: int = DEFAULT_QUALITY
    match: bool = True  # encode at the other side's size instead of at ``quality``

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown side {self.kind!r}: use one of {', '.join(KINDS)}")
        if not 1 <= int(self.quality) <= 100:
            raise ValueError("quality must be 1..100")

    @property
    def is_codec(self) -> bool:
        return self.kind in FORMATS

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


DEFAULT_SIDES = {"left": SideChoice("original"), "right": SideChoice("aestudio")}


def other(side: str) -> str:
    return "right" if side == "left" else "left"


def encode_plan(side: str, choices: dict[str, SideChoice],
                other_bytes: int | None) -> tuple[str, int] | None:
    """How to encode ``side``: ``("quality", q)``, ``("size", bytes)`` or None (not a codec,
    or its target, the other side's size, is not known yet).

    When both sides are classic codecs set to match each other, the left side matches the
    right one and the right one uses its own quality (otherwise neither could start).
    """
    choice = choices[side]
    if not choice.is_codec:
        return None
    mate = choices[other(side)]
    matches = choice.match and not (side == "right" and mate.is_codec and mate.match)
    if not matches:
        return ("quality", int(choice.quality))
    if other_bytes is None or other_bytes <= 0:
        return None
    return ("size", int(other_bytes))


def percent_smaller(nbytes: int, original_bytes: int | None) -> str:
    """``"93% smaller"`` (or ``"12% larger"``) than ``original_bytes``; "" if unknown."""
    if not original_bytes or original_bytes <= 0:
        return ""
    change = 1.0 - nbytes / original_bytes
    if change >= 0:
        # never round a real saving up to "100% smaller"
        pct = min(99.9, change * 100) if nbytes > 0 else 100.0
        return f"{pct:.1f}% smaller" if pct >= 99.5 else f"{pct:.0f}% smaller"
    return f"{-change * 100:.0f}% larger"


def times_smaller(nbytes: int, original_bytes: int | None) -> str:
    """``"26× smaller"`` (the ratio people know), ``"1.4× smaller"`` or ``"2.1× larger"``."""
    if not original_bytes or nbytes <= 0:
        return ""
    ratio = original_bytes / nbytes
    if ratio >= 1:
        return f"{ratio:.0f}× smaller" if ratio >= 10 else f"{ratio:.1f}× smaller"
    return f"{1 / ratio:.1f}× larger"


def _psnr_text(psnr: float | None) -> str:
    if psnr is None:
        return ""
    return "lossless" if math.isinf(psnr) else f"{psnr:.2f} dB"


def side_caption(kind: str, nbytes: int | None, original_bytes: int | None,
                 psnr: float | None = None, quality: float | None = None,
                 fits: bool = True, base: str | None = None) -> str:
    """``"WebP q62 · 12,345 bytes · 93% smaller · 31.20 dB"``: what a side is, its bytes,
    how much smaller than the original file and its PSNR against the original."""
    name = base or KIND_LABELS[kind]
    if quality is not None and kind != "original":
        q = float(quality)
        name += f" q{q:.0f}" if q.is_integer() else f" q{q:.1f}"
    parts = [name]
    if nbytes is not None:
        parts.append(f"{nbytes:,} bytes")
        if kind != "original":
            parts.append(percent_smaller(nbytes, original_bytes))
    parts.append(_psnr_text(psnr))
    if not fits:
        parts.append("larger than the other side (lowest quality)")
    return " · ".join(p for p in parts if p)
