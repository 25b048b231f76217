"""Training runs of the paper's experiments (docs/paper.md §6, Appendix B): 1-SAM, n-SAM,
(S)GD with weight decay, label-noise SGD, the Figure-6b projection, and
phase schedules; resumable, reproducible, logged.

``train(config, run_dir)`` writes (``numerics.checkpoint`` names the files)

* ``config.json`` — the configuration, plus what was resolved at the start
  (device, the step backend of each phase, torch version, threads); written
  with the first checkpoint once the first evaluation succeeded: a run that
  fails before that removes the files it wrote (and, through the lock, the
  folders it created if they are empty; never anything else);
* ``metrics.csv`` — one row per evaluation, appended as the run goes (columns:
  ``METRIC_COLUMNS``, then ``diag_*``; see the README);
* ``checkpoint.pt`` — parameters, epoch, cumulative wall time, the sessions
  (device, backends, threads and torch of each start or resume), the theory
  minimum logged, and the config with its digest;
* ``summary.json`` — the status ("done", "diverged", "interrupted" or
  "failed"), and for a finished run the final row, wall time and backends.

Reliability (README, Reliability): the run holds the directory's lock
(``numerics.rundir``) from start to end; a resume continues only a
checkpoint bound to the same config, with the same device, step backends,
threads and torch (else it refuses, unless ``allow_backend_change``);
SIGINT and SIGTERM save a checkpoint at the end of the current chunk and
raise ``TrainingInterrupted`` (``numerics.interrupt``); a file that cannot
be written is a ``RunDirError`` naming it.

Randomness: the network from ``seed``, the data from ``data_seed`` (default
``seed``), and the sample order and label noise of epoch e from a generator
seeded with (seed, e). Nothing random is carried from one epoch to the next,
so a checkpoint needs only the parameters and the epoch counter, and a run
resumed after a kill produces exactly the numbers of an uninterrupted run
(every column of metrics.csv but the wall clock ``wall_s``).

A non-finite output or parameter stops the run with ``TrainingDiverged``;
the last good checkpoint stays untouched (every checkpoint holds finite
parameters; a network already non-finite at initialisation writes nothing).

Many runs (seeds, lr/ρ/weight-decay grids): ``train_many(configs, run_dirs)``
steps them together through one ``ReplicaEngine`` (``numerics.replica_runs``),
each written to its own directory exactly as ``train`` writes it; ``train``
is ``train_many`` of one run, so both share every line of the loop.
"""
from __future__ import annotations

import math
import os
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import torch

from sharpgen.numerics.runs import checkpoint as ckpt
from sharpgen.numerics.nets import data as D
from sharpgen.numerics.runs import resume as resume_checks
from sharpgen.numerics.runs import rundir
from sharpgen.numerics.runs.atomic import atomic_write_json, remove_orphans
from sharpgen.numerics.runs.config import TrainConfig
from sharpgen.numerics.device import resolve_device
from sharpgen.numerics.nets.diagnostics import diagnose
from sharpgen.numerics.engine.backends import resolve_backend, triton_supported
from sharpgen.numerics.engine.diverged import TrainingDiverged
from sharpgen.numerics.nets.initialization import build
from sharpgen.numerics.runs.interrupt import StopRequests, TrainingInterrupted
from sharpgen.numerics.runs.limits import check_memory
from sharpgen.numerics.runs.metrics_csv import append_csv_row, read_header, truncate_csv, write_csv
from sharpgen.numerics.nets.params import from_params, model_to_params
from sharpgen.numerics.runs.progress import MODES as PROGRESS_MODES
from sharpgen.numerics.runs.replica_runs import Cohorts, MultiProgress, check_shared
from sharpgen.numerics.runs.schedule import chunk_plan, evaluation_epochs, next_after, phase_at, steps_before
from sharpgen.numerics.validate import check_choice, check_int, check_number, torch_dtype

METRIC_COLUMNS = ["epoch", "step", "wall_s", "phase", "lr", "rho", "batch", "weight_decay", "train_loss",
                  "test_loss", "train_error", "test_error", "trace", "trace_gn", "theory_min", "gap", "rel_gap",
                  "rel_gap_gn"]
