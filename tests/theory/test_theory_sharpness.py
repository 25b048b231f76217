"""theory.sharpness: exact Tr ∇²L against F1 (Lemma 4.1), F2, hand cases, F3/F4."""
from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sharpgen.verify.strategies import EXACT_CASES, cube_subsets, interpolating, labels, problems
from sharpgen.theory import sharpness
from sharpgen.theory.architectures import forward
from sharpgen.theory.constructions import generalizing, memorizing
from sharpgen.theory.data import hypercube, xor_labels
from sharpgen.theory.params import Params
from sharpgen.theory.jets import Jet
from sharpgen.theory.sharpness import (grad_norm_sq, gradient_term, relu_grad_norm_sq, relu_trace, residual_term,
                                       trace_from_gradients, trace_hessian, trace_hessian_by_diff)

R = sp.Rational
FAST = settings(deadline=None, max_examples=8)


def exact_equal(a, b) -> bool:
    """Exact equality; softplus values (exp/log of rationals, no cheap canonical form)
    are compared at 60 significant digits, far below any real discrepancy."""
    diff = sp.sympify(a) - sp.sympify(b)
    if diff == 0:
        return True
    if diff.has(sp.exp, sp.log) and not diff.free_symbols:
        return abs(sp.N(diff, 60)) < sp.Float("1e-50")
    return sp.simplify(diff) == 0


@pytest.mark.parametrize("case", EXACT_CASES, ids=lambda c: f"{c[0]}-{'-'.join(map(str, c[1].values()))}")
@FAST
@given(data=st.data())
def test_trace_equals_f1_with_residual(case, data):
    arch, params, X, Y, hyper = data.draw(problems(case))
    assert exact_equal(trace_hessian(arch, params, X, Y, **hyper),
                       trace_from_gradients(arch, params, X, Y, **hyper))


@pytest.mark.parametrize("case", EXACT_CASES, ids=lambda c: f"{c[0]}-{'-'.join(map(str, c[1].values()))}")
@settings(deadline=None, max_examples=3)
@given(data=st.data())
def test_jets_agree_with_sympy_diff(case, data):
    arch, params, X, Y, hyper = data.draw(problems(case, max_width=2, max_d=2, max_n=3))
    reference = trace_hessian_by_diff(arch, params, X, Y, **hyper)
    assert exact_equal(trace_hessian(arch, params, X, Y, method="jets", **hyper), reference)
    assert exact_equal(trace_hessian(arch, params, X, Y, **hyper), reference)


@pytest.mark.parametrize("case", EXACT_CASES, ids=lambda c: f"{c[0]}-{'-'.join(map(str, c[1].values()))}")
@FAST
@given(data=st.data())
def test_interpolation_residual_vanishes(case, data):
    arch, params, X, Y, hyper = data.draw(interpolating(case))
    assert residual_term(arch, params, X, Y, **hyper) == 0
    assert exact_equal(trace_hessian(arch, params, X, Y, **hyper), gradient_term(arch, params, X, Y, **hyper))


@pytest.mark.parametrize("arch", ["nobias", "bias"])
@settings(deadline=None, max_examples=15)
@given(data=st.data())
def test_relu_closed_form_off_interpolation(arch, data):
    _, params, X, Y, _ = data.draw(problems((arch, {}), max_width=5, max_d=4, max_n=6))
    assert trace_hessian(arch, params, X, Y, method="jets") == relu_trace(params, X)
    assert residual_term(arch, params, X, Y) == 0
    for i in range(X.rows):
        assert grad_norm_sq(arch, params, X.row(i)) == relu_grad_norm_sq(params, X.row(i))


# ---------- trace_hessian picks F2's closed form by itself, with the identical exact value ----------

RADICALS = (1, sp.sqrt(2), sp.sqrt(3), sp.Integer(2) ** R(1, 3), 5 ** R(1, 4))


@st.composite
def radical_problems(draw):
    """2-layer relu nobias/bias nets whose entries are rationals times radicals, on cube points."""
    arch = draw(st.sampled_from(["nobias", "bias"]))
    _, params, X, Y, _ = draw(problems((arch, {}), max_width=4, max_d=3, max_n=4))
    radical = lambda mat: mat.applyfunc(lambda v: v * draw(st.sampled_from(RADICALS)))  # noqa: E731
    params = Params(W1=radical(params.W1), W2=radical(params.W2), b1=None if arch == "nobias" else radical(params.b1))
    return arch, params, X, radical(Y)


