"""Run a sweep on dask.distributed: ``run_sweep(spec, out)`` returns the results table.

By default the runs go to an embedded ``distributed.LocalCluster`` on this
machine: one single-threaded worker *process* per core. Processes, not
threads: the autograd path and the sympy theory minimum hold the GIL, torch's
thread count (one per run, for reproducible sums) is a per-process setting,
and a crash in one run takes down one worker, not the sweep. With
``scheduler="tcp://host:8786"`` the runs go to an existing cluster instead
(``dask scheduler`` on one machine, ``dask worker tcp://host:8786`` on each
of the others); every worker needs sharpgen installed and must see ``out``
at the same absolute path (a shared filesystem), which is checked before
anything is submitted.

Each Dask task is a batch of runs (``replicas`` grid points that differ only
in their seed; one run per task by default), trained together through the
multi-replica engine (``verify.sweep.runs.execute_batch``). A run is resumed from its own
files wherever it stands (``verify.sweep.runs``), so rerunning the same
command after a kill skips finished runs and resumes interrupted ones.
Failures are recorded per run and never stop the sweep.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

from distributed import Client, LocalCluster, as_completed

from sharpgen.numerics.runs.rundir import RunDirError, os_error
from sharpgen.numerics.runs.state import DONE, INTERRUPTED
from sharpgen.numerics.validate import is_int
from sharpgen.verify.sweep.grid import GridPoint, expand
from sharpgen.verify.sweep.identity import RunIdentityError, check_points, register
from sharpgen.verify.sweep.progress import EtaModel, SweepProgress, step_kind
from sharpgen.verify.sweep.runs import NOT_RETRIED, execute_batch, make_task, record_failure, run_state, wants_run
from sharpgen.verify.sweep.spec import SweepSpec, load_spec
from sharpgen.verify.sweep.table import collect, write_table

POLL_S = 0.5


def default_out(spec: SweepSpec) -> Path:
    return Path("sweeps") / spec.name


def _check_arguments(scheduler, workers, client, replicas) -> None:
    if workers is not None and not (is_int(workers) and workers >= 1):
        raise ValueError(f"workers: expected an integer >= 1 or None (one per core), got {workers!r}")
    if scheduler is not None and not (isinstance(scheduler, str) and scheduler):
        raise ValueError(f"scheduler: expected an address such as 'tcp://host:8786', got {scheduler!r}")
    if sum(x is not None for x in (scheduler, workers, client)) > 1:
        raise ValueError("scheduler, workers, client: give at most one (workers sizes the embedded cluster, "
                         "scheduler and client name an existing one)")
    if not (is_int(replicas) and replicas >= 1):
        raise ValueError(f"replicas: expected an integer >= 1, got {replicas!r}")


def check_out(points: list[GridPoint], out: Path) -> None:
    """Refuse an ``out`` that cannot be a folder, or whose run ids are bound to other configs
    (``identity.check_points``); nothing is written."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"out: {out} exists and is not a directory")
    above = next((p for p in out.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise ValueError(f"out: {above} is a file, so {out} cannot be created below it; choose another --out")
    for name in ("runs", "errors", "locks"):
        if (out / name).exists() and not (out / name).is_dir():
            raise ValueError(f"out: {out / name} is a file where the sweep keeps its {name} folder; move it away "
                             f"or choose another --out")
    check_points(points, out)


CONNECT_S = 10  # the whole connection to a scheduler: TCP connect and Dask's handshake
WORKERS_WAIT_S = 60  # how long a scheduler may have no worker before the sweep gives up


def connect(scheduler: str, seconds: float | None = None):
    """A ``distributed.Client`` on ``scheduler``, or ValueError within about ``seconds`` (default
    ``CONNECT_S``).

    Dask's own ``timeout`` bounds the TCP connect but not the handshake after it, so a peer that
    accepts and never answers (an HTTP server, a silent listener) would hang for minutes; the
    attempt runs in a daemon thread and is abandoned at the deadline. Any failure of the attempt
    (a refused connection, another protocol's reply) is reported the same way.
    """
    seconds = CONNECT_S if seconds is None else seconds
    box: dict = {}

    def attempt():
        try:
            box["client"] = Client(scheduler, timeout=f"{seconds}s")
        except BaseException as err:  # another service's reply can raise anything, MemoryError included
            box["error"] = err

    thread = threading.Thread(target=attempt, name="sharpgen-connect", daemon=True)
    thread.start()
    thread.join(seconds + 2)
    hint = f"start one with `dask scheduler` and workers with `dask worker {scheduler}`"
    if thread.is_alive():
        raise ValueError(f"scheduler: {scheduler} accepted the connection but sent no Dask handshake within "
                         f"{seconds:g} s (is it a Dask scheduler?); {hint}")
    if "error" in box:
        err = box["error"]
        raise ValueError(f"scheduler: cannot connect to {scheduler} ({type(err).__name__}: {err}); {hint}")
    return box["client"]


def wait_for_workers(client, scheduler: str, seconds: float | None = None) -> None:
    """Return once ``client``'s scheduler has a worker; ValueError after ``seconds`` (default
    ``WORKERS_WAIT_S``) without one."""
    seconds = WORKERS_WAIT_S if seconds is None else seconds
    try:
        client.wait_for_workers(1, timeout=seconds)
    except TimeoutError:
        raise ValueError(f"scheduler: {scheduler} has had no worker for {seconds:g} s; start one with "
                         f"`dask worker {scheduler}`") from None


@contextmanager
def workers_ignore_ctrl_c():
    """SIGINT ignored while the embedded cluster starts its worker processes, which keep that for life
    (an ignored signal stays ignored across exec; a blocked mask or a handler would not reach them). A
    terminal's Ctrl-C goes to its whole foreground process group, and would print a traceback from
    every worker; so the sweep alone answers it and stops the cluster. A Ctrl-C in the seconds the
    start takes is dropped (press it again once the status line shows)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def quiet_dask():
    """Dask's own log records below CRITICAL are dropped for the block: what goes wrong reaches the sweep
    through its futures and the client's status (a lost scheduler is one line, ``SweepStopped``), while
    the client's reconnect attempts would print a traceback per try."""
    # distributed gives its sub-loggers levels of their own (distributed.client: warning), so each is set
    names = ["distributed"] + [n for n in logging.root.manager.loggerDict if n.startswith("distributed.")]
    levels = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)


@contextmanager
def open_client(scheduler: str | None = None, workers: int | None = None):
    """A ``distributed.Client`` on an existing scheduler, or on an embedded LocalCluster of ``workers``
    single-threaded worker processes (default: one per core); closed (and the cluster stopped) on exit."""
    if scheduler is not None:
        with quiet_dask():
            client = connect(scheduler)
            with client:
                wait_for_workers(client, scheduler)
                yield client
        return
    n = workers or os.cpu_count() or 1
    # Failures reach the sweep through the futures (recorded in errors/); below CRITICAL the cluster's own
    # logs only add the shutdown race's spurious heartbeat tracebacks to the terminal. The scheduler's
    # HTTP server takes a free port, so sweeps and other Dask clusters on one machine do not clash.
    with ExitStack() as stack:
        with workers_ignore_ctrl_c():
            cluster = stack.enter_context(LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                       dashboard_address=":0", silence_logs=logging.CRITICAL))
            client = stack.enter_context(Client(cluster))
        yield client


