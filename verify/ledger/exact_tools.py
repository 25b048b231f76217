"""Shared pieces of the exact (sympy) checks: seeded training sets, the reported gap of an exact
comparison (``theory.exact.same``, the one exact equality), and the two
checks most entries run: "this construction interpolates and attains the minimum sharpness" and
"its population error on the cube is exactly this".

Nothing here is a stored result: every number is recomputed from docs/paper.md §3-§4.
"""
from __future__ import annotations

import random

import sympy as sp

from sharpgen.theory import sharpness
from sharpgen.theory.architectures import forward
from sharpgen.theory.data import condition1_set, hypercube, xor_labels
from sharpgen.theory.exact import same
from sharpgen.theory.generalization import population_errors
from sharpgen.theory.minimum import min_sharpness
from sharpgen.verify.ledger.outcome import Outcome, max_finite

EPS_LN = sp.Rational(1, 1000)  # ε of the sim_ln checks: "sufficiently small" (Thm 5.1), = the presets' ε


def training_sets(profile):
    """Seeded random distinct training subsets of {-1,1}^d with xor labels: (d, X, Y) per profile dim.

    >>> from sharpgen.verify.ledger.profiles import PROFILES
    >>> [(d, X.rows) for d, X, _ in training_sets(PROFILES["quick"])]
    [(3, 5), (4, 5)]
    """
    rng = random.Random(profile.seed)
    for d in profile.dims:
        cube = hypercube(d)
        for _ in range(profile.sets_per_dim):
            n = rng.randint(2, min(profile.max_n, 2 ** d))
            rows = sorted(rng.sample(range(cube.rows), n))
            X = sp.Matrix([list(cube.row(i)) for i in rows])
            yield d, X, xor_labels(X)


def population_set(profile):
    """(d, X, Y): 2d seeded random points of {-1,1}^d, d = ``profile.population_d``, xor labels."""
    d = profile.population_d
    rng = random.Random(profile.seed + d)
    rows = sorted(rng.sample(range(2 ** d), 2 * d))
    X = hypercube(d)[rows, :]
    return d, X, xor_labels(X)


def condition1_sets(profile):
    """(d, X, Y): the default Condition-1 set (Thm 3.2) for every profile dim."""
    for d in profile.dims:
        X, Y = condition1_set(d)
        yield d, X, Y


def gap(a, b) -> float:
    """|a − b| as a float (0.0 when exactly equal): the discrepancy the ledger reports.

    >>> gap(sp.sqrt(2), sp.sqrt(2)), round(gap(1, sp.Rational(1, 3)), 6)
    (0.0, 0.666667)
    """
    return 0.0 if same(a, b) else float(abs(sp.N(sp.sympify(a) - sp.sympify(b), 30)))


def interpolates(arch, params, X, Y, **hyper) -> bool:
    """f(x_i) = y_i exactly for every training point (Def 2.1)."""
    out = forward(arch, params, X, **hyper)
    return all(same(o, y) for o, y in zip(out, Y))


def check_flattest(arch, make, profile, *, sets=training_sets, **hyper) -> Outcome:
    """On every training set of ``sets(profile)``: ``make(d, X, Y)`` interpolates and its exact
    Tr ∇²L equals ``min_sharpness`` (the infimum over interpolators, F3-F6)."""
    lines, ok, worst = [], True, 0.0
    for d, X, Y in sets(profile):
        p = make(d, X, Y)
        tr = sharpness.trace_hessian(arch, p, X, Y, **hyper)
        best = min_sharpness(arch, X, Y, **hyper).value
        interp = interpolates(arch, p, X, Y, **hyper)
        ok &= interp and same(tr, best)
        worst = max(worst, gap(tr, best))
        lines.append(f"d={d} n={X.rows}: interpolates={interp} Tr={sp.nsimplify(tr)} min={best}")
    return Outcome(ok, "; ".join(lines), worst, "max |Tr - min| over training sets",
                   {"training_sets": len(lines)})


def check_population(arch, make, expected, profile, **hyper) -> Outcome:
    """Exact P_xor population (MSE, zero-one) of ``make(d, X, Y)`` on {-1,1}^d, d = population_d;
    the zero-one error must equal ``expected(d, n)``."""
    d, X, Y = population_set(profile)
    mse, zero_one = population_errors(arch, make(d, X, Y), d, **hyper)
    want = expected(d, X.rows)
    return Outcome(same(zero_one, want),
                   f"population on {{-1,1}}^{d} (n={X.rows}): zero-one={zero_one} (expected {want}), mse={mse}",
                   gap(zero_one, want), "|zero-one error - expected|",
                   {"d": d, "n": X.rows, "zero_one": float(zero_one), "expected": float(want), "mse": float(mse)})


def memorizing_error(d, n):
    """Prop 4.1 / 5.1: a net that is 0 off the training set errs on every unseen cube point."""
    return 1 - sp.Rational(n, 2 ** d)


def no_error(d, n):
    return sp.Integer(0)


def merge(*outcomes: Outcome) -> Outcome:
    """One outcome from several parts: passes iff all do; worst of the worsts; details, numbers, errata joined."""
    worst = max_finite([o.worst for o in outcomes], default=float("nan"))
    what = "; ".join(dict.fromkeys(o.worst_what for o in outcomes if o.worst_what))
    numbers = {}
    for k, o in enumerate(outcomes):
        numbers.update({(key if key not in numbers else f"{key}_{k}"): v for key, v in o.numbers.items()})
    return Outcome(all(o.passed for o in outcomes), "; ".join(o.detail for o in outcomes if o.detail), worst, what,
                   numbers, [e for o in outcomes for e in o.errata])