FIT_KEYS = ("train_loss", "test_loss", "train_error", "test_error")
# What decides the numbers of a step besides the config: a resume must find them unchanged.
COMPUTE_KEYS = ("device", "backends", "threads", "torch")
CHUNK_SECONDS = 1.0  # engine calls last about this long, so a signal is answered within about a second


def make_dataset(config: TrainConfig) -> D.Dataset:
    """The run's training and test sets (float64, CPU), seeded by ``data_seed`` (default ``seed``);
    a config too large for this machine's memory is refused first (``limits.check_memory``)."""
    check_memory(config)
    seed = config.seed if config.data_seed is None else config.data_seed
    if config.data == "xor":
        return D.xor_dataset(config.d, config.n, n_test=config.n_test, seed=seed)
    if config.data == "ball":
        return D.ball_dataset(config.d, config.n, n_test=config.n_test, seed=seed)
    if config.data == "circle":
        return D.circle_dataset(config.n, n_test=config.n_test, seed=seed)
    return D.condition1_dataset(config.d, n_test=config.n_test, seed=seed)


def phase_backends(backend: str, config: TrainConfig) -> tuple[str, ...]:
    """The step backend each phase really uses: the C loops and the triton kernel take batch-1
    phases only (triton also only the networks ``engine.triton_supported`` names), and the engine
    runs the others with the torch formulas (``engine.replicas.ReplicaEngine``).

    >>> from sharpgen.numerics.runs.config import parse_phases
    >>> phase_backends("c", TrainConfig(phases=parse_phases("0.01,0,100,0,5; 0.01,0.05,1,0,5")))
    ('torch', 'c')
    >>> phase_backends("triton", TrainConfig(arch="sim_bn", phases=parse_phases("0.01,0.05,1,0,5")))
    ('torch',)
    """
    if backend not in ("c", "triton"):
        return (backend,) * len(config.phases)
    covered = backend == "c" or triton_supported(config.arch, depth=config.depth)
    return tuple(backend if covered and ph.batch == 1 else "torch" for ph in config.phases)


# ------------------------------------------------------------------ evaluation

def evaluate(model, data: D.Dataset, config: TrainConfig, *, theory_min: float | None = None) -> dict:
    """Losses, zero-one errors (y·f ≤ 0), exact Tr ∇²L and its Gauss-Newton part, the gap to
    ``theory_min`` and the ``diag_*`` columns, from one ``diagnose`` call (each quantity once)."""
    diag = diagnose(model, data, theory_min=theory_min, loss=config.loss, p=config.p)
    row = {k: diag.pop(k) for k in FIT_KEYS}
    row["trace"], row["trace_gn"] = diag.pop("sharpness"), diag.pop("sharpness_gn")
    diag.pop("sharpness_gap")
    row["theory_min"] = row["gap"] = row["rel_gap"] = row["rel_gap_gn"] = None
    if theory_min is not None:
        row["gap"] = row["trace"] - theory_min
        rel = (lambda v: (v - theory_min) / theory_min) if theory_min != 0 else (lambda v: math.nan)
        row.update(theory_min=theory_min, rel_gap=rel(row["trace"]), rel_gap_gn=rel(row["trace_gn"]))
    row.update({f"diag_{k}": v for k, v in diag.items()})
    return row


def _float64_model(model, config: TrainConfig, data: D.Dataset):
    if model.W1.dtype == torch.float64:
        return model
    if not all(bool(torch.isfinite(q).all()) for q in model.parameters()):
        raise TrainingDiverged("non-finite parameters")
    return from_params(config.arch, model_to_params(model), activation=config.activation, eps=config.eps,
                       X_train=data.X if config.arch == "sim_bn" else None, device=data.X.device)


# ------------------------------------------------------------------ the run

@dataclass
class TrainResult:
    """What ``train`` returns: the run directory, every metric row, the final row and facts of the run.

    ``backends``: the step backend of each phase in this session; ``wall_s`` and
    ``steps_run``: this session's wall time and optimizer steps. ``status``: "done", or
    "diverged" (only from ``train_many``, which goes on with the other runs; ``message`` says why
    and ``error`` is the ``TrainingDiverged`` the engine or the trainer raised, unchanged).
    """

    run_dir: Path
    rows: list = field(default_factory=list)
    backends: tuple = ()
    device: str = ""
    wall_s: float = 0.0
    steps_run: int = 0
    status: str = "done"
    message: str = ""
    error: TrainingDiverged | None = None

    @property
    def final(self) -> dict:
        return self.rows[-1] if self.rows else {}


