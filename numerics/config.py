"""What determines a training run (docs/paper.md §6, Appendix B of Wen, Li & Ma 2023).

* :class:`Phase` — one row of the docs/paper.md §6 table (lr, ρ, batch, weight decay,
  epochs), plus the label-noise σ of label-noise SGD; several rows run as
  successive phases.
* :func:`parse_phases` / :func:`format_phases` — that table's notation
  ("lr,rho,batch,wd,epochs; ...") and back.
* :class:`TrainConfig` — network, loss, data, optimizer, phases, Figure-6b
  projection radius, evaluation/checkpoint cadence, seed, device, dtype and
  step backend; ``validate()`` names the first offending field, and
  ``to_dict``/``from_dict`` are the ``config.json`` round trip.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch

from sharpgen.numerics import engine
from sharpgen.numerics.engine import BACKENDS
from sharpgen.numerics.device import DEVICES
from sharpgen.numerics.losses import LOSSES
from sharpgen.numerics.validate import (ACTIVATIONS, ARCHITECTURES, DTYPES, check_hyper, check_ln_eps, is_finite_number,
                                        is_int)

DATA_KINDS = ("xor", "ball", "condition1", "circle")
SIGN_LABEL_DATA = ("xor", "condition1", "circle")  # labels in {-1, +1}: what the logistic loss needs
OPTIMIZERS = ("sam", "sgd", "label_noise_sgd", "asam")


@dataclass(frozen=True)
class Phase:
    """One row of docs/paper.md §6: (lr, ρ, batch, weight decay, epochs), plus label-noise σ.

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
        if not (is_finite_number(self.lr) and self.lr > 0):
            raise ValueError(f"{where}.lr: expected a finite number > 0, got {self.lr!r}")
        if not (is_finite_number(self.rho) and self.rho >= 0):
            raise ValueError(f"{where}.rho: expected a finite number >= 0, got {self.rho!r}")
        if not (is_int(self.batch) and 1 <= self.batch <= n and n % self.batch == 0):
            raise ValueError(f"{where}.batch: expected an integer in [1, n={n}] dividing n, got {self.batch!r}")
        if not (is_finite_number(self.weight_decay) and self.weight_decay >= 0):
            raise ValueError(f"{where}.weight_decay: expected a finite number >= 0, got {self.weight_decay!r}")
        if not (is_int(self.epochs) and self.epochs >= 1):
            raise ValueError(f"{where}.epochs: expected an integer >= 1, got {self.epochs!r}")
        if not (is_finite_number(self.label_noise) and self.label_noise >= 0):
            raise ValueError(f"{where}.label_noise: expected a finite number >= 0, got {self.label_noise!r}")

    def steps_per_epoch(self, n: int) -> int:
        return n // self.batch


