"""Optimizers of the paper's experiments (docs/paper.md §6, Appendix B of Wen, Li & Ma 2023).

* :class:`SAM` — sharpness-aware minimization (Foret et al. 2021) as a wrapper
  around a base ``torch.optim`` optimizer, in two steps: ``first_step`` moves
  to ``θ + ρ g/||g||`` (``g`` the gradient of the current mini-batch loss, the
  norm over all parameters together), ``second_step`` returns to ``θ`` and lets
  the base optimizer step with the gradient taken at the perturbed point. With
  batch size 1 this is the paper's 1-SAM, with the full batch n-SAM.
  ``adaptive=True`` gives ASAM's ascent ``ρ T² g/||T g||`` (``numerics.optim.asam``).
  The two steps must alternate, and a non-finite gradient stops ``first_step``
  (:class:`NonFiniteGradient`) before any parameter moves.
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

import math

import torch

from sharpgen.numerics.engine.diverged import TrainingDiverged
from sharpgen.numerics.validate import check_number, check_step


class NonFiniteGradient(TrainingDiverged):
    """``SAM.first_step`` met a NaN or infinite gradient; the parameters were left unchanged.

    A ``TrainingDiverged``, so the trainer records such a run as diverged.

    >>> issubclass(NonFiniteGradient, RuntimeError)
    True
    """


def check_group(group: dict, where: str) -> None:
    """Refuse a parameter group whose ``rho``, ``lr``, ``weight_decay`` or ``eta`` is out of range
    (``check_step``; ``eta`` >= 0) or that has no ``lr``; ``where`` names the group in the message.

    >>> check_group({"params": [], "rho": 0.05}, "param_groups[1].")
    Traceback (most recent call last):
    ...
    ValueError: param_groups[1].lr: missing; pass lr to SAM or give this group its own (a finite number > 0)
    """
    if "lr" not in group:
        raise ValueError(f"{where}lr: missing; pass lr to SAM or give this group its own (a finite number > 0)")
    for name in ("rho", "lr", "weight_decay"):
        if name in group:
            check_step(name, group[name], where)
    check_number(where + "eta", group.get("eta", 0.0), ge=0)


class SAM(torch.optim.Optimizer):
    """Two-step SAM around ``base_optimizer`` (a ``torch.optim.Optimizer`` class), the signature of davda54/sam.

    ``first_step`` moves to θ + e with e = ρ T² g / ‖T g‖ (``g`` the gradient of the current
    mini-batch loss, the norm over all parameters together); ``second_step`` returns to θ and lets
    the base optimizer step with the gradient taken at θ + e. ``adaptive=False``: T = 1, Foret et
    al.'s SAM. ``adaptive=True``: T = diag(|θ| + η) elementwise, ASAM (Kwon et al. 2021); ``eta``
    defaults to 0, davda54/sam's T = |θ|, so code ported from there gives its numbers (that
    repository suggests a larger ρ, e.g. 2, for adaptive). :class:`ASAM` is this with the
    reference implementation's η = 0.01 (which keeps T invertible at θ_i = 0). A parameter group
    may set its own ``rho``, ``adaptive`` and ``eta``; every group needs an ``lr`` (from the
    keyword arguments or its own), checked like the constructor's arguments. Weight decay, if
    any, belongs to the base optimizer: it acts in the descent step only.

    Usage per step (closure-free)::

        loss(model(xb), yb).backward(); opt.first_step(zero_grad=True)
        loss(model(xb), yb).backward(); opt.second_step(zero_grad=True)

    or ``opt.step(closure)`` with a closure that zeroes, evaluates and backpropagates the loss.
    The two steps alternate: a second ``first_step`` before ``second_step``, or a ``second_step``
    without ``first_step``, raises RuntimeError. A NaN or infinite gradient in ``first_step``
    raises :class:`NonFiniteGradient` before anything moves.

    >>> w = torch.nn.Parameter(torch.tensor([3.0, 4.0], dtype=torch.float64))
    >>> opt = SAM([w], torch.optim.SGD, 0.5, lr=0.1)
    >>> (w ** 2).sum().backward(); opt.first_step(zero_grad=True)
    >>> w.detach().tolist()          # 3,4 + 0.5 * (6,8)/10
    [3.3, 4.4]
    >>> (w ** 2).sum().backward(); opt.second_step(zero_grad=True)
    >>> [round(v, 12) for v in w.detach().tolist()]   # 3,4 - 0.1 * (6.6, 8.8)
    [2.34, 3.12]
    """

    def __init__(self, params, base_optimizer=torch.optim.SGD, rho: float = 0.05, adaptive: bool = False, *,
                 eta: float = 0.0, **kwargs):
        rho = check_step("rho", rho)
        if not isinstance(adaptive, bool):
            raise ValueError(f"adaptive: expected True or False, got {adaptive!r}")
        eta = check_number("eta", eta, ge=0)
        for name in ("lr", "weight_decay"):
            if name in kwargs:
                check_step(name, kwargs[name])
        self.perturbed = False
        super().__init__(params, dict(rho=rho, adaptive=adaptive, eta=eta, **kwargs))
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)
        if "lr" not in kwargs:  # the base optimizer's default lr must not reach a group added later
            self.defaults.pop("lr", None)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group, filled with the defaults and checked like the constructor's arguments (:func:`check_group`)."""
        super().add_param_group(param_group)
        check_group(self.param_groups[-1], f"param_groups[{len(self.param_groups) - 1}].")

    @torch.no_grad()
    def scaled_gradients(self) -> list[tuple[torch.Tensor, torch.Tensor | None, torch.Tensor, dict]]:
        """(p, t, T g, group) for every parameter with a gradient: t = |p| + η in an adaptive group, else None (T = 1)."""
        out = []
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    t = p.abs() + group["eta"] if group["adaptive"] else None
                    out.append((p, t, p.grad if t is None else t * p.grad, group))
        return out

    @torch.no_grad()
    def grad_norm(self) -> torch.Tensor:
        """‖T g‖ over every parameter of every group (‖g‖ when no group is adaptive)."""
        return norm_of([tg for _, _, tg, _ in self.scaled_gradients()])

    @torch.no_grad()
    def first_step(self, zero_grad: bool = False) -> None:
        """Ascend: θ ← θ + ρ T² g/‖T g‖ (nothing when ‖T g‖ = 0); remembers the offset.

        T is read at θ for every parameter before any of them moves.
        """
        if self.perturbed:
            raise RuntimeError("first_step: called twice; call second_step() to return to θ before the next ascent")
        for i, group in enumerate(self.param_groups):
            check_step("rho", group["rho"], f"param_groups[{i}].")
        scaled = self.scaled_gradients()
        norm = norm_of([tg for _, _, tg, _ in scaled])
        value = float(norm)
        if not math.isfinite(value):
            if not all(bool(torch.isfinite(p.grad).all()) for p, _, _, _ in scaled):
                raise NonFiniteGradient("grad: NaN or inf in the gradient at first_step; parameters left unchanged",
                                        value="gradient")
            norm = rescaled_norm_of([tg for _, _, tg, _ in scaled])
            if not math.isfinite(float(norm)):
                raise NonFiniteGradient("grad: T g overflows at first_step; parameters left unchanged",
                                        value="gradient")
        offsets = []
        for p, t, tg, group in scaled:
            scale = group["rho"] / norm if value > 0 else 0.0
            offsets.append((p, (tg if t is None else t * tg) * scale))
        for p, e in offsets:
            p.add_(e)
            self.state[p]["e"] = e
        self.perturbed = True
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def second_step(self, zero_grad: bool = False) -> None:
        """Return to θ and take the base optimizer's step with the gradient at θ + e."""
        if not self.perturbed:
            raise RuntimeError("second_step: called without first_step; call first_step() first (or use step(closure))")
        for group in self.param_groups:
            for p in group["params"]:
                e = self.state[p].pop("e", None)
                if e is not None:
                    p.sub_(e)
        self.perturbed = False
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


