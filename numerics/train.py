"""Training runs of the paper's experiments (docs/paper.md §6, Appendix B): 1-SAM, n-SAM,
(S)GD with weight decay, label-noise SGD, the Figure-6b projection, and
phase schedules; resumable, reproducible, logged.

``train(config, run_dir)`` writes (``numerics.checkpoint`` names the files)

* ``config.json`` — the configuration, plus what was resolved at the start
  (device, the step backend of each phase, torch version, threads); written
  with the first checkpoint once the first evaluation succeeded: a run that
  fails before that leaves nothing behind (a folder this call created is removed);
* ``metrics.csv`` — one row per evaluation, appended as the run goes (columns:
  ``METRIC_COLUMNS``, then ``diag_*``; see the README);
* ``checkpoint.pt`` — parameters, epoch, cumulative wall time and the
  sessions (device and backends of each start or resume);
* ``summary.json`` — the final row, wall time, backends and status.

Randomness: the network from ``seed``, the data from ``data_seed`` (default
``seed``), and the sample order and label noise of epoch e from a generator
seeded with (seed, e). Nothing random is carried from one epoch to the next,
so a checkpoint needs only the parameters and the epoch counter, and a run
resumed after a kill produces exactly the numbers of an uninterrupted run
(every column of metrics.csv but the wall clock ``wall_s``).

A non-finite output or parameter stops the run with ``TrainingDiverged``;
the last good checkpoint stays untouched.
"""
from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from sharpgen.numerics import checkpoint as ckpt
from sharpgen.numerics import data as D
from sharpgen.numerics.atomic import atomic_write_json
from sharpgen.numerics.config import TrainConfig
from sharpgen.numerics.device import resolve_device
from sharpgen.numerics.diagnostics import diagnose
from sharpgen.numerics.engine import TrainingDiverged, make_engine, resolve_backend
from sharpgen.numerics.initialization import build
from sharpgen.numerics.metrics_csv import append_csv_row, read_header, truncate_csv, write_csv
from sharpgen.numerics.params import from_params, model_to_params
from sharpgen.numerics.progress import MODES as PROGRESS_MODES, Progress
from sharpgen.numerics.schedule import chunk_plan, evaluation_epochs, next_after, phase_at, steps_before
from sharpgen.numerics.validate import check_choice, check_int, check_number, torch_dtype

METRIC_COLUMNS = ["epoch", "step", "wall_s", "phase", "lr", "rho", "batch", "weight_decay", "train_loss",
                  "test_loss", "train_error", "test_error", "trace", "trace_gn", "theory_min", "gap", "rel_gap",
                  "rel_gap_gn"]
FIT_KEYS = ("train_loss", "test_loss", "train_error", "test_error")


def make_dataset(config: TrainConfig) -> D.Dataset:
    """The run's training and test sets (float64, CPU), seeded by ``data_seed`` (default ``seed``)."""
    seed = config.seed if config.data_seed is None else config.data_seed
    if config.data == "xor":
        return D.xor_dataset(config.d, config.n, n_test=config.n_test, seed=seed)
    if config.data == "ball":
        return D.ball_dataset(config.d, config.n, n_test=config.n_test, seed=seed)
    if config.data == "circle":
        return D.circle_dataset(config.n, n_test=config.n_test, seed=seed)
    return D.condition1_dataset(config.d, n_test=config.n_test, seed=seed)


