"""theory.generalization: exact P_xor population errors, path norm, Lemma 3.1 bound."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sharpgen.verify.strategies import EXACT_CASES, cube_points, params_for
from sharpgen.theory.architectures import forward
from sharpgen.theory.data import hypercube, xor_labels
from sharpgen.theory.generalization import path_norm, population_errors, rademacher_bound
from sharpgen.theory.params import Params

R = sp.Rational


def brute_force(arch, params, d, **hyper):
    """Independent reference: sympy forward on every cube point, exact sums."""
    X = hypercube(d)
    Y = xor_labels(X)
    f = forward(arch, params, X, **hyper)
    mse = sp.Add(*[(f[i] - Y[i]) ** 2 for i in range(X.rows)]) / X.rows
    wrong = sum(1 for i in range(X.rows) if (Y[i] * f[i] == 0 or sp.N(Y[i] * f[i], 50) < 0))
    return mse, R(wrong, X.rows)


def same(a, b) -> bool:
    diff = sp.sympify(a) - sp.sympify(b)
    if diff.has(sp.exp, sp.log) or isinstance(a, sp.Float):
        return abs(sp.N(diff, 30)) < 1e-12 * (1 + abs(sp.N(b)))
    return diff == 0 or sp.simplify(diff) == 0


@pytest.mark.parametrize("case", EXACT_CASES, ids=lambda c: f"{c[0]}-{'-'.join(map(str, c[1].values()))}")
@settings(deadline=None, max_examples=8)
@given(data=st.data())
def test_matches_brute_force(case, data):
    arch, hyper = case
    d = data.draw(st.integers(2, 3))
    width = data.draw(st.integers(1, 2 if hyper.get("activation") == "softplus" else 4))
    params = data.draw(params_for(arch, width, d, hyper.get("depth", 2)))
    hyper = dict(hyper)
    if arch == "sim_bn":
        hyper["X_train"] = data.draw(cube_points(d, max_n=4))
    mse, zero_one = population_errors(arch, params, d, **hyper)
    ref_mse, ref_zero_one = brute_force(arch, params, d, **hyper)
    assert zero_one == ref_zero_one
    assert same(mse, ref_mse)
    if hyper.get("activation") != "softplus":
        assert not isinstance(mse, sp.Float)  # exact


def test_irrational_weights_exact():
    s2, s3 = sp.sqrt(2), sp.sqrt(3)
    p = Params(W1=sp.Matrix([[s2, 1, 0], [1, -s3, 1]]), b1=sp.Matrix([-1, R(1, 2)]), W2=sp.Matrix([s3, -1]))
    mse, zero_one = population_errors("bias", p, 3)
    ref = brute_force("bias", p, 3)
    assert zero_one == ref[1] and sp.simplify(mse - ref[0]) == 0
    assert mse.has(sp.sqrt(2))
    deep = Params(W1=p.W1, b1=p.b1, W2=p.W2, middle=(sp.Matrix([[1, s2], [-1, 2]]),))
    mse, zero_one = population_errors("bias", deep, 3, depth=3)
    ref = brute_force("bias", deep, 3)
    assert zero_one == ref[1] and sp.simplify(mse - ref[0]) == 0 and not isinstance(mse, sp.Float)
    # memorizing pattern with irrational weights: zero off the stored points, exact
    d, r = 3, sp.sqrt(2)
    X = sp.Matrix([[1, 1, 1], [-1, 1, -1]])
    mem = Params(W1=r * X, b1=-r * (d - 1) * sp.ones(2, 1), W2=sp.Matrix([1, -1]) / r, middle=(sp.eye(2),))
    assert population_errors("bias", mem, d, depth=3) == (1 - R(2, 8), 1 - R(2, 8))


def test_exact_zero_output_is_an_error():
    p = Params(W1=sp.Matrix([[1, 0], [0, 1]]), W2=sp.Matrix([0, 0]))
    assert population_errors("nobias", p, 2) == (1, 1)
    # outputs that cancel exactly (1 - 1 on x = (1, 1)) are errors too, found exactly
    q = Params(W1=sp.Matrix([[1, 0], [0, 1]]), W2=sp.Matrix([1, -1]))
    assert population_errors("nobias", q, 2)[1] == brute_force("nobias", q, 2)[1] == R(3, 4)


def test_memorizing_network_hand():
    """Neuron i fires only on x_i (row x_i, bias -(d - 1)), output y_i: errors 1 - n/2^d (Prop 4.1)."""
    d = 4
    X = sp.Matrix([[1, 1, 1, 1], [1, -1, 1, -1], [-1, -1, 1, 1]])
    Y = xor_labels(X)
    p = Params(W1=X, b1=-(d - 1) * sp.ones(3, 1), W2=Y)
    assert population_errors("bias", p, d) == (1 - R(3, 2 ** d), 1 - R(3, 2 ** d))


def c2(d):
    r = (d + 1) ** R(1, 4)
    rows, W2 = [], []
    for s in (0, 1):
        for t in (0, 1):
            rows.append([r * (-1) ** s, r * (-1) ** t] + [0] * (d - 2))
            W2.append((-1) ** (s + t) / r)
    return Params(W1=sp.Matrix(rows), b1=-r * sp.ones(4, 1), W2=sp.Matrix(W2))


def test_generalizing_constructions_d12():
    assert population_errors("bias", c2(12), 12) == (0, 0)
    eps = R(1, 10)
    rows = [[2 * eps * (-1) ** s, 2 * eps * (-1) ** t] + [0] * 10 for s in (0, 1) for t in (0, 1)]
    ln = Params(W1=sp.Matrix(rows), b1=-2 * eps * sp.ones(4, 1),
                W2=sp.Matrix([(-1) ** (s + t) for s in (0, 1) for t in (0, 1)]))
    assert population_errors("sim_ln", ln, 12, eps=eps) == (0, 0)


def test_d12_width100_runs_and_agrees_with_floats():
    rng = np.random.default_rng(0)
    W1, b1, W2 = rng.normal(size=(100, 12)), rng.normal(size=100), rng.normal(size=100)
    p = Params.from_arrays({"W1": W1, "b1": b1, "W2": W2})
    mse, zero_one = population_errors("bias", p, 12)
    X = np.array(hypercube(12).tolist(), dtype=float)
    f = np.maximum(X @ W1.T + b1, 0) @ W2
    y = X[:, 0] * X[:, 1]
    assert mse.is_Rational
    assert abs(float(mse) - np.mean((f - y) ** 2)) < 1e-9 * (1 + float(mse))
    assert zero_one == R(int(np.sum(y * f <= 0)), 4096)


def test_symbolic_scale():
    """Free symbols: exact symbolic enumeration; sim_bn is invariant to the first-layer scale k."""
    k = sp.Symbol("k", positive=True)
    rows = [[k * (-1) ** s, k * (-1) ** t] for s in (0, 1) for t in (0, 1)]
    h = 1 / sp.sqrt(2)
    p = Params(W1=sp.Matrix(rows), b1=-k * sp.ones(4, 1), gamma=h * sp.ones(4, 1),
               W2=sp.Matrix([h * (-1) ** (s + t) for s in (0, 1) for t in (0, 1)]))
    X = hypercube(2)
    # each neuron fires on one of the 4 training points: a_j = k / 2, f = x[1] x[2]
    assert population_errors("sim_bn", p, 2, X_train=X) == (0, 0)
    q = Params(W1=sp.Matrix([[k, 0]]), W2=sp.Matrix([1]))  # f = relu(k x[1]): right only on (1, 1)
    mse, zero_one = population_errors("nobias", q, 2)
    assert zero_one == R(3, 4) and sp.simplify(mse - ((k - 1) ** 2 + (k + 1) ** 2 + 2) / 4) == 0


def test_path_norm_and_rademacher_bound():
    p = Params(W1=sp.Matrix([[3, 4], [0, 1]]), W2=sp.Matrix([-2, R(1, 2)]))
    assert path_norm(p) == 5 * 2 + R(1, 2)
    q = Params(W1=sp.Matrix([[2, 2]]), b1=sp.Matrix([1]), W2=sp.Matrix([3]))
    assert path_norm(q) == 9  # augmented row (2, 2, 1)
    assert rademacher_bound(path_norm(p), 4, 100) == 2 * R(21, 2) * 2 / 10
    assert rademacher_bound(1, 30, 100, radius=sp.sqrt(31)) == 2 * sp.sqrt(31) / 10
    C, d, n = sp.symbols("C d n", positive=True)
    assert rademacher_bound(C, 12, 3) == 4 * C


X_TRAIN = [[1, 1], [-1, 1]]
P_BN = Params(W1=sp.eye(2), b1=sp.ones(2, 1), W2=sp.ones(2, 1), gamma=sp.ones(2, 1))
P_B = Params(W1=sp.eye(2), b1=sp.ones(2, 1), W2=sp.ones(2, 1))


@pytest.mark.parametrize("call, name", [
    (lambda: population_errors("bias", P_B, 3), "d"),
    (lambda: population_errors("bias", P_B, 1), "d"),
    (lambda: population_errors("cnn", P_B, 2), "arch"),
    (lambda: population_errors("bias", P_B.subs(1, sp.Symbol("k")), 2), "params"),  # sign undecided
    (lambda: population_errors("bias", Params(W1=sp.Symbol("k", positive=True) * sp.ones(100, 12),
                                              b1=sp.ones(100, 1), W2=sp.ones(100, 1)), 12), "params"),
    (lambda: population_errors("sim_ln", P_B, 2), "eps"),
    (lambda: population_errors("sim_ln", P_B, 2, eps=-1), "eps"),
    (lambda: population_errors("sim_bn", P_BN, 2), "X_train"),
    (lambda: population_errors("sim_bn", P_BN, 2, X_train=[[1, 1, 1]]), "X_train"),
    (lambda: population_errors("bias", P_B, 2, activation="elu"), "activation"),
    (lambda: path_norm("W"), "params"),
    (lambda: rademacher_bound(-1, 4, 10), "path_norm"),
    (lambda: rademacher_bound(1, 4, 0), "n"),
    (lambda: rademacher_bound(1, 1, 10), "d"),
    (lambda: rademacher_bound(1, 4, 10, radius=-2), "radius"),
    (lambda: rademacher_bound(float("nan"), 4, 10), "path_norm"),
    (lambda: rademacher_bound(sp.nan, 4, 10), "path_norm"),
    (lambda: rademacher_bound(sp.oo, 4, 10), "path_norm"),
    (lambda: rademacher_bound(sp.zoo, 4, 10), "path_norm"),
    (lambda: rademacher_bound(sp.I, 4, 10), "path_norm"),
    (lambda: rademacher_bound("C", 4, 10), "path_norm"),
    (lambda: rademacher_bound(1, 4, 10, radius=float("nan")), "radius"),
    (lambda: rademacher_bound(1, 4, 10, radius=sp.oo), "radius"),
    (lambda: population_errors("sim_bn", P_BN, 2, X_train=[[1, float("nan")]]), "X_train"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        call()
