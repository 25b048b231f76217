"""``adversary``: within {interpolating, Tr ∇²L <= bound}, the net that violates a claim most.

A "for all flattest" statement (Thm 3.1, Thm 3.2, Lemma 3.1, ...) says every net in the near-flattest
set {θ : f_θ(x_i) = t_i, Tr ∇²L(θ) <= bound} has some property; the adversary maximizes a ``Target``
(the statement's conclusion as a number) over that set. It starts from ``flattest``'s end points
that lie inside the set (it is told nothing else about where violations are) and descends, along
the interpolating set (``method.descend``),

    −surrogate_T(θ) + μ max(0, Tr(θ) − b)²,   b = bound − margin,

vetoing every step whose exact Tr leaves the bound (the smoothed Tr_T, above Tr where neurons are
near switching on, would hold starts back from the bound they may reach; the veto sees every jump).
End points whose pre-activations come within 1e-6 of 0 are replaced by their exact-zero copy
(``kinks.exact_zeros``) where that stays feasible and inside the bound, so that no reported trace
depends on float64 rounding at a kink. The reported value is the target's exact
``measure`` of each end point; the best is the largest among the feasible ones. ``bound`` is the
caller's (κ relative to an infimum, fixed from the statement before the search runs).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch.func import vmap

from sharpgen.numerics.search.minimum import SearchResult, evaluate, flattest
from sharpgen.numerics.search.kinks import exact_zeros
from sharpgen.numerics.search.method import Schedule, descend
from sharpgen.numerics.search.problem import Problem
from sharpgen.numerics.search.targets import Target
from sharpgen.numerics.validate import check_int, check_number

PENALTY = 1e3


def inside(problem: Problem, result: SearchResult, bound: float) -> torch.Tensor:
    """The feasible end points of ``result`` with exact Tr <= ``bound`` (k, P)."""
    keep = result.feasible & (result.traces <= bound)
    return result.theta[keep]


def _exact_zeros_inside(problem: Problem, theta: torch.Tensor, bound: float) -> torch.Tensor:
    # a pre-activation left at ~1e-17 counts as off in float64 and may be on in exact arithmetic, so the
    # trace would hang on rounding: where the exact-zero copy (kinks.exact_zeros) is feasible and inside the
    # bound, report it instead
    cand = exact_zeros(problem, theta)
    traces, _, feasible = evaluate(problem, cand)
    take = feasible & (traces <= bound)
    return torch.where(take[:, None], cand, theta)


def adversary(problem: Problem, target: Target, bound: float, *, starts: int = 16, seed: int = 0,
              theta0: torch.Tensor | None = None, schedule: Schedule = Schedule(),
              flat_schedule: Schedule = Schedule(), progress: Callable | None = None) -> SearchResult:
    """Maximize ``target`` over interpolating nets with Tr ∇²L <= ``bound``.

    Starts: ``theta0`` if given, else the end points of ``flattest(problem, starts=starts, seed=seed)``
    inside the bound. ``result.values`` holds ``target.measure`` per end point (NaN where the end point
    is infeasible or above the bound) and ``result.best`` the largest; ``best`` is None when no start
    lies inside the set (then the bound is below what ``flattest`` reached).

    Examples
    ========
    >>> import torch
    >>> from sharpgen.numerics.nets.data import cube, xor_labels
    >>> from sharpgen.numerics.search.targets import population_error
    >>> X = cube(3)
    >>> prob = Problem("bias", X[:4], xor_labels(X[:4]), width=6)
    >>> res = adversary(prob, population_error(X[4:], xor_labels(X[4:])), bound=8 * 1.01, starts=4,
    ...                 schedule=Schedule(iterations=40), flat_schedule=Schedule(iterations=80))
    >>> res.best is not None and res.best_trace <= 8 * 1.01 and res.values[res.best].item() >= 0.5
    True
    """
    check_number("bound", bound, gt=0)
    check_int("starts", starts, 1)
    if theta0 is None:
        theta0 = inside(problem, flattest(problem, starts=starts, seed=seed, schedule=flat_schedule), bound)
    if theta0.shape[0] == 0:
        empty = torch.empty(0, problem.size, dtype=torch.float64, device=problem.device)
        none = torch.empty(0, dtype=torch.float64, device=problem.device)
        return SearchResult(problem, empty, none, none, torch.empty(0, dtype=torch.bool, device=problem.device),
                            None, none)
    b = bound - 1e-6 * abs(bound)
    def objective(theta, T):
        over = torch.clamp(problem.sharpness(theta) - b, min=0) ** 2
        return -vmap(lambda t: target.surrogate(problem, t, T))(theta) + PENALTY * over

    def accept(theta):
        return problem.sharpness(theta) <= bound

    def normals(theta):
        th = theta.clone().requires_grad_(True)
        tr = problem.sharpness(th)
        g, = torch.autograd.grad(tr.sum(), th)
        near = (tr.detach() >= b - 1e-3 * abs(b))[:, None]  # on the bound: move along its level set
        return torch.where(near, g, torch.zeros_like(g))[:, None, :]

    theta = descend(problem, theta0, objective, schedule=schedule, accept=accept, normals=normals, progress=progress)
    theta = _exact_zeros_inside(problem, theta, bound)
    traces, res, feasible = evaluate(problem, theta)
    feasible &= traces <= bound
    values = torch.tensor([target.measure(problem, t) if ok else float("nan") for t, ok in zip(theta, feasible)],
                          dtype=torch.float64, device=problem.device)
    best = int(torch.where(feasible, values, -torch.inf).argmax()) if bool(feasible.any()) else None
    return SearchResult(problem, theta, traces, res, feasible, best, values)
