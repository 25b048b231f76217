"""The fused engine: the hand-derived steps of ``torch_steps`` or the compiled C loop."""
from __future__ import annotations

import torch

from sharpgen.numerics.engine import TrainingDiverged
from sharpgen.numerics.engine import c_kernel, torch_steps
from sharpgen.numerics.engine.generic import check_finite_tensors, layer_tensors


class FusedEngine:
    """The hand-derived kernels of ``numerics.engine`` (backend "c" for batch-1 on CPU, else "torch")."""

    def __init__(self, config: TrainConfig, model, X, backend: str):
        self.name, self.model, self.X, self.config = backend, model, X, config
        self.kernel = c_kernel.load_c_kernel(X.dtype) if backend == "c" else None
        self.kw = dict(arch=config.arch, activation=config.activation, loss=config.loss, eps=config.eps)

    def targets(self, Y: torch.Tensor) -> torch.Tensor:
        """The kernels' targets: y for MSE, t with ∂ℓ/∂f = σ(f) − t for the logistic loss."""
        return torch_steps.kernel_targets(self.config.loss, Y, self.config.p)

    def run(self, order: torch.Tensor, targets: torch.Tensor, ph: Phase) -> None:
        W1, b1, W2 = layer_tensors(self.model)
        kw = dict(self.kw, lr=ph.lr, rho=ph.rho, wd=ph.weight_decay, radius=self.config.project_radius)
        if self.kernel is not None and ph.batch == 1:
            rc = self.kernel.steps_(W1, b1, W2, self.X, order, targets, **kw)
            if rc:
                raise TrainingDiverged(f"non-finite output at step {rc - 1} of this chunk")
            return
        with torch.no_grad():
            torch_steps.torch_steps_(W1, b1, W2, self.X, order, targets, batch=ph.batch, **kw)
        check_finite_tensors((W1, W2))
