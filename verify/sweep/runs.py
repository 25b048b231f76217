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
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sharpgen.numerics.runs import checkpoint as ckpt
from sharpgen.numerics.runs.atomic import atomic_write_json
from sharpgen.numerics.runs.interrupt import TrainingInterrupted

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


def _train_together(tasks: list[dict]) -> list[tuple[str, int]]:
    """Train or resume the runs of ``tasks`` in one ``numerics.train.train_many`` call (one
    multi-replica engine, one core: a worker process is one core); each run's status ("done" or
    "diverged", recorded in errors/) and optimizer steps taken in this session.

    A run directory without a checkpoint never got past its start (the trainer writes the first
    checkpoint with config.json), so it is cleared and the run starts afresh.
    """
    from sharpgen.numerics.runs.config import TrainConfig
    from sharpgen.numerics.runs.train import make_dataset, train_many
    from sharpgen.verify.theory_min import theory_min_for
    configs = [TrainConfig.from_dict(t["config"]) for t in tasks]
    dirs = [run_dir(t["out"], t["run_id"]) for t in tasks]
    resume = [(d / ckpt.CHECKPOINT).exists() for d in dirs]
    for d, r in zip(dirs, resume):
        if not r and d.exists():
            shutil.rmtree(d)
    datas = [make_dataset(c) for c in configs]
    theory = [theory_min_for(c, x).value if t["theory"] else None for c, x, t in zip(configs, datas, tasks)]
    results = train_many(configs, dirs, datas=datas, theory_mins=theory, resume=resume, progress="off",
                         replica_threads=1)
    for task, result in zip(tasks, results):
        if result.status == "diverged":
            record_failure(task["out"], task["run_id"], "diverged", result.message)
    return [(r.status, r.steps_run) for r in results]


def execute_run(task: dict) -> dict:
    """Run one grid point to completion, or record why it failed; never raises for a failed run.

    Returns {"run_id", "status", "skipped", "steps", "wall_s"}.
    """
    out, run_id = task["out"], task["run_id"]
    with run_lock(out, run_id):
        state = run_state(out, run_id)
        if not wants_run(state, task["retry_failed"]):
            return {"run_id": run_id, "status": state, "skipped": True, "steps": 0, "wall_s": 0.0}
        error_path(out, run_id).unlink(missing_ok=True)
        t0, steps = time.monotonic(), 0
        try:
            [(status, steps)] = _train_together([task])
        except TrainingInterrupted:
            raise  # a stop request, not a failure: the checkpoint is kept and a rerun resumes it
        except Exception as err:  # noqa: BLE001 -- any failure of one run is recorded and the sweep goes on
            status = "error"
            record_failure(out, run_id, status, f"{type(err).__name__}: {err}", traceback.format_exc())
        return {"run_id": run_id, "status": status, "skipped": False, "steps": steps,
                "wall_s": time.monotonic() - t0}


def execute_batch(tasks: list[dict]) -> list[dict]:
    """One Dask task: the runs of a batch (grid points that differ only in their seeds), trained
    together through the multi-replica engine, each written exactly as its single run.

    Every run's lock is held for the whole call; runs already done (or failed, unless retried)
    are skipped. If the joint call fails for another reason, each run goes alone
    (``execute_run``), so only a failing run is recorded as failed.
    """
    with ExitStack() as held:
        for task in sorted(tasks, key=lambda t: t["run_id"]):  # one order: two batches never deadlock
            held.enter_context(run_lock(task["out"], task["run_id"]))
        skipped = {t["run_id"]: run_state(t["out"], t["run_id"]) for t in tasks}
        todo = [t for t in tasks if wants_run(skipped[t["run_id"]], t["retry_failed"])]
        for task in todo:
            error_path(task["out"], task["run_id"]).unlink(missing_ok=True)
        t0 = time.monotonic()
        try:
            outcome = dict(zip([t["run_id"] for t in todo], _train_together(todo) if todo else []))
        except TrainingInterrupted:
            raise
        except Exception:  # noqa: BLE001 -- retried run by run below, which records each failure
            outcome = None
        wall = time.monotonic() - t0
    if outcome is None:
        return [execute_run(task) for task in tasks]
    return [{"run_id": t["run_id"], "status": skipped[t["run_id"]], "skipped": True, "steps": 0, "wall_s": 0.0}
            if t["run_id"] not in outcome else
            {"run_id": t["run_id"], "status": outcome[t["run_id"]][0], "skipped": False,
             "steps": outcome[t["run_id"]][1], "wall_s": wall} for t in tasks]
