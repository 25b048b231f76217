"""The schedule of a training run: which phase runs an epoch, the sample order
and label noise of each epoch, and the step counter (docs/paper.md §6: several rows of
the table run as successive phases).

Epoch e draws its order and noise from a generator seeded with (seed, e), so
nothing random is carried from one epoch to the next: a run resumed at any
epoch continues with exactly the samples an uninterrupted run would use.
"""
from __future__ import annotations

import numpy as np
import torch

from sharpgen.numerics.config import Phase, TrainConfig


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
