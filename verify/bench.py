"""Measurements of ``sharpgen bench`` (docs/paper.md §7): 1-SAM replica-steps per second of

* **plain torch** — the loop a user writes: an ``nn.Sequential`` (a small module for the
  ``sim_ln``/``sim_bn`` normalisations), the two-step SAM optimizer in the style of davda54/sam
  (``numerics.sam.SAM`` over ``torch.optim.SGD``), ``nn.MSELoss``, one sample per step, float32
  by default, at torch's default thread count and at one thread;
* **reference** — the trainer's autograd path (``GenericEngine``: ``numerics.sam.SAM`` on a
  ``Net``), one torch thread as the trainer runs it;
* **engine ×R** — :class:`~sharpgen.numerics.engine.replicas.ReplicaEngine` stepping R
  replicas at once on the backend ``auto`` resolves to (the C loops on CPU, spread over the
  cores; the Triton kernel on CUDA);

plus one exact Tr ∇²L of the training loss (float64, as every evaluation of the trainer does) and
one whole evaluation of the trainer (``numerics.runs.train.evaluate``), per replica.
Every path starts from the same network and data (P_xor, the paper's d = 30, n = 100, width 500
by default). Numbers depend on the machine and its load: :func:`machine_line` records both.
"""
from __future__ import annotations

import contextlib
import math
import os
import platform
import time
from dataclasses import asdict, dataclass

import torch
from torch import nn

from sharpgen.numerics.engine.backends import resolve_backend
from sharpgen.numerics.engine.replicas import ReplicaEngine
from sharpgen.numerics.nets.data import Dataset, xor_dataset
from sharpgen.numerics.nets.initialization import build
from sharpgen.numerics.nets.sharpness import trace_hessian
from sharpgen.numerics.optim.sam import SAM
from sharpgen.numerics.runs.config import Phase, TrainConfig
from sharpgen.numerics.runs.train import evaluate
from sharpgen.numerics.validate import torch_dtype

# (name, arch, activation, depth, lr): the paper's 1-SAM step sizes (docs/paper.md §6; sim_bn and
# softplus at the quick presets' smaller steps, which stay finite over long timings from our init)
CASES = {
    "nobias": ("nobias", "relu", 2, 0.01),
    "bias": ("bias", "relu", 2, 0.01),
    "bias-softplus": ("bias", "softplus", 2, 0.001),
    "sim_ln": ("sim_ln", "relu", 2, 0.01),
    "sim_bn": ("sim_bn", "relu", 2, 0.001),
    "bias-depth3": ("bias", "relu", 3, 0.01),
}
RHO = 0.05
EPS_LN = 1e-3
MAX_STEPS = 1 << 16  # steps per replica in one timed call at most


@dataclass
class Row:
    """One measured path of one case."""

    case: str
    path: str
    threads: int
    replicas: int
    us_per_step: float  # wall time per replica-step, µs

    @property
    def steps_per_s(self) -> float:
        return 1e6 / self.us_per_step


class _SimLN(nn.Module):
    def __init__(self, eps):
        super().__init__()
        self.eps = eps

    def forward(self, h):
        return h / h.norm(dim=1, keepdim=True).clamp(min=self.eps)


class _SimBN(nn.Module):
    """sim_bn as a user writes it: the scale a_j recomputed from the whole training set each call; a
    neuron dead on every training point (a_j = 0) outputs 0 with finite gradients, the rule of
    ``numerics.nets.functional.bn_scale`` (a plain division gives 0/0 = NaN, and SAM refuses it)."""

    def __init__(self, d, m, X_train):
        super().__init__()
        self.first, self.out = nn.Linear(d, m), nn.Linear(m, 1, bias=False)
        self.gamma = nn.Parameter(torch.ones(m))
        self.X_train = X_train

    def forward(self, x):
        a2 = torch.relu(self.first(self.X_train)).pow(2).mean(dim=0)
        alive = a2 > 0
        scale = torch.where(alive, self.gamma / torch.sqrt(torch.where(alive, a2, torch.ones_like(a2))), 0.0)
        return self.out(torch.relu(self.first(x)) * scale)


def plain_model(arch, activation, depth, d, m, X_train) -> nn.Module:
    """The network of the plain loop, built with torch.nn as a user would."""
    if arch == "sim_bn":
        return _SimBN(d, m, X_train)
    act = nn.ReLU() if activation == "relu" else nn.Softplus()
    layers = [nn.Linear(d, m, bias=arch != "nobias"), act]
    for _ in range(depth - 2):
        layers += [nn.Linear(m, m, bias=False), act]
    if arch == "sim_ln":
        layers.append(_SimLN(EPS_LN))
    return nn.Sequential(*layers, nn.Linear(m, 1, bias=False))


