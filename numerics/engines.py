"""Step engines of the trainer: how one chunk of optimizer steps is taken (docs/paper.md §6-§7).

* :class:`GenericEngine` — autograd through ``numerics.sam`` on a ``Net``:
  any architecture (sim_bn, depth 3), and the reference the fused kernels are
  tested against.
* :class:`FusedEngine` — the hand-derived kernels of ``numerics.fast``
  (depth-2 nobias/bias/sim_ln): the compiled C loop for batch-1 phases on
  CPU, else the fused torch step.
* :func:`resolve_backend` — what a config's ``backend`` means on a device.

An engine's ``run(order, targets, phase)`` takes ``len(order) // phase.batch``
steps in place, mini-batch k being rows ``order[k*batch:(k+1)*batch]`` with
targets in the form :meth:`targets` gives, and raises
:class:`TrainingDiverged` when a value goes non-finite.
"""
from __future__ import annotations

import torch

from sharpgen.numerics import fast
from sharpgen.numerics.config import DTYPES, Phase, TrainConfig
from sharpgen.numerics.losses import get_loss
from sharpgen.numerics.sam import SAM, make_optimizer, project_first_layer_


class TrainingDiverged(RuntimeError):
    """A non-finite value appeared; the message names the epoch range and the last good checkpoint."""


def _layer_tensors(model):
    """(W1, b1 or None, W2): a ``Net``'s first and output layers, as ``.data`` to update in place."""
    return model.W1.data, (model.b1.data if hasattr(model, "b1") else None), model.W2.data


def _check_finite(tensors) -> None:
    if not all(bool(torch.isfinite(t).all()) for t in tensors):
        raise TrainingDiverged("non-finite parameters")


class GenericEngine:
    """Autograd steps through ``numerics.sam`` on a ``Net``: any architecture (the reference path)."""

    name = "generic"

    def __init__(self, config: TrainConfig, model, X):
        self.model, self.X, self.config = model, X, config
        self.loss_fn = get_loss(config.loss, config.p)
        self._opt_key, self._opt = None, None

    def targets(self, Y: torch.Tensor) -> torch.Tensor:
        """The labels themselves: the loss function takes them as they are."""
        return Y

    def _optimizer(self, ph: Phase):
        key = (ph.lr, ph.rho, ph.weight_decay)
        if key != self._opt_key:
            self._opt_key = key
            self._opt = make_optimizer(self.model.parameters(), lr=ph.lr, rho=ph.rho, weight_decay=ph.weight_decay)
        return self._opt

    def run(self, order: torch.Tensor, targets: torch.Tensor, ph: Phase) -> None:
        opt, model = self._optimizer(ph), self.model
        radius = self.config.project_radius
        for xb, tb in fast.minibatches(self.X, order, targets, ph.batch):
            opt.zero_grad(set_to_none=True)
            self.loss_fn(model(xb), tb).backward()
            if isinstance(opt, SAM):
                opt.first_step(zero_grad=True)
                self.loss_fn(model(xb), tb).backward()
                opt.second_step(zero_grad=True)
            else:
                opt.step()
            if radius is not None:
                W1, b1, _ = _layer_tensors(model)
                project_first_layer_(W1, b1, radius)
        _check_finite(model.parameters())


class FusedEngine:
    """The hand-derived kernels of ``numerics.fast`` (backend "c" for batch-1 on CPU, else "torch")."""

    def __init__(self, config: TrainConfig, model, X, backend: str):
        self.name, self.model, self.X, self.config = backend, model, X, config
        self.kernel = fast.load_c_kernel(X.dtype) if backend == "c" else None
        self.kw = dict(arch=config.arch, activation=config.activation, loss=config.loss, eps=config.eps)

    def targets(self, Y: torch.Tensor) -> torch.Tensor:
        """The kernels' targets: y for MSE, t with ∂ℓ/∂f = σ(f) − t for the logistic loss."""
        return fast.kernel_targets(self.config.loss, Y, self.config.p)

    def run(self, order: torch.Tensor, targets: torch.Tensor, ph: Phase) -> None:
        W1, b1, W2 = _layer_tensors(self.model)
        kw = dict(self.kw, lr=ph.lr, rho=ph.rho, wd=ph.weight_decay, radius=self.config.project_radius)
        if self.kernel is not None and ph.batch == 1:
            rc = self.kernel.steps_(W1, b1, W2, self.X, order, targets, **kw)
            if rc:
                raise TrainingDiverged(f"non-finite output at step {rc - 1} of this chunk")
            return
        with torch.no_grad():
            fast.torch_steps_(W1, b1, W2, self.X, order, targets, batch=ph.batch, **kw)
        _check_finite((W1, W2))


def resolve_backend(config: TrainConfig, device: torch.device) -> str:
    """What ``config.backend`` means on ``device``: generic, torch or c."""
    if config.backend == "generic" or (config.backend == "auto" and not config.fused):
        return "generic"
    return fast.resolve_backend(config.backend, device, DTYPES[config.dtype])


def make_engine(config: TrainConfig, model, X, backend: str):
    """The engine for a resolved ``backend`` (see :func:`resolve_backend`) stepping ``model`` on rows ``X``."""
    return GenericEngine(config, model, X) if backend == "generic" else FusedEngine(config, model, X, backend)