def norm_of(tensors: list[torch.Tensor]) -> torch.Tensor:
    """Euclidean norm of all entries of ``tensors`` together, in their dtype (0 for none).

    >>> norm_of([torch.tensor([3.0]), torch.tensor([4.0])])
    tensor(5.)
    """
    if not tensors:
        return torch.zeros(())
    return torch.sqrt(sum((t * t).sum() for t in tensors))


def rescaled_norm_of(tensors: list[torch.Tensor]) -> torch.Tensor:
    """:func:`norm_of` computed as m ‖x/m‖ with m = max |x|, for finite entries whose squares overflow.

    >>> rescaled_norm_of([torch.tensor([3e30]), torch.tensor([4e30])])   # norm_of gives inf in float32
    tensor(5.0000e+30)
    """
    m = max(t.abs().max() for t in tensors)
    return m * norm_of([t / m for t in tensors]) if float(m) > 0 else norm_of(tensors)


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
    ``radius`` must be a finite number > 0 (a negative one would flip the layer's sign).

    >>> W1, b1 = torch.tensor([[3.0]], dtype=torch.float64), torch.tensor([4.0], dtype=torch.float64)
    >>> project_first_layer_(W1, b1, 1.0), round(W1.item(), 12), round(b1.item(), 12)
    (5.0, 0.6, 0.8)
    """
    if not (isinstance(radius, (int, float)) and math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius: expected a finite number > 0, got {radius!r}")
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
