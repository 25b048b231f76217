"""How ``sharpgen verify`` and its background training processes stop together.

* :func:`interrupts`: inside the block SIGINT (Ctrl-C) and SIGTERM raise :class:`Interrupted`, a
  ``KeyboardInterrupt``, so that no ``except Exception`` on the way (a check's crash report, the
  hypothesis engine) mistakes the interruption for a result of the check.
* :func:`worker_init`: the initializer of each training process (``runs.RunPool``). It leaves the
  terminal's process group, so a Ctrl-C reaches the verify process alone, which then stops each
  worker once (:func:`stop_workers`); it ignores SIGINT and SIGTERM between runs (while a run
  trains, ``numerics.runs.train`` answers them by saving a checkpoint); and it makes the worker
  die with its parent, even when the parent is killed with SIGKILL (Linux: ``PR_SET_PDEATHSIG``;
  everywhere: a thread waiting on the parent's sentinel).
* :func:`stop_workers`: SIGTERM to every worker, a wait of at most ``grace`` seconds while the busy
  ones save a checkpoint, then SIGKILL for any left.

Exit codes follow the shell's convention, 128 + the signal number: 130 for SIGINT, 143 for SIGTERM.

>>> import os, signal
>>> try:
...     with interrupts():
...         os.kill(os.getpid(), signal.SIGTERM)
... except Interrupted as err:
...     (err.name, err.exit_code)
('SIGTERM', 143)
"""
from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
GRACE_S = 10.0  # a training chunk lasts about 1 s (numerics.runs.train.CHUNK_SECONDS), its checkpoint less


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived: ``signum``, ``name`` (e.g. SIGINT) and ``exit_code`` (128 + signum)."""

    def __init__(self, signum: int):
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.exit_code = 128 + signum
        super().__init__(f"interrupted by {self.name}")


def _raise(signum, frame):
    raise Interrupted(signum)


@contextmanager
def interrupts():
    """SIGINT and SIGTERM raise :class:`Interrupted` inside the block (main thread only; elsewhere a no-op)."""
    main = threading.current_thread() is threading.main_thread()
    old = {s: signal.signal(s, _raise) for s in SIGNALS} if main else {}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def _die_with(parent) -> None:
    multiprocessing.connection.wait([parent.sentinel])
    os._exit(128 + signal.SIGKILL)


def worker_init() -> None:
    """Initializer of a training process: own process group, SIGINT/SIGTERM ignored between runs,
    death with the parent (see the module docstring). Call it in the worker, e.g. as
    ``ProcessPoolExecutor(initializer=worker_init)``."""
    if hasattr(os, "setpgrp"):
        os.setpgrp()
    for s in SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if not parent.is_alive():  # it died before prctl took effect
        os._exit(128 + signal.SIGKILL)
    threading.Thread(target=_die_with, args=(parent,), daemon=True, name="die-with-parent").start()


def stop_workers(futures, grace: float = GRACE_S) -> None:
    """Stop this process's worker processes: SIGTERM, then wait (at most ``grace`` s) until each worker
    that was busy has completed the call it was running (it saves its runs' checkpoints first), then
    SIGKILL whatever is left, and reap every worker. ``futures``: the calls submitted to the workers."""
    children = multiprocessing.active_children()
    futures = list(futures)
    done_before = sum(f.done() for f in futures)
    busy = min(len(children), sum(f.running() for f in futures))  # running also counts a call queued next
    for p in children:
        p.terminate()
    deadline = time.monotonic() + grace
    try:
        while time.monotonic() < deadline and sum(f.done() for f in futures) - done_before < busy:
            if not any(p.is_alive() for p in children):
                break
            time.sleep(0.05)
    finally:  # a second Ctrl-C cuts the wait short, never the kill
        for p in children:
            p.kill()
            p.join()
