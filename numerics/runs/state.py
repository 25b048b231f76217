"""What a run directory holds and where its run stands: the one reader and the one status vocabulary.

A run directory (``numerics.train`` writes it) holds ``config.json``, ``metrics.csv``,
``checkpoint.pt`` and ``summary.json``; their names are defined here and nowhere else.
:func:`read_run` reads one into a :class:`RunState`, and every command that reuses,
resumes or draws runs decides from that alone. Statuses:

* ``done``: summary.json says the run finished its schedule;
* ``diverged``: summary.json says the run diverged (a finished outcome too: training is
  deterministic, so it is not rerun unless asked; its last good checkpoint stays);
* ``interrupted``: a run that started (config.json or checkpoint.pt) and did not finish, or
  whose summary.json says it was stopped by a signal; resuming continues it from its
  checkpoint (from epoch 0 when it was stopped before the first one). ``sharpgen reproduce``
  used to call this ``partial``; a sweep run whose worker died or whose task was cancelled
  (the sweep's former ``lost``) is one too;
* ``failed``: summary.json says a write failed (a full disk); resumable like ``interrupted``.
  A sweep's run that raised (the sweep's former ``error``) is one too, recorded in the sweep's
  ``errors/`` folder;
* ``missing``: nothing of a run yet (the sweep's former ``pending``).

This module lives beside ``numerics.rundir`` (the lock) rather than in it so that reading a
run stays free of torch (``numerics.checkpoint`` imports it): sweep tables and figures read
many runs. Damaged files raise :class:`RunFileError` naming the file, never return NaN for
a number or a bare "Expecting value".

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     read_run(tmp).status
'missing'
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

from sharpgen.numerics.runs.config import TrainConfig
from sharpgen.numerics.runs.metrics_csv import read_csv
from sharpgen.numerics.runs.rundir import RunDirError

CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"
METRICS = "metrics.csv"
SUMMARY = "summary.json"
RUN_FILES = (CHECKPOINT, CONFIG, METRICS, SUMMARY)

DONE, DIVERGED, INTERRUPTED, FAILED, MISSING = "done", "diverged", "interrupted", "failed", "missing"
STATUSES = (DONE, DIVERGED, INTERRUPTED, FAILED, MISSING)
FINISHED = (DONE, DIVERGED)  # outcomes a rerun would repeat exactly: reused as they are
RESTORE = "restore it, or start a new run in another directory"
FINITE_AT_END = ("train_loss", "test_error", "trace")  # every evaluation computes them; finite unless diverged


class RunFileError(RunDirError):
    """A file of a run directory is damaged or foreign; the message names the file and what to do."""


def load_config(run_dir) -> dict | None:
    """The ``config`` entry of run_dir/config.json (a complete ``TrainConfig.to_dict()``), or None when absent.

    Invalid JSON, another layout, or missing or unknown fields raise RunFileError naming the file.
    """
    path = Path(run_dir) / CONFIG
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))["config"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        raise RunFileError(f"config.json: {path} is not a run's config ({type(err).__name__}: {err}); "
                           f"{RESTORE}") from None
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    if not isinstance(saved, dict) or set(saved) != fields:
        got = set(saved) if isinstance(saved, dict) else set()
        raise RunFileError(f"config.json: {path} is incomplete or foreign (missing {sorted(fields - got)}, "
                           f"unknown {sorted(got - fields)}); {RESTORE}")
    return saved


def read_summary(run_dir) -> dict | None:
    """run_dir/summary.json (strict JSON: non-finite numbers are ``null``), or None when absent.

    Truncated or junk bytes, or a status outside ``STATUSES``, raise RunFileError naming the file.
    """
    path = Path(run_dir) / SUMMARY
    if not path.is_file():
        return None
    try:
        summary = json.loads(path.read_text(encoding="utf-8"), parse_constant=_refuse_constant)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise RunFileError(f"summary.json: {path} is damaged ({type(err).__name__}: {err}); move it away "
                           f"and resume the run to write it again") from None
    if not isinstance(summary, dict) or summary.get("status") not in STATUSES:
        got = summary.get("status") if isinstance(summary, dict) else type(summary).__name__
        raise RunFileError(f"summary.json: {path} has no run status (got {got!r}, expected one of {STATUSES}); "
                           f"move it away and resume the run to write it again")
    return summary


def _refuse_constant(name: str):
    raise ValueError(f"bare {name} is not JSON")


def read_metrics(run_dir) -> list[dict]:
    """The complete rows of run_dir/metrics.csv ([] when absent); a damaged file is a RunFileError naming it.

    Empty cells (a value not computed) read as None; :func:`number` maps them to NaN.
    """
    path = Path(run_dir) / METRICS
    if not path.is_file():
        return []
    try:
        return read_csv(path)
    except OSError as err:
        raise RunFileError(f"metrics.csv: cannot read {path}: {err.strerror or err}") from None
    except ValueError as err:
        raise RunFileError(str(err)) from None


def number(value) -> float:
    """A metric as a float: None (an empty cell, or ``null`` in summary.json) and text read as NaN.

    >>> number(0.5), number(None), number(3)
    (0.5, nan, 3.0)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)


