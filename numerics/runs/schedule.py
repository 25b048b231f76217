"""The schedule of a training run: which phase runs an epoch, the sample order
and label noise of each epoch, the step counter, and the epochs at which the
run is evaluated (docs/paper.md §6: several rows of the table run as successive phases).

Epoch e draws its order and noise from a generator seeded with (seed, e), so
nothing random is carried from one epoch to the next: a run resumed at any
epoch continues with exactly the samples an uninterrupted run would use.
"""
from __future__ import annotations

import bisect
import math

import numpy as np
import torch

from sharpgen.numerics.runs.config import Phase, TrainConfig


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


def chunk_plan(config: TrainConfig, start: int, stop: int, ph: Phase,
               targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample order and per-step targets of epochs [start, stop) of phase ``ph``, concatenated.

    ``targets`` holds one (noise-free) target per training point; label-noise
    phases add σ·ξ with ξ from :func:`epoch_plan`.
    """
    n = len(targets)
    orders, chunk = [], []
    for e in range(start, stop):
        order, noise = epoch_plan(config, e, ph, n)
        t = targets[order]
        if noise is not None:
            t = t + ph.label_noise * torch.from_numpy(noise).to(t.dtype)
        orders.append(torch.from_numpy(order))
        chunk.append(t)
    return torch.cat(orders), torch.cat(chunk)


def steps_before(config: TrainConfig, epoch: int, n: int) -> int:
    """Optimizer steps taken in epochs [0, epoch)."""
    steps, start = 0, 0
    for ph in config.phases:
        take = max(0, min(epoch, start + ph.epochs) - start)
        steps += take * ph.steps_per_epoch(n)
        start += ph.epochs
    return steps


def evaluation_epochs(config: TrainConfig) -> tuple[int, ...]:
    """The epochs at which a run is evaluated, sorted: 0, every ``eval_every``, the last, and
    ``eval_log_points`` epochs spaced evenly in log(epoch) from 1 to the last (rounded, so
    fewer distinct ones early on).

    >>> from sharpgen.numerics.runs.config import Phase
    >>> evaluation_epochs(TrainConfig(phases=(Phase(0.01, epochs=1000),), eval_every=500, eval_log_points=4))
    (0, 1, 10, 100, 500, 1000)
    """
    total, points = config.total_epochs, config.eval_log_points
    grid = set(range(0, total + 1, config.eval_every)) | {total}
    if points:
        grid |= {round(math.exp(math.log(total) * k / max(points - 1, 1))) for k in range(points)}
    return tuple(sorted(grid))


def next_after(grid: tuple[int, ...], epoch: int) -> int:
    """The first entry of the sorted ``grid`` after ``epoch`` (a sentinel past the end when none).

    >>> next_after((0, 1, 10, 100), 1), next_after((0, 1, 10, 100), 100)
    (10, 101)
    """
    k = bisect.bisect_right(grid, epoch)
    return grid[k] if k < len(grid) else grid[-1] + 1
