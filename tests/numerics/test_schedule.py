"""The schedule of a run (numerics.schedule): label noise per epoch, the evaluation grid."""
import math

import numpy as np
import torch

from sharpgen.numerics.runs.config import Phase, TrainConfig, parse_phases
from sharpgen.numerics.runs.schedule import chunk_plan, epoch_plan, evaluation_epochs, next_after


def test_label_noise_is_sigma_times_the_epochs_own_normal_draws():
    cfg = TrainConfig(optimizer="label_noise_sgd", n=4, d=3, phases=(Phase(0.1, batch=1, epochs=3, label_noise=0.5),))
    ph, Y = cfg.phases[0], torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    order, targets = chunk_plan(cfg, 1, 3, ph, Y)
    for e, start in ((1, 0), (2, 4)):
        rng = np.random.default_rng([cfg.seed, e])
        perm, noise = rng.permutation(4), rng.standard_normal(4)
        assert order[start:start + 4].tolist() == perm.tolist()
        assert torch.equal(targets[start:start + 4], Y[perm] + 0.5 * torch.from_numpy(noise))
    # without noise the targets are the labels in the epoch's order, and full batch keeps the order
    quiet = Phase(0.1, batch=4, epochs=1)
    order, targets = chunk_plan(cfg, 0, 1, quiet, Y)
    assert order.tolist() == [0, 1, 2, 3] and torch.equal(targets, Y)
    assert epoch_plan(cfg, 0, quiet, 4)[1] is None


def test_evaluation_grid_has_even_and_log_spaced_epochs():
    cfg = TrainConfig(phases=parse_phases("0.01,0.05,1,0,6e4; 0.01,0.1,1,0,4e4"), eval_every=10000,
                      eval_log_points=11)
    grid = evaluation_epochs(cfg)
    assert grid[0] == 0 and grid[-1] == 100000 and list(grid) == sorted(set(grid))
    assert set(range(0, 100001, 10000)) <= set(grid)
    # 11 points evenly in log10 from 1 to 1e5: 10^(k/2)
    assert {round(10 ** (k / 2)) for k in range(11)} <= set(grid)
    assert len([e for e in grid if 0 < e < 1000]) >= 5  # the early epochs are sampled densely
    assert evaluation_epochs(cfg.replace(eval_log_points=0)) == tuple(range(0, 100001, 10000))
    assert next_after(grid, 0) == 1 and next_after(grid, 100000) == 100001
    assert all(next_after(grid, e) > e for e in range(0, 200, 7))


def test_log_grid_of_one_point_and_short_runs():
    cfg = TrainConfig(phases=(Phase(0.01, epochs=7),), eval_every=5, eval_log_points=1)
    assert evaluation_epochs(cfg) == (0, 1, 5, 7)
    assert math.isfinite(len(evaluation_epochs(cfg.replace(eval_log_points=50))))
    assert evaluation_epochs(cfg.replace(eval_log_points=50)) == tuple(range(8))