def _prepare(spec: SweepSpec, points: list[GridPoint], out: Path, client) -> None:
    """Create OUT, register the points (``identity.register``: sweep.toml, grid.json), and check that ``client``'s workers see it; a folder
    created here is removed again when they do not (nothing half-written stays behind)."""
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise os_error(err, out, advice="choose another --out", name="out") from None
    try:
        register(spec, points, out)
        seen = client.run(os.path.isdir, str(out.resolve())) if client is not None else {}
        blind = sorted(w for w, ok in seen.items() if not ok)
        if blind:
            raise ValueError(f"out: {out.resolve()} is not visible to workers {blind}; a sweep on a cluster "
                             f"needs --out on a filesystem every worker mounts at the same path")
    except BaseException:
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise


def batches(points: list[GridPoint], replicas: int) -> list[list[GridPoint]]:
    """Group grid points into tasks of up to ``replicas`` points whose configs differ only in the seed.

    >>> from types import SimpleNamespace as NS
    >>> from sharpgen.numerics.runs.config import TrainConfig
    >>> pts = [NS(config=TrainConfig(seed=s, width=w)) for w in (5, 6) for s in (0, 1, 2)]
    >>> [[(p.config.width, p.config.seed) for p in b] for b in batches(pts, 2)]
    [[(5, 0), (5, 1)], [(5, 2)], [(6, 0), (6, 1)], [(6, 2)]]
    """
    groups: dict = {}
    for p in points:
        key = json.dumps(dict(p.config.to_dict(), seed=None), sort_keys=True)
        groups.setdefault(key, []).append(p)
    return [g[i:i + replicas] for g in groups.values() for i in range(0, len(g), replicas)]


