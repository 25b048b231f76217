"""The fused engine of one run: a :class:`~.replicas.ReplicaEngine` of one replica, with the
trainer's single-run interface (``run(order, targets, phase)`` raising :class:`TrainingDiverged`)."""
from __future__ import annotations

import torch

from sharpgen.numerics.engine.diverged import TrainingDiverged
from sharpgen.numerics.engine.replicas import ReplicaEngine


class FusedEngine:
    """The hand-derived steps (backend "c", "torch" or "triton") stepping one ``Net`` in place."""

    def __init__(self, config, model, X, backend: str):
        self.name, self.model, self.X, self.config = backend, model, X, config
        self.replicas = ReplicaEngine(config, [model], [X], backend, threads=1)

    def targets(self, Y: torch.Tensor) -> torch.Tensor:
        """The kernels' targets: y for MSE, t with ∂ℓ/∂f = σ(f) − t for the logistic loss."""
        return self.replicas.targets(Y)

    def run(self, order: torch.Tensor, targets: torch.Tensor, ph) -> None:
        self.replicas.diverged[0] = None  # each chunk is judged on its own, as the trainer raises on the first
        (message,) = self.replicas.run([order], [targets], [ph])
        if message:
            raise TrainingDiverged(message)
