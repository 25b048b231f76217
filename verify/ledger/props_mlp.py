"""The hypothesis properties of the relu MLP entries (F1-F4, C1-C3, Prop A.1): ``PROPERTIES`` maps each
of these entry ids to its properties (``properties.PROPERTIES`` merges it with ``props_norm``'s).

Float and exact comparisons as in ``checks``; the exact side of the same claims is ``exact_mlp``; the
agreement of the float and exact traces is itself a property of Lemma 4.1's entry.
"""
from __future__ import annotations

import math

import sympy as sp
from hypothesis import strategies as st

from sharpgen.numerics.nets.sharpness import per_sample_terms, trace_hessian
from sharpgen.theory import constructions, sharpness
from sharpgen.theory.exact import same
from sharpgen.theory.generalization import population_errors
from sharpgen.theory.prop_a1 import labels_on, prop_a1_network, support
from sharpgen.verify import strategies as S
from sharpgen.verify.ledger.checks import (REL, Measure, Property, above_minimum, attains, exact_attains,
                                           generalizes, generalizing_nets, interpolates_exactly, xor)
from sharpgen.verify.ledger.exact_tools import gap


# ---------------------------------------------------------------- lemma-4.1

def _f1(example) -> Measure:
    arch, params, X, Y, hyper = example
    exact = sharpness.trace_hessian(arch, params, X, Y, **hyper)
    f1 = sharpness.trace_from_gradients(arch, params, X, Y, **hyper)
    return Measure(same(exact, f1), gap(exact, f1), {"trace_exact": str(exact), "F1": str(f1)})


FAST_CASES = [c for c in S.EXACT_CASES if c[1].get("activation") != "softplus"]


def _problems():
    small = dict(max_width=2, max_d=3, max_n=3)
    return st.one_of(st.sampled_from(FAST_CASES).flatmap(lambda c: S.problems(c, **small)),
                     S.problems(("bias", {"activation": "softplus"}), max_width=2, max_d=2, max_n=2))


@st.composite
def _agreement_cases(draw):
    """Random parameters (exact) of every architecture, or a construction C1-C6 on random data."""
    kind = draw(st.sampled_from(["random", "C1", "C2", "C3", "C4", "C5", "C6"]))
    if kind == "random":
        arch, params, X, Y, hyper = draw(_problems())
        return arch, params, X, Y, hyper
    if kind in ("C1", "C4"):
        _, X = draw(S.extreme_sets(max_d=3, max_n=3))
        Y = draw(S.labels(X.rows))
        arch, hyper = ("bias", {}) if kind == "C1" else ("sim_ln", {"eps": sp.Rational(1, 10)})
        return arch, constructions.memorizing(arch, X, Y, **hyper), X, Y, hyper
    if kind == "C6":
        d, X, Y = draw(S.condition1_sets(dims=(3,)))
        k = draw(S.rationals(4, 3).filter(lambda v: v > 0))
        return "sim_bn", constructions.generalizing("sim_bn", d, scale=k), X, Y, {}
    d, X = draw(S.cube_subsets(dims=(2, 3), max_n=4))
    Y = sp.Matrix([x[0] * x[1] for x in X.tolist()])
    arch, hyper = {"C2": ("bias", {}), "C3": ("nobias", {}), "C5": ("sim_ln", {"eps": sp.Rational(1, 10)})}[kind]
    return arch, constructions.generalizing(arch, d, **hyper), X, Y, hyper


def _agreement(example) -> Measure:
    arch, params, X, Y, hyper = example
    exact = float(sharpness.trace_hessian(arch, params, X, Y, **hyper))
    itp = S.load(arch, params, X, Y, **hyper)
    closed = trace_hessian(itp.net, itp.X_t, itp.Y_t)
    auto = trace_hessian(itp.net, itp.X_t, itp.Y_t, method="autograd")
    # float64 sums of the gradient term and the residual term (opposite signs off interpolation) lose
    # digits relative to their magnitudes, not to the trace: measure against both.
    grad = 2 * float(per_sample_terms(itp.net, itp.X_t).grad_sq.mean())
    scale = max(1.0, abs(exact), 1e-3 * (grad + abs(closed - grad)))
    disc = max(abs(closed - exact), abs(auto - exact)) / scale
    return Measure(disc <= REL, disc, {"theory_exact": exact, "numerics_closed_form": closed, "autograd": auto,
                                       "discrepancy": disc})


# ---------------------------------------------------------------- thm-3.1, thm-4.1, prop-4.1, prop-4.2

@st.composite
def _memorizing(draw, depth=2):
    _, X = draw(S.extreme_sets(max_d=4 if depth == 2 else 3, max_n=5 if depth == 2 else 3))
    Y = draw(S.labels(X.rows))
    hyper = {} if depth == 2 else {"depth": depth}
    return S.load("bias", constructions.memorizing("bias", X, Y, depth=depth), X, Y, **hyper)


