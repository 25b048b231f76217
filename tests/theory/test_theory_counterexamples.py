"""Thm 3.2's second conclusion against an exact family: C6(k) plus a cancelling pair along x[3]."""
from __future__ import annotations

import dataclasses

import pytest
import sympy as sp

from sharpgen.theory.architectures import forward
from sharpgen.theory.constructions import generalizing
from sharpgen.theory.counterexamples import (neuron_activity, off_axis_mass, off_axis_ratios, t, tail_spreads,
                                             thm32_counterexample, thm32_erratum, thm32_idle_neuron, thm32_trace,
                                             thm32_witness)
from sharpgen.theory.data import condition1_set, hypercube, xor_labels
from sharpgen.theory.minimum import min_sharpness
from sharpgen.theory.params import Params
from sharpgen.theory.sharpness import trace_hessian, trace_hessian_by_diff
from sharpgen.theory.symbols import k

FULL_4 = [(1, 1), (-1, 1), (1, -1), (-1, -1)]
OTHER_4 = [(-1, -1), (1, -1), (-1, 1)]  # one tail with s[1] = 1: v_+ = 0, unlike the default
SETS = [(3, None), (4, None), (4, FULL_4), (4, OTHER_4)]


def _is_zero(expr) -> bool:
    return sp.simplify(expr) == 0


@pytest.mark.parametrize("d, tails", SETS + [(5, None)])
def test_the_family_interpolates_exactly_and_computes_xor_on_the_cube(d, tails):
    X, Y = condition1_set(d, tails)
    p = thm32_counterexample(d)
    assert all(_is_zero(e) for e in forward("sim_bn", p, X) - Y)
    for kv, tv in ((sp.Rational(3, 2), sp.Rational(-2, 7)), (5, 3)):
        assert forward("sim_bn", p.subs({k: kv, t: tv}), X) == Y
    cube = hypercube(d)
    assert forward("sim_bn", p.subs({k: 2, t: sp.Rational(1, 3)}), cube, X_train=X) == xor_labels(cube)


def test_the_pair_interpolates_only_because_its_outputs_cancel():
    X, Y = condition1_set(3)
    p = thm32_counterexample(3, k=1, t=1)
    half = Params(W1=p.W1, b1=p.b1, W2=sp.Matrix([*p.W2[:5], 0]), gamma=p.gamma)
    wrong = [i for i in range(X.rows) if forward("sim_bn", half, X)[i] != Y[i]]
    assert wrong and all(X[i, 2] == 1 for i in wrong)


@pytest.mark.parametrize("d, tails", SETS)
def test_the_trace_formula_is_theorys_exact_trace_in_k_and_t(d, tails):
    X, Y = condition1_set(d, tails)
    exact = trace_hessian("sim_bn", thm32_counterexample(d), X, Y)
    assert _is_zero(exact - thm32_trace(d, tails))


@pytest.mark.parametrize("d, tails, kv, tv", [(3, None, 2, sp.Rational(1, 3)),
                                               (4, OTHER_4, sp.Rational(3, 2), sp.Rational(-1, 2))])
def test_the_trace_formula_matches_the_diff_reference_at_rational_points(d, tails, kv, tv):
    X, Y = condition1_set(d, tails)
    reference = trace_hessian_by_diff("sim_bn", thm32_counterexample(d, k=kv, t=tv), X, Y)
    assert reference == thm32_trace(d, tails, k=kv, t=tv)


@pytest.mark.parametrize("d, tails", SETS)
def test_the_trace_is_c6s_plus_8t2_plus_a_t4_term(d, tails):
    X, Y = condition1_set(d, tails)
    c6 = trace_hessian("sim_bn", generalizing("sim_bn", d), X, Y)
    extra = sp.Poly(sp.expand(thm32_trace(d, tails) - c6), t)
    assert extra.free_symbols == {t} and extra.degree() == 4
    assert extra.coeff_monomial(t ** 2) == 8 and extra.coeff_monomial(t ** 4) > 0
    assert extra.coeff_monomial(1) == 0 and extra.coeff_monomial(t) == 0 and extra.coeff_monomial(t ** 3) == 0


@pytest.mark.parametrize("d, tails", SETS)
def test_the_trace_tends_to_the_infimum_from_above(d, tails):
    X, Y = condition1_set(d, tails)
    tr, best = thm32_trace(d, tails), min_sharpness("sim_bn", X, Y).value
    assert best == 8
    assert sp.limit(sp.limit(tr, k, sp.oo), t, 0) == best == sp.limit(sp.limit(tr, t, 0), k, sp.oo)
    assert (tr - best).is_positive  # k positive, t real: every term of 2v/k^2 + 8t^2 + c t^4 is >= 0, the first > 0


@pytest.mark.parametrize("kappa", [1, sp.Rational(1, 10), sp.Rational(1, 1000), 0.37, sp.sqrt(2) / 50])
@pytest.mark.parametrize("d, tails", [(3, None), (4, OTHER_4)])
def test_the_witness_meets_thm32s_hypothesis_with_the_printed_ratio_violated(kappa, d, tails):
    X, Y = condition1_set(d, tails)
    kv, tv = thm32_witness(kappa, d, tails)
    p = thm32_counterexample(d, k=kv, t=tv)
    tr = trace_hessian("sim_bn", p, X, Y)
    bound = 8 + (sp.Rational(kappa) if isinstance(kappa, float) else kappa)  # a float's exact value, as theory reads it
    assert tv != 0 and 8 < tr <= bound
    assert forward("sim_bn", p, X) == Y and off_axis_ratios(p)[4:] == [1, 1]


