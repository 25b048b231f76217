"""Progress of a training run on stderr: a tqdm bar on a terminal, one plain line per evaluation elsewhere.

Modes: ``"bar"`` (tqdm, redrawn in place at the terminal's current width,
showing the phase, its backend, the last training loss, test error and
Tr ∇²L, elapsed time and ETA),
``"lines"`` (one self-contained line per evaluation: what a run under
nohup or a batch scheduler writes to its log), ``"off"``, or None (auto:
the bar when the stream is a terminal, else lines).

>>> import io
>>> out = io.StringIO()                      # not a terminal: lines
>>> progress = Progress(100, stream=out, label="fig4b")
>>> progress.phase(0, 2, "c"); progress.update(50)
>>> progress.evaluation({"epoch": 50, "train_loss": 0.5, "test_error": 0.25, "trace": 23.0})
>>> progress.close(); out.getvalue().split("  ")[:4]
['fig4b epoch 50/100 (50.0%)', 'phase 1/2 (c)', 'train_loss 0.5', 'test_error 0.25']
"""
from __future__ import annotations

import sys
import time

from tqdm import tqdm

MODES = ("bar", "lines", "off")
# No rate (the ETA says it) and the metrics before the times: what matters survives a narrow terminal.
BAR_FORMAT = "{desc} {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{postfix} [{elapsed}<{remaining}]"


def _g(value, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def hms(seconds: float) -> str:
    """A duration as tqdm prints it ("?" for NaN: an ETA not known yet).

    >>> hms(3725), hms(float("nan"))
    ('1:02:05', '?')
    """
    return tqdm.format_interval(seconds) if seconds == seconds else "?"


class Progress:
    """Progress over ``total`` epochs from ``start`` (a resumed run starts part-way)."""

    def __init__(self, total: int, *, start: int = 0, mode: str | None = None, stream=None, label: str = "",
                 ncols: int | None = None):
        if mode is not None and mode not in MODES:
            raise ValueError(f"mode: expected one of {MODES} or None, got {mode!r}")
        self.stream = sys.stderr if stream is None else stream
        if mode is None:
            mode = "bar" if getattr(self.stream, "isatty", lambda: False)() else "lines"
        self.mode, self.total, self.start, self.label = mode, total, start, label
        self.done, self.where = start, ""
        self._t0 = time.monotonic()
        self._bar = None
        if mode == "bar":
            self._bar = tqdm(total=total, initial=start, file=self.stream, bar_format=BAR_FORMAT, ncols=ncols,
                             dynamic_ncols=ncols is None, mininterval=0.2, smoothing=0.05)

    def phase(self, k: int, count: int, backend: str) -> None:
        """Phase ``k`` (0-based) of ``count`` starts, stepped by ``backend``."""
        self.where = f"phase {k + 1}/{count} ({backend})"
        if self._bar is not None:
            self._bar.set_description_str(self.where, refresh=False)

    def update(self, epoch: int) -> None:
        """The run has reached ``epoch``."""
        if self._bar is not None:
            self._bar.update(epoch - self.done)
        self.done = epoch

    def evaluation(self, row: dict) -> None:
        """An evaluation row (train_loss, test_error, trace): the bar's postfix, or one line."""
        loss, error, trace = (row.get(k) for k in ("train_loss", "test_error", "trace"))
        if self._bar is not None:
            self._bar.set_postfix_str(f"loss {_g(loss, 3)} err {_g(error, 3)} Tr {_g(trace, 3)}", refresh=True)
        elif self.mode == "lines":
            note = f"train_loss {_g(loss)}  test_error {_g(error)}  Tr {_g(trace)}"
            elapsed = time.monotonic() - self._t0
            rate = (self.done - self.start) / elapsed if elapsed > 0 else 0.0
            eta = (self.total - self.done) / rate if rate > 0 else float("nan")
            head = f"{self.label} epoch {self.done}/{self.total} ({100 * self.done / max(self.total, 1):.1f}%)"
            print(f"{head.strip()}  {self.where}  {note}  elapsed {hms(elapsed)}  eta {hms(eta)}",
                  file=self.stream, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