@dataclass
class _Run:
    """The state of one session of a run (a start or a resume); ``status`` "running" until it diverges."""

    config: TrainConfig
    run_dir: Path
    data: D.Dataset
    model: object
    backends: tuple
    theory_min: float | None
    session: dict
    epoch: int = 0
    saved_epoch: int = 0
    rows: list = field(default_factory=list)
    sessions: list = field(default_factory=list)
    wall_before: float = 0.0
    t0: float = field(default_factory=time.monotonic)
    steps_run: int = 0
    status: str = "running"
    message: str = ""
    error: TrainingDiverged | None = None

    def wall(self) -> float:
        return self.wall_before + (time.monotonic() - self.t0)


def train(config: TrainConfig, run_dir, *, data: D.Dataset | None = None, theory_min: float | None = None,
          resume: bool = False, progress: str | None = None, max_chunk_steps: int = 20000,
          threads: int | None = 1, allow_backend_change: bool = False) -> TrainResult:
    """Run (or, with ``resume=True``, continue) the training described by ``config`` in ``run_dir``:
    ``train_many([config], [run_dir])``, raising ``TrainingDiverged`` when the run diverges.

    ``data``: the run's dataset as ``make_dataset(config)`` builds it (built here
    when None; a caller that also needs it, e.g. for the theory minimum, builds
    it once and passes it). ``theory_min``: the exact minimum sharpness over
    interpolating nets for that training set (``verify.theory_min``), logged
    beside Tr ∇²L. ``progress``: "bar", "lines", "off" or None (bar on a
    terminal, else one line per evaluation; ``numerics.progress``).
    ``max_chunk_steps`` bounds the steps per engine call, which also last at
    most about ``CHUNK_SECONDS`` (progress granularity and the delay before a
    signal is answered; results do not depend on it). ``threads``: torch
    intra-op threads during the run (restored afterwards; None leaves torch's
    setting). One thread is the default: the steps are tiny, extra threads
    only add synchronisation, and a fixed count keeps the summation order
    (hence the numbers) reproducible. ``allow_backend_change``: resume even
    where the steps would be computed differently from the checkpoint's
    session (``COMPUTE_KEYS``), recording the change; the numbers then differ
    from an uninterrupted run.

    ``resume=True`` needs ``run_dir`` to hold this config's run (a fresh
    directory is refused, as by ``sharpgen train --resume``); a run stopped
    before its first checkpoint restarts from epoch 0.
    """
    (result,) = train_many([config], [run_dir], datas=[data], theory_mins=[theory_min], resume=resume,
                           progress=progress, max_chunk_steps=max_chunk_steps, threads=threads,
                           allow_backend_change=allow_backend_change)
    if result.status == "diverged":
        raise result.error
    return result


