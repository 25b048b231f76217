"""The results table of a sweep: one row per grid point, read from the run directories.

Columns, in order: ``run_id``, ``status`` (``numerics.state``: done, diverged,
failed, interrupted, missing), one column per axis (its value, or the variant's
name), every TrainConfig field that is not an axis (``phases`` in the
docs/paper.md §6 notation), the final row of the run's ``metrics.csv``
restricted to the sweep's ``record`` patterns (epoch, ``wall_s`` = the run's
training wall time over all its sessions, test error, Tr ∇²L, theory
minimum, gap, diagnostics ``diag_*``, ...; empty unless the run is done)
and ``error``. The table is a function of the files alone, so it is the same
whether the sweep ran in one go or was killed and resumed.
"""
from __future__ import annotations

import fnmatch
import os
from pathlib import Path

import pandas as pd

from sharpgen.numerics.runs.config import format_phases
from sharpgen.numerics.runs.state import DONE, read_metrics
from sharpgen.numerics.runs.train import METRIC_COLUMNS
from sharpgen.verify.sweep.runs import read_failure, run_dir, run_state


def _final_metrics(directory: Path, record) -> dict:
    rows = read_metrics(directory)
    if not rows:
        return {}
    return {k: v for k, v in rows[-1].items() if any(fnmatch.fnmatchcase(k, p) for p in record)}


def table_row(point, out, record=("*",)) -> dict:
    """The table row of one grid point (see the module docstring)."""
    state = run_state(out, point.run_id)
    row = {"run_id": point.run_id, "status": state}
    row.update(point.values)  # a scalar axis's value, a variant axis's variant name
    config = point.config.to_dict()
    config["phases"] = format_phases(point.config.phases)
    row.update({k: v for k, v in config.items() if k not in point.labels})
    directory = run_dir(out, point.run_id)
    if state == DONE:
        row.update(_final_metrics(directory, record))
    failure = read_failure(out, point.run_id)
    row["error"] = failure.get("error") if failure and state != DONE else None
    return row


def _column_order(rows: list[dict]) -> list[str]:
    seen = []
    for r in rows:
        seen += [k for k in r if k not in seen]
    metrics = [c for c in seen if c in METRIC_COLUMNS or c.startswith("diag_")]
    head = [c for c in seen if c not in metrics and c != "error"]
    ordered = [c for c in METRIC_COLUMNS if c in metrics] + sorted(c for c in metrics if c not in METRIC_COLUMNS)
    return head + ordered + ["error"]


def collect(points, out, *, record=("*",)) -> pd.DataFrame:
    """The table of ``points`` (from ``grid.expand``) as found in the sweep folder ``out``."""
    rows = [table_row(p, out, record) for p in points]
    return pd.DataFrame(rows, columns=_column_order(rows))


def write_table(table: pd.DataFrame, out) -> tuple[Path, Path]:
    """OUT/results.csv and OUT/results.parquet, each written to a temporary file and moved into place."""
    out = Path(out)
    paths = out / "results.csv", out / "results.parquet"
    for path, write in zip(paths, (lambda p: table.to_csv(p, index=False), lambda p: table.to_parquet(p, index=False))):
        tmp = path.with_name(f".{path.name}.tmp")
        write(tmp)
        os.replace(tmp, path)
    return paths
