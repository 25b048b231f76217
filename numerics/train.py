"""Training runs of the paper's experiments (SPEC §6, Appendix B): 1-SAM, n-SAM,
(S)GD with weight decay, label-noise SGD, the Figure-6b projection, and
phase schedules; resumable, reproducible, logged.

``train(config, run_dir)`` writes

* ``config.json`` — the configuration (plus what ``auto`` resolved to);
* ``metrics.csv`` — one row per evaluation (every ``eval_every`` epochs, at
  epoch 0 and at the end): epoch, step, phase, train/test loss, train/test
  zero-one error (y·f ≤ 0 counts as an error, SPEC §1), the exact
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
"""
from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from numerics import checkpoint as ckpt
from numerics import fast
from numerics.models import ACTIVATIONS, ARCHITECTURES, build, check_hyper
from numerics.progress import Progress
from numerics.sam import SAM, make_optimizer, project_first_layer_

DATA_KINDS = ("xor", "ball", "condition1", "circle")
LOSSES = ("mse", "logistic")
DTYPES = {"float64": torch.float64, "float32": torch.float32}
BACKENDS = ("auto", "generic", "torch", "c")
OPTIMIZERS = ("sam", "sgd", "label_noise_sgd")
BASE_COLUMNS = ["epoch", "step", "phase", "lr", "rho", "batch", "weight_decay", "train_loss", "test_loss",
                "train_error", "test_error", "trace", "trace_gn", "theory_min", "gap", "rel_gap", "rel_gap_gn"]


