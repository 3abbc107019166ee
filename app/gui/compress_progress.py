"""How far a compress has got, as a percentage of its expected time, with the time left.

The engine reports a compress in two steps only (encoded, then decoded), and on a 12 MP photo
each step takes from half a minute to two minutes: a plain "1 / 2" says nothing for that
long, and a time left computed as "the decode takes as long as the encode" was wrong by a
factor of three. So each step gets an expected duration from the pace of this session's
earlier compresses (seconds per megapixel, for an encode with and without the analysis
transform, which the engine keeps per image, and for the decode), or from the single-thread
costs measured by ``benchmarks/gui_stages`` before the first one. The finished encode tells
how fast the machine runs now, and the decode's estimate is scaled by that. A step that runs
past its estimate is reported as "taking longer than expected", never as a time left that
stands still.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CompressPace", "CompressProgress"]

# seconds per megapixel on one thread (benchmarks/gui_stages: 768x512, kodim01, quality 40)
ANALYSIS_S_PER_MP = 1.04
CODING_S_PER_MP = 0.86
DECODE_S_PER_MP = 2.34
PERCENT = 100
# past this share of its estimate (and a few seconds) a step is "taking longer than expected"
LATE_FACTOR, LATE_GRACE_S = 1.25, 3.0


@dataclass
class CompressPace:
    """Seconds per megapixel of an encode (with and without analysis) and of a decode."""

    encode: dict[bool, float] = field(default_factory=lambda: {
        True: ANALYSIS_S_PER_MP + CODING_S_PER_MP, False: CODING_S_PER_MP})
    decode: float = DECODE_S_PER_MP

    def learn(self, megapixels: float, analysed: bool, encode_s: float | None,
              decode_s: float | None) -> None:
        """A finished compress: its pace is the next estimate's."""
        if megapixels <= 0:
            return
        if encode_s:
            self.encode[analysed] = encode_s / megapixels
        if decode_s:
            self.decode = decode_s / megapixels


class CompressProgress:
    """The progress of one compress: :meth:`encoded` when the file is made, :meth:`at` for
    (percent done, text) at any time."""

    def __init__(self, pace: CompressPace, megapixels: float, analysed: bool,
                 started: float, codings: int = 1) -> None:
        """``codings``: entropy codings in the encode (a target-size search makes about 16)."""
        self.started = started
        coding = pace.encode[False]
        encode = pace.encode[analysed] + (codings - 1) * coding
        self.encode_s = max(1e-3, encode * megapixels)
        self.decode_s = max(1e-3, pace.decode * megapixels)
        self.encoded_at: float | None = None
        self.percent = 0

    def encoded(self, now: float) -> None:
        """The encode ended: the decode runs at the pace the encode just showed."""
        if self.encoded_at is None:
            took = max(1e-3, now - self.started)
            self.decode_s *= took / self.encode_s
            self.encode_s = took
            self.encoded_at = now

    def at(self, now: float) -> tuple[int, str]:
        """(percent of the expected time done, ``"42 % · about 30 s left"``)."""
        if self.encoded_at is None:
            in_step, step_s, after = now - self.started, self.encode_s, self.decode_s
        else:
            in_step, step_s, after = now - self.encoded_at, self.decode_s, 0.0
        late = in_step > step_s * LATE_FACTOR + LATE_GRACE_S
        if in_step > step_s:  # the rest of this step is unknown: scale it and what follows
            slower = in_step / step_s
            left = 0.1 * in_step + after * slower
        else:
            left = step_s - in_step + after
        elapsed = max(0.0, now - self.started)
        share = elapsed / (elapsed + left) if elapsed + left > 0 else 0.0
        # never backwards, never 100 % before the decode has ended
        self.percent = max(self.percent, min(PERCENT - 1, int(share * PERCENT)))
        if late:
            return self.percent, f"{self.percent} % · taking longer than expected"
        if elapsed < 0.5:
            return self.percent, f"{self.percent} %"
        return self.percent, f"{self.percent} % · about {_duration(left)} left"


def _duration(seconds: float) -> str:
    """``"35 s"``, ``"2 min 10 s"`` (to 10 s: it still visibly goes down), ``"14 min"``."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 600:
        minutes, rest = divmod(round(seconds / 10) * 10, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    return f"{seconds / 60:.0f} min"