@pytest.mark.parametrize("arch", ["nobias", "bias"])
@settings(deadline=None, max_examples=25)
@given(data=st.data())
def test_auto_is_the_identical_value_of_jets_on_rational_nets(arch, data):
    _, params, X, Y, _ = data.draw(problems((arch, {}), max_width=5, max_d=4, max_n=6))
    auto = trace_hessian(arch, params, X, Y)
    assert auto == trace_hessian(arch, params, X, Y, method="jets")  # same canonical form, not just equal
    assert type(auto) is type(trace_hessian(arch, params, X, Y, method="jets"))


@settings(deadline=None, max_examples=25)
@given(radical_problems())
def test_auto_is_the_identical_value_of_jets_on_irrational_nets(case):
    arch, params, X, Y = case
    assert trace_hessian(arch, params, X, Y) == trace_hessian(arch, params, X, Y, method="jets")


@settings(deadline=None, max_examples=5)
@given(radical_problems())
def test_auto_agrees_with_sympy_diff_on_irrational_nets(case):
    arch, params, X, Y = case
    assert exact_equal(trace_hessian(arch, params, X, Y), trace_hessian_by_diff(arch, params, X, Y))


@settings(deadline=None, max_examples=10)
@given(cube_subsets(dims=(2, 3, 4), max_n=5).flatmap(lambda dx: st.tuples(st.just(dx), labels(dx[1].rows))))
def test_auto_is_the_identical_value_of_jets_on_constructions(case):
    (d, X), Y = case
    for arch, params in (("bias", memorizing("bias", X, Y)), ("bias", generalizing("bias", d)),
                         ("nobias", generalizing("nobias", d))):
        assert trace_hessian(arch, params, X, Y) == trace_hessian(arch, params, X, Y, method="jets")


def _forbid(monkeypatch, name):
    def forbidden(*args, **kwargs):
        raise AssertionError(f"{name} must not be used here")
    monkeypatch.setattr(sharpness, name, forbidden)


def test_auto_takes_the_closed_form_for_exact_relu_nets(monkeypatch):
    X = hypercube(3)[[0, 3, 5, 6], :]
    Y = xor_labels(X)
    mem = memorizing("bias", X, Y)
    _forbid(monkeypatch, "evaluate")  # the jet path evaluates the forward pass per parameter
    assert trace_hessian("bias", mem, X, Y) == 8
    assert trace_hessian("bias", mem, X, Y, method="closed_form") == 8
    with pytest.raises(AssertionError, match="evaluate must not be used"):
        trace_hessian("bias", mem, X, Y, method="jets")


@pytest.mark.parametrize("arch, params, X, Y, hyper", [
    ("bias", Params(W1=sp.Matrix([[0.5, 1]]), b1=sp.Matrix([0]), W2=sp.Matrix([2])), [[1, 1]], [1], {}),  # float
    ("bias", Params(W1=sp.Matrix([[1, 1]]), b1=sp.Matrix([0]), W2=sp.Matrix([2])), [[1, 1]], [0.5], {}),  # float label
    ("nobias", Params(W1=sp.Matrix([[sp.Symbol("s", positive=True), 1]]), W2=sp.Matrix([2])), [[1, 1]], [1], {}),
    ("bias", Params(W1=sp.Matrix([[1, 1]]), b1=sp.Matrix([0]), W2=sp.Matrix([2])), [[1, 1]], [1],
     {"activation": "softplus"}),
    ("sim_ln", Params(W1=sp.Matrix([[1, 1]]), b1=sp.Matrix([0]), W2=sp.Matrix([2])), [[1, 1]], [1], {"eps": 1}),
])
def test_auto_keeps_jets_where_the_closed_form_is_not_identical_or_does_not_apply(monkeypatch, arch, params, X, Y,
                                                                                 hyper):
    _forbid(monkeypatch, "_relu_trace")
    assert exact_equal(trace_hessian(arch, params, X, Y, **hyper), trace_from_gradients(arch, params, X, Y, **hyper))


DEEP = Params(W1=sp.Matrix([[1, -2], [R(1, 2), 1]]), b1=sp.Matrix([0, -1]), W2=sp.Matrix([2, -3]),
              middle=(sp.Matrix([[1, R(-1, 3)], [2, 1]]), sp.Matrix([[1, 1], [-1, R(1, 2)]])))


