"""Memory that numpy and onnxruntime have freed goes back to the system after a big stage.

glibc's ``malloc`` serves a block of 128 KiB or more with its own ``mmap`` only until such a
block is freed: it then raises that threshold, up to 32 MiB, to the freed block's size. From
then on the entropy coding's arrays and the onnxruntime arena's smaller regions come from the
heap, and freed ones whose neighbours are still in use stay resident: a 12 MP compress and
decode in the GUI left 0.2 GB of freed memory resident, under the synthesis's working set.

:func:`give_back` (``malloc_trim``) returns such memory at the end of a big stage: the entropy
coding of a big latent (app/core/codec/entropy.py) and a big image's transform
(:meth:`app.core.runtime.sessions.SessionPool.run_releasing`). Fixing the threshold instead
(``mallopt``) gave the same back but cost 8 % more time: every big temporary was mapped and
faulted in again. Other C libraries (musl, macOS, Windows) are left as they are.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from functools import cache

__all__ = ["TRIM_SYMBOLS", "give_back"]

# Entropy coding this many latent symbols or more ends with give_back(): a 12 MP image has 9
# million; a Kodak image's 0.3 million leave little behind, and their next coding reuses it.
TRIM_SYMBOLS = 2_000_000


@cache
def _glibc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 - glibc has it, musl does not
        return libc
    except (OSError, AttributeError):
        return None


def give_back() -> bool:
    """Return the heap's free memory to the system (glibc); True when it was asked."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
