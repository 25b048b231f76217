"""What an adversary maximizes: a function of the net, with a smooth surrogate for the search and the
exact value it reports.

A ``Target`` has ``surrogate(problem, θ, T) -> scalar`` (one flat θ; differentiable; run under
``torch.func.vmap``; T the search's smoothing temperature or None, which the error targets pass to the
forward pass so that a neuron inactive at an evaluation point still feels the pull) and ``measure(problem, θ) -> float`` (the violation as stated, reported and
certified). The surrogate never enters a verdict. The built-in targets are the conclusions of the
paper's "for all flattest" statements (docs/paper.md §5):

- ``population_error``: the zero-one error y f(x) <= 0 on evaluation points (Thm 3.1, Props 4.1, 5.1);
  surrogate: the mean of min(1, −y f), largest once every y f <= −1;
- ``population_mse``: (1/N) Σ (f(x) − y)² on evaluation points (Thm 3.1's conclusion);
- ``sup_error``: max over evaluation points of |f(x) − y| (Thm 3.2's first conclusion); surrogate: a
  soft maximum;
- ``off_coordinates``: max_i ||W1_i[rest]|| / ||W1_i|| over neurons with W1_i ≠ 0, ``rest`` the
  coordinates outside ``keep`` (Thm 3.2's second conclusion);
- ``path_norm``: Σ_j ||W1_j|| |W2_j| (Lemma 3.1);
- ``output_mass``: −||γ ⊙ W2||₁ (Lemma A.1 says it is at most −2 on a Condition-1 set);
- ``custom``: any function of the parameter dict.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from sharpgen.numerics.nets.functional import safe_norm
from sharpgen.numerics.search.problem import Problem

SOFT = 20.0  # inverse temperature of the soft maxima


@dataclass(frozen=True)
class Target:
    """A function of the net to maximize: name, smooth ``surrogate`` and exact ``measure`` (module docstring)."""

    name: str
    surrogate: Callable
    measure: Callable
    description: str = ""


class _Points:
    """Evaluation points (X, Y) in float64, copied once to each device a problem asks for."""

    def __init__(self, X, Y):
        self.cpu = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(Y, dtype=torch.float64).reshape(-1)
        self.copies = {}

    def __len__(self) -> int:
        return len(self.cpu[1])

    def on(self, problem: Problem) -> tuple[torch.Tensor, torch.Tensor]:
        if problem.device not in self.copies:
            self.copies[problem.device] = tuple(t.to(problem.device) for t in self.cpu)
        return self.copies[problem.device]


def population_error(X, Y) -> Target:
    """Zero-one error (y f(x) <= 0 counts, as docs/paper.md §1) on the evaluation points (X, Y).

    >>> t = population_error([[1.0, 1.0]], [1.0])
    >>> t.name
    'population_error'
    """
    points = _Points(X, Y)

    def surrogate(problem: Problem, theta, T=None):
        X, Y = points.on(problem)
        # linear in the margin until a point is wrong by 1, so correct points pull too (a clamp at 0 would not)
        return torch.clamp(-Y * problem.output_of(theta, X, T), max=1).mean()

    def measure(problem: Problem, theta):
        X, Y = points.on(problem)
        with torch.no_grad():
            return float((Y * problem.output_of(theta, X) <= 0).to(torch.float64).mean())

    return Target("population_error", surrogate, measure, f"zero-one error on {len(points)} evaluation points")


def population_mse(X, Y) -> Target:
    """(1/N) Σ (f(x) − y)² on the evaluation points."""
    points = _Points(X, Y)

    def value(problem: Problem, theta, T=None):
        X, Y = points.on(problem)
        return ((problem.output_of(theta, X, T) - Y) ** 2).mean()

    return Target("population_mse", value, lambda p, t: float(value(p, t).detach()),
                  f"mean squared error on {len(points)} evaluation points")


def sup_error(X, Y) -> Target:
    """max |f(x) − y| over the evaluation points."""
    points = _Points(X, Y)

    def surrogate(problem: Problem, theta, T=None):
        X, Y = points.on(problem)
        err = (problem.output_of(theta, X, T) - Y).abs()
        return torch.logsumexp(SOFT * err, dim=0) / SOFT

    def measure(problem: Problem, theta):
        X, Y = points.on(problem)
        with torch.no_grad():
            return float((problem.output_of(theta, X) - Y).abs().max())

    return Target("sup_error", surrogate, measure, f"max |f(x) - y| over {len(points)} evaluation points")


def _ratios(W1: torch.Tensor, keep) -> tuple[torch.Tensor, torch.Tensor]:
    mask = torch.ones(W1.shape[1], dtype=torch.bool, device=W1.device)
    mask[list(keep)] = False
    full = (W1 * W1).sum(dim=1)
    rest = (W1[:, mask] * W1[:, mask]).sum(dim=1)
    return safe_norm(rest) / torch.where(full > 0, safe_norm(full), torch.ones_like(full)), full > 0


def off_coordinates(keep=(0, 1)) -> Target:
    """max_i ||W1_i[rest]|| / ||W1_i|| over the neurons with W1_i ≠ 0 (``keep``: 0-based coordinates)."""
    keep = tuple(int(k) for k in keep)

    def surrogate(problem: Problem, theta, T=None):
        ratio, alive = _ratios(problem.unflatten(theta)["W1"], keep)
        return torch.logsumexp(torch.where(alive, SOFT * ratio, torch.full_like(ratio, -1e9)), dim=0) / SOFT

    def measure(problem: Problem, theta):
        ratio, alive = _ratios(problem.unflatten(theta)["W1"].detach(), keep)
        return float(ratio[alive].max()) if bool(alive.any()) else 0.0

    return Target("off_coordinates", surrogate, measure,
                  f"max over neurons of ||W1_i[rest]|| / ||W1_i||, rest = coordinates outside {list(keep)}")


def path_norm() -> Target:
    """Σ_j ||W1_j|| |W2_j| (the first layer without its bias, as Lemma 3.1's class)."""

    def value(problem: Problem, theta, T=None):
        p = problem.unflatten(theta)
        return (safe_norm((p["W1"] * p["W1"]).sum(dim=1)) * p["W2"].abs()).sum()

    return Target("path_norm", value, lambda p, t: float(value(p, t).detach()), "sum_j ||W1_j|| |W2_j|")


def output_mass() -> Target:
    """−||γ ⊙ W2||₁ (sim_bn): maximizing it looks for an interpolator with a small output mass."""

    def value(problem: Problem, theta, T=None):
        p = problem.unflatten(theta)
        return -(p["gamma"] * p["W2"]).abs().sum()

    return Target("output_mass", value, lambda p, t: float(value(p, t).detach()), "-||gamma * W2||_1")


def custom(name: str, fn: Callable, measure: Callable | None = None) -> Target:
    """A target from ``fn(params: dict) -> scalar tensor`` (differentiable), measured by ``measure``
    (same signature, default ``fn``)."""
    exact = fn if measure is None else measure
    return Target(name, lambda p, t, T=None: fn(p.unflatten(t)),
                  lambda p, t: float(torch.as_tensor(exact(p.unflatten(t.detach())))), "caller's function")