def test_a_smaller_kappa_asks_for_a_flatter_member():
    big, small = thm32_witness(1, 3), thm32_witness(sp.Rational(1, 100), 3)
    assert small[0] > big[0] and abs(small[1]) < abs(big[1])


@pytest.mark.parametrize("d", [3, 4, 6])
def test_the_extra_neurons_have_ratio_one_and_c6s_ratio_zero(d):
    assert off_axis_ratios(thm32_counterexample(d)) == [0, 0, 0, 0, 1, 1]
    assert off_axis_ratios(thm32_idle_neuron(d)) == [0, 0, 0, 0, 1]


def test_off_axis_ratios_of_a_generic_row():
    p = Params(W1=sp.Matrix([[1, 2, 2, 4]]), W2=sp.ones(1, 1))
    assert off_axis_ratios(p) == [sp.sqrt(20) / 5]


@pytest.mark.parametrize("tv", [sp.Rational(1, 5), -3, sp.Rational(1, 10 ** 60)])
def test_nonzero_t_gives_every_output_weight_nonzero(tv):
    p = thm32_counterexample(4, k=2, t=tv)
    assert all(v != 0 for v in [*p.W2, *p.gamma])
    zero = thm32_counterexample(4, k=2, t=0)
    assert [v for v in [*zero.W2, *zero.gamma] if v == 0] == [0, 0, 0, 0]


@pytest.mark.parametrize("d, tails", SETS + [(5, None)])
def test_the_extra_neurons_are_alive_and_never_at_relu_zero(d, tails):
    X, _ = condition1_set(d, tails)
    for p in (thm32_counterexample(d), thm32_idle_neuron(d)):
        activity = neuron_activity(p, X)
        assert all(0 < fires < X.rows and zeros == 0 for fires, zeros in activity)
        assert activity[4][0] == sum(1 for i in range(X.rows) if X[i, 2] == 1)


def test_the_idle_neuron_changes_neither_f_nor_the_trace():
    X, Y = condition1_set(4, OTHER_4)
    p = thm32_idle_neuron(4)
    assert all(_is_zero(e) for e in forward("sim_bn", p, X) - Y)
    c6 = trace_hessian("sim_bn", generalizing("sim_bn", 4), X, Y)
    assert _is_zero(trace_hessian("sim_bn", p, X, Y) - c6)
    assert _is_zero(c6 - thm32_trace(4, OTHER_4, t=0))


def test_the_mass_weighted_ratio_tends_to_zero_along_the_family():
    mass = off_axis_mass(thm32_counterexample(4))
    assert _is_zero(mass - t ** 2 / (1 + t ** 2)) and sp.limit(mass, t, 0) == 0
    assert off_axis_mass(generalizing("sim_bn", 4)) == 0 and off_axis_mass(thm32_idle_neuron(4)) == 0
    kv, tv = thm32_witness(sp.Rational(1, 100), 4)
    assert 0 < off_axis_mass(thm32_counterexample(4, k=kv, t=tv)) < sp.Rational(1, 100)


def test_the_erratum_fields_build_verifys_erratum():
    from sharpgen.verify.ledger.outcome import Erratum
    record = thm32_erratum()
    keyword = [f.name for f in dataclasses.fields(Erratum) if f.kw_only]
    assert sorted(record) == sorted(keyword) and all(isinstance(v, str) and v.strip() for v in record.values())
    e = Erratum("Thm 3.2", "ratio <= ε for all i", "ratio 1 at Tr -> 8", **record)
    assert e.contradicts_statement
    assert "∀i ∈ [m]" in record["quote"] and sp.sstr(thm32_trace(4)) in record["other_value"]


def test_tail_spreads_of_the_default_and_other_sets():
    assert tail_spreads(4, OTHER_4) == (sp.Rational(16, 9), 0)
    assert tail_spreads(4, FULL_4) == (2, 1)


@pytest.mark.parametrize("call, name", [
    (lambda: thm32_counterexample(2), "d"), (lambda: thm32_counterexample(3, k=0), "k"),
    (lambda: thm32_counterexample(3, k=-1), "k"), (lambda: thm32_counterexample(3, t=sp.I), "t"),
    (lambda: thm32_idle_neuron(3.0), "d"), (lambda: thm32_trace(4, [(1, 1), (-1, -1)]), "tails"),
    (lambda: thm32_witness(-1, 3), "kappa"), (lambda: thm32_witness(sp.Symbol("a", positive=True), 3), "kappa"),
    (lambda: off_axis_ratios(Params(W1=sp.ones(1, 2), W2=sp.ones(1, 1))), "params"),
    (lambda: off_axis_mass(Params(W1=sp.ones(1, 3), W2=sp.ones(1, 1))), "params"),
    (lambda: neuron_activity(thm32_counterexample(3), [[1, 1]]), "X"),
])
def test_the_boundary_names_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}: "):
        call()
