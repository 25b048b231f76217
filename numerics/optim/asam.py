"""Adaptive SAM (ASAM; Kwon, Kim, Park & Choi, ICML 2021, arXiv:2102.11600).

SAM (docs/paper.md §6) ascends along the gradient inside a Euclidean ball of
radius ρ. ASAM measures the ball in the coordinates of a normalisation
operator T_θ = diag(t), so that rescalings which leave the network function
unchanged also leave the ascent unchanged. Maximising the first-order loss
over {e : ‖T⁻¹ e‖ ≤ ρ} gives

    e = ρ T² g / ‖T g‖,      g = ∇L(θ),

and the step is θ ← θ − lr (∇L(θ + e) + wd·θ) (the base optimizer's step with
the gradient taken at the perturbed point, as for SAM). The element-wise
operator of the paper is t_i = |θ_i| + η with a small η > 0 that keeps T
invertible at θ_i = 0; as in the authors' reference implementation
(SamsungLabs/ASAM, η = 0.01), weights are normalised and biases are not
(t = 1 for ``b1``). :func:`asam_param_groups` makes that split from the
parameter names of the shared layout (``W1``, ``b1``, ``W2``, ``gamma``,
``middle``); γ counts as a weight, as BatchNorm's ``weight`` does there.

The formula lives in :class:`numerics.optim.sam.SAM` (``adaptive=True``); :class:`ASAM`
only sets its defaults (ρ = 0.5, η = ``ETA``). davda54/sam's ``adaptive=True`` is the same
with η = 0 and every parameter adaptive, which is ``SAM``'s default ``eta``. Convention (as
for SAM): when ‖T g‖ = 0 the ascent step is zero.

ASAM runs on the generic (autograd) engine; the fused kernels implement SAM only.
"""
from __future__ import annotations

import torch

from sharpgen.numerics.optim.sam import SAM

ETA = 0.01  # the reference implementation's default offset η
BIAS_NAMES = ("b1",)  # parameters that keep t = 1 (the reference implementation normalises weights only)


def asam_param_groups(model: torch.nn.Module) -> list[dict]:
    """Parameter groups for :class:`ASAM`: weights adaptive, biases (``b1``) not.

    >>> from sharpgen.numerics.nets.initialization import build
    >>> [(len(g["params"]), g["adaptive"]) for g in asam_param_groups(build("bias", 3, 4))]
    [(2, True), (1, False)]
    """
    weights, biases = [], []
    for name, p in model.named_parameters():
        (biases if name.split(".")[-1] in BIAS_NAMES else weights).append(p)
    groups = [{"params": weights, "adaptive": True}]
    if biases:
        groups.append({"params": biases, "adaptive": False})
    return groups


class ASAM(SAM):
    """``SAM(..., adaptive=True)`` with the ASAM paper's defaults: ρ = 0.5 and η = ``ETA``.

    Used exactly like :class:`SAM`, whose ``first_step`` holds the one formula
    e = ρ T² g / ‖T g‖ with t = |θ| + η. ``rho`` is the radius of the normalised ball,
    ``eta`` the offset η. A parameter group with ``adaptive=False`` keeps t = 1 (plain
    SAM coordinates) for its parameters.

    >>> w = torch.nn.Parameter(torch.tensor([3.0, -4.0], dtype=torch.float64))
    >>> opt = ASAM([w], rho=0.5, eta=0.0, lr=0.1)
    >>> (w ** 2).sum().backward(); opt.first_step(zero_grad=True)
    >>> [round(v, 12) for v in w.detach().tolist()]   # T g = (18, -32), ‖T g‖ = √1348; e = 0.5 (54, -128)/√1348
    [3.735391859449, -5.743151074249]
    """

    def __init__(self, params, base_optimizer=torch.optim.SGD, rho: float = 0.5, *, eta: float = ETA, **kwargs):
        super().__init__(params, base_optimizer, rho, True, eta=eta, **kwargs)


def make_asam(model: torch.nn.Module, *, lr: float, rho: float, weight_decay: float = 0.0,
              eta: float = ETA) -> ASAM:
    """ASAM over SGD (weight decay in the descent step) on ``model``'s :func:`asam_param_groups`.

    >>> from sharpgen.numerics.nets.initialization import build
    >>> opt = make_asam(build("nobias", 3, 4), lr=0.1, rho=0.5)
    >>> type(opt).__name__, opt.param_groups[0]["eta"], opt.param_groups[0]["lr"]
    ('ASAM', 0.01, 0.1)
    """
    return ASAM(asam_param_groups(model), torch.optim.SGD, rho=rho, eta=eta, lr=lr, weight_decay=weight_decay)
