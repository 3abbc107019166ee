"""A process-wide memory budget for the work whose size a file decides (an ``.aei`` decode).

A 700 KB ``.aei`` file can legally declare 100 megapixels, and decoding it then needs about
6 GB. The decoder therefore estimates its peak memory from the header (see
:func:`app.core.codec.image_codec.decode_peak_bytes`) before it allocates anything, and asks
:func:`reserve` for it:

* an estimate over the whole budget is refused at once with :class:`MemoryBudgetError`;
* otherwise the reservation waits until the decodes already running (other batch workers,
  the GUI's background jobs) leave room, so together they stay within the budget, however
  many workers there are.

The budget is ``$AESTUDIO_MAX_MEMORY`` (bytes, or a size such as ``3GB`` or ``1536MiB``), else
:data:`DEFAULT_BUDGET` or half of the physical memory, whichever is smaller.
:func:`max_workers_for_memory` caps the number of batch workers by the same budget.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["DEFAULT_BUDGET", "MAX_MEMORY_ENV", "WORKER_BYTES", "MemoryBudgetError",
           "check_fits", "format_bytes", "max_workers_for_memory", "memory_budget", "reserve"]

MAX_MEMORY_ENV = "AESTUDIO_MAX_MEMORY"
DEFAULT_BUDGET = 4 << 30
# What one batch worker holds whatever its files: its model sessions (about 130 MB measured
# for the shipped models) and one tile's network activations.
WORKER_BYTES = 256 << 20

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}


class MemoryBudgetError(ValueError):
    """The work would need more memory than the budget; the message says how to raise it."""


def parse_bytes(text: str) -> int | None:
    """``"3GB"`` -> 3e9, ``"2GiB"`` -> 2**31, ``"123"`` -> 123; None when it is not a size."""
    m = _SIZE.match(text or "")
    if not m:
        return None
    unit = (m.group(2) or "").lower()
    base = 1024 if "i" in unit else 1000
    value = int(float(m.group(1)) * base ** _POWERS[unit[:1] if unit[:1] in "kmgt" else ""])
    return value if value > 0 else None


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def memory_budget() -> int:
    """``$AESTUDIO_MAX_MEMORY`` if it is a size, else min(DEFAULT_BUDGET, physical RAM / 2)."""
    value = parse_bytes(os.environ.get(MAX_MEMORY_ENV, ""))
    if value:
        return value
    ram = _physical_memory()
    return min(DEFAULT_BUDGET, ram // 2) if ram else DEFAULT_BUDGET


def format_bytes(n: int) -> str:
    return f"{n / (1 << 30):.1f} GiB" if n >= 1 << 30 else f"{n / (1 << 20):.0f} MiB"


def _message(what: str, nbytes: int, budget: int) -> str:
    return (f"{what} needs about {format_bytes(nbytes)} of memory, more than the limit of "
            f"{format_bytes(budget)} (set {MAX_MEMORY_ENV} to change it)")


def check_fits(nbytes: int, what: str, error: type[MemoryBudgetError] = MemoryBudgetError) -> None:
    """Raise ``error`` when ``nbytes`` alone is over the budget."""
    budget = memory_budget()
    if nbytes > budget:
        raise error(_message(what, nbytes, budget))


_lock = threading.Condition()
_in_use = 0


@contextmanager
def reserve(nbytes: int, what: str,
            error: type[MemoryBudgetError] = MemoryBudgetError) -> Iterator[None]:
    """Hold ``nbytes`` of the budget for the ``with`` block; refuse at once if it can never fit.

    Waits while other reservations leave too little room. One reservation alone always gets
    in (it fits the budget), so the waits end as the running ones finish.
    """
    global _in_use
    check_fits(nbytes, what, error)
    budget = memory_budget()
    with _lock:
        while _in_use and _in_use + nbytes > budget:
            _lock.wait()
        _in_use += nbytes
    try:
        yield
    finally:
        with _lock:
            _in_use -= nbytes
            _lock.notify_all()


def max_workers_for_memory(per_worker_bytes: int = WORKER_BYTES, budget: int | None = None) -> int:
    """How many workers of ``per_worker_bytes`` each fit the budget (at least 1)."""
    if per_worker_bytes <= 0:
        raise ValueError(f"per_worker_bytes must be positive, got {per_worker_bytes}")
    return max(1, (budget if budget is not None else memory_budget()) // per_worker_bytes)