@st.composite
def _below_candidates(draw, arch, depth=2):
    """Random interpolators of ``arch``, or (depth 2) a flattest construction rebalanced."""
    hyper = {} if depth == 2 else {"depth": depth}
    if depth == 2 and draw(st.booleans()):
        params, X, Y = draw(S.rebalanced_constructions(arch))
        return S.load(arch, params, X, Y)
    return draw(S.interpolating_nets((arch, hyper)))


@st.composite
def _cube_sets(draw, dims=tuple(range(2, 9))):
    return draw(S.cube_subsets(dims=dims, max_n=24))


def _c1_population(example) -> Measure:
    d, X = example
    _, err = population_errors("bias", constructions.memorizing("bias", X, xor(X)), d)
    want = 1 - sp.Rational(X.rows, 2 ** d)
    return Measure(same(err, want), gap(err, want), {"zero_one": str(err), "expected": str(want)})


# ---------------------------------------------------------------- prop-A.1

@st.composite
def _prop_a1(draw):
    s = draw(st.sampled_from([2, 3]))
    ts = draw(st.lists(st.tuples(*[S.rationals(2, 3)] * (s - 1)), min_size=2, max_size=4, unique=True))
    V = sp.Matrix([S.sphere_point(t) for t in ts])
    lab = list(draw(S.labels(V.rows)))
    d = s + draw(st.integers(0, 1))
    X_all = support(V, d)
    rows = sorted(draw(st.lists(st.integers(0, X_all.rows - 1), min_size=1, max_size=6, unique=True)))
    return V, lab, d, X_all, rows


def _prop_a1_check(example) -> Measure:
    V, lab, d, X_all, rows = example
    params = prop_a1_network(V, lab, d)
    everywhere = interpolates_exactly(S.load("bias", params, X_all, labels_on(X_all, V, lab)))
    X = X_all[rows, :]
    m = exact_attains(S.load("bias", params, X, labels_on(X, V, lab)))
    m.values["equals_label_on_support"] = everywhere
    return Measure(m.ok and everywhere, m.discrepancy if everywhere else math.inf, m.values)


PROPERTIES = {
    "lemma-4.1": [
        Property("lemma-4.1", "F1 off interpolation", "exact Tr = (2/n) Σ ||∇f||² + residual term, random rational "
                 "parameters of every architecture and labels", _problems, _f1, "|Tr - F1|"),
        Property("lemma-4.1", "theory = numerics = autograd", "theory's exact Tr = numerics' closed form = autograd "
                 "Hessian trace, on random parameters and on C1-C6 loaded into torch", _agreement_cases, _agreement,
                 "max |numerics - theory| / max(1, |Tr|, 1e-3 (|gradient term| + |residual term|))"),
    ],
    "thm-3.1": [
        Property("thm-3.1", "C3 attains 4 sqrt(d)", "C3 interpolates distinct cube points with xor labels (d <= 8) "
                 "and its Tr equals the minimum", lambda: generalizing_nets("nobias"), attains, "relative |Tr - min|"),
        Property("thm-3.1", "no nobias interpolator below F3", "random interpolators (solved output layer) and "
                 "rebalanced C3 have Tr >= F3", lambda: _below_candidates("nobias"), above_minimum,
                 "relative (min - Tr)+"),
    ],
    "thm-4.1": [
        Property("thm-4.1", "C1 memorizes and attains F3", "on random extreme-point sets (cube and off-cube, LP "
                 "witnesses) with random labels C1 interpolates, fires one neuron per point, Tr = min",
                 lambda: _memorizing(2), lambda itp: exact_attains(itp, memorizing=True), "|Tr - min|"),
        Property("thm-4.1", "no bias interpolator below F3", "random interpolators and rebalanced C1/C2 have Tr >= F3",
                 lambda: _below_candidates("bias"), above_minimum, "relative (min - Tr)+"),
    ],
    "thm-4.1-d3": [
        Property("thm-4.1-d3", "depth-3 C1 attains F4", "depth-3 C1 on random extreme-point sets interpolates, Tr = F4",
                 lambda: _memorizing(3), exact_attains, "|Tr - min|"),
        Property("thm-4.1-d3", "no depth-3 interpolator below F4", "random depth-3 interpolators have Tr >= F4",
                 lambda: _below_candidates("bias", depth=3), above_minimum, "relative (min - Tr)+"),
    ],
    "prop-4.1": [
        Property("prop-4.1", "C1 errs off the training set", "C1 on random distinct cube points (d <= 8) has exact "
                 "zero-one population error 1 - n/2^d", _cube_sets, _c1_population, "|error - (1 - n/2^d)|"),
    ],
    "prop-4.2": [
        Property("prop-4.2", "C2 flattest and exact", "C2 interpolates random cube sets (d <= 8), Tr = min, population "
                 "error 0", lambda: generalizing_nets("bias"), generalizes, "max(relative |Tr - min|, error)"),
    ],
    "prop-A.1": [
        Property("prop-A.1", "Prop A.1 net flattest, error 0", "random rational sphere points V in R^s (s = 2, 3), "
                 "random labels and d: the net equals the label on the whole support and attains F3 on a random "
                 "training subset (exact)", _prop_a1, _prop_a1_check, "|Tr - min| (inf if f != label on the support)"),
    ],
}
