"""A sweep's output folder and one grid point's run in it: its state, and running it on a worker.

Layout of a sweep's output folder ``OUT``::

    OUT/sweep.toml             the sweep file of the last invocation
    OUT/grid.json              run id -> axis labels and config, for every grid point registered
                               there (``verify.sweep.identity``: a run id stands for one config)
    OUT/runs/<run_id>/         exactly what ``sharpgen train`` writes (config.json, metrics.csv,
                               checkpoint.pt, summary.json)
    OUT/errors/<run_id>.json   why a run failed: status, error type and message, traceback
    OUT/locks/<run_id>.lock    held while a process works on the run
    OUT/results.csv, .parquet  the table (``verify.sweep.table``)

A run's state is read from its files alone, so a driver killed at any moment
loses nothing. The states are those of ``numerics.state``: ``done`` (summary.json
says so), ``diverged`` or ``failed`` (an errors/ record: the run diverged or raised;
not retried unless asked, since training is deterministic), ``interrupted`` (started
and not finished, or an errors/ record saying its worker died or its task was
cancelled: always resumed) or ``missing``.

Before touching a run, a worker takes an exclusive ``flock`` on its lock file,
so a run is never trained by two processes at once (for instance by an
orphaned task of a killed driver on a long-lived cluster and by the resumed
sweep); the second waits, then sees the run done and skips it. Under that lock
it first checks that the run directory holds the task's config
(``identity.check_run``): a run is never trained, resumed or skipped on behalf
of another config.
"""
from __future__ import annotations

import fcntl
import json
import time
import traceback
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sharpgen.numerics.runs.atomic import atomic_write_json
from sharpgen.numerics.runs.config import TrainConfig
from sharpgen.numerics.runs.interrupt import TrainingInterrupted
from sharpgen.numerics.runs.rundir import RunDirError
from sharpgen.numerics.runs.state import DIVERGED, DONE, FAILED, INTERRUPTED, RunFileError, read_run
from sharpgen.verify.runs import RunSpec, launch
from sharpgen.verify.sweep.identity import check_run

NOT_RETRIED = (DIVERGED, FAILED)  # outcomes a rerun would repeat: retried only when asked


def run_dir(out, run_id: str) -> Path:
    return Path(out) / "runs" / run_id


def error_path(out, run_id: str) -> Path:
    return Path(out) / "errors" / f"{run_id}.json"


def read_failure(out, run_id: str) -> dict | None:
    """OUT/errors/<run_id>.json (status, error, traceback, time), or None; RunFileError when it is damaged.

    Records of older sweeps say ``error`` (now ``failed``) or ``lost`` (now ``interrupted``).
    """
    path = error_path(out, run_id)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise RunFileError(f"errors: {path} is damaged ({type(err).__name__}: {err}); delete it to rerun the "
                           f"run") from None
    if isinstance(record, dict):
        record["status"] = {"error": FAILED, "lost": INTERRUPTED}.get(record.get("status"), record.get("status"))
    if not isinstance(record, dict) or record.get("status") not in (DIVERGED, FAILED, INTERRUPTED):
        raise RunFileError(f"errors: {path} is not a failure record; delete it to rerun the run")
    return record


def run_state(out, run_id: str) -> str:
    """The run's status in the ``numerics.state`` vocabulary (see the module docstring).

    A run whose summary.json says ``failed`` with no errors/ record stopped on its files (a full or
    read-only disk: ``execute_run`` records only failures of the run itself), so it is
    ``interrupted``: resumed from its last checkpoint once the disk is fixed.
    """
    found = read_run(run_dir(out, run_id))
    if found.status == DONE:
        return DONE
    failure = read_failure(out, run_id)
    if failure is not None:
        return failure["status"]
    return INTERRUPTED if found.status == FAILED else found.status


def wants_run(state: str, retry_failed: bool) -> bool:
    """Whether a run in ``state`` is (re)started: everything but done, and failed runs only when asked."""
    if state == DONE:
        return False
    return state not in NOT_RETRIED or retry_failed


def record_failure(out, run_id: str, status: str, message: str, trace: str = "") -> None:
    """Write OUT/errors/<run_id>.json (atomic): ``status`` diverged, failed, or interrupted (a lost task)."""
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
    """Train or resume the runs of ``tasks`` together (``verify.runs.launch``: one multi-replica engine,
    one core, since a worker process is one core); each run's status ("done" or "diverged",
    recorded in errors/) and the optimizer steps taken in this session."""
    specs = [RunSpec(TrainConfig.from_dict(t["config"]), run_dir(t["out"], t["run_id"]), group=t["run_id"],
                     theory=t["theory"]) for t in tasks]
    done = launch(specs, reuse=False, replica_threads=1)
    for task, d in zip(tasks, done):
        if d.status == DIVERGED:
            record_failure(task["out"], task["run_id"], DIVERGED, d.message)
    return [(d.status, d.steps) for d in done]


def execute_run(task: dict) -> dict:
    """Run one grid point to completion, or record why it failed; never raises for a failed run, only
    for a stop request (``TrainingInterrupted``) and trouble with the run's files (``RunDirError``,
    ``OSError``: the message names the file), which are no outcome of the run.

    Returns {"run_id", "status", "skipped", "steps", "wall_s"}.
    """
    out, run_id = task["out"], task["run_id"]
    with run_lock(out, run_id):
        check_run(out, run_id, task["config"])
        state = run_state(out, run_id)
        if not wants_run(state, task["retry_failed"]):
            return {"run_id": run_id, "status": state, "skipped": True, "steps": 0, "wall_s": 0.0}
        error_path(out, run_id).unlink(missing_ok=True)
        t0, steps = time.monotonic(), 0
        try:
            [(status, steps)] = _train_together([task])
        except (TrainingInterrupted, RunDirError, OSError):
            # a stop request, or the run's files (disk full or read-only, a damaged file, a busy folder):
            # not an outcome of the run, so nothing is recorded; the sweep stops and a rerun resumes it
            raise
        except Exception as err:  # noqa: BLE001 -- any failure of one run is recorded and the sweep goes on
            status = FAILED
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
        for task in tasks:
            check_run(task["out"], task["run_id"], task["config"])
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