class TrainingDiverged(RuntimeError):
    """A non-finite value appeared; the message names the epoch range and the last good checkpoint."""


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass(frozen=True)
class Phase:
    """One row of SPEC §6: (lr, ρ, batch, weight decay, epochs), plus label-noise σ.

    ρ > 0: SAM over SGD; ρ = 0: (S)GD with weight decay; batch = n: full batch.

    >>> Phase(0.01, 0.05, 1, 0.0, 100).steps_per_epoch(100)
    100
    """

    lr: float
    rho: float = 0.0
    batch: int = 1
    weight_decay: float = 0.0
    epochs: int = 1
    label_noise: float = 0.0

    def validate(self, n: int, k: int = 0) -> None:
        where = f"phases[{k}]"
        if not (_is_num(self.lr) and self.lr > 0):
            raise ValueError(f"{where}.lr: expected a finite number > 0, got {self.lr!r}")
        if not (_is_num(self.rho) and self.rho >= 0):
            raise ValueError(f"{where}.rho: expected a finite number >= 0, got {self.rho!r}")
        if not (_is_int(self.batch) and 1 <= self.batch <= n and n % self.batch == 0):
            raise ValueError(f"{where}.batch: expected an integer in [1, n={n}] dividing n, got {self.batch!r}")
        if not (_is_num(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"{where}.weight_decay: expected a finite number >= 0, got {self.weight_decay!r}")
        if not (_is_int(self.epochs) and self.epochs >= 1):
            raise ValueError(f"{where}.epochs: expected an integer >= 1, got {self.epochs!r}")
        if not (_is_num(self.label_noise) and self.label_noise >= 0):
            raise ValueError(f"{where}.label_noise: expected a finite number >= 0, got {self.label_noise!r}")

    def steps_per_epoch(self, n: int) -> int:
        return n // self.batch


def parse_phases(text: str) -> tuple[Phase, ...]:
    """Phases from "lr,rho,batch,wd,epochs[,label_noise]; ..." (SPEC §6 notation, 1e5 allowed).

    >>> parse_phases("0.01,0.05,1,0,2e5; 0.01,0.1,1,0,4e5")[1]
    Phase(lr=0.01, rho=0.1, batch=1, weight_decay=0.0, epochs=400000, label_noise=0.0)
    """
    out = []
    for k, row in enumerate(r for r in text.split(";") if r.strip()):
        parts = [p.strip() for p in row.split(",")]
        if len(parts) not in (5, 6):
            raise ValueError(f"phases[{k}]: expected 'lr,rho,batch,wd,epochs[,label_noise]', got {row.strip()!r}")
        try:
            nums = [float(p) for p in parts]
        except ValueError:
            raise ValueError(f"phases[{k}]: expected numbers, got {row.strip()!r}") from None
        for j in (2, 4):
            if nums[j] != int(nums[j]):
                raise ValueError(f"phases[{k}]: batch and epochs must be integers, got {row.strip()!r}")
        out.append(Phase(nums[0], nums[1], int(nums[2]), nums[3], int(nums[4]), nums[5] if len(nums) == 6 else 0.0))
    if not out:
        raise ValueError("phases: expected at least one row 'lr,rho,batch,wd,epochs'")
    return tuple(out)


def format_phases(phases) -> str:
    """Inverse of :func:`parse_phases` (label noise only when non-zero)."""
    rows = []
    for ph in phases:
        cells = [repr(ph.lr), repr(ph.rho), str(ph.batch), repr(ph.weight_decay), str(ph.epochs)]
        if ph.label_noise:
            cells.append(repr(ph.label_noise))
        rows.append(",".join(cells))
    return "; ".join(rows)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (SPEC §6). Defaults: Figure 4b's network.

    ``optimizer``: "sam" (each phase's ρ; ρ = 0 rows are plain (S)GD), "sgd"
    (every ρ must be 0: the GD/SGD + weight-decay baseline) or
    "label_noise_sgd" (ρ = 0 and some label_noise > 0). ``backend``: "generic"
    (autograd through ``numerics.sam.SAM``), "torch" or "c" (the fused kernels
    of ``numerics.fast``), "auto" (c, else torch, for fused cases; else generic).

    >>> cfg = TrainConfig(arch="nobias", phases=(Phase(0.01, 0.05, 1, 0.0, 10),))
    >>> TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    True
    >>> TrainConfig(width=0).validate()
    Traceback (most recent call last):
    ...
    ValueError: width: expected an integer >= 1, got 0
    """

    arch: str = "bias"
    d: int = 30
    n: int = 100
    n_test: int = 1000
    width: int = 500
    depth: int = 2
    activation: str = "relu"
    eps: float | None = None
    loss: str = "mse"
    p: float | None = None
    data: str = "xor"
    data_seed: int | None = None
    init_scale_first_layer: float = 1.0
    optimizer: str = "sam"
    phases: tuple = (Phase(0.01, 0.05, 1, 0.0, 100),)
    project_radius: float | None = None
    eval_every: int = 100
    checkpoint_every: int | None = None
    seed: int = 0
    device: str = "cpu"
    dtype: str = "float64"
    backend: str = "auto"

    # ---------------------------------------------------------- validation
    def validate(self) -> "TrainConfig":
        if self.arch not in ARCHITECTURES:
            raise ValueError(f"arch: expected one of {ARCHITECTURES}, got {self.arch!r}")
        for name, low in (("d", 2), ("n", 1), ("n_test", 1), ("width", 1), ("depth", 2), ("eval_every", 1)):
            v = getattr(self, name)
            if not (_is_int(v) and v >= low):
                raise ValueError(f"{name}: expected an integer >= {low}, got {v!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation: expected one of {ACTIVATIONS}, got {self.activation!r}")
        check_hyper(self.arch, depth=self.depth, activation=self.activation, eps=self.eps)
        if self.loss not in LOSSES:
            raise ValueError(f"loss: expected one of {LOSSES}, got {self.loss!r}")
        if self.loss == "logistic":
            if not (_is_num(self.p) and 0 < self.p < 0.5):
                raise ValueError(f"p: expected a number in (0, 0.5) for the logistic loss, got {self.p!r}")
        elif self.p is not None:
            raise ValueError(f"p: expected None for 'mse' (label smoothing is for 'logistic'), got {self.p!r}")
        if self.data not in DATA_KINDS:
            raise ValueError(f"data: expected one of {DATA_KINDS}, got {self.data!r}")
        if self.data == "circle" and self.d != 2:
            raise ValueError(f"d: expected 2 for data 'circle', got {self.d!r}")
        if self.data == "xor" and self.n > 2 ** min(self.d, 62) - 1:
            raise ValueError(f"n: expected at most 2^d - 1 = {2 ** self.d - 1} for data 'xor', got {self.n}")
        if self.data_seed is not None and not (_is_int(self.data_seed) and self.data_seed >= 0):
            raise ValueError(f"data_seed: expected an integer >= 0 or None, got {self.data_seed!r}")
        if not (_is_num(self.init_scale_first_layer) and self.init_scale_first_layer > 0):
            raise ValueError(f"init_scale_first_layer: expected a finite number > 0, got {self.init_scale_first_layer!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: expected one of {OPTIMIZERS}, got {self.optimizer!r}")
        if not isinstance(self.phases, tuple) or not self.phases or not all(isinstance(p, Phase) for p in self.phases):
            raise ValueError(f"phases: expected a non-empty tuple of Phase, got {self.phases!r}")
        for k, ph in enumerate(self.phases):
            ph.validate(self.n, k)
            if self.optimizer != "sam" and ph.rho != 0:
                raise ValueError(f"phases[{k}].rho: expected 0 for optimizer {self.optimizer!r}, got {ph.rho!r}")
            if ph.label_noise and self.loss != "mse":
                raise ValueError(f"phases[{k}].label_noise: expected 0 for the logistic loss, got {ph.label_noise!r}")
        if self.optimizer == "label_noise_sgd" and not any(ph.label_noise > 0 for ph in self.phases):
            raise ValueError("phases: optimizer 'label_noise_sgd' needs label_noise > 0 in some phase")
        if self.optimizer != "label_noise_sgd" and any(ph.label_noise > 0 for ph in self.phases):
            raise ValueError(f"optimizer: expected 'label_noise_sgd' when a phase has label_noise > 0, got {self.optimizer!r}")
        if self.project_radius is not None:
            if not (_is_num(self.project_radius) and self.project_radius > 0):
                raise ValueError(f"project_radius: expected a finite number > 0 or None, got {self.project_radius!r}")
        if self.checkpoint_every is not None and not (_is_int(self.checkpoint_every) and self.checkpoint_every >= 1):
            raise ValueError(f"checkpoint_every: expected an integer >= 1 or None, got {self.checkpoint_every!r}")
        if not (_is_int(self.seed) and self.seed >= 0):
            raise ValueError(f"seed: expected an integer >= 0, got {self.seed!r}")
        if not isinstance(self.device, str) or not self.device:
            raise ValueError(f"device: expected a device name such as 'cpu', 'cuda', 'auto', got {self.device!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype: expected one of {tuple(DTYPES)}, got {self.dtype!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend: expected one of {BACKENDS}, got {self.backend!r}")
        if self.backend in ("torch", "c") and not self.fused:
            raise ValueError(f"backend: {self.backend!r} covers only depth-2 nobias/bias/sim_ln "
                             f"(got arch {self.arch!r}, depth {self.depth}); use 'generic' or 'auto'")
        return self

    @property
    def fused(self) -> bool:
        """Whether the fused kernels cover this network and loss."""
        return fast.fused_supported(self.arch, depth=self.depth, activation=self.activation, loss=self.loss)

    @property
    def total_epochs(self) -> int:
        return sum(ph.epochs for ph in self.phases)

    # ---------------------------------------------------------- (de)serialisation
    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["phases"] = [dataclasses.asdict(ph) for ph in self.phases]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"config: unknown fields {sorted(unknown)}")
        data = dict(data)
        if "phases" in data:
            rows = data["phases"]
            if isinstance(rows, str):
                data["phases"] = parse_phases(rows)
            else:
                data["phases"] = tuple(r if isinstance(r, Phase) else Phase(**r) for r in rows)
        return cls(**data)

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)


# ------------------------------------------------------------------ data and model

def make_dataset(config: TrainConfig):
    """The run's training and test sets (float64, CPU), seeded by ``data_seed`` (default ``seed``)."""
    from numerics import data as D
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


def _resolve_device(name: str) -> torch.device:
    try:
        from numerics.device import resolve_device
    except ImportError:
        return torch.device(name)
    return resolve_device(name)


# ------------------------------------------------------------------ engines

class GenericEngine:
    """Autograd steps through ``numerics.sam`` on a ``Net``: any architecture (the reference path)."""

    name = "generic"

    def __init__(self, config: TrainConfig, model, X, Y):
        from numerics.losses import get_loss
        self.model, self.X, self.Y, self.config = model, X, Y, config
        self.loss_fn = get_loss(config.loss, config.p)
        self._opt_key, self._opt = None, None

    def _optimizer(self, ph: Phase):
        key = (ph.lr, ph.rho, ph.weight_decay)
        if key != self._opt_key:
            self._opt_key = key
            self._opt = make_optimizer(self.model.parameters(), lr=ph.lr, rho=ph.rho, weight_decay=ph.weight_decay)
        return self._opt

    def run(self, order: torch.Tensor, targets: torch.Tensor, ph: Phase) -> None:
        opt, model, B = self._optimizer(ph), self.model, ph.batch
        order, targets = order.to(self.X.device), targets.to(device=self.X.device, dtype=self.X.dtype)
        radius = self.config.project_radius
        for k in range(len(order) // B):
            xb, tb = self.X[order[k * B:(k + 1) * B]], targets[k * B:(k + 1) * B]
            opt.zero_grad(set_to_none=True)
            self.loss_fn(model(xb), tb).backward()
            if isinstance(opt, SAM):
                opt.first_step(zero_grad=True)
                self.loss_fn(model(xb), tb).backward()
                opt.second_step(zero_grad=True)
            else:
                opt.step()
            if radius is not None:
                project_first_layer_(model.W1.data, model.b1.data if hasattr(model, "b1") else None, radius)
        if not all(bool(torch.isfinite(p).all()) for p in model.parameters()):
            raise TrainingDiverged("non-finite parameters")


class FusedEngine:
    """The hand-derived kernels of ``numerics.fast`` (backend "c" for batch-1 on CPU, else "torch")."""

    def __init__(self, config: TrainConfig, model, X, Y, backend: str):
        self.name, self.model, self.X, self.config = backend, model, X, config
        self.kernel = fast.load_c_kernel(X.dtype) if backend == "c" else None
        self.kw = dict(arch=config.arch, activation=config.activation, loss=config.loss, eps=config.eps)

    def _tensors(self):
        m = self.model
        return m.W1.data, (m.b1.data if hasattr(m, "b1") else None), m.W2.data

    def run(self, order: torch.Tensor, targets: torch.Tensor, ph: Phase) -> None:
        W1, b1, W2 = self._tensors()
        kw = dict(self.kw, lr=ph.lr, rho=ph.rho, wd=ph.weight_decay, radius=self.config.project_radius)
        if self.kernel is not None and ph.batch == 1:
            rc = self.kernel.steps_(W1, b1, W2, self.X, order, targets, **kw)
            if rc:
                raise TrainingDiverged(f"non-finite output at step {rc - 1} of this chunk")
            return
        with torch.no_grad():
            fast.torch_steps_(W1, b1, W2, self.X, order, targets, batch=ph.batch, **kw)
        if not all(bool(torch.isfinite(t).all()) for t in (W1, W2)):
            raise TrainingDiverged("non-finite parameters")


def resolve_backend(config: TrainConfig, device: torch.device) -> str:
    """What ``config.backend`` means on ``device``: generic, torch or c."""
    if config.backend == "generic" or (config.backend == "auto" and not config.fused):
        return "generic"
    if config.backend == "auto":
        return fast.resolve_backend("auto", device, DTYPES[config.dtype])
    return fast.resolve_backend(config.backend, device, DTYPES[config.dtype])


# ------------------------------------------------------------------ schedule

def phase_at(config: TrainConfig, epoch: int) -> tuple[int, Phase, int]:
    """(index, phase, first epoch after it) of the phase that runs epoch ``epoch`` (0-based)."""
    end = 0
    for k, ph in enumerate(config.phases):
        end += ph.epochs
        if epoch < end:
            return k, ph, end
    raise ValueError(f"epoch: expected < {config.total_epochs}, got {epoch}")


def epoch_plan(config: TrainConfig, epoch: int, ph: Phase, n: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Sample order and label noise of one epoch, from a generator seeded with (seed, epoch).

    Full-batch phases keep the training order (plain GD); others shuffle.
    """
    rng = np.random.default_rng([config.seed, epoch])
    order = np.arange(n) if ph.batch == n else rng.permutation(n)
    noise = rng.standard_normal(n) if ph.label_noise > 0 else None
    return order, noise


def steps_before(config: TrainConfig, epoch: int, n: int) -> int:
    """Optimizer steps taken in epochs [0, epoch)."""
    steps, start = 0, 0
    for ph in config.phases:
        take = max(0, min(epoch, start + ph.epochs) - start)
        steps += take * ph.steps_per_epoch(n)
        start += ph.epochs
    return steps


# ------------------------------------------------------------------ evaluation

@torch.no_grad()
def _outputs(model, X):
    return model(X)


def evaluate(model, data, config: TrainConfig, *, theory_min: float | None = None) -> dict:
    """Losses, zero-one errors (y·f ≤ 0), exact Tr ∇²L, theory gap and diagnostics at the current θ."""
    from numerics.losses import get_loss
    from numerics.sharpness import trace_hessian
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
        from numerics.losses import loss_derivatives
        from numerics.sharpness import gradient_norms
        curvature = loss_derivatives(config.loss, f_tr, data.Y, config.p)[1]
        row["trace_gn"] = float((curvature * gradient_norms(model, data.X)).mean())
    else:
        row["trace_gn"] = float("nan")
    row["theory_min"] = theory_min
    if theory_min is not None and math.isfinite(row["trace"]):
        row["gap"] = row["trace"] - theory_min
        row["rel_gap"] = row["gap"] / theory_min if theory_min != 0 else float("nan")
        row["rel_gap_gn"] = (row["trace_gn"] - theory_min) / theory_min if theory_min != 0 else float("nan")
    try:
        from numerics.diagnostics import diagnose
    except ImportError:
        diagnose = None
    if diagnose is not None and finite:
        skip = {"train_loss", "test_loss", "train_error", "test_error", "sharpness", "sharpness_gap"}
        for k, v in diagnose(model, data, theory_min=theory_min, loss=config.loss, p=config.p).items():
            if k not in skip:
                row[f"diag_{k}"] = float(v)
    return row


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


def _columns(rows: list[dict]) -> list[str]:
    extra = sorted({k for r in rows for k in r} - set(BASE_COLUMNS))
    return BASE_COLUMNS + extra


def _saved_config(run_dir: Path) -> dict | None:
    path = run_dir / "config.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["config"]


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
    if threads is not None and not (_is_int(threads) and threads >= 1):
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
    if theory_min is not None and not _is_num(theory_min):
        raise ValueError(f"theory_min: expected a finite number or None, got {theory_min!r}")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    device = _resolve_device(config.device)
    dtype = DTYPES[config.dtype]
    state = ckpt.load_checkpoint(run_dir)
    saved = _saved_config(run_dir)
    if (state is not None or saved is not None) and not resume:
        raise ValueError(f"run_dir: {run_dir} already holds a run; resume it or choose another directory")
    if saved is not None and saved != config.to_dict():
        diff = sorted(k for k in set(saved) | set(config.to_dict()) if saved.get(k) != config.to_dict().get(k))
        raise ValueError(f"config: differs from {run_dir / 'config.json'} in {diff}; a resumed run needs the same config")

    data_cpu = make_dataset(config)
    if data_cpu.n != config.n:
        raise ValueError(f"n: the dataset has {data_cpu.n} training points, got n={config.n}")
    data = data_cpu.to(device)  # float64: evaluation is always float64
    X_train, Y_train = data.X.to(dtype), data.Y.to(dtype)
    model = build(config.arch, config.d, config.width, depth=config.depth, activation=config.activation,
                  eps=config.eps, init_scale_first_layer=config.init_scale_first_layer, dtype=dtype,
                  device=device, seed=config.seed)
    if config.arch == "sim_bn":
        model.set_training_inputs(X_train)
    backend = resolve_backend(config, device)
    n = data.n

    if state is not None:
        with torch.no_grad():
            own = dict(model.named_parameters())
            if set(own) != set(state["params"]):
                raise ValueError(f"checkpoint: parameters {sorted(state['params'])} do not match the config's {sorted(own)}")
            for k, v in state["params"].items():
                own[k].copy_(v.to(device=device, dtype=dtype))
        epoch, rows = int(state["epoch"]), list(state["metrics"])
    else:
        ckpt.atomic_write_json(run_dir / "config.json", {
            "config": config.to_dict(),
            "resolved": {"backend": backend, "device": str(device), "torch": torch.__version__,
                         "threads": threads},
        })
        epoch = 0
        rows = [_row(model, data, config, 0, theory_min)]
        _save(run_dir, model, 0, rows)

    engine = GenericEngine(config, model, X_train, Y_train) if backend == "generic" \
        else FusedEngine(config, model, X_train, Y_train, backend)
    if config.loss == "logistic":
        base_targets = fast.kernel_targets("logistic", data.Y, config.p) if backend != "generic" else data.Y
    else:
        base_targets = data.Y
    base_targets = base_targets.detach().cpu()

    total = config.total_epochs
    ck_every = config.checkpoint_every or config.eval_every
    bar = Progress(total, start=epoch, enabled=progress, label=f"{config.arch} ")
    t0 = time.monotonic()
    steps_run = 0
    last_good = epoch
    try:
        while epoch < total:
            k, ph, phase_end = phase_at(config, epoch)
            spe = ph.steps_per_epoch(n)
            stop = min(phase_end, total, (epoch // config.eval_every + 1) * config.eval_every,
                       (epoch // ck_every + 1) * ck_every, epoch + max(1, max_chunk_steps // spe))
            orders, targets = [], []
            for e in range(epoch, stop):
                order, noise = epoch_plan(config, e, ph, n)
                t = base_targets[order]
                if noise is not None:
                    t = t + ph.label_noise * torch.from_numpy(noise).to(t.dtype)
                orders.append(torch.from_numpy(order))
                targets.append(t)
            try:
                engine.run(torch.cat(orders), torch.cat(targets), ph)
            except TrainingDiverged as err:
                raise TrainingDiverged(
                    f"training diverged in epochs [{epoch}, {stop}) (phase {k}: lr={ph.lr}, rho={ph.rho}): {err}. "
                    f"The last good checkpoint (epoch {last_good}) is kept in {run_dir / ckpt.CHECKPOINT}.") from None
            steps_run += (stop - epoch) * spe
            epoch = stop
            if epoch % config.eval_every == 0 or epoch == total:
                rows.append(_row(model, data, config, epoch, theory_min))
                if not math.isfinite(rows[-1]["train_loss"]):
                    raise TrainingDiverged(
                        f"training diverged by epoch {epoch}: non-finite training loss. "
                        f"The last good checkpoint (epoch {last_good}) is kept in {run_dir / ckpt.CHECKPOINT}.")
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


def _float64_model(model, config: TrainConfig, data):
    if model.W1.dtype == torch.float64:
        return model
    from numerics.models import from_params, model_to_params
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


def _save(run_dir: Path, model, epoch: int, rows: list) -> None:
    ckpt.save_checkpoint(run_dir, {"epoch": epoch, "metrics": rows,
                                   "params": {k: v for k, v in model.named_parameters()}})
