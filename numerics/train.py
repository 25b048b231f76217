"""Training runs of the paper's experiments (docs/paper.md §6, Appendix B): 1-SAM, n-SAM,
(S)GD with weight decay, label-noise SGD, the Figure-6b projection, and
phase schedules; resumable, reproducible, logged.

``train(config, run_dir)`` writes

* ``config.json`` — the configuration (plus what ``auto`` resolved to), written
  with the first checkpoint once the first evaluation succeeded: a run that
  fails before that leaves nothing behind (a folder this call created is removed);
* ``metrics.csv`` — one row per evaluation (every ``eval_every`` epochs, at
  epoch 0 and at the end): epoch, step, phase, train/test loss, train/test
  zero-one error (y·f ≤ 0 counts as an error, docs/paper.md §1), the exact
  Tr ∇²L, its Gauss-Newton part ``trace_gn`` = (1/n) Σ ℓ''(f_i) ||∇θ f(x_i)||²
  (what Tr ∇²L equals at interpolation, Lemma 4.1; off interpolation the
  residual term makes the two differ, e.g. for ``sim_ln``), the theory minimum for this training set (``theory_min``, passed in
  by the caller since ``numerics`` never imports sympy), the gap and relative
  gap, and ``numerics.diagnostics.diagnose`` columns prefixed ``diag_``;
* ``checkpoint.pt`` — parameters, epoch and metric rows (atomic writes);
* ``summary.json`` — the final row, wall time and status.

Randomness: the network from ``seed``, the data from ``data_seed`` (default
``seed``), and the sample order and label noise of epoch e from a generator
seeded with (seed, e). Nothing random is carried from one epoch to the next,
so a checkpoint needs only the parameters and the epoch counter, and a run
resumed after a kill produces exactly the numbers of an uninterrupted run.

A non-finite output or parameter stops the run with :class:`TrainingDiverged`;
the last good checkpoint stays untouched.

The configuration lives in ``numerics.config``, the step engines in
``numerics.engines`` and the schedule in ``numerics.schedule``; their public
names are re-exported here, so ``from sharpgen.numerics.train import ...`` keeps working.
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
from sharpgen.numerics.config import (BACKENDS, DATA_KINDS, DTYPES, LOSSES, OPTIMIZERS, Phase, TrainConfig, format_phases,
                             is_finite_number, is_int, parse_phases)
from sharpgen.numerics.device import resolve_device
from sharpgen.numerics.diagnostics import diagnose
from sharpgen.numerics.engines import FusedEngine, GenericEngine, TrainingDiverged, make_engine, resolve_backend
from sharpgen.numerics.losses import get_loss, loss_derivatives
from sharpgen.numerics.models import build, from_params, model_to_params
from sharpgen.numerics.progress import Progress
from sharpgen.numerics.schedule import chunk_plan, epoch_plan, phase_at, steps_before
from sharpgen.numerics.sharpness import gradient_norms, trace_hessian

__all__ = [
    "BACKENDS", "BASE_COLUMNS", "DATA_KINDS", "DTYPES", "LOSSES", "OPTIMIZERS", "FusedEngine", "GenericEngine",
    "Phase", "TrainConfig", "TrainResult", "TrainingDiverged", "epoch_plan", "evaluate", "format_phases",
    "make_dataset", "parse_phases", "phase_at", "resolve_backend", "steps_before", "train",
]

BASE_COLUMNS = ["epoch", "step", "phase", "lr", "rho", "batch", "weight_decay", "train_loss", "test_loss",
                "train_error", "test_error", "trace", "trace_gn", "theory_min", "gap", "rel_gap", "rel_gap_gn"]


def make_dataset(config: TrainConfig):
    """The run's training and test sets (float64, CPU), seeded by ``data_seed`` (default ``seed``)."""
    seed = config.seed if config.data_seed is None else config.data_seed
    if config.data == "xor":
        return D.xor_dataset(config.d, config.n, n_test=config.n_test, seed=seed)
    if config.data == "ball":
        return D.ball_dataset(config.d, config.n, n_test=config.n_test, seed=seed)
    if config.data == "circle":
        return D.circle_dataset(config.n, n_test=config.n_test, seed=seed)
    data = D.condition1_dataset(config.d, n_test=config.n_test, seed=seed)
    if data.n != config.n:
        raise ValueError(f"n: data 'condition1' with d={config.d} has {data.n} training points, got n={config.n}")
    return data


# ------------------------------------------------------------------ evaluation

@torch.no_grad()
def _outputs(model, X):
    return model(X)