def kinds_first(tasks: list) -> list:
    """Submission order: the first batch of each step kind (``progress.step_kind``) leads, the rest keep
    grid order, so the ETA measures every kind early (Dask starts tasks roughly in submission order).

    >>> from types import SimpleNamespace as NS
    >>> from sharpgen.numerics.runs.config import TrainConfig
    >>> kinds = [TrainConfig(), TrainConfig(), TrainConfig(optimizer="asam"), TrainConfig()]
    >>> [b[0].name for b in kinds_first([[NS(config=c, name=k)] for k, c in enumerate(kinds)])]
    [0, 2, 1, 3]
    """
    first: dict = {}
    for i, batch in enumerate(tasks):
        first.setdefault(step_kind(batch[0].config), i)
    lead = sorted(first.values())
    return [tasks[i] for i in lead] + [b for i, b in enumerate(tasks) if i not in lead]


class SweepStopped(RunDirError):
    """The sweep stopped before its end for a reason outside its runs (a run's files, the scheduler); every
    run's files say where it stands, so rerunning the same command resumes it."""


def stopped(err: BaseException) -> RunDirError:
    """The one-line error of a sweep stopped by a run's files (``err`` names the file): what to do, and
    that a rerun resumes (a run bound to another config is no matter of resuming: its message says so).

    >>> print(stopped(OSError(28, "No space left on device", "OUT/runs/a/metrics.csv")))
    out: cannot write OUT/runs/a/metrics.csv: No space left on device; the sweep stopped (finished runs are kept)
    """
    if isinstance(err, (RunIdentityError, SweepStopped)):
        return err
    if not isinstance(err, RunDirError):
        err = os_error(err, advice="", name="out")
    return SweepStopped(f"{str(err).rstrip('; ')}; the sweep stopped (finished runs are kept)")


def _connection_lost(client, err: BaseException) -> bool:
    """Whether a task failed because the client lost its scheduler (not because its worker died)."""
    return "connection-lost" in str(err) or client.status != "running"


def _outcome(client, fut, futures: dict, out: Path) -> tuple[list[dict], bool]:
    """(the results of a finished task, whether it ended because the scheduler was lost). A task that
    raised for its runs' files stops the sweep (``stopped``); one lost with its worker or its
    scheduler records its unfinished runs as interrupted (``_lost``)."""
    try:
        return fut.result(), False
    except Exception as err:  # noqa: BLE001 -- KilledWorker, CancelledError, ...: the runs are recorded
        if _connection_lost(client, err):
            return _lost(futures[fut], out, err), True
        if isinstance(err, (RunDirError, OSError)):  # a run's files (disk, damage, another config)
            client.cancel(list(futures))
            raise stopped(err) from None
        return _lost(futures[fut], out, err), False


def _running(client, keys: set) -> int:
    """Tasks of ours executing now: per worker, the ones it is processing up to its thread count (0 once
    the scheduler cannot be asked: the futures then end as lost)."""
    try:
        nthreads, processing = client.nthreads(), client.processing()
    except OSError:  # distributed's CommClosedError: the scheduler went away
        return 0
    return sum(min(len(keys.intersection(tasks)), nthreads.get(w, 1)) for w, tasks in processing.items())


class _Tally:
    """Counts and ETA of the runs of one sweep invocation."""

    def __init__(self, points, out, retry_failed):
        states = {p.run_id: run_state(out, p.run_id) for p in points}
        self.total = len(points)
        self.todo = [p for p in points if wants_run(states[p.run_id], retry_failed)]
        self.done = sum(s == DONE for s in states.values())
        self.failed = sum(s in NOT_RETRIED and not wants_run(s, retry_failed) for s in states.values())
        self.left = {p.run_id: p for p in self.todo}
        self.eta_model = EtaModel()

    def finish(self, result: dict) -> None:
        point = self.left.pop(result["run_id"], None)
        if point is not None and not result["skipped"]:
            self.eta_model.add(point.config, result["wall_s"], result["steps"])
        if result["status"] == DONE:
            self.done += 1
        else:  # diverged, failed, or lost with its task (interrupted): not finished in this invocation
            self.failed += 1

    def eta(self, workers: int):
        return self.eta_model.eta([p.config for p in self.left.values()], workers)


