"""SIGINT and SIGTERM in the ``aestudio`` commands: one way to stop, whatever the command.

The first signal asks the command to stop. A batch stops taking new files and cancels its
model runs at the next tile; its threads are joined and its report is written. A single-file
command is interrupted where it is, and its atomic write removes its temporary file. Then
every temporary ``.part`` file of a write still in flight is removed, and the command exits
with 128 + the signal number: 130 for SIGINT, 143 for SIGTERM.

Signals that arrive while stopping are held, never raised: a second Ctrl-C raised inside the
batch's thread joins would let the interpreter exit while onnxruntime still ran in a worker
thread ("terminate called without an active exception", exit 134), or hang it. A third
signal means "stop now": the temporary files are removed and the process exits at once, with
the same status. Once the command has stopped, later signals are ignored until the process
has exited (during the interpreter's finalisation one would otherwise kill it by the signal).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from app.core.io.atomic_write import remove_live_temps

__all__ = ["Stop", "run_command", "stop_requested"]

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))
FORCE_AFTER = 3            # the third signal exits at once (temporary files removed first)

_current: Stop | None = None


class Stop:
    """The signal handlers of one command (installed only from the main thread).

    ``interrupt``: the first signal raises :class:`KeyboardInterrupt` where the command is (a
    single-file command); otherwise it is only recorded, for :meth:`requested` to be polled (a
    batch, whose threads must be stopped and joined, not interrupted).
    """

    def __init__(self, interrupt: bool):
        self.interrupt = interrupt
        self.signum: int | None = None
        self.count = 0
        self._previous: dict[int, Any] = {}

    def requested(self) -> bool:
        return self.signum is not None

    @property
    def exit_code(self) -> int:
        return 128 + (self.signum or signal.SIGINT)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.signum is None:
            self.signum = signum
            if self.interrupt:
                raise KeyboardInterrupt
            return
        if self.count >= FORCE_AFTER:
            remove_live_temps()
            _flush()
            os._exit(self.exit_code)
        # a second signal is held: the clean-up under way goes on

    def __enter__(self) -> Stop:
        if threading.current_thread() is threading.main_thread():
            for s in SIGNALS:
                self._previous[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        remove_live_temps()
        if self.signum is None:
            for s, handler in self._previous.items():
                signal.signal(s, handler)
        elif self._previous:
            # The process now exits with this signal's status. A late signal must not change
            # it: the interpreter's finalisation puts back the default action of every signal
            # with a Python handler (death by the signal), but leaves an ignored one ignored.
            for s in self._previous:
                signal.signal(s, signal.SIG_IGN)


def stop_requested() -> bool:
    """Whether the running command was asked to stop (a batch's cancel callable)."""
    return _current is not None and _current.requested()


def run_command(command: Callable[[Any], int], args: Any) -> int:
    """Run one CLI command under :class:`Stop`; its exit status, or 130 / 143 when stopped."""
    global _current
    stop = Stop(interrupt=getattr(args, "command", None) != "batch")
    outer, _current = _current, stop
    try:
        with stop:
            try:
                code = command(args)
            except BaseException:
                if not stop.requested():
                    raise
                code = stop.exit_code   # whatever the interruption ended in
    finally:
        _current = outer
    if not stop.requested():
        return code
    name = signal.Signals(stop.signum).name if stop.signum else "signal"
    print(f"aestudio: interrupted ({name})", file=sys.stderr)
    _exit_if_threads_remain(stop.exit_code)
    return stop.exit_code


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def _exit_if_threads_remain(code: int) -> None:
    """After the clean-up, exit without the interpreter's finalisation when some thread still
    runs (it could be inside onnxruntime, whose threads must not outlive the interpreter)."""
    others = [t for t in threading.enumerate()
              if t is not threading.main_thread() and t.is_alive()]
    if others:
        _flush()
        os._exit(code)
