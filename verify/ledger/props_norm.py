"""The hypothesis properties of the sim_ln (F5, C4, C5), sim_bn (F6, C6) and logistic-loss (F7) entries:
``PROPERTIES`` maps each of these entry ids to its properties (``properties.PROPERTIES`` merges it with
``props_mlp``'s).

Same conventions as ``props_mlp`` (``checks``: float64 torch nets against exact ``theory`` values, relative 1e-9).
"""
from __future__ import annotations

import math

import sympy as sp
from hypothesis import assume, strategies as st

from sharpgen.numerics.nets.sharpness import per_sample_terms, trace_hessian
from sharpgen.theory import constructions, losses
from sharpgen.theory.exact import same
from sharpgen.theory.generalization import population_errors
from sharpgen.verify import strategies as S
from sharpgen.verify.ledger.checks import (REL, Measure, Property, above_minimum, exact_attains, generalizes,
                                           generalizing_nets)
from sharpgen.verify.ledger.exact_tools import gap

EPSILONS = (sp.Rational(1, 1000), sp.Rational(1, 10), sp.Integer(1), sp.Integer(3))


# ---------------------------------------------------------------- sim_ln

@st.composite
def _c4(draw):
    _, X = draw(S.extreme_sets(max_d=3, max_n=4))
    Y, eps = draw(S.labels(X.rows)), draw(st.sampled_from(EPSILONS))
    return S.load("sim_ln", constructions.memorizing("sim_ln", X, Y, eps=eps), X, Y, eps=eps)


@st.composite
def _c4_population(draw):
    d, X = draw(S.cube_subsets(dims=tuple(range(2, 9)), max_n=24))
    return d, X


def _c4_population_check(example) -> Measure:
    d, X = example
    Y = sp.Matrix([x[0] * x[1] for x in X.tolist()])
    eps = EPSILONS[0]
    _, err = population_errors("sim_ln", constructions.memorizing("sim_ln", X, Y, eps=eps), d, eps=eps)
    want = 1 - sp.Rational(X.rows, 2 ** d)
    return Measure(same(err, want), gap(err, want), {"zero_one": str(err), "expected": str(want)})


def _c5():
    return st.sampled_from(EPSILONS[:3]).flatmap(lambda eps: generalizing_nets("sim_ln", eps=eps))


# ---------------------------------------------------------------- sim_bn

def _l1(itp) -> float:
    return float((itp.net.gamma.detach() * itp.net.W2.detach()).abs().sum())


def _l1_bound(itp) -> Measure:
    """Lemma A.1: ||γ ⊙ W2||₁ >= 2 on a Condition-1 set."""
    l1 = _l1(itp)
    below = max(0.0, (2 - l1) / 2)
    return Measure(below <= REL, below, {"l1": l1, "bound": 2, "interpolation_residual": itp.residual,
                                         "discrepancy": below})


def _sim_bn_trace_bound(itp) -> Measure:
    """Lemma A.3 with c = 2 (our L): Tr >= 2 Σ_j (W2_j² + γ_j²) over the neurons alive on some training
    input (a_j > 0; the paper leaves dead ones undefined, docs/paper.md §2 gives them output 0, so their
    W2_j, γ_j are free), and Tr >= the F6 minimum."""
    m = above_minimum(itp)
    tr = m.values["trace"]
    net = itp.net
    alive = ((itp.X_t @ net.W1.detach().T + net.b1.detach()) > 0).any(dim=0)
    norm_sq = float(((net.W2.detach() ** 2 + net.gamma.detach() ** 2) * alive).sum())
    below = max(m.discrepancy, (2 * norm_sq - tr) / max(1.0, 2 * norm_sq))
    m.values.update(two_norm_sq=2 * norm_sq, discrepancy=below)
    return Measure(m.ok and below <= REL, max(below, 0.0), m.values)


@st.composite
def _c6(draw):
    d, X, Y = draw(S.condition1_sets(dims=(3, 4)))
    k = draw(st.sampled_from([sp.Rational(1, 2), sp.Integer(1), sp.Rational(5, 2), sp.Integer(8)]))
    return d, X, Y, k


def _c6_check(example) -> Measure:
    """C6(k) interpolates, computes x1 x2 on the whole cube (exact), and its Tr decreases in k towards 8."""
    d, X, Y, k = example
    traces = []
    for scale in (k, 2 * k):
        itp = S.load("sim_bn", constructions.generalizing("sim_bn", d, scale=scale), X, Y)
        traces.append(trace_hessian(itp.net, itp.X_t, itp.Y_t))
    _, err = population_errors("sim_bn", constructions.generalizing("sim_bn", d, scale=k), d, X_train=X)
    ok = itp.residual <= REL and err == 0 and 8 < traces[1] < traces[0]
    return Measure(ok, max(itp.residual, float(err)), {"trace_k": traces[0], "trace_2k": traces[1],
                                                        "population_zero_one": str(err), "k": str(k)})


# ---------------------------------------------------------------- logistic loss

PROBABILITIES = st.fractions(min_value=0, max_value=sp.Rational(1, 2), max_denominator=20).filter(
    lambda f: 0 < f < sp.Rational(1, 2)).map(lambda f: sp.Rational(f.numerator, f.denominator))