def evaluate(model, data, config: TrainConfig, *, theory_min: float | None = None) -> dict:
    """Losses, zero-one errors (y·f ≤ 0), exact Tr ∇²L, theory gap and diagnostics at the current θ."""
    loss_fn = get_loss(config.loss, config.p)
    f_tr, f_te = _outputs(model, data.X), _outputs(model, data.X_test)
    row = {
        "train_loss": float(loss_fn(f_tr, data.Y)),
        "test_loss": float(loss_fn(f_te, data.Y_test)) if len(data.Y_test) else float("nan"),
        "train_error": float((data.Y * f_tr <= 0).to(torch.float64).mean()),
        "test_error": float((data.Y_test * f_te <= 0).to(torch.float64).mean()) if len(data.Y_test) else float("nan"),
    }
    finite = all(math.isfinite(row[k]) for k in ("train_loss", "train_error"))
    row["trace"] = float(trace_hessian(model, data.X, data.Y, loss=config.loss, method="exact", p=config.p)) \
        if finite else float("nan")
    if finite:
        curvature = loss_derivatives(config.loss, f_tr, data.Y, config.p)[1]
        row["trace_gn"] = float((curvature * gradient_norms(model, data.X)).mean())
    else:
        row["trace_gn"] = float("nan")
    row["theory_min"] = theory_min
    if theory_min is not None and math.isfinite(row["trace"]):
        row["gap"] = row["trace"] - theory_min
        row["rel_gap"] = row["gap"] / theory_min if theory_min != 0 else float("nan")
        row["rel_gap_gn"] = (row["trace_gn"] - theory_min) / theory_min if theory_min != 0 else float("nan")
    if finite:
        skip = {"train_loss", "test_loss", "train_error", "test_error", "sharpness", "sharpness_gap"}
        for k, v in diagnose(model, data, theory_min=theory_min, loss=config.loss, p=config.p).items():
            if k not in skip:
                row[f"diag_{k}"] = float(v)
    return row


def _float64_model(model, config: TrainConfig, data):
    if model.W1.dtype == torch.float64:
        return model
    if not all(bool(torch.isfinite(q).all()) for q in model.parameters()):
        raise TrainingDiverged("non-finite parameters")
    return from_params(config.arch, model_to_params(model), activation=config.activation, eps=config.eps,
                       X_train=data.X if config.arch == "sim_bn" else None, device=data.X.device)


def _row(model, data, config: TrainConfig, epoch: int, theory_min) -> dict:
    n = data.n
    model = _float64_model(model, config, data)
    k, ph, _ = phase_at(config, min(epoch, config.total_epochs - 1))
    row = {"epoch": epoch, "step": steps_before(config, epoch, n), "phase": k, "lr": ph.lr, "rho": ph.rho,
           "batch": ph.batch, "weight_decay": ph.weight_decay}
    row.update(evaluate(model, data, config, theory_min=theory_min))
    return row


def _columns(rows: list[dict]) -> list[str]:
    extra = sorted({k for r in rows for k in r} - set(BASE_COLUMNS))
    return BASE_COLUMNS + extra


# ------------------------------------------------------------------ the run

@dataclass
class TrainResult:
    """What ``train`` returns: the run directory, every metric row, the final row and facts of the run."""

    run_dir: Path
    rows: list = field(default_factory=list)
    backend: str = ""
    wall_s: float = 0.0
    steps_run: int = 0

    @property
    def final(self) -> dict:
        return self.rows[-1] if self.rows else {}


def train(config: TrainConfig, run_dir, *, theory_min: float | None = None, resume: bool = False,
          progress: bool | None = None, max_chunk_steps: int = 20000, threads: int | None = 1) -> TrainResult:
    """Run (or, with ``resume=True``, continue) the training described by ``config`` in ``run_dir``.

    ``theory_min``: the exact minimum sharpness over interpolating nets for the
    run's training set (``theory.minimum.min_sharpness``), logged beside Tr ∇²L.
    ``progress``: draw a bar with ETA on stderr (None: only when stderr is a terminal).
    ``max_chunk_steps`` bounds the steps per kernel call (progress granularity only;
    results do not depend on it). ``threads``: torch intra-op threads during the
    run (restored afterwards; None leaves torch's setting). One thread is the
    default: the steps are tiny, extra threads only add synchronisation, and a
    fixed count keeps the summation order (hence the numbers) reproducible.
    """
    if threads is not None and not (is_int(threads) and threads >= 1):
        raise ValueError(f"threads: expected an integer >= 1 or None, got {threads!r}")
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _train(config, run_dir, theory_min=theory_min, resume=resume, progress=progress,
                      max_chunk_steps=max_chunk_steps, threads=torch.get_num_threads())
    finally:
        torch.set_num_threads(before)


