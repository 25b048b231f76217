"""The search pipeline of ``sharpgen search`` (and the ledger): flattest, compare with theory, adversary,
certify.

``search(spec, progress)`` runs ``numerics.search.flattest`` on the spec's training set, compares its
best Tr with the theory's minimum (``verify.theory_min.theory_min_for``: F3-F6 of docs/paper.md §3)
and raises ``BelowMinimum`` when the search is below it by more than ``BELOW`` (relative): a float64
interpolator sharper-than-possible is a bug in theory or in numerics. For ``kind="adversary"`` it
then maximizes the target over {interpolating, Tr <= bound}, bound = minimum · (1 + κ), the minimum
being the theory's when it is exact, else the flattest search's own best, starting from flattest's
end points inside the bound. The best net is certified (``verify.search.certify``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from sharpgen.numerics.nets.data import Dataset, cube, xor_labels
from sharpgen.numerics.runs.config import TrainConfig
from sharpgen.numerics.runs.limits import SEED_MAX
from sharpgen.numerics.search import Problem, Schedule, SearchResult, adversary, flattest, targets
from sharpgen.numerics.search.violation import inside
from sharpgen.numerics.validate import DEVICES, check_choice, check_int, check_number
from sharpgen.verify.search.certify import Certificate, certify
from sharpgen.verify.theory_min import TheoryMinimum, theory_min_for

KINDS = ("flattest", "adversary")
TARGETS = ("population_error", "population_mse", "sup_error", "off_coordinates", "path_norm", "output_mass")
BELOW = 1e-9  # relative: further below the theory minimum than float64 round-off explains
CUBE_MAX_D = 12  # evaluate on the whole cube up to 2^12 points, else on samples
SAMPLES = 4096


class BelowMinimum(RuntimeError):
    """The search found an interpolator with Tr below the theory's minimum: a bug in theory or numerics."""


class SearchFailed(RuntimeError):
    """No start ended feasible (or none inside the adversary's bound): nothing to report."""


MAX_STARTS = 4096  # starts run batched: beyond this a search is many searches
MAX_ITERATIONS = 10 ** 6  # 2500 times the default schedule; a descent step costs milliseconds
MAX_ENTRIES = 2 ** 28  # numbers held by the batched Jacobian: 2 GiB of float64


@dataclass(frozen=True)
class SearchSpec:
    """What to search: the network, the training set (X (n, d), Y (n,)), the kind, the target, κ, and
    the search's size (starts, seed, iterations of each descent)."""

    arch: str
    width: int
    X: torch.Tensor
    Y: torch.Tensor
    depth: int = 2
    activation: str = "relu"
    eps: float | None = None
    loss: str = "mse"
    p: float | None = None
    kind: str = "flattest"
    target: str | None = None
    kappa: float = 0.01
    starts: int = 16
    seed: int = 0
    iterations: int = 400
    device: str = "cpu"

    def __post_init__(self):
        check_choice("kind", self.kind, KINDS)
        check_choice("device", self.device, DEVICES)
        if self.kind == "adversary" or self.target is not None:
            check_choice("target", self.target, TARGETS)
        if self.target == "output_mass" and self.arch != "sim_bn":
            raise ValueError(f"target: output_mass needs arch sim_bn (it reads gamma), got arch {self.arch!r}")
        check_number("kappa", self.kappa, ge=0)
        check_int("starts", self.starts, 1, MAX_STARTS)
        check_int("seed", self.seed, 0, SEED_MAX)
        check_int("iterations", self.iterations, 1, MAX_ITERATIONS)
        check_int("width", self.width, 1, MAX_ENTRIES)

    def problem(self) -> Problem:
        """The ``Problem``; ValueError when the batched Jacobian (starts × n × parameters numbers) would not
        fit ``MAX_ENTRIES``, naming what to lower."""
        problem = Problem(self.arch, self.X, self.Y, self.width, depth=self.depth, activation=self.activation,
                          eps=self.eps, loss=self.loss, p=self.p, device=self.device)
        entries = self.starts * len(self.Y) * problem.size
        if entries > MAX_ENTRIES:
            raise ValueError(f"starts: the search holds starts × n × parameters = {self.starts} × {len(self.Y)} × "
                             f"{problem.size} = {entries:.3g} numbers at once, more than {MAX_ENTRIES:.3g} (2 GiB "
                             f"of float64); lower --starts, --width, n or d")
        return problem


@dataclass
class SearchOutcome:
    """Everything ``store.save`` needs: the result reported (flattest's, or the adversary's), flattest's,
    the theory minimum, the bound and target value (adversary), the certificate and the timing."""

    spec: SearchSpec
    result: SearchResult
    flat: SearchResult
    theory: TheoryMinimum
    certificate: Certificate
    bound: float | None = None
    target_value: float | None = None
    timing: dict = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """(Tr − theory minimum) / |theory minimum| of the reported net (None without a minimum)."""
        t = self.theory.value
        return None if not t else (self.result.best_trace - t) / abs(t)


