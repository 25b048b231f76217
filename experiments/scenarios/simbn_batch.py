"""Batched 1-SAM on `sim_bn`: K independent runs stepped together (research tool behind docs/scenarios.md).

The project's trainer (`sharpgen train`) steps `sim_bn` through autograd one
run at a time, about 2 ms per step on the 2-core CPU whatever the width (the
cost is Python and autograd overhead, not arithmetic). This script takes one
1-SAM step of K runs at once with the same formulas (docs/paper.md §2 forward,
§6 1-SAM: e = ρ g/||g|| per run, θ ← θ − η ∇ℓ_i(θ + e)), each run with its own
seed, training set, sample order, learning rate and ρ, so a sweep of K runs
costs about as much as one run. Everything a run depends on comes from the
project: the initial network (`numerics.models.build`), the data
(`numerics.train.make_dataset`) and the sample order of every epoch
(`numerics.schedule.epoch_plan`) — so run k follows the same trajectory as
`sharpgen train` with ``configs[k]`` (``--selfcheck`` checks this to 1e-10
in float64 against the project's trainer).

Usage (one JSON file: a list of TrainConfig dicts with the same total
epochs; their phases may differ)::

    python experiments/scenarios/simbn_batch.py CONFIGS.json --out runs/NAME
    python experiments/scenarios/simbn_batch.py --selfcheck

writes OUT/configs.json (the configs, as given), OUT/metrics.csv (one row per
run and evaluation) and OUT/final.pt (the final parameters of every run).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import torch

from sharpgen.numerics.nets.initialization import build
from sharpgen.numerics.runs.config import TrainConfig, parse_phases
from sharpgen.numerics.runs.schedule import epoch_plan, phase_at
from sharpgen.numerics.runs.train import make_dataset, train
from sharpgen.numerics.validate import torch_dtype

NAMES = ("W1", "b1", "W2", "gamma")


def stack_runs(configs: list[TrainConfig]):
    """Parameters (K, ...) of every run's initial network, and its data stacked as (K, n, d) / (K, n)."""
    dtype = torch_dtype(configs[0].dtype)
    nets = [build("sim_bn", c.d, c.width, init_scale_first_layer=c.init_scale_first_layer,
                  init_gamma=c.init_gamma, dtype=dtype, seed=c.seed) for c in configs]
    params = {k: torch.stack([getattr(net, k).detach().clone() for net in nets]) for k in NAMES}
    data = [make_dataset(c) for c in configs]
    stack = lambda attr: torch.stack([getattr(dd, attr) for dd in data]).to(dtype)
    return params, stack("X"), stack("Y"), stack("X_test"), stack("Y_test")