def test_backpropagation_f2_is_the_trace_at_any_depth(monkeypatch):
    X, Y = [[1, 1], [-1, 2], [2, -1]], [1, 0, -1]
    jets = trace_hessian("bias", DEEP, X, Y, method="jets")
    assert relu_trace(DEEP, X) == jets == trace_hessian_by_diff("bias", DEEP, X, Y)
    for x in X:
        assert relu_grad_norm_sq(DEEP, x) == grad_norm_sq("bias", DEEP, x)
    _forbid(monkeypatch, "evaluate")  # exact depth-4 relu net: auto takes the closed form
    assert trace_hessian("bias", DEEP, X, Y) == jets


def test_closed_form_on_request_with_floats_and_symbols():
    s = sp.Symbol("s", positive=True)
    p = Params(W1=sp.Matrix([[s, 1]]), W2=sp.Matrix([2]))
    assert exact_equal(trace_hessian("nobias", p, [[1, 1]], [1], method="closed_form"),
                       trace_hessian("nobias", p, [[1, 1]], [1], method="jets"))
    q = Params(W1=sp.Matrix([[0.5, 1]]), b1=sp.Matrix([0.25]), W2=sp.Matrix([2.0]))
    assert abs(trace_hessian("bias", q, [[1, 1]], [1], method="closed_form")
               - trace_hessian("bias", q, [[1, 1]], [1], method="jets")) < 1e-12


P_F2 = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([2]))


@pytest.mark.parametrize("arch, params, hyper, message", [
    ("bias", P_F2, {"method": "hutchinson"},
     r"^method: expected one of \('auto', 'jets', 'closed_form'\), got 'hutchinson'$"),
    ("sim_ln", P_F2, {"method": "closed_form", "eps": 1}, r"^method: 'closed_form' \(F2\) is for relu nobias/bias nets"),
    ("bias", P_F2, {"method": "closed_form", "activation": "softplus"}, r"^method: 'closed_form' \(F2\)"),
])
def test_bad_method_names_the_argument(arch, params, hyper, message):
    with pytest.raises(ValueError, match=message):
        trace_hessian(arch, params, [[1, 1]], [1], **hyper)


# ---------- hand-checkable cases, one per architecture ----------

def test_hand_nobias():
    # f = 2 relu(3) = 6 on x = (3, 4); ∂²L/∂θ² = 2 (∂f/∂θ)² at f = y: W1 row: 2 W2² x_k², W2: 2·3².
    p = Params(W1=sp.Matrix([[1, 0]]), W2=sp.Matrix([2]))
    assert trace_hessian("nobias", p, [[3, 4]], [6]) == 2 * (4 * 25 + 9)
    # off interpolation (y = 0): relu nets have no residual, same value
    assert trace_hessian("nobias", p, [[3, 4]], [0]) == 218


def test_hand_bias_and_inactive_point():
    p = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([2]))
    assert trace_hessian("bias", p, [[3, 4]], [6]) == 2 * (4 * 26 + 9)
    # a second point with W1 x + b = 0 exactly: relu'(0) = 0 so it adds nothing
    assert trace_hessian("bias", p, [[3, 4], [0, 5]], [6, 0]) == R(2 * (4 * 26 + 9), 2)


def test_hand_bias_depth3():
    # one neuron per layer, all active: f = w3 w2 (w1 x + b)
    w1, b, w2, w3, x = 2, 1, 3, 5, 1
    p = Params(W1=sp.Matrix([[w1]]), b1=sp.Matrix([b]), W2=sp.Matrix([w3]), middle=(sp.Matrix([[w2]]),))
    z = w1 * x + b
    grads = [w3 * w2 * x, w3 * w2, w3 * z, w2 * z]
    assert trace_hessian("bias", p, [[x]], [w3 * w2 * z], depth=3) == 2 * sum(g * g for g in grads)


def test_hand_softplus():
    # f = W2 log(1 + e^{w x + b}) at x = 0, w = b = 0, W2 = 1, y = 0:
    # ∂f/∂W2 = log 2, ∂f/∂b = 1/2, ∂²f/∂b² = 1/4, ∂f/∂w = 0 · ... = 0
    p = Params(W1=sp.Matrix([[0]]), b1=sp.Matrix([0]), W2=sp.Matrix([1]))
    expected = 2 * sp.log(2) ** 2 + 2 * R(1, 4) + 2 * sp.log(2) * R(1, 4)
    got = trace_hessian("bias", p, [[0]], [0], activation="softplus")
    assert exact_equal(got, expected)
    assert exact_equal(residual_term("bias", p, [[0]], [0], activation="softplus"), sp.log(2) / 2)