def _minimizer(example) -> Measure:
    """The intended loss is stationary and strictly convex at γ_p (2b − 1); the printed one at −γ_p (2b − 1)."""
    p, b = example
    a = sp.Symbol("a", real=True)  # the network output
    target = losses.paper_logistic_minimizer(b, p)
    intended = losses.logistic_ls_intended(a, b, p)
    printed = losses.logistic_ls(a, b, p)
    slope = sp.simplify(sp.diff(intended, a).subs(a, target))
    slope_printed = sp.simplify(sp.diff(printed, a).subs(a, -target))
    curvature = sp.simplify(sp.diff(intended, a, 2).subs(a, target))
    ok = slope == 0 and slope_printed == 0 and same(curvature, p * (1 - p))
    return Measure(ok, max(gap(slope, 0), gap(curvature, p * (1 - p))),
                   {"slope_intended": str(slope), "slope_printed_at_minus": str(slope_printed),
                    "curvature": str(curvature)})


@st.composite
def _logistic_interpolator(draw):
    p = draw(PROBABILITIES)
    itp = draw(S.interpolating_nets(draw(st.sampled_from(S.INTERP_CASES))))
    itp.Y = sp.Matrix([1 if float(v) >= 0 else -1 for v in itp.Y])  # the logistic loss takes labels ±1
    gamma = math.log((1 - float(p)) / float(p))
    itp.residual = S.solve_output_layer(itp.net, itp.X_t, gamma * itp.Y_t)
    assume(itp.residual <= 1e-9 * (1 + gamma))
    return p, itp


def _logistic_trace(example) -> Measure:
    """Lemma A.13 with κ = p(1 − p): numerics' logistic Tr = κ (1/n) Σ ||∇f||² at the interpolator of γ_p y."""
    p, itp = example
    kappa = float(losses.logistic_trace_factor(p))
    tr = trace_hessian(itp.net, itp.X_t, itp.Y_t, loss="logistic", p=float(p))
    want = kappa * float(per_sample_terms(itp.net, itp.X_t).grad_sq.mean())
    disc = abs(tr - want) / max(1.0, abs(want))
    ok = disc <= 1e-7 and same(losses.logistic_trace_factor(p), p * (1 - p))
    return Measure(ok, disc, {"trace_logistic": tr, "kappa_mean_grad_sq": want,
                                                     "p": str(p), "residual": itp.residual})


def _interpolators(case):
    return lambda: S.interpolating_nets(case)


def _sim_ln_interpolators():
    return st.sampled_from([c for c in S.INTERP_CASES if c[0] == "sim_ln"]).flatmap(S.interpolating_nets)


PROPERTIES = {
    "thm-5.1": [
        Property("thm-5.1", "C4 memorizes and attains F5", "on random extreme-point sets with random labels and ε, "
                 "C4 interpolates, fires one neuron per point, Tr = min", _c4,
                 lambda itp: exact_attains(itp, memorizing=True), "|Tr - min|"),
    ],
    "lemma-A.12": [
        Property("lemma-A.12", "no sim_ln interpolator below F5", "random sim_ln interpolators (ε = 1/10, 2) on "
                 "extreme-point sets have Tr >= F5", _sim_ln_interpolators, above_minimum, "relative (min - Tr)+"),
    ],
    "prop-5.1": [
        Property("prop-5.1", "C4 errs off the training set", "C4 on random cube sets (d <= 8, ε = 1/1000) has "
                 "exact zero-one population error 1 - n/2^d", _c4_population, _c4_population_check,
                 "|error - (1 - n/2^d)|"),
    ],
    "prop-5.2": [
        Property("prop-5.2", "C5 flattest and exact", "C5 interpolates random cube sets (d <= 8), Tr = min, error 0",
                 _c5, generalizes, "max(relative |Tr - min|, error)"),
    ],
    "lemma-A.1": [
        Property("lemma-A.1", "||γ ⊙ W2||₁ >= 2", "random sim_bn interpolators of random Condition-1 sets",
                 lambda: S.interpolating_nets(("sim_bn", {}), data=S.condition1_sets(dims=(3, 4))), _l1_bound,
                 "(2 - ||γ⊙W2||₁)+ / 2"),
    ],
    "lemma-A.3": [
        Property("lemma-A.3", "Tr >= 2(||W2||² + ||γ||²) >= F6", "random sim_bn interpolators (cube and "
                 "Condition-1 sets, random γ); the norms over neurons alive on the training set",
                 _interpolators(("sim_bn", {})), _sim_bn_trace_bound, "relative shortfall below the bounds"),
    ],
    "thm-3.2": [
        Property("thm-3.2", "C6(k) generalizes, Tr decreasing to 8", "random Condition-1 sets and k: C6(k) "
                 "interpolates, has population error 0, and 8 < Tr(2k) < Tr(k)", _c6, _c6_check,
                 "max(residual, error)"),
    ],
    "thm-A.2": [
        Property("thm-A.2", "minimizer γ_p (2b - 1)", "random p in (0, 1/2), b in {0, 1}: the intended loss is "
                 "stationary at γ_p (2b - 1) with curvature p(1 - p); the printed loss at -γ_p (2b - 1)",
                 lambda: st.tuples(PROBABILITIES, st.sampled_from([0, 1])), _minimizer,
                 "|slope|, |curvature - p(1-p)|"),
    ],
    "lemma-A.13": [
        Property("lemma-A.13", "logistic Tr = p(1-p) (1/n) Σ ||∇f||²", "random p and random interpolators of the "
                 "targets γ_p y, every architecture (numerics' logistic trace)", _logistic_interpolator,
                 _logistic_trace, "relative |Tr - p(1-p) mean ||∇f||²|"),
    ],
}