def bn_scales(P: dict, X_train: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(hidden activations on the training set (K, n, m), per-neuron weights W2 γ / a (K, m)); a = 0 gives 0."""
    h = torch.relu(torch.baddbmm(P["b1"][:, None, :], X_train, P["W1"].transpose(1, 2)))
    a2 = (h * h).mean(dim=1)
    alive = a2 > 0
    a = torch.sqrt(torch.where(alive, a2, torch.ones_like(a2)))
    return h, torch.where(alive, P["W2"] * P["gamma"] / a, torch.zeros_like(a2))


def outputs(P: dict, X: torch.Tensor, X_train: torch.Tensor) -> torch.Tensor:
    """f on the rows of X (K, b, d), statistics from X_train: (K, b)."""
    _, scale = bn_scales(P, X_train)
    h = torch.relu(torch.baddbmm(P["b1"][:, None, :], X, P["W1"].transpose(1, 2)))
    return (h * scale[:, None, :]).sum(-1)


def sample_grads(P: dict, X_train, idx, y):
    """∇θ (f(x_idx) − y)² of every run (the sum over runs separates), as a dict of (K, ...) tensors."""
    leaves = {k: v.detach().requires_grad_(True) for k, v in P.items()}
    h, scale = bn_scales(leaves, X_train)
    f = (h[torch.arange(len(idx)), idx] * scale).sum(-1)
    grads = torch.autograd.grad(((f - y) ** 2).sum(), [leaves[k] for k in NAMES])
    return dict(zip(NAMES, grads))


def per_run(v: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """A (K,) vector broadcast against t (K, ...)."""
    return v.reshape((-1,) + (1,) * (t.ndim - 1))


def sam_step_(P: dict, X_train, idx, y, lr: torch.Tensor, rho: torch.Tensor) -> None:
    """One 1-SAM step of every run, in place (||g|| = 0: no ascent, as numerics.sam.SAM)."""
    g = sample_grads(P, X_train, idx, y)
    norm = torch.sqrt(sum((t * t).flatten(1).sum(1) for t in g.values()))
    scale = torch.where(norm > 0, rho / torch.where(norm > 0, norm, torch.ones_like(norm)), torch.zeros_like(norm))
    perturbed = {k: P[k] + per_run(scale, g[k]) * g[k] for k in NAMES}
    g2 = sample_grads(perturbed, X_train, idx, y)
    for k in NAMES:
        P[k].sub_(per_run(lr, g2[k]) * g2[k])


def metrics(P: dict, X, Y, X_test, Y_test) -> list[dict]:
    """Per run: losses, zero-one errors, the collapse measures and the Figure-2b top-4 neurons."""
    with torch.no_grad():
        f, f_test = outputs(P, X, X), outputs(P, X_test, X)
    g, w, W1 = P["gamma"], P["W2"], P["W1"]
    top = torch.argsort(W1.norm(dim=2), dim=1, descending=True, stable=True)[:, :4]
    rows = []
    for k in range(len(f)):
        rows.append({
            "train_loss": float(((f[k] - Y[k]) ** 2).mean()), "train_error": float((~(Y[k] * f[k] > 0)).double().mean()),
            "test_error": float((~(Y_test[k] * f_test[k] > 0)).double().mean()),
            "mean_abs_f": float(f[k].abs().mean()), "gamma_w2_l1": float((g[k] * w[k]).abs().sum()),
            "out_sq_norm": float((g[k] ** 2 + w[k] ** 2).sum()),
            "col_norm_1": float(W1[k, :, 0].norm()), "col_norm_2": float(W1[k, :, 1].norm()),
            "col_norm_rest_max": float(W1[k, :, 2:].norm(dim=0).max()),
        })
        for r, j in enumerate(top[k].tolist()):
            rows[-1].update({f"top{r + 1}_w1": float(W1[k, j, 0]), f"top{r + 1}_w2": float(W1[k, j, 1]),
                             f"top{r + 1}_rest": float(W1[k, j, 2:].norm())})
    return rows


def check_batch(configs: list[TrainConfig]) -> None:
    c0 = configs[0]
    for c in configs:
        if c.arch != "sim_bn" or c.loss != "mse" or c.optimizer != "sam":
            raise ValueError("configs: expected sim_bn, mse, sam for every run")
        if c.total_epochs != c0.total_epochs or c.eval_every != c0.eval_every:
            raise ValueError("configs: every run needs the same total epochs and eval_every")
        if any(p.batch != 1 or p.weight_decay or p.label_noise for p in c.phases):
            raise ValueError("configs: expected batch 1, no weight decay, no label noise (1-SAM)")
        if (c.d, c.n, c.width, c.n_test, c.dtype) != (c0.d, c0.n, c0.width, c0.n_test, c0.dtype):
            raise ValueError("configs: every run needs the same d, n, width, n_test, dtype")


def run(configs: list[TrainConfig], out: Path | None = None, *, epochs: int | None = None, log=print):
    """Train every run for ``epochs`` (default: all phases); returns (params, metric rows)."""
    check_batch(configs)
    P, X, Y, X_test, Y_test = stack_runs(configs)
    K, n, total = len(configs), configs[0].n, epochs or configs[0].total_epochs
    rows, t0 = [], time.monotonic()

    def record(epoch):
        for k, row in enumerate(metrics(P, X, Y, X_test, Y_test)):
            ph = phase_at(configs[k], min(epoch, configs[k].total_epochs - 1))[1]
            rows.append({"epoch": epoch, "run": k, "seed": configs[k].seed, "lr": ph.lr, "rho": ph.rho, **row})
        if out is not None:
            write_csv(out / "metrics.csv", rows)
        last = rows[-K:]
        log(f"epoch {epoch:7d} {time.monotonic() - t0:7.0f}s test_err " + " ".join(f"{r['test_error']:.3f}" for r in last)
            + " | |f| " + " ".join(f"{r['mean_abs_f']:.2f}" for r in last))

    record(0)
    alive = torch.ones(K, dtype=torch.bool)
    for e in range(total):
        phases = [phase_at(c, e)[1] for c in configs]
        lr = torch.tensor([p.lr for p in phases], dtype=X.dtype) * alive
        rho = torch.tensor([p.rho for p in phases], dtype=X.dtype) * alive
        orders = torch.stack([torch.from_numpy(epoch_plan(c, e, p, n)[0]) for c, p in zip(configs, phases)])
        for s in range(n):
            idx = orders[:, s]
            sam_step_(P, X, idx, Y[torch.arange(K), idx], lr, rho)
        alive &= freeze_diverged_(P, alive, e, log)
        if (e + 1) % configs[0].eval_every == 0 or e + 1 == total:
            record(e + 1)
    if out is not None:
        torch.save(P, out / "final.pt")
    return P, rows


def freeze_diverged_(P: dict, alive: torch.Tensor, epoch: int, log) -> torch.Tensor:
    """Runs whose parameters went non-finite in this epoch: set to NaN for good (lr = ρ = 0 from now on)."""
    finite = torch.stack([torch.isfinite(t).flatten(1).all(1) for t in P.values()]).all(0)
    for k in torch.nonzero(alive & ~finite).flatten().tolist():
        log(f"run {k} diverged in epoch {epoch}")
        for t in P.values():
            t[k] = float("nan")
    return finite


def write_csv(path: Path, rows: list[dict]) -> None:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    tmp.replace(path)


def selfcheck() -> float:
    """Largest parameter difference to the project's trainer after 3 epochs, two runs with different lr/ρ."""
    base = TrainConfig(arch="sim_bn", d=6, n=12, width=7, n_test=20, eval_every=3, init_gamma=0.5)
    configs = [base.replace(seed=3, phases=parse_phases("0.005,0.1,1,0,2; 0.003,0.7,1,0,1")),
               base.replace(seed=4, phases=parse_phases("0.01,0.05,1,0,2; 0.002,1,1,0,1"))]
    P, _ = run(configs, log=lambda *_: None)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for k, c in enumerate(configs):
            state = torch.load(train(c, Path(tmp) / str(k)).run_dir / "checkpoint.pt", weights_only=False)
            worst = max(worst, max(float((state["params"][n] - P[n][k]).abs().max()) for n in NAMES))
    return worst


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("configs", nargs="?", type=Path, help="JSON list of TrainConfig dicts")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--selfcheck", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.selfcheck:
        worst = selfcheck()
        print(f"selfcheck: max |θ_batched − θ_sharpgen| = {worst:.2e}")
        return 0 if worst < 1e-10 else 1
    if args.configs is None or args.out is None:
        parser.error("CONFIGS and --out are required (or --selfcheck)")
    configs = [TrainConfig.from_dict(c).validate() for c in json.loads(args.configs.read_text())]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "configs.json").write_text(json.dumps([c.to_dict() for c in configs], indent=1))
    run(configs, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
