"""The names a codec's manifest gives its fixed-point parts (``params["hyper"]`` and
``params["context"]``).  A name stands for the exact arithmetic of :mod:`app.fixedpoint`: a
change that could move a single bit gets a new name, never an edit under an old one."""

from __future__ import annotations

HYPER = "fixed-point-v1"                        # params["hyper"]: the integer h_s
CHECKERBOARD = "checkerboard-v1"                # params["context"]: two passes
CHANNEL_CHECKERBOARD = "channel-checkerboard-v1"  # params["context"]: 2K channel-group passes
CONTEXTS = (CHECKERBOARD, CHANNEL_CHECKERBOARD)
