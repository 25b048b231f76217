"""Sharpness-aware optimizers for any torch model, in the shape of ``torch.optim``.

:class:`SAM` is the well-known two-step SAM (``first_step`` to the ascent point, ``second_step``
back and the base optimizer's step, or ``step(closure)``); with one sample per batch it is the
paper's 1-SAM. :class:`ASAM` scales the ascent elementwise by |w| (adaptive SAM).
:func:`make_optimizer` and :func:`make_asam` build what the trainer uses.

>>> import torch
>>> from sharpgen.numerics.optim import SAM
>>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
>>> opt = SAM([w], torch.optim.SGD, rho=0.05, lr=0.1)
>>> opt.step(lambda: (w ** 2).sum())  # doctest: +ELLIPSIS
tensor(...)
"""
from sharpgen.numerics.optim.asam import ASAM, asam_param_groups, make_asam
from sharpgen.numerics.optim.sam import SAM, make_optimizer, project_first_layer_

__all__ = ["SAM", "ASAM", "asam_param_groups", "make_asam", "make_optimizer", "project_first_layer_"]
