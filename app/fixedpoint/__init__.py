"""The bit-exact codec contract between training and the app, in numpy only.

A codec's decoder must derive every latent's mean and scale index exactly as its encoder did,
on any machine, thread count or BLAS; a single bit of difference desynchronises the range
decoder.  So the networks that produce those parameters ship as integers in ``tables.npz``
(:mod:`.tables` is its layout) and run here in integer arithmetic (:mod:`.layers`): the
hyper-synthesis (:mod:`.hyper`), the checkerboard context (:mod:`.checkerboard`) and the
channel groups on top of it (:mod:`.channel_groups`).  The manifest names which of them a
model uses (:mod:`.versions`).

Training quantises its float networks into these tables and checks them with this code; the
app decodes with it.  The rules are written once, in these modules' docstrings;
``docs/format.md`` describes the file format around them.
"""

from .channel_groups import FixedChannelCheckerboard
from .checkerboard import FixedCheckerboard, anchor_mask
from .hyper import FixedHyperSynthesis
from .tables import CodecTables, TablesError

__all__ = ["CodecTables", "FixedChannelCheckerboard", "FixedCheckerboard",
           "FixedHyperSynthesis", "TablesError", "anchor_mask"]
