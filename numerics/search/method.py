"""The constrained method both searches use: descent along the interpolating set, every iterate on it.

For starts θ (R, P) and constraints c(θ) = f_θ(x_i) − t_i = 0 (R, n), each iteration

1. takes the gradient g of the round's objective φ_T (a smoothed Tr ∇²L, or the adversary's
   barrier objective; T the temperature of ``Problem.sharpness``),
2. projects it on the tangent space of the constraints, d = −(g − Jᵀ (J Jᵀ)⁺ J g), J = ∂c/∂θ,
3. steps θ + α d and returns to the constraint set by Gauss-Newton projections θ ← θ − Jᵀ (J Jᵀ)⁺ c
   (``restore``: the least change that zeroes the linearised residual), and
4. keeps the step only where the start is still feasible (max |c| ≤ ``FEASIBLE``), ``accept`` allows
   it (the adversary: exact Tr within its bound) and φ_T decreased (Armijo); α grows by 1.5 on success
   and shrinks by 3 otherwise, per start.

T falls geometrically (``Schedule.smoothing``) and the last ``exact_rounds`` of the iterations use the
exact Tr: the exact relu' = 1[z > 0] has zero derivative, so only the smoothed one lets a start see
that switching a neuron off a training point lowers Tr. Starts the projection cannot make feasible
(a training point no neuron fires on) stay where they are and are reported by their residual.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

from sharpgen.numerics.search.problem import Problem
from sharpgen.numerics.validate import check_int, check_number

FEASIBLE = 1e-10  # max |f(x_i) − t_i| a reported net must reach (issue #19's tolerance)


@dataclass(frozen=True)
class Schedule:
    """How long the descent runs and how it smooths: ``iterations`` steps from step size ``step``, the
    temperature T from ``smoothing[0]`` to ``smoothing[1]`` (geometric), then the exact Tr for the last
    ``exact_rounds`` fraction of the iterations.

    >>> s = Schedule(iterations=10)
    >>> s.smoothing_at(0), s.smoothing_at(9)
    (1.0, None)
    """

    iterations: int = 400
    step: float = 0.05
    smoothing: tuple[float, float] = (1.0, 1e-3)
    exact_rounds: float = 0.2

    def __post_init__(self):
        check_int("iterations", self.iterations, 1)
        check_number("step", self.step, gt=0)
        if len(self.smoothing) != 2 or not all(isinstance(t, (int, float)) and t > 0 for t in self.smoothing):
            raise ValueError(f"smoothing: expected two temperatures > 0 (first, last), got {self.smoothing!r}")
        check_number("exact_rounds", self.exact_rounds, ge=0, lt=1.0000001)

    def smoothing_at(self, k: int) -> float | None:
        """T at iteration ``k`` (``None``: the exact Tr)."""
        smooth = self.iterations - int(round(self.exact_rounds * self.iterations))
        if k >= smooth:
            return None
        first, last = self.smoothing
        return first * (last / first) ** (k / max(1, smooth - 1))


def residual_norms(problem: Problem, theta: torch.Tensor, extra=None, rows=None) -> torch.Tensor:
    """max_i |f(x_i) − t_i| per start (R,), and of ``extra``'s residuals too when given (``kinks.Kinks``)."""
    with torch.no_grad():
        worst = problem.residuals(theta).abs().amax(dim=1)
        if extra is not None:
            rows = torch.arange(len(theta), device=theta.device) if rows is None else rows
            worst = torch.maximum(worst, extra.residuals(theta, rows).abs().amax(dim=1))
        return worst


def _constraints(problem, theta, extra, rows):
    c, J = problem.residuals(theta), problem.jacobian(theta)
    if extra is None:
        return c, J
    return torch.cat([c, extra.residuals(theta, rows)], 1), torch.cat([J, extra.jacobian(theta, rows)], 1)