def train_many(configs, run_dirs, *, datas=None, theory_mins=None, resume=False, progress: str | None = None,
               max_chunk_steps: int = 20000, threads: int | None = 1, replica_threads: int | None = None,
               allow_backend_change: bool = False) -> list[TrainResult]:
    """Train (or continue) several runs at once, one ``ReplicaEngine`` call stepping them all
    (``numerics.replica_runs``), each in its own directory exactly as ``train`` would.

    ``configs`` may differ only in seeds and the phases' lr, rho and weight decay
    (``replica_runs.check_shared``); ``datas``, ``theory_mins`` and ``resume``: one per run
    (None, or one ``resume`` bool for all). Each run's files, numbers (bitwise, on CPU with
    the same backend; ``wall_s`` aside) and checks are those of its single ``train``: every
    directory is locked for the whole call, every checkpoint bound to its own config. A run
    that diverges gets status "diverged" (its summary.json written, its last good checkpoint
    kept) and the others go on; SIGINT/SIGTERM save every run and raise ``TrainingInterrupted``.
    ``replica_threads``: runs stepped side by side on that many cores (None: every core).

    >>> import tempfile
    >>> from sharpgen.numerics.runs.config import parse_phases
    >>> cfg = TrainConfig(d=4, n=8, n_test=8, width=6, phases=parse_phases("0.05,0.05,1,0,4"), eval_every=2,
    ...                   eval_log_points=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     results = train_many([cfg, cfg.replace(seed=1)], [f"{tmp}/s0", f"{tmp}/s1"], progress="off")
    >>> [(r.status, [row["epoch"] for row in r.rows]) for r in results]
    [('done', [0, 2, 4]), ('done', [0, 2, 4])]
    """
    check_int("threads", threads, 1, allow_none=True)
    check_int("replica_threads", replica_threads, 1, allow_none=True)
    configs, run_dirs = _check_runs(configs, run_dirs)
    R = len(configs)
    datas, theory_mins = _per_run("datas", datas, R), _per_run("theory_mins", theory_mins, R)
    resumes = _per_run("resume", resume, R) if isinstance(resume, (list, tuple)) else [resume] * R
    for i, value in enumerate(resumes):
        if not isinstance(value, bool):
            raise ValueError(f"resume[{i}]: expected True or False, got {value!r}")
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _train(configs, run_dirs, datas=datas, theory_mins=theory_mins, resumes=resumes, progress=progress,
                      max_chunk_steps=max_chunk_steps, replica_threads=replica_threads,
                      allow_backend_change=allow_backend_change)
    finally:
        torch.set_num_threads(before)


def _check_runs(configs, run_dirs) -> tuple[list, list[Path]]:
    """Validated configs that can train together and their distinct run directories."""
    configs, run_dirs = list(configs), list(run_dirs)
    if not configs or len(configs) != len(run_dirs):
        raise ValueError(f"run_dirs: expected one directory per config (at least one), got {len(run_dirs)} for "
                         f"{len(configs)} configs")
    for config in configs:
        if not isinstance(config, TrainConfig):
            raise ValueError(f"configs: expected TrainConfig objects, got {type(config).__name__}")
        config.validate()
    check_shared(configs)
    run_dirs = [_check_run_dir(d) for d in run_dirs]
    seen = {}
    for i, run_dir in enumerate(run_dirs):
        j = seen.setdefault(os.path.realpath(run_dir), i)
        if j != i:
            raise ValueError(f"run_dirs: runs {j} and {i} both name {run_dir}; give each run its own directory")
    return configs, run_dirs


def _per_run(name: str, values, count: int) -> list:
    if values is None:
        return [None] * count
    values = list(values)
    if len(values) != count:
        raise ValueError(f"{name}: expected one entry per run ({count}), got {len(values)}")
    return values


def _check_run_dir(run_dir) -> Path:
    if not isinstance(run_dir, (str, Path)) or not str(run_dir).strip():
        raise ValueError(f"run_dir: expected a directory path, got {run_dir!r}")
    return Path(run_dir)


def _train(configs, run_dirs: list[Path], *, datas, theory_mins, resumes, progress, max_chunk_steps,
           replica_threads, allow_backend_change) -> list[TrainResult]:
    for i, value in enumerate(theory_mins):
        check_number("theory_min" if len(configs) == 1 else f"theory_mins[{i}]", value, allow_none=True)
    check_int("max_chunk_steps", max_chunk_steps, 1)
    if progress is not None:
        check_choice("progress", progress, PROGRESS_MODES)
    for config in configs:
        check_memory(config)
    try:
        return _locked_run(configs, run_dirs, datas=datas, theory_mins=theory_mins, resumes=resumes,
                           progress=progress, max_chunk_steps=max_chunk_steps, replica_threads=replica_threads,
                           allow_backend_change=allow_backend_change)
    except OSError as err:  # a read or write of the run's files failed outside the paths that say more
        raise rundir.os_error(err) from None


