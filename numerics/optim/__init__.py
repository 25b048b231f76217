"""Sharpness-aware optimizers for any torch model, in the shape of ``torch.optim``.

:class:`SAM` is the well-known two-step SAM (``first_step`` to the ascent point, ``second_step``
back and the base optimizer's step, or ``step(closure)``); with one sample per batch it is the
paper's 1-SAM. ``SAM(..., adaptive=True)`` scales the ascent elementwise by T = |w| (as the
well-known two-step SAM does); :class:`ASAM` is that with the ASAM reference implementation's
T = |w| + 0.01 and unscaled biases. Misuse (two ascents in a row, a NaN gradient, a group's bad
rho or lr) raises; a non-finite gradient raises :class:`NonFiniteGradient`, a
``TrainingDiverged``. :func:`make_optimizer` and :func:`make_asam` build what the trainer uses.

>>> import torch
>>> from sharpgen.numerics.optim import SAM
>>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
>>> opt = SAM([w], torch.optim.SGD, rho=0.05, lr=0.1)
>>> def closure():
...     opt.zero_grad()
...     loss = (w ** 2).sum()
...     loss.backward()
...     return loss
>>> float(opt.step(closure).detach())
5.0
>>> w.detach().tolist() != [1.0, -2.0]
True
"""
from sharpgen.numerics.optim.asam import ASAM, asam_param_groups, make_asam
from sharpgen.numerics.optim.sam import SAM, NonFiniteGradient, check_group, make_optimizer, project_first_layer_

__all__ = ["SAM", "ASAM", "NonFiniteGradient", "check_group", "asam_param_groups", "make_asam", "make_optimizer", "project_first_layer_"]