@dataclass(frozen=True)
class RunState:
    """A run directory as read by :func:`read_run`: its ``status`` (``STATUSES``), its ``config`` dict
    (None when absent) and its ``summary`` dict (None when absent)."""

    run_dir: Path
    status: str
    config: dict | None
    summary: dict | None

    @property
    def started(self) -> bool:
        """Whether a run was started here (config.json written): a rerun resumes it."""
        return self.config is not None

    @property
    def message(self) -> str:
        """Why the run stopped, as summary.json says ("" for a finished or never started run)."""
        return (self.summary or {}).get("message") or ""

    def path(self, name: str) -> Path:
        """The path of one of its files (``RUN_FILES``)."""
        if name not in RUN_FILES:
            raise ValueError(f"name: expected one of {RUN_FILES}, got {name!r}")
        return self.run_dir / name

    def rows(self) -> list[dict]:
        """Its metric rows (:func:`read_metrics`). A run marked done ends on a row at the schedule's last
        epoch with finite ``FINITE_AT_END`` metrics (training writes that row before the summary, and
        stops a non-finite run as diverged), so a done run whose last row is earlier or holds NaN there
        is damaged: RunFileError naming the file, never a result to draw or table."""
        rows = read_metrics(self.run_dir)
        if self.status != DONE:
            return rows
        end = TrainConfig.from_dict(self.config).total_epochs if self.config is not None else None
        if end is not None and (not rows or rows[-1].get("epoch") != end):
            last = rows[-1].get("epoch") if rows else "no row"
            raise RunFileError(f"metrics.csv: {self.path(METRICS)} ends at epoch {last}, before the schedule's end "
                               f"({end}), in a run marked done (cut or damaged); {RESTORE}")
        bad = [k for k in FINITE_AT_END if rows and not math.isfinite(number(rows[-1].get(k)))]
        if bad:
            raise RunFileError(f"metrics.csv: {self.path(METRICS)} ends on non-finite {bad} (epoch "
                               f"{rows[-1].get('epoch')}) in a run marked done; {RESTORE}")
        return rows

    def check_config(self, config: dict, *, where: str = "run_dir", advice: str = "choose another directory"):
        """RunDirError when the directory holds a run of another config (naming the fields that differ)."""
        if self.config is not None and self.config != config:
            diff = sorted(k for k in set(self.config) | set(config) if self.config.get(k) != config.get(k))
            raise RunDirError(f"{where}: {self.run_dir} holds a run with another config (differs in {diff}); "
                              f"{advice}")


def read_run(run_dir) -> RunState:
    """The state of ``run_dir`` from its files alone (see the module docstring); RunFileError for a damaged file.

    A path that is a file, not a directory, is a RunDirError.
    """
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise RunDirError(f"run_dir: {run_dir} is a file, not a directory; give a directory for the run")
    config, summary = load_config(run_dir), read_summary(run_dir)
    if summary is not None:
        status = summary["status"]
    elif config is not None or (run_dir / CHECKPOINT).is_file():
        status = INTERRUPTED
    else:
        status = MISSING
    return RunState(run_dir, status, config, summary)