def _locked_run(configs, run_dirs: list[Path], *, datas, theory_mins, resumes, progress, max_chunk_steps,
                replica_threads, allow_backend_change) -> list[TrainResult]:
    """The runs, holding every directory's lock and catching SIGINT/SIGTERM from start to end."""
    with ExitStack() as held, StopRequests() as stop:
        for run_dir in sorted(run_dirs, key=os.path.realpath):  # one order: two calls never lock each other out
            held.enter_context(rundir.locked(run_dir))
        states = []
        for config, run_dir, resume in zip(configs, run_dirs, resumes):
            remove_orphans(run_dir, ckpt.RUN_FILES)
            states.append(ckpt.open_run(run_dir, config.to_dict(), resume=resume))
        runs, cohorts = _setup(configs, run_dirs, datas, theory_mins, replica_threads)
        if stop.signum is not None:
            epochs = [s["epoch"] for s in states if s is not None]
            raise TrainingInterrupted(stop.signum, "interrupted before the run started: nothing was written",
                                      epoch=min(epochs) if epochs else None)
        for run, state in zip(runs, states):
            if state is None:
                try:
                    _start(run)
                except TrainingDiverged as err:  # non-finite at initialisation: nothing written
                    _diverged(run, err)
            else:
                _restore(run, state, allow_backend_change)
        bars = MultiProgress(configs[0].total_epochs, [r.epoch for r in runs], [d.name for d in run_dirs],
                             progress)
        try:
            _loop(runs, cohorts, stop, bars, max_chunk_steps)
        except (TrainingInterrupted, OSError) as err:
            _stopped(runs, err)
        finally:
            bars.close()
        return [_finish(run) for run in runs]


def _write_status(run: _Run, status: str, message: str) -> None:
    """summary.json saying why the run stopped, as far as the disk allows (the checkpoint and the
    error message say it all anyway)."""
    try:
        atomic_write_json(run.run_dir / ckpt.SUMMARY, {"status": status, "message": message,
                                                        "epoch": run.saved_epoch, **run.session})
    except OSError:
        pass  # the disk refuses even this; the checkpoint and the raised error still say why


def _diverged(run: _Run, err: TrainingDiverged) -> None:
    """This run stops as diverged (summary.json says why; its last good checkpoint stays); others go on."""
    run.status, run.message, run.error = "diverged", str(err), err
    if (run.run_dir / ckpt.CHECKPOINT).is_file():  # a run diverged at initialisation wrote nothing
        _write_status(run, "diverged", run.message)


def _interrupted_message(err: TrainingInterrupted, run: _Run) -> str:
    if err.epoch is None:  # a second signal: stopped mid-chunk
        return f"{err}; the checkpoint of epoch {run.saved_epoch} is kept"
    return f"interrupted by {err.name} at epoch {run.epoch}; checkpoint saved"


def _stopped(runs: list[_Run], err: BaseException) -> None:
    """Record in each training run's summary.json why it stopped and raise the error the caller
    expects: the interruption itself, or a RunDirError for a failed write."""
    live = [r for r in runs if r.status == "running"]
    interrupted = isinstance(err, TrainingInterrupted)
    for run in live:
        _write_status(run, "interrupted" if interrupted else "failed",
                      _interrupted_message(err, run) if interrupted else str(err))
    kept = sorted({r.saved_epoch for r in live})
    if isinstance(err, OSError):
        where = f"the checkpoint of epoch {kept[0]} is kept" if len(kept) == 1 else "each run's last checkpoint is kept"
        raise rundir.os_error(err, advice=f"{where}; free space and resume") from None
    if len(runs) == 1 and live:
        raise TrainingInterrupted(err.signum, _interrupted_message(err, live[0]), epoch=kept[0]) from None
    raise TrainingInterrupted(err.signum, f"interrupted by {err.name}; each run's checkpoint is kept (epochs "
                                          f"{kept})", epoch=kept[0] if kept else None) from None


def _setup(configs, run_dirs, datas, theory_mins, replica_threads) -> tuple[list[_Run], Cohorts]:
    """Data, models and the engine on the resolved device, and the backend of each phase; running out
    of memory on the way is a ValueError saying which sizes to lower."""
    config = configs[0]
    try:
        device, dtype = resolve_device(config.device), torch_dtype(config.dtype)
        made = [setup_model(c, data, device, dtype) for c, data in zip(configs, datas)]
        backend = resolve_backend(config.backend, fused=config.fused, device=device, dtype=dtype)
        cohorts = Cohorts(config, [model for _, model, _ in made], [X for _, _, X in made], backend,
                          threads=replica_threads)
    except (MemoryError, RuntimeError) as err:
        raise _memory_error(err, "building the data and the network") from None
    backends = phase_backends(backend, config)
    session = {"device": str(device), "backends": list(backends), "torch": str(torch.__version__),
               "threads": torch.get_num_threads()}
    runs = [_Run(c, d, data, model, backends, tm, dict(session))
            for c, d, (data, model, _), tm in zip(configs, run_dirs, made, theory_mins)]
    return runs, cohorts