def phase_backends(backend: str, config: TrainConfig) -> tuple[str, ...]:
    """The step backend each phase really uses: the C loop takes batch-1 phases only, and the
    fused engine runs the others with the torch formulas (``engine.fused.FusedEngine.run``).

    >>> from sharpgen.numerics.config import parse_phases
    >>> phase_backends("c", TrainConfig(phases=parse_phases("0.01,0,100,0,5; 0.01,0.05,1,0,5")))
    ('torch', 'c')
    """
    return tuple("torch" if backend == "c" and ph.batch != 1 else backend for ph in config.phases)


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
    ``steps_run``: this session's wall time and optimizer steps.
    """

    run_dir: Path
    rows: list = field(default_factory=list)
    backends: tuple = ()
    device: str = ""
    wall_s: float = 0.0
    steps_run: int = 0

    @property
    def final(self) -> dict:
        return self.rows[-1] if self.rows else {}


@dataclass
class _Run:
    """The state of one session of a run (a start or a resume)."""

    config: TrainConfig
    run_dir: Path
    data: D.Dataset
    model: object
    engine: object
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

    def wall(self) -> float:
        return self.wall_before + (time.monotonic() - self.t0)


def train(config: TrainConfig, run_dir, *, data: D.Dataset | None = None, theory_min: float | None = None,
          resume: bool = False, progress: str | None = None, max_chunk_steps: int = 20000,
          threads: int | None = 1) -> TrainResult:
    """Run (or, with ``resume=True``, continue) the training described by ``config`` in ``run_dir``.

    ``data``: the run's dataset as ``make_dataset(config)`` builds it (built here
    when None; a caller that also needs it, e.g. for the theory minimum, builds
    it once and passes it). ``theory_min``: the exact minimum sharpness over
    interpolating nets for that training set (``verify.theory_min``), logged
    beside Tr ∇²L. ``progress``: "bar", "lines", "off" or None (bar on a
    terminal, else one line per evaluation; ``numerics.progress``).
    ``max_chunk_steps`` bounds the steps per engine call (progress granularity
    only; results do not depend on it). ``threads``: torch intra-op threads
    during the run (restored afterwards; None leaves torch's setting). One
    thread is the default: the steps are tiny, extra threads only add
    synchronisation, and a fixed count keeps the summation order (hence the
    numbers) reproducible.
    """
    check_int("threads", threads, 1, allow_none=True)
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _train(config, Path(run_dir), data=data, theory_min=theory_min, resume=resume, progress=progress,
                      max_chunk_steps=max_chunk_steps)
    finally:
        torch.set_num_threads(before)


def _train(config, run_dir: Path, *, data, theory_min, resume, progress, max_chunk_steps) -> TrainResult:
    config.validate()
    check_number("theory_min", theory_min, allow_none=True)
    check_int("max_chunk_steps", max_chunk_steps, 1)
    if progress is not None:
        check_choice("progress", progress, PROGRESS_MODES)
    state = ckpt.open_run(run_dir, config.to_dict(), resume=resume)
    run = _setup(config, run_dir, data, theory_min)
    if state is None:
        _start(run)
    else:
        _restore(run, state)
    bar = Progress(config.total_epochs, start=run.epoch, mode=progress, label=run_dir.name)
    try:
        _loop(run, bar, max_chunk_steps)
    except TrainingDiverged as err:
        atomic_write_json(run_dir / ckpt.SUMMARY, {"status": "diverged", "message": str(err), **run.session})
        raise
    finally:
        bar.close()
    return _finish(run)


def _setup(config: TrainConfig, run_dir: Path, data, theory_min) -> _Run:
    """Data, model and engine on the resolved device, and the backend of each phase."""
    data = make_dataset(config) if data is None else data
    if not isinstance(data, D.Dataset) or (data.n, data.d) != (config.n, config.d):
        raise ValueError(f"data: expected the run's dataset (make_dataset(config), n={config.n}, d={config.d})")
    device, dtype = resolve_device(config.device), torch_dtype(config.dtype)
    data = data.to(device)  # float64: evaluation is always float64
    X_train = data.X.to(dtype)
    model = build(config.arch, config.d, config.width, depth=config.depth, activation=config.activation,
                  eps=config.eps, init_scale_first_layer=config.init_scale_first_layer, dtype=dtype,
                  device=device, seed=config.seed)
    if config.arch == "sim_bn":
        model.set_training_inputs(X_train)
    backend = resolve_backend(config.backend, fused=config.fused, device=device, dtype=dtype)
    backends = phase_backends(backend, config)
    session = {"device": str(device), "backends": list(backends), "torch": str(torch.__version__),
               "threads": torch.get_num_threads()}
    return _Run(config, run_dir, data, model, make_engine(config, model, X_train, backend), backends, theory_min,
                session)


def _row(run: _Run, epoch: int) -> dict:
    config = run.config
    k, ph, _ = phase_at(config, min(epoch, config.total_epochs - 1))
    row = {"epoch": epoch, "step": steps_before(config, epoch, run.data.n), "wall_s": run.wall(), "phase": k,
           "lr": ph.lr, "rho": ph.rho, "batch": ph.batch, "weight_decay": ph.weight_decay}
    row.update(evaluate(_float64_model(run.model, config, run.data), run.data, config, theory_min=run.theory_min))
    return row


def _start(run: _Run) -> None:
    """A new run: the first evaluation, then config.json, metrics.csv and the first checkpoint.

    Nothing is written before the first evaluation succeeded; if writing fails, what was written
    goes (the folder too when this call created it), so no half-made run blocks the next attempt.
    """
    row = _row(run, 0)
    created = not run.run_dir.exists()
    run.rows, run.sessions = [row], [dict(run.session, start_epoch=0)]
    try:
        run.run_dir.mkdir(parents=True, exist_ok=True)
        write_csv(run.run_dir / ckpt.METRICS, list(row), [row])
        atomic_write_json(run.run_dir / ckpt.CONFIG, {"config": run.config.to_dict(), "resolved": run.session})
        _save(run)
    except BaseException:
        if created:
            shutil.rmtree(run.run_dir, ignore_errors=True)
        else:
            for name in (ckpt.METRICS, ckpt.CONFIG, ckpt.CHECKPOINT):
                (run.run_dir / name).unlink(missing_ok=True)
        raise


def _restore(run: _Run, state: dict) -> None:
    """Continue from a checkpoint: its parameters, epoch, wall time and sessions, and the metric rows
    up to its epoch (rows appended after it, by a run killed before its next checkpoint, are dropped)."""
    own = dict(run.model.named_parameters())
    if set(own) != set(state["params"]):
        raise ValueError(f"checkpoint: parameters {sorted(state['params'])} do not match the config's {sorted(own)}")
    with torch.no_grad():
        for k, v in state["params"].items():
            own[k].copy_(v.to(device=own[k].device, dtype=own[k].dtype))
    run.epoch = run.saved_epoch = int(state["epoch"])
    run.wall_before = float(state["wall_s"])
    run.sessions = list(state["sessions"]) + [dict(run.session, start_epoch=run.epoch)]
    run.rows = truncate_csv(run.run_dir / ckpt.METRICS, run.epoch)


def _loop(run: _Run, bar: Progress, max_chunk_steps: int) -> None:
    config, n = run.config, run.data.n
    total, ck_every = config.total_epochs, config.checkpoint_every or config.eval_every
    evals = evaluation_epochs(config)
    columns = read_header(run.run_dir / ckpt.METRICS)
    targets = run.engine.targets(run.data.Y).detach().cpu()
    current = None
    while run.epoch < total:
        epoch = run.epoch
        k, ph, phase_end = phase_at(config, epoch)
        if k != current:
            bar.phase(k, len(config.phases), run.backends[k])
            current = k
        spe = ph.steps_per_epoch(n)
        stop = min(phase_end, next_after(evals, epoch), (epoch // ck_every + 1) * ck_every,
                   epoch + max(1, max_chunk_steps // spe))
        try:
            run.engine.run(*chunk_plan(config, epoch, stop, ph, targets), ph)
        except TrainingDiverged as err:
            raise TrainingDiverged(f"training diverged in epochs [{epoch}, {stop}) (phase {k}: lr={ph.lr}, "
                                   f"rho={ph.rho}): {err}. {_kept(run)}") from None
        run.steps_run += (stop - epoch) * spe
        run.epoch = stop
        bar.update(stop)
        if stop == next_after(evals, epoch):
            _evaluate_and_log(run, bar, columns)
        if stop % ck_every == 0 or stop == total:
            _save(run)


def _evaluate_and_log(run: _Run, bar: Progress, columns: list) -> None:
    row = _row(run, run.epoch)
    run.rows.append(row)
    append_csv_row(run.run_dir / ckpt.METRICS, columns, row)
    bar.evaluation(row)
    if not math.isfinite(row["train_loss"]):
        raise TrainingDiverged(f"training diverged by epoch {run.epoch}: non-finite training loss. {_kept(run)}")


def _kept(run: _Run) -> str:
    return f"The last good checkpoint (epoch {run.saved_epoch}) is kept in {run.run_dir / ckpt.CHECKPOINT}."


def _save(run: _Run) -> None:
    ckpt.save_checkpoint(run.run_dir, {"epoch": run.epoch, "wall_s": run.wall(), "sessions": run.sessions,
                                       "params": dict(run.model.named_parameters())})
    run.saved_epoch = run.epoch


def _finish(run: _Run) -> TrainResult:
    wall = time.monotonic() - run.t0
    atomic_write_json(run.run_dir / ckpt.SUMMARY, {
        "status": "done", "final": run.rows[-1], "wall_s": run.wall(), "sessions": run.sessions, **run.session,
        "wall_s_this_session": wall, "steps_this_session": run.steps_run,
        "us_per_step_this_session": (1e6 * wall / run.steps_run) if run.steps_run else None})
    return TrainResult(run_dir=run.run_dir, rows=run.rows, backends=run.backends, device=run.session["device"],
                       wall_s=wall, steps_run=run.steps_run)
