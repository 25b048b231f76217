"""``flattest``: the least Tr ∇²L over interpolating nets, from many random starts at once.

A numerical witness of a minimum sharpness (F3-F6 of docs/paper.md §3): every start is a float64
net that interpolates to ``FEASIBLE`` = 1e-10 (``method.restore``), so its Tr is an upper bound on
the infimum over interpolators. The best start, the spread over all feasible starts and every end
point are returned; comparing with an exact value (and failing loudly below it) is the caller's
job, in ``sharpgen.verify.search``, which has the theory.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import torch

from sharpgen.numerics.search.method import FEASIBLE, Schedule, descend, residual_norms, restore, spread
from sharpgen.numerics.search.kinks import kink_phase_fits, settle
from sharpgen.numerics.search.problem import Problem
from sharpgen.numerics.validate import check_int


@dataclass
class SearchResult:
    """End points of a search: θ (R, P), their Tr ∇²L and max |f(x_i) − t_i| (R,), which starts are feasible
    (residual <= 1e-10, finite), and the index of the best one (``None`` if no start is feasible).

    ``values`` holds the adversary's measured violation per start (empty for ``flattest``)."""

    problem: Problem
    theta: torch.Tensor
    traces: torch.Tensor
    residuals: torch.Tensor
    feasible: torch.Tensor
    best: int | None
    values: torch.Tensor | None = None

    @property
    def best_theta(self) -> torch.Tensor:
        if self.best is None:
            raise ValueError("no start ended feasible (max |f(x_i) - t_i| <= 1e-10); run more starts or rounds")
        return self.theta[self.best]

    @property
    def best_trace(self) -> float:
        return float(self.traces[self.best]) if self.best is not None else float("nan")

    def spread(self) -> dict:
        """min / median / max of Tr over the feasible starts, and how many there are."""
        return spread(torch.where(self.feasible, self.traces, torch.nan))


def evaluate(problem: Problem, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(Tr, residual, feasible) per start."""
    with torch.no_grad():
        traces, res = problem.sharpness(theta), residual_norms(problem, theta)
    return traces, res, torch.isfinite(theta).all(dim=1) & torch.isfinite(traces) & (res <= FEASIBLE)


def feasible_starts(problem: Problem, count: int, seed: int = 0, *, draws: int = 4) -> torch.Tensor:
    """``count`` random starts (``Problem.starts``) projected onto the interpolating set, drawn from up to
    ``draws`` × ``count`` candidates: a candidate on which some training point has no active neuron cannot
    be projected (f there does not move) and is replaced by the next; if too few succeed the rest are
    returned infeasible, and ``flattest`` reports them so."""
    candidates = restore(problem, problem.starts(draws * count, seed))
    ok = residual_norms(problem, candidates) <= FEASIBLE
    order = torch.cat([ok.nonzero()[:, 0], (~ok).nonzero()[:, 0]])
    return candidates[order[:count]]


def flattest(problem: Problem, *, starts: int = 16, seed: int = 0, schedule: Schedule = Schedule(),
             theta0: torch.Tensor | None = None, kinks: bool = True, progress: Callable | None = None) -> SearchResult:
    """Minimize Tr ∇²L over {f(x_i) = t_i} from ``starts`` random starts (``Problem.starts``) or the given
    ``theta0`` (R, P), by ``method.descend`` on the smoothed and then the exact Tr; then, for relu nets and
    unless ``kinks`` is False, the kink phase of ``kinks.settle`` (as many iterations as the exact rounds),
    which lets a start settle where pre-activations vanish on training points (where its constraint
    Jacobian fits: ``kinks.kink_phase_fits``, true at the ledger's sizes, false at the paper's).

    Examples
    ========
    >>> import torch
    >>> from sharpgen.numerics.nets.data import cube, xor_labels
    >>> X = cube(2)
    >>> res = flattest(Problem("nobias", X, xor_labels(X), width=4), starts=4, schedule=Schedule(iterations=60))
    >>> res.best is not None and res.best_trace >= 4 * 2 ** 0.5 - 1e-9   # F3: Tr >= 4 sqrt(d)
    True
    """
    check_int("starts", starts, 1)
    theta = feasible_starts(problem, starts, seed) if theta0 is None else theta0
    theta = descend(problem, theta, problem.sharpness, schedule=schedule, progress=progress)
    if kinks and problem.activation == "relu" and kink_phase_fits(problem):
        phase = replace(schedule, iterations=max(1, int(round(schedule.exact_rounds * schedule.iterations))),
                        exact_rounds=1.0)
        theta = settle(problem, theta, phase)
    traces, res, feasible = evaluate(problem, theta)
    best = int(torch.where(feasible, traces, torch.inf).argmin()) if bool(feasible.any()) else None
    return SearchResult(problem, theta, traces, res, feasible, best)
