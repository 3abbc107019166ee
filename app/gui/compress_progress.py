"""How far a compress has got: the engine's own step counts, as one percentage with the time
left.

The engine counts the steps of an encode (the analysis transform's tiles, then the entropy
coding's passes) and then those of the decode (the entropy decoding's passes, then the
synthesis transform's tiles), and reports ``(done, total)`` after each. The bar is one
percentage across both phases: the encode's share of it is its share of the expected time,
from the pace of this session's earlier compresses (seconds per megapixel, for an encode with
and without the analysis transform, which the engine keeps per image, and for the decode), or
from the single-thread costs measured by ``benchmarks/gui_stages`` before the first one. Within
a phase the bar moves by steps done / total, so it never goes back and a small image (two
tiles) still moves step by step.

The time left blends the phase's expected length with the length its steps so far project,
by the share of steps done, plus, while encoding, the decode's expected time scaled by how much
faster or slower than expected the encode runs. The steps are not all equally long (at 6 MP an
analysis tile took 0.25-0.5 s, a context pass 1-3.5 s), so the time left can still move both
ways a little.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.round_trip import DECODE, ENCODE

__all__ = ["DECODE", "ENCODE", "CompressPace", "CompressProgress"]

# seconds per megapixel on one thread (benchmarks/gui_stages: 768x512, kodim01, quality 40)
ANALYSIS_S_PER_MP = 1.04
CODING_S_PER_MP = 0.86
DECODE_S_PER_MP = 2.34
PERCENT = 100
LABELS = {ENCODE: "Encoding", DECODE: "Decoding"}
# no time left is shown before this much time has passed (the first step says nothing yet)
QUIET_S = 0.5


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
    """The progress of one compress: :meth:`step` for each count the engine reports,
    :meth:`at` for (percent done, text) at any time."""

    def __init__(self, pace: CompressPace, megapixels: float, analysed: bool,
                 started: float, codings: int = 1) -> None:
        """``codings``: entropy codings in the encode (a target-size search: up to
        ``app.core.codec.image_codec.TO_SIZE_CODINGS``)."""
        self.started = started
        coding = pace.encode[False]
        encode = pace.encode[analysed] + (codings - 1) * coding
        self.encode_s = max(1e-3, encode * megapixels)  # expected, until the encode ends
        self.decode_s = max(1e-3, pace.decode * megapixels)
        # the encode's share of the bar: fixed, so the bar never jumps when estimates change
        self.encode_share = self.encode_s / (self.encode_s + self.decode_s)
        self.phase = ENCODE
        self.phase_started = started
        self.done = self.total = 0
        self.stepped_at = started
        self.percent = 0

    def step(self, phase: str, done: int, total: int, now: float) -> None:
        """The engine has done ``done`` of the ``total`` steps of ``phase``."""
        if phase == DECODE and self.phase == ENCODE:  # an encode that did not count its end
            self._decode_from(now)
        if phase != self.phase or total <= 0 or done <= self.done:
            return  # a late count of the encode, or one already seen
        self.done, self.total = min(done, total), total
        self.stepped_at = now
        if phase == ENCODE and done >= total:
            self._decode_from(now)

    def _decode_from(self, now: float) -> None:
        """The file is made: the decode follows, at the pace the encode just showed."""
        took = max(1e-3, now - self.started)
        self.decode_s *= took / self.encode_s
        self.encode_s = took
        self.phase, self.phase_started, self.stepped_at = DECODE, now, now
        self.done = self.total = 0

    def _left(self, now: float) -> float:
        """Seconds left in this phase (and the decode after an encode).

        The expected length of the phase and the one its steps so far project are blended by
        the share of steps done: the first steps of a phase can be its longest (a decode's
        entropy passes took 3 s each at 12 MP, its 88 tiles 0.3 s), so the projection from
        them alone jumped from half a minute to five."""
        in_phase = now - self.phase_started
        expected = max(self.encode_s if self.phase == ENCODE else self.decode_s, in_phase)
        projected = expected
        if self.done:
            fraction = self.done / self.total
            measured = (self.stepped_at - self.phase_started) / self.done * self.total
            projected = (1 - fraction) * expected + fraction * measured
        left = max(0.0, projected - in_phase)
        if self.phase == ENCODE:
            left += self.decode_s * max(projected, 1e-3) / self.encode_s
        return left

    def at(self, now: float) -> tuple[int, str]:
        """(percent done, ``"Encoding step 3 / 12 · about 20 s left"``)."""
        fraction = self.done / self.total if self.total else 0.0
        if self.phase == ENCODE:
            share = self.encode_share * fraction
        else:
            share = self.encode_share + (1 - self.encode_share) * fraction
        finished = self.phase == DECODE and self.total and self.done == self.total
        # never backwards, and 100 % only once the decode's last step has ended
        self.percent = max(self.percent, PERCENT if finished else
                           min(PERCENT - 1, int(share * PERCENT)))
        text = LABELS[self.phase]
        if self.total:
            text += f" step {self.done} / {self.total}"
        if not finished and now - self.started >= QUIET_S:
            text += f" · about {_duration(self._left(now))} left"
        return self.percent, text


def _duration(seconds: float) -> str:
    """``"35 s"``, ``"2 min 10 s"`` (to 10 s: it still visibly goes down), ``"14 min"``."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 600:
        minutes, rest = divmod(round(seconds / 10) * 10, 60)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    return f"{seconds / 60:.0f} min"