def setup_model(config: TrainConfig, data, device, dtype):
    """(data on the device, the network, its training inputs in the run's dtype) as a run of
    ``config`` starts with them; ``data`` None builds ``make_dataset(config)``.

    >>> import torch
    >>> from sharpgen.numerics.runs.config import TrainConfig
    >>> data, net, X = setup_model(TrainConfig(arch="nobias", d=3, n=4, width=5), None, torch.device("cpu"),
    ...                            torch.float64)
    >>> tuple(X.shape), tuple(net.W1.shape)
    ((4, 3), (5, 3))
    """
    data = make_dataset(config) if data is None else data
    if not isinstance(data, D.Dataset) or (data.n, data.d) != (config.n, config.d):
        raise ValueError(f"data: expected the run's dataset (make_dataset(config), n={config.n}, d={config.d})")
    data = data.to(device)  # float64: evaluation is always float64
    X_train = data.X.to(dtype)
    model = build(config.arch, config.d, config.width, depth=config.depth, activation=config.activation,
                  eps=config.eps, init_scale_first_layer=config.init_scale_first_layer,
                  init_gamma=config.init_gamma, dtype=dtype, device=device, seed=config.seed)
    if config.arch == "sim_bn":
        model.set_training_inputs(X_train)
    return data, model, X_train


def _memory_error(err: BaseException, doing: str) -> BaseException:
    """A one-line ValueError for an allocation failure; any other error unchanged."""
    text = str(err)
    if isinstance(err, MemoryError) or "can't allocate memory" in text or "out of memory" in text.lower():
        return ValueError(f"memory: this machine ran out of memory while {doing} "
                          f"({(text.splitlines() or ['MemoryError'])[0][:160]}); lower width, n or n_test")
    return err


def _row(run: _Run, epoch: int) -> dict:
    config = run.config
    k, ph, _ = phase_at(config, min(epoch, config.total_epochs - 1))
    row = {"epoch": epoch, "step": steps_before(config, epoch, run.data.n), "wall_s": run.wall(), "phase": k,
           "lr": ph.lr, "rho": ph.rho, "batch": ph.batch, "weight_decay": ph.weight_decay}
    row.update(evaluate(_float64_model(run.model, config, run.data), run.data, config, theory_min=run.theory_min))
    return row


def _initial_row(run: _Run) -> dict:
    """The evaluation at epoch 0; a network that is already non-finite there is no state worth keeping."""
    try:
        row = _row(run, 0)
        why = None if math.isfinite(row["train_loss"]) else f"train_loss {row['train_loss']}"
    except TrainingDiverged as err:
        why = str(err)
    except (MemoryError, RuntimeError) as err:
        raise _memory_error(err, "evaluating the initial network") from None
    if why is not None:
        raise TrainingDiverged(f"the initial network (epoch 0) is already non-finite ({why}), so there is no good "
                               f"state to keep and nothing was written; lower init_scale_first_layer or check the "
                               f"config")
    return row


def _start(run: _Run) -> None:
    """A run from epoch 0: the first evaluation, then metrics.csv, config.json and the first checkpoint.

    Nothing is written before the first evaluation succeeded; if writing fails (or a second signal
    stops it), exactly the files this call wrote go, so no half-made run blocks the next attempt.
    """
    row = _initial_row(run)
    run.rows, run.sessions = [row], [dict(run.session, start_epoch=0)]
    config_json = {"config": run.config.to_dict(), "resolved": run.session}
    writes = ((ckpt.METRICS, lambda: write_csv(run.run_dir / ckpt.METRICS, list(row), [row])),
              (ckpt.CONFIG, lambda: atomic_write_json(run.run_dir / ckpt.CONFIG, config_json)),
              (ckpt.CHECKPOINT, lambda: _save(run)))
    written = []
    try:
        for name, write in writes:
            written.append(name)
            write()
    except BaseException as err:
        for name in written:
            (run.run_dir / name).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise rundir.os_error(err) from None
        raise


