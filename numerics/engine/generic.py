"""The generic engine: autograd SAM / ASAM / SGD steps through :mod:`sharpgen.numerics.optim`
on a ``Net`` (every architecture; the reference the fused steps are tested against)."""
from __future__ import annotations

import torch

from sharpgen.numerics.engine.diverged import TrainingDiverged
from sharpgen.numerics.engine.torch_fused.shallow import minibatches
from sharpgen.numerics.nets.losses import get_loss
from sharpgen.numerics.optim.asam import make_asam
from sharpgen.numerics.optim.sam import SAM, make_optimizer, project_first_layer_
from sharpgen.numerics.runs.config import Phase, TrainConfig


def layer_tensors(model):
    """(W1, b1 or None, W2): a ``Net``'s first and output layers, as ``.data`` to update in place."""
    return model.W1.data, (model.b1.data if hasattr(model, "b1") else None), model.W2.data


def check_finite_tensors(tensors) -> None:
    """Raise :class:`TrainingDiverged` (value "parameters") unless every entry of ``tensors`` is finite.

    >>> check_finite_tensors([torch.ones(2)])
    >>> check_finite_tensors([torch.tensor([1.0, float("nan")])])
    Traceback (most recent call last):
    ...
    sharpgen.numerics.engine.diverged.TrainingDiverged: non-finite parameters
    """
    if not all(bool(torch.isfinite(t).all()) for t in tensors):
        raise TrainingDiverged.non_finite("parameters")


class GenericEngine:
    """Autograd steps through :mod:`sharpgen.numerics.optim` (SAM, or ASAM for ``optimizer="asam"``)
    on a ``Net``: any architecture (the reference path). ``run`` raises :class:`TrainingDiverged`
    when the parameters end a call non-finite."""

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
            if self.config.optimizer == "asam" and ph.rho > 0:
                self._opt = make_asam(self.model, lr=ph.lr, rho=ph.rho, weight_decay=ph.weight_decay)
            else:
                self._opt = make_optimizer(self.model.parameters(), lr=ph.lr, rho=ph.rho, weight_decay=ph.weight_decay)
        return self._opt

    def run(self, order: torch.Tensor, targets: torch.Tensor, ph: Phase) -> None:
        opt, model = self._optimizer(ph), self.model
        radius = self.config.project_radius
        for xb, tb in minibatches(self.X, order, targets, ph.batch):
            opt.zero_grad(set_to_none=True)
            self.loss_fn(model(xb), tb).backward()
            if isinstance(opt, SAM):
                opt.first_step(zero_grad=True)
                self.loss_fn(model(xb), tb).backward()
                opt.second_step(zero_grad=True)
            else:
                opt.step()
            if radius is not None:
                W1, b1, _ = layer_tensors(model)
                project_first_layer_(W1, b1, radius)
        check_finite_tensors(model.parameters())
