"""theory.architectures: forward pass of docs/paper.md §2 against hand computations."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sharpgen.verify.strategies import EXACT_CASES, problems
from sharpgen.theory.architectures import ARCHITECTURES, forward, relu, softplus
from sharpgen.theory.params import Params

R = sp.Rational
P_BIAS = Params(W1=sp.Matrix([[1, 1], [-1, 1]]), b1=sp.Matrix([-1, 0]), W2=sp.Matrix([2, 3]))


def test_architecture_names():
    assert ARCHITECTURES == ("nobias", "bias", "sim_bn", "sim_ln")


def test_relu_convention():
    z = sp.Symbol("z", real=True)
    assert relu(sp.Integer(0)) == 0 and relu(R(-1, 2)) == 0 and relu(R(5, 3)) == R(5, 3)
    assert sp.diff(relu(z), z).subs(z, 0) == 0  # torch's relu'(0) = 0, not Heaviside's 1/2
    assert not relu(z).has(sp.Heaviside)
    assert softplus(sp.Integer(0)) == sp.log(2)


def test_nobias_hand():
    p = Params(W1=sp.Matrix([[1, -1], [2, 0]]), W2=sp.Matrix([R(1, 2), -1]))
    # x = (1, -1): pre-activations (2, 2) -> 1/2·2 - 2 = -1; x = (-1, 1): (-2, -2) -> 0
    assert forward("nobias", p, [[1, -1], [-1, 1]]) == sp.Matrix([-1, 0])


def test_bias_hand_depth2_and_depth3():
    # x = (1, 1): W1x + b1 = (1, 0) -> relu (1, 0) -> 2; x = (-1, 1): (-1, 2) -> 6
    assert forward("bias", P_BIAS, [[1, 1], [-1, 1]]) == sp.Matrix([2, 6])
    deep = Params(W1=P_BIAS.W1, b1=P_BIAS.b1, W2=P_BIAS.W2, middle=(sp.Matrix([[1, -1], [0, 2]]),))
    # x = (-1, 1): h1 = (0, 2) -> middle (-2, 4) -> relu (0, 4) -> 3·4 = 12
    assert forward("bias", deep, [[-1, 1]]) == sp.Matrix([12])
    assert forward("bias", deep, [[-1, 1]], depth=3) == sp.Matrix([12])


def test_softplus_hand():
    p = Params(W1=sp.Matrix([[1]]), b1=sp.Matrix([0]), W2=sp.Matrix([2]))
    assert forward("bias", p, [[0], [1]], activation="softplus") == sp.Matrix([2 * sp.log(2), 2 * sp.log(1 + sp.E)])


def test_sim_bn_hand_and_train_statistics():
    p = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([3]), gamma=sp.Matrix([2]))
    X = [[1, 0], [2, 0], [-1, 0]]
    # h = (1, 2, 0), a = sqrt((1 + 4 + 0)/3) = sqrt(5/3); f = 6 h / a
    a = sp.sqrt(R(5, 3))
    assert forward("sim_bn", p, X) == sp.Matrix([6 / a, 12 / a, 0])
    # statistics from another training set: h_train = (2), a = 2
    assert forward("sim_bn", p, X, X_train=[[2, 0]]) == sp.Matrix([3, 6, 0])


def test_sim_bn_dead_neuron_rule():
    p = Params(W1=sp.Matrix([[1, 0], [0, 1]]), b1=sp.Matrix([0, -5]), W2=sp.Matrix([1, 1]),
               gamma=sp.Matrix([1, 1]))
    out = forward("sim_bn", p, [[1, 1], [2, -1]])
    assert not out.has(sp.nan, sp.zoo, sp.oo)
    assert out == forward("sim_bn", Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([1]),
                                           gamma=sp.Matrix([1])), [[1, 1], [2, -1]])
    # dead on the training set, alive on a test point: still contributes 0
    assert forward("sim_bn", p, [[0, 9]], X_train=[[1, 1]]) == sp.Matrix([0])


def test_sim_ln_hand_both_branches():
    # x = (1, 1): h = (1, 0), ||h|| = 1 >= eps -> f = 2; x = (-1, 1): h = (0, 2) -> 3
    assert forward("sim_ln", P_BIAS, [[1, 1], [-1, 1]], eps=R(1, 10)) == sp.Matrix([2, 3])
    # eps = 4 > ||h||: f = W2·h / 4
    assert forward("sim_ln", P_BIAS, [[1, 1], [-1, 1]], eps=4) == sp.Matrix([R(1, 2), R(3, 2)])
    # all neurons dead: h = 0 -> f = 0/eps = 0, no NaN
    assert forward("sim_ln", P_BIAS, [[-1, -1]], eps=R(1, 10)) == sp.Matrix([0])
    # tie ||h|| = eps uses the norm branch (same value)
    assert forward("sim_ln", P_BIAS, [[1, 1]], eps=1) == sp.Matrix([2])


def test_symbolic_outputs_print_and_latex():
    k, e = sp.symbols("k epsilon", positive=True)
    w = sp.Symbol("w", real=True)
    p = Params(W1=sp.Matrix([[k, w]]), b1=sp.Matrix([-k]), W2=sp.Matrix([1]))
    for arch, kw in [("bias", {}), ("sim_ln", {"eps": e})]:
        out = forward(arch, p, [[1, 1]], **kw)
        assert out.shape == (1, 1)
        assert "w" in str(out) and "w" in sp.latex(out)
    bn = Params(W1=sp.Matrix([[k, w]]), b1=sp.Matrix([-k]), W2=sp.Matrix([1]), gamma=sp.Matrix([k]))
    out = forward("sim_bn", bn, [[1, 1], [1, -1]])
    assert sp.latex(out) and out.has(sp.Piecewise)  # dead-neuron rule kept while undecided
    assert out.subs(w, 2)[0] == k * sp.sqrt(2)


@pytest.mark.parametrize("case", EXACT_CASES, ids=lambda c: f"{c[0]}-{'-'.join(map(str, c[1].values()))}")
@settings(deadline=None, max_examples=10)
@given(data=st.data())
def test_forward_rowwise_and_finite(case, data):
    """Outputs are exact numbers, one per row, and a row's output does not depend on the others
    (except sim_bn, whose statistics come from X_train)."""
    arch, params, X, _, hyper = data.draw(problems(case))
    out = forward(arch, params, X, **hyper)
    assert out.shape == (X.rows, 1) and not out.free_symbols
    assert not out.has(sp.nan, sp.zoo, sp.oo)
    kw = dict(hyper, X_train=X) if arch == "sim_bn" else hyper
    for i in range(X.rows):
        assert forward(arch, params, X.row(i), **kw)[0] == out[i]


P_BN = Params(W1=sp.eye(2), b1=sp.ones(2, 1), W2=sp.ones(2, 1), gamma=sp.ones(2, 1))


@pytest.mark.parametrize("call, name", [
    (lambda: forward("mlp", P_BIAS, [[1, 1]]), "arch"),
    (lambda: forward("bias", {"W1": 1}, [[1, 1]]), "params"),
    (lambda: forward("bias", P_BIAS, [[1, 1, 1]]), "X"),
    (lambda: forward("bias", P_BIAS, []), "X"),
    (lambda: forward("bias", P_BIAS, [[1, 1]], activation="tanh"), "activation"),
    (lambda: forward("sim_ln", P_BIAS, [[1, 1]], activation="softplus", eps=1), "activation"),
    (lambda: forward("bias", P_BIAS, [[1, 1]], depth=3), "depth"),
    (lambda: forward("sim_ln", P_BIAS, [[1, 1]]), "eps"),
    (lambda: forward("sim_ln", P_BIAS, [[1, 1]], eps=0), "eps"),
    (lambda: forward("sim_ln", P_BIAS, [[1, 1]], eps=-1), "eps"),
    (lambda: forward("sim_ln", P_BIAS, [[1, 1]], eps="abc"), "eps"),
    (lambda: forward("sim_bn", P_BIAS, [[1, 1]]), "params"),          # gamma missing
    (lambda: forward("bias", P_BN, [[1, 1]]), "params"),              # gamma extra
    (lambda: forward("nobias", P_BIAS, [[1, 1]]), "params"),          # b1 extra
    (lambda: forward("bias", Params(W1=sp.eye(2), W2=sp.ones(2, 1)), [[1, 1]]), "params"),  # b1 missing
    (lambda: forward("sim_bn", Params(W1=sp.eye(2), b1=sp.ones(2, 1), W2=sp.ones(2, 1), gamma=sp.ones(2, 1),
                                      middle=(sp.eye(2),)), [[1, 1]]), "params"),  # depth 3
    (lambda: forward("sim_bn", P_BN, [[1, 1]], X_train=[[1, 1, 1]]), "X_train"),
    (lambda: forward("bias", P_BIAS, [[1, 1]], branches_at=(1, 2)), "branches_at"),
    # one decision of which hyperparameters each architecture takes (check_hyper / check_model)
    (lambda: forward("bias", P_BIAS, [[1, 1]], eps=1), "eps"),
    (lambda: forward("bias", P_BIAS, [[1, 1]], X_train=[[1, 1]]), "X_train"),
    (lambda: forward("sim_ln", P_BIAS, [[1, 1]], eps=1, depth=3), "depth"),
    (lambda: forward("bias", P_BIAS, [[1, 1]], depth=1), "depth"),
    # non-finite / non-real inputs and parameters
    (lambda: forward("bias", P_BIAS, [[1, float("nan")]]), "X"),
    (lambda: forward("bias", P_BIAS, [[1, sp.zoo]]), "X"),
    (lambda: forward("bias", P_BIAS, [[1, 2 * sp.I]]), "X"),
    (lambda: forward("bias", P_BIAS, [["x", 1]]), "X"),
    (lambda: forward("sim_bn", P_BN, [[1, 1]], X_train=[[1, -sp.oo]]), "X_train"),
    (lambda: forward("sim_ln", P_BIAS, [[1, 1]], eps=sp.oo), "eps"),
    (lambda: forward("sim_ln", P_BIAS, [[1, 1]], eps=float("nan")), "eps"),
    (lambda: Params(W1=sp.Matrix([[1, sp.nan]]), W2=sp.ones(1, 1)), "W1"),
    (lambda: Params(W1=sp.ones(1, 2), b1=sp.Matrix([sp.oo]), W2=sp.ones(1, 1)), "b1"),
    (lambda: Params(W1=sp.ones(1, 2), W2=sp.Matrix([sp.zoo])), "W2"),
    (lambda: Params(W1=sp.ones(1, 2), b1=sp.ones(1, 1), W2=sp.ones(1, 1), gamma=sp.Matrix([sp.I])), "gamma"),
    (lambda: Params(W1=sp.ones(1, 2), b1=sp.ones(1, 1), W2=sp.ones(1, 1), middle=(sp.Matrix([[-sp.oo]]),)),
     r"middle\[0\]"),
    (lambda: Params.from_arrays({"W1": np.array([[1.0, np.nan]]), "W2": np.array([1.0])}), "W1"),
    (lambda: Params.from_arrays({"W1": np.eye(2), "W2": np.array([np.inf, 1.0])}), "W2"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        call()


def test_params_allow_symbols_but_name_the_non_finite_field():
    k = sp.Symbol("k")
    p = Params(W1=sp.Matrix([[k, 1]]), W2=sp.Matrix([sp.sqrt(2)]))
    assert p.W1[0, 0] == k
    with pytest.raises(ValueError, match=r"^W2: expected finite real numbers or symbols, got nan at entry \(1, 0\)$"):
        Params(W1=sp.ones(2, 2), W2=sp.Matrix([1, sp.nan]))


def test_hyperparameters_are_decided_in_one_place():
    """forward, trace_hessian, min_sharpness, the constructions and population_errors give the same answer
    to the same hyperparameter question (``check_hyper``)."""
    from sharpgen.theory.architectures import check_hyper
    from sharpgen.theory.constructions import generalizing
    from sharpgen.theory.generalization import population_errors
    from sharpgen.theory.minimum import min_sharpness
    from sharpgen.theory.sharpness import trace_hessian
    X, Y = [[1, 1]], [1]
    calls = {
        "forward": lambda **h: forward("bias", P_BIAS, X, **h),
        "trace_hessian": lambda **h: trace_hessian("bias", P_BIAS, X, Y, **h),
        "min_sharpness": lambda **h: min_sharpness("bias", X, Y, **h),
        "generalizing": lambda **h: generalizing("bias", 2, **h),
        "population_errors": lambda **h: population_errors("bias", P_BIAS, 2, **h),
    }
    for hyper in ({"eps": 1}, {"activation": "tanh"}, {"depth": 0}):
        with pytest.raises(ValueError) as expected:
            check_hyper("bias", **hyper)
        for name, call in calls.items():
            with pytest.raises(ValueError) as got:
                call(**hyper)
            assert str(got.value) == str(expected.value), name