def _gram_solve(J: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
    # (J Jᵀ)⁺ rhs by a Cholesky solve of J Jᵀ + λI, λ = 1e-13 × its largest diagonal: zero rows (constraints
    # not held) get a zero coefficient, and it is ~10x cheaper than the SVD of a pseudo-inverse. λ only damps
    # a projection step; feasibility is still measured exactly.
    G = J @ J.transpose(1, 2)
    lam = 1e-13 * G.diagonal(dim1=1, dim2=2).amax(dim=1).clamp(min=1e-300)
    G = G + lam[:, None, None] * torch.eye(G.shape[1], dtype=G.dtype, device=G.device)
    return torch.cholesky_solve(rhs, torch.linalg.cholesky(G))


def restore(problem: Problem, theta: torch.Tensor, *, tol: float = 1e-12, iters: int = 30, extra=None) -> torch.Tensor:
    """Project each start onto {f(x_i) = t_i} (and ``extra``'s constraints) by Gauss-Newton steps
    θ ← θ − s J⁺ c until max |c| ≤ ``tol``, s the first of 1, 1/2, 1/4, 1/8 that lowers the start's
    residual (none: that start stops there)."""
    theta = theta.detach().clone()
    everyone = torch.arange(len(theta), device=theta.device)
    worst = residual_norms(problem, theta, extra)
    active = torch.isfinite(worst) & (worst > tol)
    for _ in range(iters):
        if not bool(active.any()):
            break
        idx = active.nonzero()[:, 0]
        with torch.no_grad():
            c, J = _constraints(problem, theta[idx], extra, everyone[idx])
            step = (J.transpose(1, 2) @ _gram_solve(J, c[..., None]))[..., 0]
        better = torch.zeros(len(idx), dtype=torch.bool, device=theta.device)
        for scale in (1.0, 0.5, 0.25, 0.125):  # damped where the full step switches neurons on or off
            trial = theta[idx] - scale * step
            new = residual_norms(problem, trial, extra, everyone[idx])
            take = ~better & torch.isfinite(new) & (new < worst[idx])
            theta[idx[take]] = trial[take]
            worst[idx[take]] = new[take]
            better |= take
            if bool(better.all()):
                break
        active[idx[~better]] = False
        active &= worst > tol
    return theta


def tangent(problem: Problem, theta: torch.Tensor, g: torch.Tensor, normals: torch.Tensor | None = None,
            extra=None, rows=None) -> torch.Tensor:
    """g minus its component normal to the constraint set at θ: g − Jᵀ (J Jᵀ)⁺ J g (R, P); ``normals``
    (R, k, P) adds rows to J (active inequality constraints; zero rows where inactive), ``extra`` its
    constraints' Jacobian."""
    with torch.no_grad():
        everyone = torch.arange(len(theta), device=theta.device)
        J = _constraints(problem, theta, extra, everyone if rows is None else rows)[1]
        if normals is not None:
            J = torch.cat([J, normals], dim=1)
        coef = _gram_solve(J, J @ g[..., None])
        return g - (J.transpose(1, 2) @ coef)[..., 0]


def descend(problem: Problem, theta: torch.Tensor, objective: Callable, *, schedule: Schedule = Schedule(),
            accept: Callable | None = None, normals: Callable | None = None, extra=None,
            progress: Callable | None = None) -> torch.Tensor:
    """Minimize ``objective(θ, T) -> (R,)`` along {c(θ) = 0} from the starts θ (R, P) (module docstring).

    ``accept(θ) -> (R,) bool`` vetoes steps (the adversary's exact bound on Tr); ``normals(θ) -> (R, k, P)``
    adds directions the step must be orthogonal to (the gradient of an active bound), so a start on the
    bound slides along it; ``extra`` (``kinks.Kinks``) adds equality constraints that grow as the descent
    goes (updated, and restored onto, every iteration); ``progress(k, K)`` is called every iteration.
    Returns the end points (R, P); infeasible starts are left where they are."""
    theta = restore(problem, theta)
    alpha = torch.full((theta.shape[0],), float(schedule.step), dtype=theta.dtype, device=theta.device)
    for k in range(schedule.iterations):
        T = schedule.smoothing_at(k)
        if extra is not None:
            extra.update(theta)
            moved = restore(problem, theta, tol=1e-13, extra=extra)
            ok = residual_norms(problem, moved, extra) <= FEASIBLE
            theta = torch.where(ok[:, None], moved, theta)
        live = residual_norms(problem, theta, extra) <= FEASIBLE
        if bool(live.any()):
            theta = _step(problem, theta, live, alpha, objective, T, accept, normals, extra)
        if progress is not None:
            progress(k + 1, schedule.iterations)
    return theta


def _step(problem, theta, live, alpha, objective, T, accept, normals, extra):
    idx = live.nonzero()[:, 0]
    th = theta[idx].clone().requires_grad_(True)
    value = objective(th, T)
    g, = torch.autograd.grad(value.sum(), th)
    d = -tangent(problem, th.detach(), g, None if normals is None else normals(th.detach()), extra, idx)
    a = alpha[idx]
    trial = _restore_rows(problem, th.detach() + a[:, None] * d, extra, idx)
    with torch.no_grad():
        ok = (residual_norms(problem, trial, extra, idx) <= FEASIBLE)
        ok &= objective(trial, T) <= value.detach() - 1e-4 * a * (d * d).sum(1)
        ok &= torch.isfinite(trial).all(dim=1)
        if accept is not None:
            ok &= accept(trial)
    theta[idx[ok]] = trial[ok]
    alpha[idx] = torch.where(ok, a * 1.5, a / 3).clamp(1e-6, 10.0)  # the floor lets a start move again once T changes
    return theta


def _restore_rows(problem, theta, extra, rows):
    if extra is None:
        return restore(problem, theta, iters=6)
    return restore(problem, theta, iters=6, extra=_Rows(extra, rows))


class _Rows:
    """``extra`` seen through a subset of the starts (rows of the full batch)."""

    def __init__(self, extra, rows):
        self.extra, self.rows = extra, rows

    def residuals(self, theta, rows):
        return self.extra.residuals(theta, self.rows[rows])

    def jacobian(self, theta, rows):
        return self.extra.jacobian(theta, self.rows[rows])


def spread(values: torch.Tensor) -> dict:
    """min, median and max of the finite values (NaN when none), and how many there are.

    >>> spread(torch.tensor([3.0, 1.0, float("nan"), 2.0]))
    {'min': 1.0, 'median': 2.0, 'max': 3.0, 'count': 3}
    """
    v = values[torch.isfinite(values)]
    if v.numel() == 0:
        return {"min": math.nan, "median": math.nan, "max": math.nan, "count": 0}
    return {"min": float(v.min()), "median": float(v.median()), "max": float(v.max()), "count": int(v.numel())}