def _restore(run: _Run, state: dict, allow_backend_change: bool) -> None:
    """Continue from a checkpoint: its parameters, epoch, wall time and sessions, and the metric rows
    up to its epoch (rows appended after it, by a run killed before its next checkpoint, are dropped).
    Everything is checked (``numerics.resume``) before anything is written."""
    own = dict(run.model.named_parameters())
    resume_checks.check_params(own, state["params"], run.run_dir / ckpt.CHECKPOINT)
    resume_checks.check_theory_min(state["theory_min"], run.theory_min)
    previous = state["sessions"][-1] if state["sessions"] else {}
    changes = resume_checks.compute_changes(previous, run.session, COMPUTE_KEYS)
    reason = resume_checks.c_unavailable_reason(torch_dtype(run.config.dtype)) if "backends" in changes else None
    warning = resume_checks.check_compute(changes, allowed=allow_backend_change, reason=reason)
    epoch = int(state["epoch"])
    metrics = run.run_dir / ckpt.METRICS
    if not metrics.is_file():
        raise rundir.RunDirError(f"metrics.csv: missing in {run.run_dir} beside {ckpt.CHECKPOINT}; "
                                 f"start a new run in another directory")
    rows = truncate_csv(metrics, epoch)
    expected = [e for e in evaluation_epochs(run.config) if e <= epoch]
    resume_checks.check_rows([r["epoch"] for r in rows], expected, metrics)
    if warning:
        print(f"sharpgen: {warning}", file=sys.stderr)
    with torch.no_grad():
        for k, v in state["params"].items():
            own[k].copy_(v.to(device=own[k].device, dtype=own[k].dtype))
    run.epoch = run.saved_epoch = epoch
    run.wall_before = float(state["wall_s"])
    session = dict(run.session, start_epoch=epoch, **({"changed": changes} if changes else {}))
    run.sessions = list(state["sessions"]) + [session]
    run.rows = rows