def evaluation_points(d: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Points for the error targets, labelled x[1] x[2] (P_xor): the whole cube {-1, 1}^d when
    d <= 12, else 4096 uniform cube points drawn with ``seed``.

    >>> X, Y = evaluation_points(3)
    >>> X.shape, Y.abs().sum().item(), Y.sum().item()   # labels ±1, balanced on the cube
    (torch.Size([8, 3]), 8.0, 0.0)
    """
    check_int("d", d, 2)
    if d <= CUBE_MAX_D:
        X = cube(d)
    else:
        gen = torch.Generator().manual_seed(seed)
        X = torch.randint(0, 2, (SAMPLES, d), generator=gen).to(torch.float64) * 2 - 1
    return X, xor_labels(X)


def make_target(name: str, d: int, seed: int = 0) -> targets.Target:
    """The ``numerics.search.targets`` target called ``name`` (error targets on ``evaluation_points``)."""
    check_choice("target", name, TARGETS)
    if name in ("population_error", "population_mse", "sup_error"):
        return getattr(targets, name)(*evaluation_points(d, seed))
    return getattr(targets, name)()


def theory_minimum(spec: SearchSpec) -> TheoryMinimum:
    """``verify.theory_min.theory_min_for`` on the spec's own training set."""
    n, d = spec.X.shape
    # data="ball": the points are read as the decimals they print as; the minimum depends on X, Y only
    config = TrainConfig(arch=spec.arch, d=d, n=n, width=spec.width, depth=spec.depth, activation=spec.activation,
                         eps=spec.eps, loss=spec.loss, p=spec.p, data="ball")
    empty = torch.empty(0, d, dtype=torch.float64)
    return theory_min_for(config, Dataset(spec.X, spec.Y, empty, torch.empty(0, dtype=torch.float64)))


def check_not_below(trace: float, theory: TheoryMinimum) -> None:
    """``BelowMinimum`` when ``trace`` < theory value (exact or a lower bound) by more than ``BELOW``.

    >>> check_not_below(8.0 - 1e-12, TheoryMinimum(8.0, True, "F3"))
    >>> check_not_below(7.9, TheoryMinimum(8.0, True, "F3"))
    Traceback (most recent call last):
    ...
    sharpgen.verify.search.run.BelowMinimum: search found Tr = 7.9 below the theory minimum 8 (F3) ...
    """
    check_number("trace", trace)
    if theory.value is not None and trace < theory.value - BELOW * abs(theory.value):
        raise BelowMinimum(f"search found Tr = {trace:.12g} below the theory minimum {theory.value:.12g} "
                           f"({theory.source}) by {(theory.value - trace) / abs(theory.value):.3g} (relative): "
                           f"a bug in theory or numerics")


def search(spec: SearchSpec, progress: Callable | None = None) -> SearchOutcome:
    """Run the pipeline of the module docstring; ``progress(stage, k, K)`` per iteration, stage
    "flattest" or "adversary". Raises ``BelowMinimum`` or ``SearchFailed``."""
    if not isinstance(spec, SearchSpec):
        raise ValueError(f"spec: expected a SearchSpec, got {type(spec).__name__}")
    problem, schedule = spec.problem(), Schedule(iterations=spec.iterations)
    stage = lambda name: None if progress is None else (lambda k, K: progress(name, k, K))
    t0 = time.monotonic()
    theory = theory_minimum(spec)
    t1 = time.monotonic()
    flat = flattest(problem, starts=spec.starts, seed=spec.seed, schedule=schedule, progress=stage("flattest"))
    t2 = time.monotonic()
    if flat.best is None:
        raise SearchFailed(f"no start of {spec.starts} ended feasible (max |f(x_i) - t_i| <= 1e-10); "
                           f"try more starts or a larger width")
    check_not_below(flat.best_trace, theory)
    result, bound, value = flat, None, None
    if spec.kind == "adversary":
        base = theory.value if theory.exact and theory.value else flat.best_trace
        bound = base * (1 + spec.kappa)
        result = adversary(problem, make_target(spec.target, problem.X.shape[1], spec.seed), bound,
                           theta0=inside(problem, flat, bound), schedule=schedule, progress=stage("adversary"))
        if result.best is None:
            raise SearchFailed(f"no flattest end point lies inside Tr <= {bound:.10g} (best {flat.best_trace:.10g}); "
                               f"raise --kappa or --iterations")
        check_not_below(result.best_trace, theory)
        value = float(result.values[result.best])
    t3 = time.monotonic()
    certificate = certify(problem, result.best_theta)
    timing = {"theory_s": t1 - t0, "flattest_s": t2 - t1, "adversary_s": t3 - t2,
              "certify_s": time.monotonic() - t3}
    return SearchOutcome(spec, result, flat, theory, certificate, bound, value, timing)
