"""A sweep's output folder and one grid point's run in it: its state, and running it on a worker.

Layout of a sweep's output folder ``OUT``::

    OUT/sweep.toml             the sweep file of the last invocation
    OUT/grid.json              run id -> axis labels and config, for every grid point
    OUT/runs/<run_id>/         exactly what ``sharpgen train`` writes (config.json, metrics.csv,
                               checkpoint.pt, summary.json)
    OUT/errors/<run_id>.json   why a run failed: status, error type and message, traceback
    OUT/locks/<run_id>.lock    held while a process works on the run
    OUT/results.csv, .parquet  the table (``verify.sweep.table``)

A run's state is read from its files alone, so a driver killed at any moment
loses nothing: ``done`` (summary.json says so), ``diverged`` or ``error``
(an errors/ record; not retried unless asked, since training is
deterministic), ``lost`` (the worker died or the task was cancelled; always
retried), ``interrupted`` (a checkpoint without a finished summary: resumed
from it) or ``pending``.

Before touching a run, a worker takes an exclusive ``flock`` on its lock file,
so a run is never trained by two processes at once (for instance by an
orphaned task of a killed driver on a long-lived cluster and by the resumed
sweep); the second waits, then sees the run done and skips it.
"""
from __future__ import annotations

import fcntl
import json
import shutil
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

from sharpgen.numerics import checkpoint as ckpt
from sharpgen.numerics.atomic import atomic_write_json

FAILED = ("diverged", "error", "lost")
RETRIED = ("lost",)


def run_dir(out, run_id: str) -> Path:
    return Path(out) / "runs" / run_id


def error_path(out, run_id: str) -> Path:
    return Path(out) / "errors" / f"{run_id}.json"


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def run_state(out, run_id: str) -> str:
    """One of done, diverged, error, lost, interrupted, pending (see the module docstring)."""
    directory = run_dir(out, run_id)
    summary = read_json(directory / ckpt.SUMMARY)
    if summary is not None and summary.get("status") == "done":
        return "done"
    failure = read_json(error_path(out, run_id))
    if failure is not None:
        return failure["status"]
    if (directory / ckpt.CHECKPOINT).exists():
        return "interrupted"
    return "pending"


def wants_run(state: str, retry_failed: bool) -> bool:
    """Whether a run in ``state`` is (re)started: everything but done, and failed runs only when asked."""
    if state == "done":
        return False
    return state not in FAILED or state in RETRIED or retry_failed


def record_failure(out, run_id: str, status: str, message: str, trace: str = "") -> None:
    """Write OUT/errors/<run_id>.json (atomic)."""
    atomic_write_json(error_path(out, run_id), {"status": status, "error": message, "traceback": trace,
                                                     "time": time.strftime("%Y-%m-%dT%H:%M:%S")})


@contextmanager
def run_lock(out, run_id: str):
    """Exclusive lock on OUT/locks/<run_id>.lock for the duration of the block (waits for a holder)."""
    path = Path(out) / "locks" / f"{run_id}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def make_task(out, point, *, theory: bool, retry_failed: bool) -> dict:
    """What a worker needs for one run, as plain data (picklable, independent of the driver's objects)."""
    return {"out": str(Path(out).resolve()), "run_id": point.run_id, "config": point.config.to_dict(),
            "theory": theory, "retry_failed": retry_failed}


def _train(task: dict) -> int:
    """Train the run, or resume it from its checkpoint; the number of optimizer steps taken in this session.

    A run directory without a checkpoint never got past its start (the trainer writes the first
    checkpoint with config.json), so it is cleared and the run starts afresh.
    """
    from sharpgen.numerics.config import TrainConfig
    from sharpgen.numerics.train import make_dataset, train
    from sharpgen.verify.theory_min import theory_min_for  # the sweep's only use of the theory minimum
    config = TrainConfig.from_dict(task["config"])
    directory = run_dir(task["out"], task["run_id"])
    resume = (directory / ckpt.CHECKPOINT).exists()
    if not resume and directory.exists():
        shutil.rmtree(directory)
    data = make_dataset(config)
    theory_min = theory_min_for(config, data).value if task["theory"] else None
    result = train(config, directory, data=data, theory_min=theory_min, resume=resume, progress="off")
    return result.steps_run


def execute_run(task: dict) -> dict:
    """Run one grid point to completion, or record why it failed; never raises for a failed run.

    Returns {"run_id", "status", "skipped", "steps", "wall_s"}.
    """
    from sharpgen.numerics.engine import TrainingDiverged
    out, run_id = task["out"], task["run_id"]
    with run_lock(out, run_id):
        state = run_state(out, run_id)
        if not wants_run(state, task["retry_failed"]):
            return {"run_id": run_id, "status": state, "skipped": True, "steps": 0, "wall_s": 0.0}
        error_path(out, run_id).unlink(missing_ok=True)
        t0, steps, status = time.monotonic(), 0, "done"
        try:
            steps = _train(task)
        except TrainingDiverged as err:
            status = "diverged"
            record_failure(out, run_id, status, str(err))
        except Exception as err:  # noqa: BLE001 -- any failure of one run is recorded and the sweep goes on
            status = "error"
            record_failure(out, run_id, status, f"{type(err).__name__}: {err}", traceback.format_exc())
        return {"run_id": run_id, "status": status, "skipped": False, "steps": steps,
                "wall_s": time.monotonic() - t0}


def execute_batch(tasks: list[dict]) -> list[dict]:
    """One Dask task: the runs of a batch, one after another.

    A batch groups replicas (grid points that differ only in their seeds); a
    multi-replica engine can take the whole batch in one call here.
    """
    return [execute_run(task) for task in tasks]
