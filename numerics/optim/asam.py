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

Convention (as for :class:`numerics.sam.SAM`): when ‖T g‖ = 0 the ascent step
is zero.

ASAM runs on the generic (autograd) engine; the fused kernels implement SAM only.
"""
from __future__ import annotations

import math

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
    """Two-step ASAM around ``base_optimizer``, used exactly like :class:`numerics.sam.SAM`.

    ``rho`` is the radius of the normalised ball, ``eta`` the offset η of
    t = |θ| + η. A parameter group with ``adaptive=False`` keeps t = 1 (plain
    SAM coordinates) for its parameters.

    >>> w = torch.nn.Parameter(torch.tensor([3.0, -4.0], dtype=torch.float64))
    >>> opt = ASAM([w], rho=0.5, eta=0.0, lr=0.1)
    >>> (w ** 2).sum().backward(); opt.first_step(zero_grad=True)
    >>> [round(v, 12) for v in w.detach().tolist()]   # T g = (18, -32), ‖T g‖ = √1348; e = 0.5 (54, -128)/√1348
    [3.735391859449, -5.743151074249]
    """

    def __init__(self, params, base_optimizer=torch.optim.SGD, *, rho: float = 0.5, eta: float = ETA,
                 **base_kwargs):
        if isinstance(eta, bool) or not isinstance(eta, (int, float)) or not (math.isfinite(eta) and eta >= 0):
            raise ValueError(f"eta: must be a finite number >= 0, got {eta!r}")
        super().__init__(params, base_optimizer, rho=rho, **base_kwargs)
        for group in self.param_groups:
            group.setdefault("adaptive", True)
            group.setdefault("eta", float(eta))
        self.defaults.update(adaptive=True, eta=float(eta))

    @staticmethod
    def _t(group: dict, p: torch.Tensor):
        """The diagonal of T for ``p``: |p| + η when the group is adaptive, else 1."""
        return p.abs() + group["eta"] if group["adaptive"] else 1.0

    @torch.no_grad()
    def grad_norm(self) -> torch.Tensor:
        """‖T g‖ over every parameter of every group."""
        total = torch.zeros((), dtype=torch.float64)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    total = total + ((self._t(group, p) * p.grad) ** 2).sum().to(torch.float64)
        return torch.sqrt(total)

    @torch.no_grad()
    def first_step(self, zero_grad: bool = False) -> None:
        """Ascend: θ ← θ + ρ T² g/‖T g‖ (nothing when ‖T g‖ = 0); remembers the offset."""
        norm = float(self.grad_norm())
        offsets = []
        for group in self.param_groups:
            factor = group["rho"] / norm if norm > 0 else 0.0
            offsets += [(p, factor * self._t(group, p) ** 2 * p.grad) for p in group["params"] if p.grad is not None]
        for p, e in offsets:  # T is read at θ for every parameter before any of them moves
            p.add_(e)
            self.state[p]["e"] = e
        if zero_grad:
            self.zero_grad()


def make_asam(model: torch.nn.Module, *, lr: float, rho: float, weight_decay: float = 0.0,
              eta: float = ETA) -> ASAM:
    """ASAM over SGD (weight decay in the descent step) on ``model``'s :func:`asam_param_groups`.

    >>> from sharpgen.numerics.nets.initialization import build
    >>> opt = make_asam(build("nobias", 3, 4), lr=0.1, rho=0.5)
    >>> type(opt).__name__, opt.param_groups[0]["eta"], opt.param_groups[0]["lr"]
    ('ASAM', 0.01, 0.1)
    """
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr: must be a finite number > 0, got {lr!r}")
    if not (math.isfinite(weight_decay) and weight_decay >= 0):
        raise ValueError(f"weight_decay: must be a finite number >= 0, got {weight_decay!r}")
    return ASAM(asam_param_groups(model), torch.optim.SGD, rho=rho, eta=eta, lr=lr, weight_decay=weight_decay)
