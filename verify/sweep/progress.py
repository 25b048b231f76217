"""Progress of a sweep: done / running / failed / missing counts and an ETA.

The ETA weighs the remaining runs by their optimizer steps and by the
measured seconds per step of the runs finished so far, separately for each
kind of step (:func:`step_kind`: the architecture, and fused one-sample,
fused mini-batch or generic autograd steps; their costs differ by orders of
magnitude, README "Speed"), divided by the number of workers. Until a run
of every remaining kind has finished it is a lower bound, shown as
``eta >mm:ss``; it is rough until a few runs of each kind have finished.

>>> import io
>>> bar = SweepProgress(4, stream=io.StringIO(), enabled=True)
>>> bar.update(done=1, running=2, failed=0, eta=(75.0, True), force=True)
>>> bar.stream.getvalue().strip()
'sweep: 1/4 done, 2 running, 0 failed, 1 missing | elapsed 00:00 | eta 01:15'
"""
from __future__ import annotations

import sys
import time

from sharpgen.numerics.runs.progress import hms
from sharpgen.numerics.runs.schedule import steps_before


def step_kind(config) -> str:
    """The kind of step a run mostly takes: its architecture and "generic" (autograd), "one-sample"
    (fused, every phase at batch 1: the C loops on CPU) or "mini-batch" (fused, a larger batch somewhere).

    >>> from sharpgen.numerics.runs.config import TrainConfig, parse_phases
    >>> step_kind(TrainConfig(arch="nobias", n=10, phases=parse_phases("0.1,0,10,0,5")))
    'nobias mini-batch'
    """
    if not config.fused:
        return f"{config.arch} generic"
    return config.arch + (" one-sample" if all(ph.batch == 1 for ph in config.phases) else " mini-batch")


def run_steps(config) -> int:
    """Optimizer steps of a whole run (Σ epochs · n/batch over the phases)."""
    return steps_before(config, config.total_epochs, config.n)


class EtaModel:
    """Seconds per step per :func:`step_kind`, learnt from finished runs."""

    def __init__(self):
        self.seconds, self.steps = {}, {}

    def add(self, config, wall_s: float, steps: int) -> None:
        if steps > 0 and wall_s > 0:
            kind = step_kind(config)
            self.seconds[kind] = self.seconds.get(kind, 0.0) + wall_s
            self.steps[kind] = self.steps.get(kind, 0) + steps

    def rate(self, kind: str) -> float | None:
        """Seconds per step of :func:`step_kind` ``kind``, None until one such run finished."""
        return self.seconds[kind] / self.steps[kind] if kind in self.steps else None

    def eta(self, configs, workers: int) -> tuple[float, bool] | None:
        """(seconds left for ``configs`` on ``workers`` workers, whether every kind among them is measured);
        None before any run finished. Unmeasured kinds count 0 s (the ETA is then a lower bound)."""
        if not self.steps:
            return None
        total, complete = 0.0, True
        for config in configs:
            rate = self.rate(step_kind(config))
            complete = complete and rate is not None
            total += (rate or 0.0) * run_steps(config)
        return total / max(workers, 1), complete


class SweepProgress:
    """A status line on stderr: redrawn in place on a terminal, else one log line per change (at most every 30 s)."""

    def __init__(self, total: int, *, stream=None, enabled: bool | None = None, log_every: float = 30.0):
        self.total = total
        self.stream = sys.stderr if stream is None else stream
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = True if enabled is None else enabled
        self.log_every = log_every
        self._t0 = time.monotonic()
        self._last_time, self._last_line = 0.0, ""

    def line(self, done: int, running: int, failed: int, eta) -> str:
        missing = max(self.total - done - running - failed, 0)
        eta = "--:--" if eta is None else ("" if eta[1] else ">") + hms(eta[0])
        return (f"sweep: {done}/{self.total} done, {running} running, {failed} failed, {missing} missing | "
                f"elapsed {hms(time.monotonic() - self._t0)} | eta {eta}")

    def update(self, *, done: int, running: int, failed: int, eta=None, force: bool = False) -> None:
        """Redraw with the counts and ``eta`` = (seconds, exact) or None (unknown)."""
        if not self.enabled:
            return
        line = self.line(done, running, failed, eta)
        now = time.monotonic()
        counts = line.split(" | ")[0]
        changed = counts != self._last_line.split(" | ")[0]
        if self.tty and (force or changed or now - self._last_time >= 1.0):
            self.stream.write("\r" + line + "\x1b[K")
        elif not self.tty and (force or changed or now - self._last_time >= self.log_every):
            self.stream.write(line + "\n")
        else:
            return
        self.stream.flush()
        self._last_time, self._last_line = now, line

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
