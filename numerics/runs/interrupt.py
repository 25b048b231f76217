"""SIGINT (Ctrl-C) and SIGTERM (what batch schedulers such as SLURM send before a kill) during a run.

:class:`StopRequests` is active while a run trains: the first signal is
only recorded, and the trainer stops at its next consistent point (the end
of the current chunk of whole epochs), saves a checkpoint there and raises
:class:`TrainingInterrupted`; a second signal stops at once (the last
checkpoint stays valid, and rows appended after it are dropped on resume).
:func:`raising` makes both signals raise ``TrainingInterrupted`` at once,
for the work before a run starts, where there is nothing to save.

Handlers can only be installed from the main thread; elsewhere both are
no-ops (the signals are then the main thread's business). The previous
handlers come back when the block ends. Exit codes follow the shell's
convention, 128 + the signal number: 130 for SIGINT, 143 for SIGTERM.

>>> import os, signal
>>> with StopRequests() as stop:
...     os.kill(os.getpid(), signal.SIGTERM)
...     stop.signum == signal.SIGTERM
True
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class TrainingInterrupted(Exception):
    """A run stopped on SIGINT or SIGTERM; ``signum``, ``exit_code`` (128 + signum) and, once known,
    ``epoch`` (of the checkpoint to resume from, None when nothing was written)."""

    def __init__(self, signum: int, message: str = "", epoch: int | None = None):
        self.signum, self.epoch = signum, epoch
        self.exit_code = 128 + signum
        super().__init__(message or f"interrupted by {signal.Signals(signum).name}")

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class StopRequests:
    """Records the first SIGINT/SIGTERM in ``signum`` while active; a second one raises at once."""

    def __init__(self):
        self.signum: int | None = None
        self._old: dict = {}

    def _handle(self, signum, frame):
        if self.signum is not None:
            raise TrainingInterrupted(signum, f"stopped at once by a second signal ({signal.Signals(signum).name})")
        self.signum = signum

    def __enter__(self) -> "StopRequests":
        if _in_main_thread():
            self._old = {s: signal.signal(s, self._handle) for s in SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self._old.items():
            signal.signal(s, handler)
        self._old = {}


def _raise(signum, frame):
    raise TrainingInterrupted(signum)


@contextmanager
def raising():
    """SIGINT and SIGTERM raise :class:`TrainingInterrupted` at once inside the block."""
    old = {s: signal.signal(s, _raise) for s in SIGNALS} if _in_main_thread() else {}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
