"""Numeric option types for argparse: finite numbers only, in a stated range.

``float("nan")`` and ``float("inf")`` parse without complaint, and a NaN passes every range
check (each comparison with it is False), so an unchecked ``--sigma nan`` would reach the
model and write a black image. Every numeric option of every command goes through
:func:`finite_float` or :func:`bounded_int`; a value they refuse is an argparse usage error
(exit status 2).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["bounded_int", "finite_float", "parse_finite"]


def parse_finite(text: str) -> float:
    """``text`` as a finite float; ArgumentTypeError for NaN, infinities and non-numbers."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text!r}")
    return value


def finite_float(lo: float | None = None, hi: float | None = None) -> Callable[[str], float]:
    """An argparse ``type``: a finite float within ``lo..hi`` (either end may be open)."""
    def parse(text: str) -> float:
        value = parse_finite(text)
        _check_range(value, lo, hi, text)
        return value

    parse.__name__ = "number"  # argparse names the type in its messages
    return parse


def bounded_int(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    """An argparse ``type``: a whole number within ``lo..hi``; "nan", "inf", "2.5" refused."""
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except (AttributeError, ValueError):
            raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
        _check_range(value, lo, hi, text)
        return value

    parse.__name__ = "whole number"
    return parse


def _check_range(value: float, lo: float | None, hi: float | None, text: str) -> None:
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        low = "" if lo is None else f"{lo:g}"
        high = "" if hi is None else f"{hi:g}"
        span = f"between {low} and {high}" if low and high else (
            f"at least {low}" if low else f"at most {high}")
        raise argparse.ArgumentTypeError(f"must be {span}, not {text!r}")
