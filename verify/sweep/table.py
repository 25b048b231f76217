"""The results table of a sweep: one row per grid point, read from the run directories.

Columns, in order: ``run_id``, ``status`` (``numerics.state``: done, diverged,
failed, interrupted, missing), one column per axis (its value, or the variant's
name), every TrainConfig field that is not an axis (``phases`` in the
docs/paper.md §6 notation), the final row of the run's ``metrics.csv``
restricted to the sweep's ``record`` patterns (epoch, ``wall_s`` = the run's
training wall time over all its sessions, test error, Tr ∇²L, theory
minimum, gap, diagnostics ``diag_*``, ...; empty unless the run is done)
and ``error``. Config fields come from each run's own ``config.json``, never from the sweep
file that asked for it (they agree: ``identity``). The table is a function of the files alone, so it is the same
whether the sweep ran in one go or was killed and resumed.
"""
from __future__ import annotations

import fnmatch
import os
import threading
from pathlib import Path

import pandas as pd

from sharpgen.numerics.runs.config import TrainConfig, format_phases
from sharpgen.numerics.runs.rundir import os_error
from sharpgen.numerics.runs.state import DONE, read_run
from sharpgen.numerics.runs.train import METRIC_COLUMNS
from sharpgen.verify.sweep.identity import check_run, folder_lock
from sharpgen.verify.sweep.runs import read_failure, run_dir, run_state


def _final_metrics(directory: Path, record) -> dict:
    rows = read_run(directory).rows()
    if not rows:
        return {}
    return {k: v for k, v in rows[-1].items() if any(fnmatch.fnmatchcase(k, p) for p in record)}


def table_row(point, out, record=("*",)) -> dict:
    """The table row of one grid point (see the module docstring): the config fields from the run's own
    config.json (the grid point's where the run has not started), refused when the two disagree."""
    directory = run_dir(out, point.run_id)
    check_run(out, point.run_id, point.config.to_dict())
    state = run_state(out, point.run_id)
    row = {"run_id": point.run_id, "status": state}
    row.update(point.values)  # a scalar axis's value, a variant axis's variant name
    own = read_run(directory).config
    config = TrainConfig.from_dict(own) if own is not None else point.config
    fields = config.to_dict()
    fields["phases"] = format_phases(config.phases)
    row.update({k: v for k, v in fields.items() if k not in point.labels})
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
    """OUT/results.csv and OUT/results.parquet, each written to a temporary file of this process and moved
    into place, both under the folder's lock (``identity.folder_lock``): two sweeps finishing at once
    never interleave their files, and the pair is always one writer's."""
    out = Path(out)
    paths = out / "results.csv", out / "results.parquet"
    with folder_lock(out):
        for path, write in zip(paths, (lambda p: table.to_csv(p, index=False),
                                       lambda p: table.to_parquet(p, index=False))):
            tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
            try:
                write(tmp)
                os.replace(tmp, path)
            except OSError as err:
                tmp.unlink(missing_ok=True)
                raise os_error(err, path, advice="free space or choose another --out", name="out") from None
    return paths