def _timed(fn, seconds: float, max_units: int = 1 << 16) -> float:
    """Seconds per unit of ``fn(k)`` (k <= max_units units per call): grows k until a call lasts
    ``seconds``, then (if k hit max_units first) repeats calls until ``seconds`` have passed."""
    fn(1)
    k = 1
    while True:
        t = time.perf_counter()
        fn(k)
        elapsed = time.perf_counter() - t
        if elapsed >= seconds or k == max_units:
            units = k
            while elapsed < seconds:
                t = time.perf_counter()
                fn(k)
                elapsed += time.perf_counter() - t
                units += k
            return elapsed / units
        k = min(max_units, k * (2 if elapsed > seconds / 8 else 8))


@contextlib.contextmanager
def _threads(n: int):
    """Run the block with ``n`` torch intra-op threads (restored afterwards)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def time_plain(case: str, X, Y, width: int, *, dtype, device, threads: int, seconds: float) -> float:
    """µs per step of the plain loop (MSE, ρ 0.05, batch 1, the case's lr)."""
    arch, activation, depth, lr = CASES[case]
    torch.manual_seed(0)
    Xd, Yd = X.to(device=device, dtype=dtype), Y.to(device=device, dtype=dtype)
    model = plain_model(arch, activation, depth, X.shape[1], width, Xd).to(device=device, dtype=dtype)
    opt, loss_fn = SAM(model.parameters(), torch.optim.SGD, rho=RHO, lr=lr), nn.MSELoss()
    order = torch.randint(0, len(Y), (MAX_STEPS,), generator=torch.Generator().manual_seed(1)).tolist()

    def steps(k):
        for i in order[:k]:
            xb, yb = Xd[i:i + 1], Yd[i:i + 1]
            loss_fn(model(xb).squeeze(-1), yb).backward()
            opt.first_step(zero_grad=True)
            loss_fn(model(xb).squeeze(-1), yb).backward()
            opt.second_step(zero_grad=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
    with _threads(threads):
        return 1e6 * _timed(steps, seconds)


def _config(case: str, d: int, n: int, width: int, dtype: str, device: str):
    arch, activation, depth, _ = CASES[case]
    return TrainConfig(arch=arch, activation=activation, depth=depth, d=d, n=n, width=width, dtype=dtype,
                       device=device, eps=EPS_LN if arch == "sim_ln" else None)


def _nets(cfg, X, R: int, device):
    nets = []
    for r in range(R):
        net = build(cfg.arch, cfg.d, cfg.width, depth=cfg.depth, activation=cfg.activation, eps=cfg.eps, seed=r,
                    dtype=torch_dtype(cfg.dtype), device=device)
        if cfg.arch == "sim_bn":
            net.set_training_inputs(X)
        nets.append(net)
    return nets


def time_engine(case: str, cfg, X, Y, backend: str, R: int, *, threads: int | None, seconds: float,
                device) -> tuple[float, int]:
    """(µs per replica-step, replicas stepped at once) of R replicas in one engine
    (``backend`` "generic" times the reference)."""
    Xd = X.to(device=device, dtype=torch_dtype(cfg.dtype))
    eng = ReplicaEngine(cfg, _nets(cfg, Xd, R, device), [Xd] * R, backend, threads=threads)
    T = eng.targets(Y.to(device=device, dtype=Xd.dtype))
    gen = torch.Generator().manual_seed(2)
    orders = [torch.randint(0, len(Y), (MAX_STEPS,), generator=gen).to(device) for _ in range(R)]
    phase = Phase(CASES[case][3], RHO)

    def steps(k):
        out = eng.run([o[:k] for o in orders], [T[o[:k]] for o in orders], phase)
        if any(out):
            raise RuntimeError(f"bench: a replica diverged ({next(m for m in out if m)})")
        if device.type == "cuda":
            torch.cuda.synchronize()
    return 1e6 * _timed(steps, seconds) / R, eng.threads if backend == "c" else 1


def _fastest(fn, repeats: int = 3) -> float:
    """Milliseconds of the fastest of ``repeats`` calls of ``fn``."""
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return 1e3 * best


def time_evaluation(cfg, X, Y, device) -> dict:
    """Milliseconds (fastest of three) of one exact Tr ∇²L of the training loss (float64) and of one whole
    evaluation of the trainer (``numerics.runs.train.evaluate``: losses and errors on the training set and
    ``cfg.n_test`` test points, the exact trace and its Gauss-Newton part, the structure diagnostics), one
    float64 replica on the bench's training set."""
    cfg64 = cfg.replace(dtype="float64")
    fresh = xor_dataset(X.shape[1], X.shape[0], n_test=cfg64.n_test, seed=0)  # the bench's set, with test points
    data = Dataset(*(t.to(device=device, dtype=torch.float64) for t in (X, Y, fresh.X_test, fresh.Y_test)))
    net = _nets(cfg64, data.X, 1, device)[0]
    return {"trace_ms": _fastest(lambda: trace_hessian(net, data.X, data.Y, method="exact")),
            "evaluation_ms": _fastest(lambda: evaluate(net, data, cfg64))}


def machine_line(device) -> str:
    """The machine, torch and the load at the start: what the numbers depend on."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else (platform.processor() or
                                                                               platform.machine())
    return (f"{where}, {os.cpu_count()} cores, load average {load:.2f} at start; torch {torch.__version__} "
            f"(default threads {torch.get_num_threads()})")


def bench_case(case: str, *, d: int, n: int, width: int, dtype: str, device, replicas, threads: int | None,
               seconds: float, plain_threads, progress=None) -> tuple[list[Row], dict]:
    """Every path of one case: the rows and ``time_evaluation``'s ms of one exact Tr ∇²L and one evaluation."""
    data = xor_dataset(d, n, n_test=1, seed=0)
    cfg = _config(case, d, n, width, dtype, device.type)
    rows = []
    say = progress or (lambda text: None)
    for t in plain_threads:
        say(f"{case}: plain torch, {t} threads")
        rows.append(Row(case, "plain torch", t, 1, time_plain(case, data.X, data.Y, width, dtype=torch_dtype(dtype),
                                                                device=device, threads=t, seconds=seconds)))
    say(f"{case}: reference")
    with _threads(1):
        us, _ = time_engine(case, cfg, data.X, data.Y, "generic", 1, threads=1, seconds=seconds, device=device)
    rows.append(Row(case, "reference", 1, 1, us))
    backend = resolve_backend("auto", fused=cfg.fused, device=device, dtype=torch_dtype(dtype))
    for R in replicas:
        say(f"{case}: engine ({backend}) x{R}")
        with _threads(1):
            us, used = time_engine(case, cfg, data.X, data.Y, backend, R, threads=threads, seconds=seconds,
                                   device=device)
        rows.append(Row(case, f"engine {backend}", used, R, us))
    say(f"{case}: exact trace, evaluation")
    with _threads(1):  # one torch thread, as the trainer evaluates
        return rows, time_evaluation(cfg, data.X, data.Y, device)


LEGEND = """\
plain torch  nn.Sequential (small modules for the sim_ln / sim_bn normalisations) + a two-step
             SAM optimizer as in davda54/sam, one sample per step, at the torch threads shown
reference    the trainer's autograd path (numerics.sam.SAM on a Net, backend generic), 1 thread
engine B xR  R replicas in one ReplicaEngine call on backend B (c: the C loops, one replica per
             core at a time), each with its own seed; per replica-step
x plain      replica-steps/s over the best plain torch row;  x ref: over the reference row
Tr exact     one exact Tr of the Hessian of the training loss (float64), as each evaluation
evaluation   one whole evaluation of the trainer (float64): losses and errors on the training set
             and 1000 test points, Tr and its Gauss-Newton part, the structure diagnostics"""


def summarize(rows: list[Row]) -> list[dict]:
    """The rows as dicts with replica-steps/s and the ratios to the best plain loop and the reference."""
    out = []
    for case in dict.fromkeys(r.case for r in rows):
        mine = [r for r in rows if r.case == case]
        plain = min(r.us_per_step for r in mine if r.path == "plain torch")
        ref = next(r.us_per_step for r in mine if r.path == "reference")
        for r in mine:
            out.append(dict(asdict(r), steps_per_s=r.steps_per_s, x_plain=plain / r.us_per_step,
                            x_reference=ref / r.us_per_step))
    return out


def format_table(summary: list[dict], evaluations: dict) -> str:
    """The bench table, every line within 100 columns."""
    head = f"{'case':<14}{'path':<14}{'threads':>8}{'replicas':>9}{'us/step':>11}{'steps/s':>12}" \
           f"{'x plain':>10}{'x ref':>9}"
    lines = [head, "-" * len(head)]
    for case in dict.fromkeys(r["case"] for r in summary):
        for r in (r for r in summary if r["case"] == case):
            lines.append(f"{case:<14}{r['path']:<14}{r['threads']:>8}{r['replicas']:>9}{r['us_per_step']:>11.2f}"
                         f"{r['steps_per_s']:>12,.0f}{r['x_plain']:>10.1f}{r['x_reference']:>9.1f}")
        lines.append(f"{case:<14}{'Tr exact':<14}{'':>17}{evaluations[case]['trace_ms']:>8.2f} ms (float64)")
        lines.append(f"{case:<14}{'evaluation':<14}{'':>17}{evaluations[case]['evaluation_ms']:>8.2f} ms (float64, "
                     f"per replica)")
    return "\n".join(lines)
