"""Evidence kind 2: hypothesis properties, run by ``sharpgen verify`` itself with a seed and an
example count; a failure is shrunk by hypothesis and the minimal counterexample kept in full.

A ``Property`` (``checks``) belongs to one ledger entry: a strategy (from the public
``sharpgen.verify.strategies``) and a check returning a ``Measure`` (holds?, discrepancy,
the values behind it). ``PROPERTIES`` is the registry, entry id -> properties, merged from the
part modules ``props_mlp`` (relu MLP entries) and ``props_norm`` (sim_ln, sim_bn, logistic loss),
as ``exact.EXACT`` is for the exact checks. ``run_property`` drives hypothesis and returns an ``Outcome`` whose
``worst`` is the largest discrepancy seen and whose ``counterexample`` (on failure) holds the
shrunk example (dataset, parameters) and the values the check computed for it.
"""
from __future__ import annotations

import math

import sympy as sp
from hypothesis import HealthCheck, given, reject, seed as hyp_seed, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.reporting import with_reporter

from sharpgen.verify.ledger import props_mlp, props_norm
from sharpgen.verify.ledger.checks import Measure, Property
from sharpgen.verify.ledger.outcome import Outcome, max_finite

# entry id -> its properties; each part module holds those of its entries
PROPERTIES = {**props_mlp.PROPERTIES, **props_norm.PROPERTIES}


class PropertyFailed(AssertionError):
    """A property does not hold on an example (raised inside hypothesis so that it shrinks)."""


def describe(value):
    """An example as plain data for the report: sympy numbers as strings, tensors and matrices as lists.

    >>> describe({"X": sp.Matrix([[1, sp.Rational(1, 2)]]), "n": 3})
    {'X': [['1', '1/2']], 'n': 3}
    """
    if isinstance(value, dict):
        return {str(k): describe(v) for k, v in value.items()}
    if isinstance(value, sp.MatrixBase):
        return [[str(v) for v in row] for row in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [describe(v) for v in value]
    if hasattr(value, "describe"):
        return describe(value.describe())
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, sp.Basic):
        return str(value)
    if hasattr(value, "__dict__"):
        return {k: describe(v) for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


def run_property(prop: Property, *, examples: int, seed: int, max_calls: int | None = None) -> Outcome:
    """Run ``prop`` on ``examples`` hypothesis examples seeded by ``seed``; shrink and keep a failure.

    ``max_calls`` bounds the checks one run makes (for checks that cost seconds, such as a search): then
    each distinct example (as ``describe`` writes it) is checked once, a replay reads its measure back,
    and once ``max_calls`` checks have run shrinking sees new candidates as invalid, so the failure kept
    is the smallest found so far.
    """
    stats = {"calls": 0, "worst": 0.0}
    failure: dict = {}
    seen: dict[str, Measure] = {}

    def checked(example) -> Measure:
        stats["calls"] += 1
        try:
            return prop.check(example)
        except Exception as err:  # a crash is a failure too, shrunk like one
            return Measure(False, math.inf, {"error": f"{type(err).__name__}: {err}"})

    def measure(example) -> Measure:
        if max_calls is None:
            return checked(example)
        key = repr(describe(example))
        if key not in seen:
            if stats["calls"] >= max_calls:
                reject()
            seen[key] = checked(example)
        return seen[key]

    def test(example):
        m = measure(example)
        if math.isfinite(m.discrepancy):
            stats["worst"] = max(stats["worst"], m.discrepancy)
        if not m.ok:
            failure.clear()
            failure.update(example=describe(example), values=describe(m.values))
            raise PropertyFailed(str(m.values))

    runner = settings(max_examples=examples, deadline=None, database=None, print_blob=False,
                      suppress_health_check=list(HealthCheck))(hyp_seed(seed)(given(prop.strategy())(test)))
    numbers = {"examples": examples, "seed": seed}
    try:
        with with_reporter(lambda *_: None):
            runner()
    except PropertyFailed:
        worst = stats["worst"] if "error" not in failure.get("values", {}) else math.inf
        return Outcome(False, f"{prop.name}: FALSIFIED after {stats['calls']} calls (shrunk counterexample kept)",
                       max(worst, _failure_discrepancy(failure)), prop.discrepancy,
                       dict(numbers, calls=stats["calls"]), counterexample=failure)
    except Unsatisfiable as err:
        return Outcome(False, f"{prop.name}: too few valid examples ({err})", math.nan, prop.discrepancy, numbers)
    return Outcome(True, f"{prop.name}: held on {examples} examples", stats["worst"], prop.discrepancy,
                   dict(numbers, calls=stats["calls"]))


def _failure_discrepancy(failure: dict) -> float:
    value = failure.get("values", {}).get("discrepancy")
    return float(value) if isinstance(value, (int, float)) else 0.0


def run_entry_properties(props, *, examples: int, seed: int) -> Outcome:
    """Every property of one entry; the outcome fails if any does and keeps the first counterexample."""
    outs = [run_property(p, examples=examples, seed=seed) for p in props]
    worst = max_finite([o.worst for o in outs], default=math.nan)
    first_bad = next((o for o in outs if not o.passed), None)
    return Outcome(all(o.passed for o in outs), "; ".join(o.detail for o in outs), worst,
                   "; ".join(p.discrepancy for p in props),
                   {"properties": len(outs), "examples_per_property": examples, "seed": seed,
                    "calls": sum(o.numbers.get("calls", 0) for o in outs)},
                   counterexample=None if first_bad is None else dict(first_bad.counterexample or {},
                                                                      property=first_bad.detail.split(":")[0]))
