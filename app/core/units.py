"""File sizes as people type them ("40KB", "1.5 MB", "20000"), shared by the CLI and GUI."""

from __future__ import annotations

import re

__all__ = ["parse_size"]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|k|mb|mib|m)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 10**6, "mb": 10**6,
          "mib": 1 << 20}


def parse_size(text: str) -> int:
    """Bytes in ``text`` (decimal kB/MB, binary KiB/MiB); ValueError when it is not a size."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"not a size: {text!r} (examples: 40KB, 1.5MB, 20000)")
    size = int(float(m.group(1)) * _UNITS[(m.group(2) or "").lower()])
    if size <= 0:
        raise ValueError(f"the size must be positive, got {text!r}")
    return size