def _chunk_end(epoch: int, spe: int, max_chunk_steps: int, step_seconds: float | None) -> int:
    """The last epoch of an engine call by size: ``max_chunk_steps`` and about ``CHUNK_SECONDS``."""
    steps = max_chunk_steps
    if step_seconds:
        steps = min(steps, int(CHUNK_SECONDS / step_seconds))
    return epoch + max(1, steps // spe)


def _loop(runs: list[_Run], cohorts: Cohorts, stop: StopRequests, bars: MultiProgress, max_chunk_steps: int) -> None:
    """Chunks of whole epochs until every run is done or diverged: the runs at the earliest epoch step
    together up to the next phase change, evaluation, checkpoint, signal check or another run's epoch."""
    config, n = runs[0].config, runs[0].data.n
    total, ck_every = config.total_epochs, config.checkpoint_every or config.eval_every
    evals = evaluation_epochs(config)
    targets = [cohorts.targets(r.data.Y).detach().cpu() for r in runs]
    current, step_seconds = None, None
    while live := [r for r in runs if r.status == "running" and r.epoch < total]:
        _answer_signal(runs, stop)
        epoch = min(r.epoch for r in live)
        k, ph, phase_end = phase_at(config, epoch)
        if k != current:
            bars.phase(k, len(config.phases), runs[0].backends[k])
            current = k
        spe = ph.steps_per_epoch(n)
        end = min(phase_end, next_after(evals, epoch), (epoch // ck_every + 1) * ck_every,
                  _chunk_end(epoch, spe, max_chunk_steps, step_seconds), *(r.epoch for r in live if r.epoch > epoch))
        members = [i for i, r in enumerate(runs) if r in live and r.epoch == epoch]
        t0 = time.monotonic()
        _step(runs, members, cohorts, targets, k, epoch, end)
        step_seconds = (time.monotonic() - t0) / ((end - epoch) * spe)
        moved = [i for i in members if runs[i].status == "running"]
        for i in moved:
            runs[i].steps_run += (end - epoch) * spe
            runs[i].epoch = end
            bars.update(i, end)
        rows = cohorts.side_by_side(lambda i: _row_or_divergence(runs[i]), moved) \
            if end == next_after(evals, epoch) else [None] * len(moved)
        for i, row in zip(moved, rows):
            _advance(runs[i], row, lambda row, i=i: bars.evaluation(i, row), ck_every)


def _step(runs: list[_Run], members: list[int], cohorts: Cohorts, targets: list, k: int, epoch: int, end: int) -> None:
    """Epochs [epoch, end) of phase ``k`` for runs ``members`` in one engine call; a run whose steps
    went non-finite is marked diverged with the engine's own ``TrainingDiverged``, told where it was."""
    phases = [runs[i].config.phases[k] for i in members]
    plans = [chunk_plan(runs[i].config, epoch, end, ph, targets[i]) for i, ph in zip(members, phases)]
    errors = cohorts.engine(members).run([p[0] for p in plans], [p[1] for p in plans], phases)
    for i, ph, err in zip(members, phases, errors):
        if err is not None:
            _diverged(runs[i], err.locate(epochs=(epoch, end), phase=k, lr=ph.lr, rho=ph.rho, kept=_kept(runs[i])))


def _row_or_divergence(run: _Run):
    """The evaluation row at the run's epoch, or the divergence found on the way (float32 runs)."""
    try:
        return _row(run, run.epoch)
    except TrainingDiverged as err:
        return err


def _advance(run: _Run, row, show, ck_every: int) -> None:
    """The run has reached its epoch: its evaluation ``row`` (None where none is due) logged, and its
    checkpoint where due; a divergence found there stops this run only."""
    try:
        if isinstance(row, TrainingDiverged):
            raise row
        if row is not None:
            _log(run, row, show)
        if run.epoch % ck_every == 0 or run.epoch == run.config.total_epochs:
            _save(run)
    except TrainingDiverged as err:
        _diverged(run, err)


def _answer_signal(runs: list[_Run], stop: StopRequests) -> None:
    """After a SIGINT/SIGTERM: a checkpoint of every training run at its epoch (a consistent point:
    whole epochs done, their evaluation logged), then ``TrainingInterrupted``."""
    if stop.signum is None:
        return
    for run in runs:
        if run.status == "running" and run.saved_epoch != run.epoch:
            try:
                _save(run)
            except TrainingDiverged as err:
                _diverged(run, err)
    raise TrainingInterrupted(stop.signum, epoch=min((r.epoch for r in runs), default=0))


def _log(run: _Run, row: dict, show) -> None:
    run.rows.append(row)
    append_csv_row(run.run_dir / ckpt.METRICS, read_header(run.run_dir / ckpt.METRICS), row)
    show(row)
    if not math.isfinite(row["train_loss"]):
        raise TrainingDiverged(f"training diverged by epoch {run.epoch}: non-finite training loss. {_kept(run)}")


def _kept(run: _Run) -> str:
    return f"The last good checkpoint (epoch {run.saved_epoch}) is kept in {run.run_dir / ckpt.CHECKPOINT}."


def _save(run: _Run) -> None:
    """A checkpoint of the current state, bound to the config; refused for non-finite parameters, so every
    checkpoint on disk is a good state."""
    params = dict(run.model.named_parameters())
    bad = sorted(k for k, v in params.items() if not bool(torch.isfinite(v).all()))
    if bad:
        raise TrainingDiverged(f"non-finite parameters {bad} at epoch {run.epoch}. {_kept(run)}")
    ckpt.save_checkpoint(run.run_dir, {
        "epoch": run.epoch, "wall_s": run.wall(), "sessions": run.sessions, "params": params,
        "config": run.config.to_dict(), "config_digest": run.config.digest(), "theory_min": run.theory_min})
    run.saved_epoch = run.epoch


def _finish(run: _Run) -> TrainResult:
    wall = time.monotonic() - run.t0
    result = TrainResult(run_dir=run.run_dir, rows=run.rows, backends=run.backends, device=run.session["device"],
                         wall_s=wall, steps_run=run.steps_run)
    if run.status == "diverged":
        result.status, result.message, result.error = "diverged", run.message, run.error
        return result
    atomic_write_json(run.run_dir / ckpt.SUMMARY, {
        "status": "done", "final": run.rows[-1], "wall_s": run.wall(), "sessions": run.sessions, **run.session,
        "wall_s_this_session": wall, "steps_this_session": run.steps_run,
        "us_per_step_this_session": (1e6 * wall / run.steps_run) if run.steps_run else None})
    return result
