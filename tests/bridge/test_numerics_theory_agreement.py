"""The torch side against the exact sympy side: constructions C1-C6, forward passes, round trips."""
from __future__ import annotations

import math
from fractions import Fraction

import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sharpgen.numerics.nets.initialization import build

from sharpgen.numerics.nets.params import from_params, model_to_params
from sharpgen.numerics.nets.functional import forward as torch_forward
from sharpgen.numerics.nets.sharpness import trace_hessian
from sharpgen.theory import constructions as C
from sharpgen.theory import data as TD
from sharpgen.theory import sharpness as S
from sharpgen.theory.architectures import forward as exact_forward
from sharpgen.theory.minimum import min_sharpness
from sharpgen.theory.params import Params as ExactParams

REL = 1e-9
EPS = sp.Rational(1, 10)


def tensor(mat) -> torch.Tensor:
    return torch.tensor(mat.tolist(), dtype=torch.float64)


def labels(col) -> torch.Tensor:
    return tensor(col)[:, 0]


def close(a: float, b: float, rel: float = REL) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b))


def _memorizing_data():
    X = TD.hypercube(3)[[0, 5, 6], :]
    return X, TD.xor_labels(X)


def _cube2():
    X = TD.hypercube(2)
    return X, TD.xor_labels(X)


def _case(name):
    """(arch, exact params, theory hyper, X, Y) of each construction of docs/paper.md §4, at small size."""
    if name == "C1":
        X, Y = _memorizing_data()
        return "bias", C.memorizing("bias", X, Y), {}, X, Y
    if name == "C1-depth3":
        X, Y = _memorizing_data()
        return "bias", C.memorizing("bias", X, Y, depth=3), {}, X, Y
    if name == "C2":
        return ("bias", C.generalizing("bias", 2), {}, *_cube2())
    if name == "C3":
        return ("nobias", C.generalizing("nobias", 2), {}, *_cube2())
    if name == "C4":
        X, Y = _memorizing_data()
        return "sim_ln", C.memorizing("sim_ln", X, Y, eps=EPS), {"eps": EPS}, X, Y
    if name == "C5":
        return ("sim_ln", C.generalizing("sim_ln", 2, eps=EPS), {"eps": EPS}, *_cube2())
    scale = {"C6-k1/2": sp.Rational(1, 2), "C6-k3": sp.Integer(3)}[name]
    X, Y = TD.condition1_set(3)
    return "sim_bn", C.generalizing("sim_bn", 3, scale=scale), {}, X, Y


CASES = ("C1", "C1-depth3", "C2", "C3", "C4", "C5", "C6-k1/2", "C6-k3")


def _net(arch, params, hyper, X):
    eps = float(hyper["eps"]) if "eps" in hyper else None
    return from_params(arch, params, eps=eps, X_train=X if arch == "sim_bn" else None)


@pytest.mark.parametrize("name", CASES)
def test_construction_sharpness_equals_theory(name):
    arch, params, hyper, X, Y = _case(name)
    expected = float(S.trace_hessian(arch, params, X, Y, **hyper))
    net = _net(arch, params, hyper, X)
    assert close(trace_hessian(net, tensor(X), labels(Y)), expected)
    assert close(trace_hessian(net, tensor(X), labels(Y), method="autograd"), expected)


@pytest.mark.parametrize("name", CASES)
def test_constructions_interpolate_in_torch(name):
    arch, params, hyper, X, Y = _case(name)
    net = _net(arch, params, hyper, X)
    with torch.no_grad():
        assert torch.allclose(net(tensor(X)), labels(Y), rtol=0, atol=1e-12)


@pytest.mark.parametrize("d, n, seed", [(6, 20, 0), (8, 40, 1)])
def test_memorizing_bias_attains_f3_bound_at_larger_size(d, n, seed):
    # C1 on P_xor: Tr ∇²L = (4/n) Σ ||x_i'|| |y_i| = 4 sqrt(d + 1) (F3), exactly, and f = 0 off the training set.
    gen = torch.Generator().manual_seed(seed)
    rows = torch.randperm(2 ** d, generator=gen)[:n].tolist()
    X = TD.hypercube(d).extract(rows, list(range(d)))
    Y = TD.xor_labels(X)
    net = from_params("bias", C.memorizing("bias", X, Y))
    value = trace_hessian(net, tensor(X), labels(Y))
    assert close(value, 4 * (d + 1) ** 0.5)
    unseen = [i for i in range(2 ** d) if i not in rows]
    with torch.no_grad():
        assert torch.equal(net(tensor(TD.hypercube(d))[unseen]), torch.zeros(len(unseen), dtype=torch.float64))


@pytest.mark.parametrize("name", ["C1", "C1-depth3", "C2", "C3", "C4", "C5"])
def test_flattest_constructions_attain_theory_minimum(name):
    # F3/F4 (C1, C2, C3) and F5 (C4, C5): the exact torch trace equals theory's minimum sharpness.
    arch, params, hyper, X, Y = _case(name)
    minimum = min_sharpness(arch, X, Y, depth=params.depth, **hyper)
    assert minimum.exact and minimum.attained
    net = _net(arch, params, hyper, X)
    assert close(trace_hessian(net, tensor(X), labels(Y)), float(minimum.value))


