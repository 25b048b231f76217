"""A one-line progress bar with rate and ETA on stderr, silent when stderr is not a terminal.

>>> import io
>>> bar = Progress(10, stream=io.StringIO())     # not a tty: prints nothing
>>> bar.update(5); bar.close(); bar.stream.getvalue()
''
"""
from __future__ import annotations

import sys
import time


def _hms(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """Progress over ``total`` units (epochs); ``update(done, note)`` redraws at most 10 times a second."""

    def __init__(self, total: int, *, start: int = 0, stream=None, enabled: bool | None = None, label: str = ""):
        self.total, self.start, self.done = max(int(total), 1), int(start), int(start)
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", lambda: False)
        self.enabled = bool(isatty()) if enabled is None else enabled
        self.label = label
        self._t0 = time.monotonic()
        self._last = 0.0
        self.note = ""

    def line(self) -> str:
        frac = min(self.done / self.total, 1.0)
        width = 24
        fill = int(frac * width)
        elapsed = time.monotonic() - self._t0
        rate = (self.done - self.start) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        eta_s = _hms(eta) if eta == eta else "--:--"
        return (f"{self.label}[{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total} "
                f"{100 * frac:5.1f}% {rate:.1f} ep/s elapsed {_hms(elapsed)} eta {eta_s} {self.note}")

    def update(self, done: int, note: str | None = None, *, force: bool = False) -> None:
        self.done = int(done)
        if note is not None:
            self.note = note
        if not self.enabled:
            return
        now = time.monotonic()
        if force or now - self._last >= 0.1 or self.done >= self.total:
            self._last = now
            self.stream.write("\r" + self.line()[:200] + "\x1b[K")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.update(self.done, force=True)
            self.stream.write("\n")
            self.stream.flush()