def _lost(batch: list[GridPoint], out: Path, err: BaseException) -> list[dict]:
    """Results for a batch whose task itself failed (worker died, task cancelled): each unfinished run is
    recorded as interrupted (always resumed by the next invocation)."""
    results = []
    for p in batch:
        status = run_state(out, p.run_id)
        if status != DONE:
            status = INTERRUPTED
            record_failure(out, p.run_id, status, f"{type(err).__name__}: {err}")
        results.append({"run_id": p.run_id, "status": status, "skipped": False, "steps": 0, "wall_s": 0.0})
    return results


def _drive(client, spec: SweepSpec, tally: _Tally, out: Path, *, retry_failed: bool, replicas: int,
           bar: SweepProgress) -> None:
    token = uuid.uuid4().hex[:8]
    futures = {}
    for batch in kinds_first(batches(tally.todo, replicas)):
        tasks = [make_task(out, p, theory=spec.theory, retry_failed=retry_failed) for p in batch]
        fut = client.submit(execute_batch, tasks, key=f"sharpgen-sweep-{token}-{batch[0].run_id}", retries=0)
        futures[fut] = batch
    keys = {f.key for f in futures}
    workers = max(sum(client.nthreads().values()), 1)
    pending = as_completed(futures)
    running, last_poll, lost = 0, 0.0, False
    while not pending.is_empty():
        for fut in pending.next_batch(block=False):
            results, gone = _outcome(client, fut, futures, out)
            lost = lost or gone
            keys.discard(fut.key)
            for r in results:
                tally.finish(r)
        if time.monotonic() - last_poll >= 2.0:
            running, last_poll = _running(client, keys), time.monotonic()
        bar.update(done=tally.done, running=min(running, len(keys)), failed=tally.failed, eta=tally.eta(workers))
        if not pending.is_empty():
            time.sleep(POLL_S)
    if lost:
        address = getattr(getattr(client, "scheduler", None), "address", None) or "the scheduler"
        raise SweepStopped(f"scheduler: lost the connection to {address} during the sweep; {tally.done} of "
                           f"{tally.total} runs are done and kept, unfinished ones "
                           f"resume from their checkpoints (once the scheduler is back, or on this machine without "
                           f"--scheduler)")


def run_sweep(spec, out=None, *, scheduler: str | None = None, workers: int | None = None, client=None,
              retry_failed: bool = False, replicas: int = 1, progress: bool | None = None):
    """Run every grid point of ``spec`` that is not finished yet and return the results table (pandas).

    ``spec``: a ``SweepSpec``, a path to a sweep file or the name of a shipped
    study. ``out``: the sweep folder (default ``sweeps/<name>``). The runs go
    to ``client`` if given, else to the cluster at ``scheduler``, else to an
    embedded LocalCluster of ``workers`` processes (default one per core).
    ``retry_failed``: rerun diverged/errored runs too. ``replicas``: grid
    points per Dask task (seeds of one config). ``progress``: status line on
    stderr (None: on). The table is also written to OUT/results.csv and
    OUT/results.parquet.
    """
    _check_arguments(scheduler, workers, client, replicas)
    spec = spec if isinstance(spec, SweepSpec) else load_spec(spec)
    points = expand(spec)
    out = Path(out) if out is not None else default_out(spec)
    check_out(points, out)
    tally = _Tally(points, out, retry_failed)
    bar = SweepProgress(len(points), enabled=progress)
    if not tally.todo:
        _prepare(spec, points, out, None)
    else:
        with (open_client(scheduler, workers) if client is None else _borrowed(client)) as c:
            _prepare(spec, points, out, c)
            try:
                _drive(c, spec, tally, out, retry_failed=retry_failed, replicas=replicas, bar=bar)
            except BaseException:
                bar.close()  # the status line ends before the error's line
                raise
    bar.update(done=tally.done, running=0, failed=tally.failed, eta=(0.0, True), force=True)
    bar.close()
    table = collect(points, out, record=spec.record)
    write_table(table, out)
    return table


def collect_table(spec, out=None):
    """The table of a sweep folder as it stands (no runs started), also written to OUT/results.*."""
    spec = spec if isinstance(spec, SweepSpec) else load_spec(spec)
    points = expand(spec)
    out = Path(out) if out is not None else default_out(spec)
    check_out(points, out)
    table = collect(points, out, record=spec.record)
    if out.is_dir():
        write_table(table, out)
    return table


@contextmanager
def _borrowed(client):
    yield client
