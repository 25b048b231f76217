"""The reference every fused backend is tested against: R independent autograd runs
(``numerics.optim.sam`` through ``GenericEngine``, one per replica), and small problems to run."""
from __future__ import annotations

import torch

from sharpgen.numerics.runs.config import Phase, TrainConfig
from sharpgen.numerics.engine.generic import GenericEngine
from sharpgen.numerics.nets.initialization import build

TOL = 1e-12  # float64, two computations of the same steps that differ only in rounding order

# every architecture of docs/paper.md §2 the engines cover: (arch, depth, activation)
NETS = [("nobias", 2, "relu"), ("bias", 2, "relu"), ("bias", 2, "softplus"), ("sim_ln", 2, "relu"),
        ("sim_bn", 2, "relu"), ("bias", 3, "relu"), ("bias", 3, "softplus"), ("bias", 4, "relu")]
LOSSES = ["mse", "logistic"]


def config(arch, depth, activation, loss, *, d=6, n=12, width=24, radius=None) -> TrainConfig:
    return TrainConfig(arch=arch, depth=depth, activation=activation, loss=loss, d=d, n=n, width=width,
                       p=0.2 if loss == "logistic" else None, eps=1e-3 if arch == "sim_ln" else None,
                       project_radius=radius)


def dataset(d=6, n=12, seed=0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    X = (torch.randint(0, 2, (n, d), generator=gen) * 2 - 1).to(dtype)
    return X, X[:, 0] * X[:, 1]


def net(cfg: TrainConfig, seed: int, X, dtype=torch.float64):
    scale = 0.3 if cfg.arch == "sim_ln" else 1.0
    model = build(cfg.arch, cfg.d, cfg.width, depth=cfg.depth, activation=cfg.activation, eps=cfg.eps, seed=seed,
                  init_scale_first_layer=scale, dtype=dtype)
    if cfg.arch == "sim_bn":
        model.set_training_inputs(X.to(dtype))
    return model


def lr_for(cfg: TrainConfig) -> float:
    """A step size at which every architecture moves visibly within a few epochs without diverging."""
    return 0.01 if cfg.arch == "sim_bn" else 0.05


def reference(cfg: TrainConfig, model, X, Y, order, ph: Phase):
    """Steps of the autograd reference on ``model`` (in place)."""
    eng = GenericEngine(cfg, model, X)
    eng.run(order, eng.targets(Y)[order], ph)
    return model


def maxdiff(a, b) -> float:
    return max(float((pa - pb).detach().abs().max()) for pa, pb in zip(a.parameters(), b.parameters()))