def _train(config, run_dir, *, theory_min, resume, progress, max_chunk_steps, threads) -> TrainResult:
    config.validate()
    if theory_min is not None and not is_finite_number(theory_min):
        raise ValueError(f"theory_min: expected a finite number or None, got {theory_min!r}")
    run_dir = Path(run_dir)
    device = resolve_device(config.device)
    dtype = DTYPES[config.dtype]
    state = ckpt.load_checkpoint(run_dir)
    saved = ckpt.load_config(run_dir)
    if (state is not None or saved is not None) and not resume:
        raise ValueError(f"run_dir: {run_dir} already holds a run; resume it or choose another directory")
    if saved is not None and saved != config.to_dict():
        diff = sorted(k for k in set(saved) | set(config.to_dict()) if saved.get(k) != config.to_dict().get(k))
        raise ValueError(f"config: differs from {run_dir / ckpt.CONFIG} in {diff}; a resumed run needs the same config")

    # Nothing is written until the run has really started (data and model built, the first evaluation
    # done); a failure before that removes the folder if this call created it, so no half-written run
    # (a config.json without metrics) blocks the next attempt.
    created = not run_dir.exists()
    started, wrote_config = state is not None, False
    try:
        data_cpu = make_dataset(config)
        if data_cpu.n != config.n:
            raise ValueError(f"n: the dataset has {data_cpu.n} training points, got n={config.n}")
        data = data_cpu.to(device)  # float64: evaluation is always float64
        X_train = data.X.to(dtype)
        model = build(config.arch, config.d, config.width, depth=config.depth, activation=config.activation,
                      eps=config.eps, init_scale_first_layer=config.init_scale_first_layer,
                      init_gamma=config.init_gamma, dtype=dtype,
                      device=device, seed=config.seed)
        if config.arch == "sim_bn":
            model.set_training_inputs(X_train)
        backend = resolve_backend(config, device)
        engine = make_engine(config, model, X_train, backend)
        n = data.n

        if state is not None:
            with torch.no_grad():
                own = dict(model.named_parameters())
                if set(own) != set(state["params"]):
                    raise ValueError(f"checkpoint: parameters {sorted(state['params'])} do not match "
                                     f"the config's {sorted(own)}")
                for k, v in state["params"].items():
                    own[k].copy_(v.to(device=device, dtype=dtype))
            epoch, rows = int(state["epoch"]), list(state["metrics"])
        else:
            epoch = 0
            rows = [_row(model, data, config, 0, theory_min)]
            run_dir.mkdir(parents=True, exist_ok=True)
            wrote_config = True
            ckpt.atomic_write_json(run_dir / ckpt.CONFIG, {
                "config": config.to_dict(),
                "resolved": {"backend": backend, "device": str(device), "torch": torch.__version__,
                             "threads": threads},
            })
            _save(run_dir, model, 0, rows)
            started = True
    finally:
        if not started and created and run_dir.exists():
            shutil.rmtree(run_dir, ignore_errors=True)
        elif not started and wrote_config:
            (run_dir / ckpt.CONFIG).unlink(missing_ok=True)

    base_targets = engine.targets(data.Y).detach().cpu()

    total = config.total_epochs
    ck_every = config.checkpoint_every or config.eval_every
    bar = Progress(total, start=epoch, enabled=progress, label=f"{config.arch} ")
    t0 = time.monotonic()
    steps_run = 0
    last_good = epoch

    def kept() -> str:
        return f"The last good checkpoint (epoch {last_good}) is kept in {run_dir / ckpt.CHECKPOINT}."

    try:
        while epoch < total:
            k, ph, phase_end = phase_at(config, epoch)
            spe = ph.steps_per_epoch(n)
            stop = min(phase_end, total, (epoch // config.eval_every + 1) * config.eval_every,
                       (epoch // ck_every + 1) * ck_every, epoch + max(1, max_chunk_steps // spe))
            try:
                engine.run(*chunk_plan(config, epoch, stop, ph, base_targets), ph)
            except TrainingDiverged as err:
                raise TrainingDiverged(f"training diverged in epochs [{epoch}, {stop}) (phase {k}: lr={ph.lr}, "
                                       f"rho={ph.rho}): {err}. {kept()}") from None
            steps_run += (stop - epoch) * spe
            epoch = stop
            if epoch % config.eval_every == 0 or epoch == total:
                rows.append(_row(model, data, config, epoch, theory_min))
                if not math.isfinite(rows[-1]["train_loss"]):
                    raise TrainingDiverged(f"training diverged by epoch {epoch}: non-finite training loss. {kept()}")
                ckpt.atomic_write_csv(run_dir / "metrics.csv", _columns(rows), rows)
                r = rows[-1]
                bar.update(epoch, f"test_err {r['test_error']:.3f} Tr {r['trace']:.3g}")
            else:
                bar.update(epoch)
            if epoch % ck_every == 0 or epoch == total:
                _save(run_dir, model, epoch, rows)
                last_good = epoch
    except TrainingDiverged as err:
        bar.close()
        ckpt.atomic_write_json(run_dir / "summary.json", {"status": "diverged", "message": str(err)})
        raise
    bar.close()
    ckpt.atomic_write_csv(run_dir / "metrics.csv", _columns(rows), rows)
    wall = time.monotonic() - t0
    ckpt.atomic_write_json(run_dir / "summary.json", {
        "status": "done", "backend": backend, "final": rows[-1], "wall_s_this_session": wall,
        "steps_this_session": steps_run,
        "us_per_step_this_session": (1e6 * wall / steps_run) if steps_run else None})
    return TrainResult(run_dir=run_dir, rows=rows, backend=backend, wall_s=wall, steps_run=steps_run)


def _save(run_dir: Path, model, epoch: int, rows: list) -> None:
    ckpt.save_checkpoint(run_dir, {"epoch": epoch, "metrics": rows,
                                   "params": {k: v for k, v in model.named_parameters()}})