def parse_phases(text: str) -> tuple[Phase, ...]:
    """Phases from "lr,rho,batch,wd,epochs[,label_noise]; ..." (docs/paper.md §6 notation, 1e5 allowed).

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
    """Everything that determines a training run (docs/paper.md §6). Defaults: Figure 4b's network.

    ``optimizer``: "sam" (each phase's ρ; ρ = 0 rows are plain (S)GD), "sgd"
    (every ρ must be 0: the GD/SGD + weight-decay baseline) or
    "label_noise_sgd" (ρ = 0 and some label_noise > 0) or "asam" (adaptive SAM,
    ``numerics.asam``, generic engine only). ``backend``: "generic"
    (autograd through ``numerics.sam.SAM``), "torch" or "c" (the fused kernels
    of ``numerics.engine``), "auto" (c, else torch, for fused cases; else generic).

    >>> import json
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
            if not (is_int(v) and v >= low):
                raise ValueError(f"{name}: expected an integer >= {low}, got {v!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation: expected one of {ACTIVATIONS}, got {self.activation!r}")
        if self.eps is not None and self.arch != "sim_ln":
            raise ValueError(f"eps: only sim_ln uses eps, got {self.eps!r} for arch {self.arch!r}")
        check_hyper(self.arch, depth=self.depth, activation=self.activation, eps=self.eps)
        if self.loss not in LOSSES:
            raise ValueError(f"loss: expected one of {LOSSES}, got {self.loss!r}")
        if self.loss == "logistic":
            if not (is_finite_number(self.p) and 0 < self.p < 0.5):
                raise ValueError(f"p: expected a number in (0, 0.5) for the logistic loss, got {self.p!r}")
        elif self.p is not None:
            raise ValueError(f"p: expected None for 'mse' (label smoothing is for 'logistic'), got {self.p!r}")
        if self.data not in DATA_KINDS:
            raise ValueError(f"data: expected one of {DATA_KINDS}, got {self.data!r}")
        if self.loss == "logistic" and self.data not in SIGN_LABEL_DATA:
            raise ValueError(f"loss: 'logistic' needs labels in {{-1, +1}}, i.e. data in {SIGN_LABEL_DATA}, "
                             f"got data {self.data!r}")
        if self.data == "circle" and self.d != 2:
            raise ValueError(f"d: expected 2 for data 'circle', got {self.d!r}")
        if self.data == "xor" and self.n > 2 ** min(self.d, 62) - 1:
            raise ValueError(f"n: expected at most 2^d - 1 = {2 ** self.d - 1} for data 'xor', got {self.n}")
        if self.data == "condition1" and self.n != 4 * (self.d - 1):
            raise ValueError(f"n: expected 4*(d-1) = {4 * (self.d - 1)} for data 'condition1' with d={self.d} "
                             f"(its complete training set), got {self.n}")
        if self.data_seed is not None and not (is_int(self.data_seed) and self.data_seed >= 0):
            raise ValueError(f"data_seed: expected an integer >= 0 or None, got {self.data_seed!r}")
        if not (is_finite_number(self.init_scale_first_layer) and self.init_scale_first_layer > 0):
            raise ValueError(f"init_scale_first_layer: expected a finite number > 0, got {self.init_scale_first_layer!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: expected one of {OPTIMIZERS}, got {self.optimizer!r}")
        if not isinstance(self.phases, tuple) or not self.phases or not all(isinstance(p, Phase) for p in self.phases):
            raise ValueError(f"phases: expected a non-empty tuple of Phase, got {self.phases!r}")
        for k, ph in enumerate(self.phases):
            ph.validate(self.n, k)
            if self.optimizer not in ("sam", "asam") and ph.rho != 0:
                raise ValueError(f"phases[{k}].rho: expected 0 for optimizer {self.optimizer!r}, got {ph.rho!r}")
            if ph.label_noise and self.loss != "mse":
                raise ValueError(f"phases[{k}].label_noise: expected 0 for the logistic loss, got {ph.label_noise!r}")
        if self.optimizer == "label_noise_sgd" and not any(ph.label_noise > 0 for ph in self.phases):
            raise ValueError("phases: optimizer 'label_noise_sgd' needs label_noise > 0 in some phase")
        if self.optimizer != "label_noise_sgd" and any(ph.label_noise > 0 for ph in self.phases):
            raise ValueError(f"optimizer: expected 'label_noise_sgd' when a phase has label_noise > 0, got {self.optimizer!r}")
        if self.project_radius is not None:
            if not (is_finite_number(self.project_radius) and self.project_radius > 0):
                raise ValueError(f"project_radius: expected a finite number > 0 or None, got {self.project_radius!r}")
        if self.checkpoint_every is not None and not (is_int(self.checkpoint_every) and self.checkpoint_every >= 1):
            raise ValueError(f"checkpoint_every: expected an integer >= 1 or None, got {self.checkpoint_every!r}")
        if not (is_int(self.seed) and self.seed >= 0):
            raise ValueError(f"seed: expected an integer >= 0, got {self.seed!r}")
        if self.device not in DEVICES:
            raise ValueError(f"device: expected one of {DEVICES}, got {self.device!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype: expected one of {tuple(DTYPES)}, got {self.dtype!r}")
        if self.arch == "sim_ln":
            check_ln_eps(self.eps, DTYPES[self.dtype])
        if self.backend not in BACKENDS:
            raise ValueError(f"backend: expected one of {BACKENDS}, got {self.backend!r}")
        if self.backend in ("torch", "c") and self.optimizer == "asam":
            raise ValueError(f"backend: optimizer 'asam' runs on the generic engine; use 'generic' or 'auto', "
                             f"got {self.backend!r}")
        if self.backend in ("torch", "c") and not self.fused:
            raise ValueError(f"backend: {self.backend!r} covers only depth-2 nobias/bias/sim_ln "
                             f"(got arch {self.arch!r}, depth {self.depth}); use 'generic' or 'auto'")
        return self

    @property
    def fused(self) -> bool:
        """Whether the fused kernels cover this network and loss."""
        return engine.fused_supported(self.arch, depth=self.depth, activation=self.activation, loss=self.loss) \
            and self.optimizer != "asam"

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
