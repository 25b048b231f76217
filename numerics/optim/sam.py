"""Optimizers of the paper's experiments (docs/paper.md §6, Appendix B of Wen, Li & Ma 2023).

* :class:`SAM` — sharpness-aware minimization (Foret et al. 2021) as a wrapper
  around a base ``torch.optim`` optimizer, in two steps: ``first_step`` moves
  to ``θ + ρ g/||g||`` (``g`` the gradient of the current mini-batch loss, the
  norm over all parameters together), ``second_step`` returns to ``θ`` and lets
  the base optimizer step with the gradient taken at the perturbed point. With
  batch size 1 this is the paper's 1-SAM, with the full batch n-SAM.
* :func:`make_optimizer` — SAM over SGD for ``ρ > 0``, plain SGD with weight
  decay (the paper's baseline, gradient ``g + wd·θ``) for ``ρ = 0``.
* :func:`project_first_layer_` — Figure 6b: after each step the first layer's
  weight-and-bias matrix ``[W1 | b1]`` is scaled back onto the ball of a given
  Frobenius radius.

Convention: when ``||g|| = 0`` the ascent step is zero (no division by zero);
the fused kernels of ``numerics.engine`` use the same rule. Label noise
(label-noise SGD) is drawn per epoch by ``numerics.schedule``.
"""
from __future__ import annotations

import torch

from sharpgen.numerics.validate import check_step


class SAM(torch.optim.Optimizer):
    """Two-step SAM around ``base_optimizer`` (a ``torch.optim.Optimizer`` class).

    Usage per step (closure-free, like the two-step SAM of davda54/sam)::

        loss(model(xb), yb).backward(); opt.first_step(zero_grad=True)
        loss(model(xb), yb).backward(); opt.second_step(zero_grad=True)

    or ``opt.step(closure)`` with a closure that zeroes, evaluates and
    backpropagates the loss. Weight decay, if any, belongs to the base
    optimizer: it acts in the descent step only.

    >>> w = torch.nn.Parameter(torch.tensor([3.0, 4.0], dtype=torch.float64))
    >>> opt = SAM([w], rho=0.5, lr=0.1)
    >>> (w ** 2).sum().backward(); opt.first_step(zero_grad=True)
    >>> w.detach().tolist()          # 3,4 + 0.5 * (6,8)/10
    [3.3, 4.4]
    >>> (w ** 2).sum().backward(); opt.second_step(zero_grad=True)
    >>> [round(v, 12) for v in w.detach().tolist()]   # 3,4 - 0.1 * (6.6, 8.8)
    [2.34, 3.12]
    """

    def __init__(self, params, base_optimizer=torch.optim.SGD, *, rho: float = 0.05, **base_kwargs):
        rho = check_step("rho", rho)
        super().__init__(params, dict(rho=rho, **base_kwargs))
        self.base_optimizer = base_optimizer(self.param_groups, **base_kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)

    @torch.no_grad()
    def grad_norm(self) -> torch.Tensor:
        """Euclidean norm of the gradient over every parameter of every group."""
        grads = [p.grad for g in self.param_groups for p in g["params"] if p.grad is not None]
        if not grads:
            return torch.zeros(())
        return torch.sqrt(sum((gr * gr).sum() for gr in grads))

    @torch.no_grad()
    def first_step(self, zero_grad: bool = False) -> None:
        """Ascend: θ ← θ + ρ g/||g|| (nothing when ||g|| = 0); remembers the offset."""
        norm = self.grad_norm()
        for group in self.param_groups:
            scale = group["rho"] / norm if float(norm) > 0 else 0.0
            for p in group["params"]:
                if p.grad is None:
                    continue
                e = p.grad * scale
                p.add_(e)
                self.state[p]["e"] = e
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def second_step(self, zero_grad: bool = False) -> None:
        """Return to θ and take the base optimizer's step with the gradient at θ + e."""
        for group in self.param_groups:
            for p in group["params"]:
                e = self.state[p].pop("e", None)
                if e is not None:
                    p.sub_(e)
        self.base_optimizer.step()
        if zero_grad:
            self.zero_grad()

    def step(self, closure=None):
        """Both steps; ``closure`` must zero the gradients, compute and backpropagate the loss."""
        if closure is None:
            raise ValueError("closure: SAM.step needs a closure that recomputes the loss (or call first_step/second_step)")
        closure = torch.enable_grad()(closure)
        loss = closure()
        self.first_step(zero_grad=True)
        closure()
        self.second_step()
        return loss


def make_optimizer(params, *, lr: float, rho: float = 0.0, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """SAM over SGD when ``rho > 0``; plain (S)GD with weight decay when ``rho = 0``.

    >>> w = torch.nn.Parameter(torch.ones(2))
    >>> type(make_optimizer([w], lr=0.1)).__name__, type(make_optimizer([w], lr=0.1, rho=0.05)).__name__
    ('SGD', 'SAM')
    """
    for name, value in (("lr", lr), ("rho", rho), ("weight_decay", weight_decay)):
        check_step(name, value)
    if rho > 0:
        return SAM(params, torch.optim.SGD, rho=rho, lr=lr, weight_decay=weight_decay)
    return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)


@torch.no_grad()
def project_first_layer_(W1: torch.Tensor, b1: torch.Tensor | None, radius: float) -> float:
    """Scale ``[W1 | b1]`` in place onto the Frobenius ball of ``radius`` (Figure 6b).

    Returns the norm before projection. Inside the ball nothing changes.
    ``radius`` > 0 is not checked here (it runs after every step): the
    config's ``project_radius`` is validated once, by ``TrainConfig``.

    >>> W1, b1 = torch.tensor([[3.0]], dtype=torch.float64), torch.tensor([4.0], dtype=torch.float64)
    >>> project_first_layer_(W1, b1, 1.0), round(W1.item(), 12), round(b1.item(), 12)
    (5.0, 0.6, 0.8)
    """
    sq = (W1 * W1).sum()
    if b1 is not None:
        sq = sq + (b1 * b1).sum()
    norm = float(torch.sqrt(sq))
    if norm > radius:
        scale = radius / norm
        W1.mul_(scale)
        if b1 is not None:
            b1.mul_(scale)
    return norm