def test_hand_sim_bn_scale_invariant():
    # one neuron, one training point: a = h, so f = W2 γ whatever W1, b1: L = (W2 γ - y)²
    W2, g, y = R(3, 2), -2, 1
    p = Params(W1=sp.Matrix([[1, 2]]), b1=sp.Matrix([R(1, 3)]), W2=sp.Matrix([W2]), gamma=sp.Matrix([g]))
    assert forward("sim_bn", p, [[1, 1]])[0] == W2 * g
    assert trace_hessian("sim_bn", p, [[1, 1]], [y]) == 2 * (g ** 2 + W2 ** 2)


def test_hand_sim_ln_both_branches():
    p = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([R(1, 2)]))
    # ||h|| = 3 >= eps: f = W2 · h/||h|| = W2, only W2 moves f: Tr = 2 (∂f/∂W2)² = 2 (F5's value)
    assert trace_hessian("sim_ln", p, [[3, 4]], [R(1, 2)], eps=R(1, 10)) == 2
    # ||h|| = 3 < eps = 10: f = W2 h / eps is bilinear (no residual): Tr = 2[(h/ε)² + (W2/ε)² ||x'||²]
    eps = 10
    expected = 2 * (R(3, eps) ** 2 + (R(1, 2) / eps) ** 2 * 26)
    assert trace_hessian("sim_ln", p, [[3, 4]], [5], eps=eps) == expected


def test_sim_bn_dead_neuron_is_finite_and_inert():
    # neuron 2 is dead on both training inputs (pre-activations -1, -3)
    p = Params(W1=sp.Matrix([[1, 0], [0, 1]]), b1=sp.Matrix([1, -2]), W2=sp.Matrix([1, 5]),
               gamma=sp.Matrix([1, 7]))
    X, Y = [[1, 1], [-1, -1]], [1, 0]
    alive = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([1]), W2=sp.Matrix([1]), gamma=sp.Matrix([1]))
    value = trace_hessian("sim_bn", p, X, Y)
    assert not value.has(sp.nan, sp.zoo, sp.oo)
    assert value == trace_hessian("sim_bn", alive, X, Y)
    assert value == trace_from_gradients("sim_bn", p, X, Y)


def test_symbolic_parameters():
    k = sp.Symbol("k", positive=True)
    # neuron 1 fires on two training points with different heights (3k and k), so the
    # W1, b1 gradients shrink like 1/k while f does not depend on k (sim_bn is scale invariant)
    p = Params(W1=k * sp.Matrix([[1, 2], [-1, -1]]), b1=sp.Matrix([0, -k]), W2=sp.Matrix([1, -1]),
               gamma=sp.Matrix([1, 1]))
    X, Y = [[1, 1], [-1, 1], [1, -1], [-1, -1]], [1, -1, 0, 0]
    value = trace_hessian("sim_bn", p, X, Y)
    assert value.free_symbols == {k}
    # W1, b1 terms are squared gradients ~ 1/k²; only the W2, gamma terms survive k -> oo
    limit = sp.limit(value, k, sp.oo)
    assert abs(sp.N(limit - trace_hessian("sim_bn", p.subs(k, 10 ** 9), X, Y))) < 1e-12
    assert sp.simplify((value - limit) * k ** 2).free_symbols == set()
    assert exact_equal(value.subs(k, 3), trace_hessian("sim_bn", p.subs(k, 3), X, Y))
    # undecidable relu sign (free symbol of unknown sign) stays a Piecewise, still exact
    s = sp.Symbol("s", real=True)
    q = Params(W1=sp.Matrix([[s]]), W2=sp.Matrix([1]))
    assert trace_hessian("nobias", q, [[1]], [0]).subs(s, 2) == 2 * (1 + 4)
    assert trace_hessian("nobias", q, [[1]], [0]).subs(s, -2) == 0


def test_jet_chain_rule():
    t = Jet(sp.Integer(2), 1)
    j = (t.exp() + 1).log() / t
    f = sp.log(sp.exp(sp.Symbol("t")) + 1) / sp.Symbol("t")
    at = {sp.Symbol("t"): 2}
    assert exact_equal(j.d, sp.diff(f, "t").subs(at))
    assert exact_equal(j.dd, sp.diff(f, "t", 2).subs(at))


# ---------- bad input ----------

P_BIAS = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([2]))
P_BN_S = Params(W1=sp.eye(2), b1=sp.ones(2, 1), W2=sp.ones(2, 1), gamma=sp.ones(2, 1))


