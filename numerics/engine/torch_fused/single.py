"""The "torch" backend for one replica: the hand-derived steps of every architecture, in torch
(any device, any batch).

Depth-2 nobias/bias/sim_ln use :mod:`.shallow`, ``sim_bn`` :mod:`.sim_bn`, depth >= 3
:mod:`.deep`; all take mini-batch k as rows ``order[k*batch:(k+1)*batch]``
(:func:`.shallow.minibatches`). :class:`~sharpgen.numerics.engine.replicas.ReplicaEngine`
steps each replica with it on CPU, and wherever the C loop or the GPU kernel does not run
(mini-batch phases, no C compiler).
"""
from __future__ import annotations

import torch

from sharpgen.numerics.engine.tensors import NetTensors
from sharpgen.numerics.engine.torch_fused.deep import deep_step_
from sharpgen.numerics.engine.torch_fused.sim_bn import bn_step_
from sharpgen.numerics.engine.torch_fused import shallow
from sharpgen.numerics.engine.torch_fused.shallow import minibatches


@torch.no_grad()
def torch_run_(t: NetTensors, X, order, targets, *, batch: int = 1, arch: str, activation: str = "relu",
               loss: str = "mse", eps=None, lr: float, rho: float = 0.0, wd: float = 0.0, radius=None) -> bool:
    """Take ``len(order) // batch`` steps of ``t`` in place; returns whether every parameter stayed finite.

    >>> from sharpgen.numerics.nets.initialization import build
    >>> net = build("sim_bn", d=3, width=4, seed=0)
    >>> X = torch.tensor([[1.0, -1.0, 1.0], [-1.0, 1.0, 1.0]], dtype=torch.float64)
    >>> torch_run_(NetTensors.of(net), X, torch.tensor([0, 1]), torch.tensor([1.0, -1.0], dtype=torch.float64),
    ...            arch="sim_bn", lr=0.01, rho=0.05)
    True
    """
    kw = dict(loss=loss, lr=lr, rho=rho, wd=wd, radius=radius)
    if arch != "sim_bn" and not t.middle:
        # through the module: tests/numerics/test_train.py watches which steps a phase runs by patching it
        shallow.torch_steps_(t.W1, t.b1, t.W2, X, order, targets, batch=batch, arch=arch, activation=activation,
                             eps=eps, **kw)
        return t.finite()
    for xb, tb in minibatches(X, order, targets, batch):
        if arch == "sim_bn":
            bn_step_(t.W1, t.b1, t.W2, t.gamma, X, xb, tb, **kw)
        else:
            deep_step_(t.W1, t.b1, t.middle, t.W2, xb, tb, activation=activation, **kw)
    return t.finite()
