"""What determines a training run (docs/paper.md §6, Appendix B of Wen, Li & Ma 2023).

* :class:`Phase` — one row of the docs/paper.md §6 table (lr, ρ, batch, weight decay,
  epochs), plus the label-noise σ of label-noise SGD; several rows run as
  successive phases.
* :func:`parse_phases` / :func:`format_phases` — that table's notation
  ("lr,rho,batch,wd,epochs; ...") and back; :func:`describe_phases` the same
  rows with every number labelled, for people.
* :class:`TrainConfig` — network, loss, data, optimizer, phases, Figure-6b
  projection radius, evaluation/checkpoint cadence, seed, device, dtype and
  step backend; ``validate()`` names the first offending field,
  ``with_phase_values`` overrides lr, ρ or epochs per phase, and
  ``to_dict``/``from_dict`` are the ``config.json`` round trip and
  ``digest`` its fingerprint (:func:`config_digest`), which binds a
  checkpoint to the config that produced it and names default run directories.

Nothing here imports torch (``sharpgen train --help`` lists the presets
without it); the dtype is a name, mapped to torch by ``validate.torch_dtype``.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass

from sharpgen.numerics import engine
from sharpgen.numerics.runs.limits import CUBE_DATA, SEED_MAX, check_cube_sizes, check_schedule_sizes
from sharpgen.numerics.validate import (DEVICES, DTYPES, STEP_RANGES, check_choice, check_hyper, check_init_gamma,
                                        check_int, check_loss, check_number, check_step, is_int)

DATA_KINDS = ("xor", "ball", "condition1", "circle")
SIGN_LABEL_DATA = ("xor", "condition1", "circle")  # labels in {-1, +1}: what the logistic loss needs
OPTIMIZERS = ("sam", "sgd", "label_noise_sgd", "asam")
PHASE_VALUES = ("lr", "rho", "epochs")  # the Phase fields ``with_phase_values`` overrides


@dataclass(frozen=True)
class Phase:
    """One row of docs/paper.md §6: (lr, ρ, batch, weight decay, epochs), plus label-noise σ.

    ρ > 0: SAM over SGD; ρ = 0: (S)GD with weight decay; batch = n: full batch.

    >>> Phase(0.01, 0.05, 1, 0.0, 100).steps_per_epoch(100)
    100
    >>> Phase(0.01, 0.05, 1, 0.0, 200000).describe()
    'lr=0.01, ρ=0.05, batch=1, wd=0, epochs=200000'
    """

    lr: float
    rho: float = 0.0
    batch: int = 1
    weight_decay: float = 0.0
    epochs: int = 1
    label_noise: float = 0.0

    def validate(self, n: int, k: int = 0) -> None:
        where = f"phases[{k}]."
        for name in STEP_RANGES:
            check_step(name, getattr(self, name), where)
        if not (is_int(self.batch) and 1 <= self.batch <= n and n % self.batch == 0):
            raise ValueError(f"{where}batch: expected an integer in [1, n={n}] dividing n, got {self.batch!r}")
        check_int(where + "epochs", self.epochs, 1)

    def steps_per_epoch(self, n: int) -> int:
        return n // self.batch

    def describe(self) -> str:
        """The row with every number labelled (``%g``: 0.05, 0, 1e+05 stay short)."""
        cells = [f"lr={self.lr:g}", f"ρ={self.rho:g}", f"batch={self.batch}", f"wd={self.weight_decay:g}",
                 f"epochs={self.epochs}"]
        if self.label_noise:
            cells.append(f"σ={self.label_noise:g}")
        return ", ".join(cells)


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
            if not math.isfinite(nums[j]) or nums[j] != int(nums[j]):
                raise ValueError(f"phases[{k}]: batch and epochs must be finite integers, got {row.strip()!r}")
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


def describe_phases(phases) -> str:
    """Every phase with its numbers labelled, "; " between phases.

    >>> describe_phases(parse_phases("0.01,0.05,1,0,2e5; 0.01,0.1,1,0,4e5"))
    'lr=0.01, ρ=0.05, batch=1, wd=0, epochs=200000; lr=0.01, ρ=0.1, batch=1, wd=0, epochs=400000'
    """
    return "; ".join(ph.describe() for ph in phases)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (docs/paper.md §6). Defaults: Figure 4b's network.

    ``optimizer``: "sam" (each phase's ρ; ρ = 0 rows are plain (S)GD), "sgd"
    (every ρ must be 0: the GD/SGD + weight-decay baseline) or
    "label_noise_sgd" (ρ = 0 and some label_noise > 0) or "asam" (adaptive SAM,
    ``numerics.optim.asam``, generic engine only). ``backend``: "generic"
    (autograd through ``numerics.optim.sam.SAM``); "torch", "c" or "triton"
    (the hand-derived steps of ``numerics.engine``, for the networks
    ``engine.fused_supported`` names: every architecture of docs/paper.md §2 at
    depth 2 with relu, bias also deeper and with softplus; MSE or logistic loss;
    triton: depth-2 nobias/bias/sim_ln on CUDA); "auto" (for those networks: on
    CPU c where a C compiler works, else torch; on CUDA triton where installed,
    else torch; generic for the rest).
    Evaluation: every ``eval_every`` epochs, at epoch 0 and at the end, and at
    ``eval_log_points`` epochs spaced evenly in log(epoch) from 1 to the end
    (so the early drop shows on a log axis; 0: none).

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
    init_gamma: float = 1.0
    optimizer: str = "sam"
    phases: tuple = (Phase(0.01, 0.05, 1, 0.0, 100),)
    project_radius: float | None = None
    eval_every: int = 100
    eval_log_points: int = 30
    checkpoint_every: int | None = None
    seed: int = 0
    device: str = "cpu"
    dtype: str = "float64"
    backend: str = "auto"

    # ---------------------------------------------------------- validation
    def validate(self) -> "TrainConfig":
        """Check every field (the boundary: nothing downstream re-checks); returns self."""
        self._check_network()
        self._check_loss_and_data()
        self._check_phases()
        self._check_run()
        return self

    def _check_network(self) -> None:
        for name, low in (("d", 2), ("width", 1)):
            check_int(name, getattr(self, name), low)
        check_choice("dtype", self.dtype, DTYPES)
        check_hyper(self.arch, depth=self.depth, activation=self.activation, eps=self.eps, dtype=self.dtype)
        check_number("init_scale_first_layer", self.init_scale_first_layer, gt=0)
        check_init_gamma(self.arch, self.init_gamma)
        check_number("project_radius", self.project_radius, gt=0, allow_none=True)

    def _check_loss_and_data(self) -> None:
        for name in ("n", "n_test"):
            check_int(name, getattr(self, name), 1)
        check_loss(self.loss, self.p)
        check_choice("data", self.data, DATA_KINDS)
        check_int("data_seed", self.data_seed, 0, SEED_MAX, allow_none=True)
        if self.loss == "logistic" and self.data not in SIGN_LABEL_DATA:
            raise ValueError(f"loss: 'logistic' needs labels in {{-1, +1}}, i.e. data in {SIGN_LABEL_DATA}, "
                             f"got data {self.data!r}")
        if self.data == "circle" and self.d != 2:
            raise ValueError(f"d: expected 2 for data 'circle', got {self.d!r}")
        if self.data == "xor" and self.n > 2 ** min(self.d, 62) - 1:
            raise ValueError(f"n: expected at most 2^d - 1 = {2 ** self.d - 1} for data 'xor', got {self.n}")
        if self.data in CUBE_DATA:
            check_cube_sizes(self.d, self.n, self.n_test)
        if self.data == "condition1" and self.n != 4 * (self.d - 1):
            raise ValueError(f"n: expected 4*(d-1) = {4 * (self.d - 1)} for data 'condition1' with d={self.d} "
                             f"(its complete training set), got {self.n}")

    def _check_phases(self) -> None:
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        if not isinstance(self.phases, tuple) or not self.phases or not all(isinstance(p, Phase) for p in self.phases):
            raise ValueError(f"phases: expected a non-empty tuple of Phase, got {self.phases!r}")
        for k, ph in enumerate(self.phases):
            ph.validate(self.n, k)
            if self.optimizer not in ("sam", "asam") and ph.rho != 0:
                raise ValueError(f"phases[{k}].rho: expected 0 for optimizer {self.optimizer!r}, got {ph.rho!r}")
            if ph.label_noise and self.loss != "mse":
                raise ValueError(f"phases[{k}].label_noise: expected 0 for the logistic loss, got {ph.label_noise!r}")
        noisy = any(ph.label_noise > 0 for ph in self.phases)
        if self.optimizer == "label_noise_sgd" and not noisy:
            raise ValueError("phases: optimizer 'label_noise_sgd' needs label_noise > 0 in some phase")
        if self.optimizer != "label_noise_sgd" and noisy:
            raise ValueError(f"optimizer: expected 'label_noise_sgd' when a phase has label_noise > 0, got {self.optimizer!r}")

    def _check_run(self) -> None:
        check_int("eval_every", self.eval_every, 1)
        check_int("eval_log_points", self.eval_log_points, 0)
        check_int("checkpoint_every", self.checkpoint_every, 1, allow_none=True)
        check_schedule_sizes(self.total_epochs, self.eval_every, self.eval_log_points)
        check_int("seed", self.seed, 0, SEED_MAX)
        check_choice("device", self.device, DEVICES)
        check_choice("backend", self.backend, engine.BACKENDS)
        if self.backend not in ("generic", "auto") and self.optimizer == "asam":
            raise ValueError(f"backend: optimizer 'asam' runs on the generic engine; use 'generic' or 'auto', "
                             f"got {self.backend!r}")
        if self.backend in ("torch", "c", "triton") and not self.fused:
            raise ValueError(f"backend: {self.backend!r} runs the fused steps, which cover nobias, bias, sim_ln and "
                             f"sim_bn at depth 2, bias at any depth (relu, or softplus for bias), MSE or logistic "
                             f"loss, optimizers other than asam (got arch {self.arch!r}, depth {self.depth}, "
                             f"activation {self.activation!r}, optimizer {self.optimizer!r}); use 'generic' or 'auto'")

    def describe(self) -> list[str]:
        """The run in a few lines, every number labelled (for headers and logs): the network, data
        and loss; one line per phase; seed, device, dtype and backend.

        >>> print("\\n".join(TrainConfig(phases=parse_phases("0.01,0.05,1,0,1e4")).describe()))
        arch=bias d=30 width=500 | data=xor n=100 n_test=1000 | loss=mse | optimizer=sam
        phase 1: lr=0.01, ρ=0.05, batch=1, wd=0, epochs=10000
        seed=0 device=cpu dtype=float64 backend=auto
        """
        net = [f"arch={self.arch}", f"d={self.d}", f"width={self.width}"]
        if self.depth != 2 or self.activation != "relu":
            net += [f"depth={self.depth}", f"activation={self.activation}"]
        net += [f"{k}={getattr(self, k)}" for k in ("eps", "project_radius") if getattr(self, k) is not None]
        if self.init_scale_first_layer != 1:
            net.append(f"init_scale_first_layer={self.init_scale_first_layer:g}")
        if self.init_gamma != 1:
            net.append(f"init_gamma={self.init_gamma:g}")
        loss = f"loss={self.loss}" + (f" p={self.p}" if self.p is not None else "")
        head = " | ".join([" ".join(net), f"data={self.data} n={self.n} n_test={self.n_test}", loss,
                           f"optimizer={self.optimizer}"])
        return [head, *(f"phase {k + 1}: {ph.describe()}" for k, ph in enumerate(self.phases)),
                f"seed={self.seed} device={self.device} dtype={self.dtype} backend={self.backend}"]

    @property
    def fused(self) -> bool:
        """Whether the fused kernels cover this network and loss."""
        return engine.fused_supported(self.arch, depth=self.depth, activation=self.activation, loss=self.loss) \
            and self.optimizer != "asam"

    @property
    def total_epochs(self) -> int:
        return sum(ph.epochs for ph in self.phases)

    # ---------------------------------------------------------- changes
    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def with_phase_values(self, **values) -> "TrainConfig":
        """The config with ``lr``, ``rho`` or ``epochs`` replaced in its phases (not validated).

        Each value is one number (every phase gets it) or a sequence with one
        number per phase; anything else is a ValueError naming the field.

        >>> cfg = TrainConfig(phases=parse_phases("0.01,0.05,1,0,10; 0.01,0.1,1,0,20"))
        >>> describe_phases(cfg.with_phase_values(lr=0.02, epochs=[5, 6]).phases)
        'lr=0.02, ρ=0.05, batch=1, wd=0, epochs=5; lr=0.02, ρ=0.1, batch=1, wd=0, epochs=6'
        >>> cfg.with_phase_values(rho=[0.1, 0.2, 0.3])
        Traceback (most recent call last):
        ...
        ValueError: rho: expected 1 value (for every phase) or 2 (one per phase), got 3: [0.1, 0.2, 0.3]
        """
        unknown = sorted(set(values) - set(PHASE_VALUES))
        if unknown:
            raise ValueError(f"{unknown[0]}: expected one of {PHASE_VALUES}")
        phases = self.phases
        for name, value in values.items():
            if value is None:
                continue
            given = list(value) if isinstance(value, (list, tuple)) else [value]
            if len(given) not in (1, len(phases)):
                raise ValueError(f"{name}: expected 1 value (for every phase) or {len(phases)} (one per phase), "
                                 f"got {len(given)}: {given}")
            per_phase = given * len(phases) if len(given) == 1 else given
            phases = tuple(dataclasses.replace(ph, **{name: v}) for ph, v in zip(phases, per_phase))
        return self.replace(phases=phases)

    # ---------------------------------------------------------- (de)serialisation
    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["phases"] = [dataclasses.asdict(ph) for ph in self.phases]
        return out

    def digest(self) -> str:
        """:func:`config_digest` of :meth:`to_dict`: equal configs, equal digests.

        >>> TrainConfig(width=50).digest() == TrainConfig(width=50.0).digest() != TrainConfig().digest()
        True
        """
        return config_digest(self.to_dict())

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
                try:
                    data["phases"] = tuple(r if isinstance(r, Phase) else Phase(**r) for r in rows)
                except TypeError as err:
                    raise ValueError(f"phases: expected rows with the fields of Phase ({err})") from None
        return cls(**data)


def _canonical(value):
    # Integral numbers hash alike whether written 1 or 1.0 (equal configs, equal digests).
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 63:
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def config_digest(config: dict) -> str:
    """A 16-hex-digit SHA-256 fingerprint of a ``TrainConfig.to_dict()`` (canonical JSON, integral floats as ints).

    >>> config_digest({"width": 50, "lr": 1.0}) == config_digest({"lr": 1, "width": 50.0})
    True
    >>> len(config_digest({}))
    16
    """
    text = json.dumps(_canonical(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