@pytest.mark.parametrize("call, name", [
    (lambda: trace_hessian("relu", P_BIAS, [[1, 1]], [1]), "arch"),
    (lambda: trace_hessian("bias", P_BIAS, [[1, 1, 1]], [1]), "X"),
    (lambda: trace_hessian("bias", P_BIAS, [[1, 1]], [1, 2]), "Y"),
    (lambda: trace_hessian("bias", P_BIAS, [[1, 1]], [1], lr=1), "lr"),
    (lambda: trace_hessian("bias", P_BIAS, [[1, 1]], [1], depth=3), "depth"),
    (lambda: trace_hessian("bias", P_BIAS, [[1, 1]], [1], activation="tanh"), "activation"),
    (lambda: trace_hessian("sim_ln", P_BIAS, [[1, 1]], [1], eps=0), "eps"),
    (lambda: trace_hessian("sim_ln", P_BIAS, [[1, 1]], [1]), "eps"),
    (lambda: trace_hessian("sim_bn", P_BIAS, [[1, 1]], [1]), "params"),
    (lambda: trace_hessian("nobias", P_BIAS, [[1, 1]], [1]), "params"),
    (lambda: trace_hessian("bias", "W", [[1, 1]], [1]), "params"),
    (lambda: grad_norm_sq("bias", P_BIAS, [1, 1, 1]), "x"),
    (lambda: grad_norm_sq("sim_ln", P_BIAS, [1, 1]), "eps"),
    (lambda: grad_norm_sq("sim_bn", Params(W1=sp.eye(1), b1=sp.ones(1, 1), W2=sp.ones(1, 1),
                                           gamma=sp.ones(1, 1)), [1]), "X_train"),
    (lambda: relu_grad_norm_sq(Params(W1=sp.eye(1), b1=sp.ones(1, 1), W2=sp.ones(1, 1),
                                      gamma=sp.ones(1, 1)), [1]), "params"),
    (lambda: relu_trace("bias", [[1]]), "params"),
    # non-finite / non-real labels and inputs (one shared validator, theory.checks.as_labels)
    (lambda: trace_hessian("bias", P_BIAS, [[1, 1]], [float("nan")]), "Y"),
    (lambda: trace_hessian("bias", P_BIAS, [[1, 1]], [sp.oo]), "Y"),
    (lambda: trace_hessian("bias", P_BIAS, [[1, 1]], [sp.zoo]), "Y"),
    (lambda: trace_hessian("bias", P_BIAS, [[1, 1]], [sp.I]), "Y"),
    (lambda: trace_hessian("bias", P_BIAS, [[1, 1]], ["a"]), "Y"),
    (lambda: trace_hessian_by_diff("bias", P_BIAS, [[1, 1]], [float("nan")]), "Y"),
    (lambda: gradient_term("bias", P_BIAS, [[1, 1]], [sp.nan]), "Y"),
    (lambda: trace_hessian("bias", P_BIAS, [[1, float("nan")]], [1]), "X"),
    (lambda: trace_hessian("bias", P_BIAS, [[1, "b"]], [1]), "X"),
    (lambda: trace_hessian("sim_bn", P_BN_S, [[1, 1]], [1], X_train=[[1, sp.oo]]), "X_train"),
    (lambda: grad_norm_sq("bias", P_BIAS, [1, float("nan")]), "x"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        call()


def test_symbolic_labels_still_allowed():
    """Labels may hold free symbols (outputs of a symbolic network); only non-finite/non-real are refused."""
    k = sp.Symbol("k", positive=True)
    p = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([k]))
    assert trace_hessian("bias", p, [[3, 4]], [3 * k]) == 2 * (26 * k ** 2 + 9)
    with pytest.raises(ValueError, match=r"^Y: expected finite real numbers as labels, got nan at row 0$"):
        trace_hessian("bias", p, [[3, 4]], [sp.nan])


@pytest.mark.parametrize("fn", [trace_hessian, trace_hessian_by_diff, gradient_term, residual_term, trace_from_gradients])
def test_unknown_hyper_keyword_is_a_value_error(fn):
    with pytest.raises(ValueError, match=r"^foo: not a hyperparameter"):
        fn("bias", P_BIAS, [[1, 1]], [1], foo=1)
    with pytest.raises(ValueError, match=r"^foo: not a hyperparameter"):
        grad_norm_sq("bias", P_BIAS, [1, 1], foo=1)