@pytest.mark.parametrize("d", [3, 4])
def test_sim_bn_family_decreases_to_theory_infimum(d):
    # C6 (Lemma A.1, F6): interpolates for every k; Tr ∇²L decreases in k towards min_sharpness (not attained).
    X, Y = TD.condition1_set(d)
    infimum = min_sharpness("sim_bn", X, Y)
    assert infimum.exact and not infimum.attained
    values = [trace_hessian(from_params("sim_bn", C.generalizing("sim_bn", d, scale=k), X_train=X),
                            tensor(X), labels(Y)) for k in (1, 4, 16, 64, 256, 4096)]
    assert all(a > b for a, b in zip(values, values[1:]))
    assert values[-1] > float(infimum.value) and close(values[-1], float(infimum.value), rel=1e-6)


def test_sim_bn_family_attains_infimum_with_one_tail():
    X, Y = TD.condition1_set(2)
    infimum = min_sharpness("sim_bn", X, Y)
    assert infimum.attained
    for k in (sp.Rational(1, 3), 1, 50):
        net = from_params("sim_bn", C.generalizing("sim_bn", 2, scale=k), X_train=X)
        assert close(trace_hessian(net, tensor(X), labels(Y)), float(infimum.value))


# ---------------------------------------------------------------- forward on random rational parameters

ARCHS = (("nobias", {}), ("bias", {}), ("bias", {"depth": 3}), ("bias", {"activation": "softplus"}),
         ("bias", {"activation": "softplus", "depth": 3}), ("sim_ln", {"eps": Fraction(1, 4)}),
         ("sim_ln", {"eps": Fraction(3, 2)}), ("sim_bn", {}))


def rationals():
    return st.fractions(min_value=-3, max_value=3, max_denominator=7)


@st.composite
def rational_problems(draw):
    arch, hyper = draw(st.sampled_from(ARCHS))
    d, m = draw(st.integers(2, 3)), draw(st.integers(1, 3))
    n = draw(st.integers(1, 4))
    mat = lambda r, c: [[draw(rationals()) for _ in range(c)] for _ in range(r)]
    col = lambda r: [draw(rationals()) for _ in range(r)]
    fields = {"W1": mat(m, d), "W2": col(m)}
    if arch != "nobias":
        fields["b1"] = col(m)
    if arch == "sim_bn":
        fields["gamma"] = col(m)
    fields["middle"] = tuple(mat(m, m) for _ in range(hyper.get("depth", 2) - 2))
    X = mat(n, d)
    return arch, hyper, fields, X


def _exact_params(fields):
    conv = lambda v: sp.Matrix(v).applyfunc(lambda q: sp.Rational(q.numerator, q.denominator))
    return ExactParams(W1=conv(fields["W1"]), W2=conv(fields["W2"]),
                       b1=None if "b1" not in fields else conv(fields["b1"]),
                       gamma=None if "gamma" not in fields else conv(fields["gamma"]),
                       middle=tuple(conv(w) for w in fields["middle"]))


@settings(max_examples=60, deadline=None)
@given(rational_problems())
def test_forward_equals_theory_forward_on_rational_parameters(problem):
    arch, hyper, fields, X = problem
    exact = _exact_params(fields)
    activation = hyper.get("activation", "relu")
    eps = hyper.get("eps")
    sym_eps = None if eps is None else sp.Rational(eps.numerator, eps.denominator)
    Xs = sp.Matrix(X).applyfunc(lambda q: sp.Rational(q.numerator, q.denominator))
    expected = exact_forward(arch, exact, Xs, activation=activation, eps=sym_eps,
                             X_train=Xs if arch == "sim_bn" else None)
    net = from_params(arch, exact, activation=activation, eps=None if eps is None else float(eps),
                      X_train=Xs if arch == "sim_bn" else None)
    params = {k: v.detach() for k, v in net.named_parameters()}
    got = torch_forward(arch, params, tensor(Xs), activation=activation, eps=net.hyper["eps"],
                        X_train=net.X_train)
    want = torch.tensor([float(v) for v in expected], dtype=torch.float64)
    atol = 1e-12 + (_softplus_threshold_error(exact) if activation == "softplus" else 0.0)
    assert torch.allclose(got, want, rtol=1e-12, atol=atol), (arch, hyper, got, want)


def _softplus_threshold_error(exact) -> float:
    """Bound on |torch - exact| from torch's softplus(z) = z for z > 20 (error log1p(e^-z) < e^-20
    per unit), carried through the 1-Lipschitz layers by their infinity norms."""
    err = math.exp(-20)
    for w in exact.middle:
        err = err * max(sum(abs(float(v)) for v in w.row(i)) for i in range(w.rows)) + math.exp(-20)
    return err * sum(abs(float(v)) for v in exact.W2)


# ---------------------------------------------------------------- round trip through theory

@pytest.mark.parametrize("arch, hyper", [("nobias", {}), ("bias", {"depth": 3}), ("sim_ln", {"eps": 1e-3}),
                                         ("sim_bn", {})])
def test_round_trip_through_theory_params_is_identity(arch, hyper):
    net = build(arch, 3, 4, seed=11, **hyper)
    exact = ExactParams.from_arrays(model_to_params(net), exact=True)
    back = from_params(arch, exact, eps=hyper.get("eps"))
    for (name, a), (name_b, b) in zip(net.named_parameters(), back.named_parameters()):
        assert name == name_b and torch.equal(a, b)


def test_symbolic_parameters_are_refused_with_a_named_error():
    # C6 with its scale k left symbolic has no float value: loading it must say which field failed.
    with pytest.raises(ValueError, match="^W1: cannot convert to a float tensor"):
        from_params("sim_bn", C.generalizing("sim_bn", 3))
