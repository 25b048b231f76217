"""Constructions C1-C6 (docs/paper.md §4): exact interpolation, exact sharpness = the minimum, cube errors."""
from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sharpgen.verify.strategies import cube_subsets, labels
from sharpgen.theory.architectures import forward
from sharpgen.theory.constructions import (bias_scales, delta_max, generalizing, generalizing_symbolic, memorizing,
                                  sim_ln_scales)
from sharpgen.theory.data import condition1_set, hypercube, xor_labels
from sharpgen.theory.generalization import population_errors
from sharpgen.theory.bounds import bias_bound, per_sample_bound, sim_ln_bound
from sharpgen.theory.minimum import min_sharpness
from sharpgen.theory.params import Params
from sharpgen.theory.sharpness import trace_hessian
from sharpgen.theory.symbols import k as K

R = sp.Rational
FEW = settings(deadline=None, max_examples=12)
SLOW = settings(deadline=None, max_examples=5)


def same(a, b) -> bool:
    return sp.simplify(sp.sympify(a) - sp.sympify(b)) == 0


def interpolates(arch, params, X, Y, **hyper) -> bool:
    return list(forward(arch, params, X, **hyper) - sp.Matrix(Y)) == [0] * X.rows


# ---------------------------------------------------------------- C1 (bias, memorizing)

@FEW
@given(cube_subsets())
def test_c1_xor_is_flattest_and_memorizes(data):
    d, X = data
    Y = xor_labels(X)
    p = memorizing("bias", X, Y)
    assert p.width == X.rows
    assert interpolates("bias", p, X, Y)
    assert same(trace_hessian("bias", p, X, Y), min_sharpness("bias", X, Y).value)
    assert same(min_sharpness("bias", X, Y).value, 4 * sp.sqrt(d + 1))
    off = [i for i in range(2 ** d) if tuple(hypercube(d).row(i)) not in {tuple(X.row(j)) for j in range(X.rows)}]
    if off:
        assert list(forward("bias", p, hypercube(d)[off, :])) == [0] * len(off)
    error = 1 - R(X.rows, 2 ** d)
    assert population_errors("bias", p, d) == (error, error)


@FEW
@given(cube_subsets(max_n=6).flatmap(lambda dx: st.tuples(st.just(dx), labels(dx[1].rows), st.sampled_from((2, 3)))))
def test_c1_any_labels_and_depth_attains_f3_f4(case):
    (d, X), Y, depth = case
    p = memorizing("bias", X, Y, depth=depth)
    assert p.depth == depth
    assert interpolates("bias", p, X, Y)
    bound = sp.Rational(2, X.rows) * sum(per_sample_bound(X.row(i), Y[i], depth=depth) for i in range(X.rows))
    assert same(bound, bias_bound(X, Y, depth))
    assert same(trace_hessian("bias", p, X, Y), bound)


def test_c1_zero_label_dead_neuron_vs_paper_choice():
    # Depth 3, y_2 = 0: the dead neuron attains the F4 bound, the paper's r = u = 1 costs 1 more (per zero label).
    X = hypercube(3)[[0, 3, 6], :]
    Y = sp.Matrix([2, R(-1, 3), 0])
    ours = memorizing("bias", X, Y, depth=3)
    paper = memorizing("bias", X, Y, depth=3, rule="paper")
    assert list(ours.W1.row(2)) == [0, 0, 0] and ours.b1[2] == 0
    assert interpolates("bias", paper, X, Y)
    bound = bias_bound(X, Y, 3)
    assert same(trace_hessian("bias", ours, X, Y), bound)
    assert same(trace_hessian("bias", paper, X, Y), bound + R(2, 3))


def test_c1_paper_exponent_half_is_not_flattest():
    # The paper prints r_i = (||x_i||^2 + 1)^{1/2}; on P_xor that costs |y|(||x'||^2 + 1) = d + 2 per
    # sample, Tr = 2(d + 2), instead of the F3 value 4 sqrt(d + 1) reached with exponent 1/4.
    d = 3
    X = hypercube(d)[[0, 3, 5, 6], :]
    Y = xor_labels(X)
    ours = memorizing("bias", X, Y)
    c = (d + 1) ** R(1, 4)  # r_paper / r_ours = ||x'||^{1/2}
    paper = Params(W1=ours.W1 * c, b1=ours.b1 * c, W2=ours.W2 / c)
    assert interpolates("bias", paper, X, Y)
    assert same(trace_hessian("bias", paper, X, Y), 2 * (d + 2))
    assert same(trace_hessian("bias", ours, X, Y), 4 * sp.sqrt(d + 1))


def test_c1_general_extreme_data_uses_lp_witnesses():
    X = sp.Matrix([[3, 0], [0, 3], [-3, 0], [0, -3], [2, 2]])
    Y = sp.Matrix([1, -2, R(1, 2), 0, 3])
    p = memorizing("bias", X, Y)
    assert interpolates("bias", p, X, Y)
    assert same(trace_hessian("bias", p, X, Y), min_sharpness("bias", X, Y).value)
    assert min_sharpness("bias", X, Y).exact


def test_c1_delta_range_and_default():
    X = hypercube(3)[[0, 7], :]
    assert delta_max(X) == 2 / sp.sqrt(3)
    at_max = memorizing("bias", X, [1, 1], delta=delta_max(X))
    assert list(forward("bias", at_max, hypercube(3))) == [1, 0, 0, 0, 0, 0, 0, 1]
    for bad in (0, -1, 2, "x"):
        with pytest.raises(ValueError, match=r"^delta: expected a number with 0 < delta <= 2\*sqrt\(3\)/3"):
            memorizing("bias", X, [1, 1], delta=bad)


def test_bias_scales_match_paper_depth2_formula():
    # Depth 2: u = r_i sqrt|y| and W2 = sign(y) sqrt|y| / r_i with r_i = (||x||^2 + 1)^{1/4}.
    norm, y = sp.sqrt(5), R(9, 4)
    r, u = bias_scales(norm, y, 2)
    r_paper = norm ** R(1, 2)
    assert same(u, r_paper * sp.sqrt(y)) and same(1 / r, sp.sqrt(y) / r_paper)


# ---------------------------------------------------------------- C2, C3 (bias, nobias: generalizing)

@pytest.mark.parametrize("d", [2, 3, 4, 5])
def test_generalizing_nets_compute_xor_on_whole_cube(d):
    cube = hypercube(d)
    for arch, hyper in (("bias", {}), ("nobias", {}), ("sim_ln", {"eps": R(1, 10)}), ("sim_bn", {})):
        p = generalizing(arch, d, **hyper)
        assert p.width == 4
        extra = {"X_train": cube} if arch == "sim_bn" else {}
        assert interpolates(arch, p, cube, xor_labels(cube), **hyper, **extra)


@FEW
@given(cube_subsets())
def test_c2_c3_attain_f3_on_random_training_sets(data):
    d, X = data
    Y = xor_labels(X)
    for arch, value in (("bias", 4 * sp.sqrt(d + 1)), ("nobias", 4 * sp.sqrt(d))):
        p = generalizing(arch, d)
        assert same(trace_hessian(arch, p, X, Y), min_sharpness(arch, X, Y).value)
        assert same(min_sharpness(arch, X, Y).value, value)
        assert min_sharpness(arch, X, Y).exact
        assert population_errors(arch, p, d) == (0, 0)


@pytest.mark.parametrize("d", [2, 3, 4])
def test_c2_paper_radius_is_not_flattest(d):
    # Erratum: the paper's r = (d^2 + 1)^{1/4} costs 2((d+1)/sqrt(d^2+1) + sqrt(d^2+1)) > 4 sqrt(d+1).
    X = hypercube(d)
    Y = xor_labels(X)
    r_paper = (d ** 2 + 1) ** R(1, 4)
    paper = generalizing("bias", d, scale=r_paper)
    assert interpolates("bias", paper, X, Y)
    traced = trace_hessian("bias", paper, X, Y)
    assert same(traced, 2 * ((d + 1) / sp.sqrt(d ** 2 + 1) + sp.sqrt(d ** 2 + 1)))
    assert sp.N(traced - 4 * sp.sqrt(d + 1)) > 0


def test_generalizing_symbolic_in_d():
    d = sp.Symbol("d", positive=True, integer=True)
    net = generalizing_symbolic("bias", d=d)
    # F2 per cube point: one neuron fires with value r, ||x'||^2 = d + 1.
    r = net.head[0, 0]
    cost = net.W2[0] ** 2 * (d + 1) + r ** 2
    assert same(cost, 2 * sp.sqrt(d + 1))
    nob = generalizing_symbolic("nobias", d=d)
    assert same(nob.W2[0] ** 2 * d + (2 * nob.head[0, 0]) ** 2, 2 * sp.sqrt(d))
    assert same(nob.W2[0], 2 * nob.head[0, 0] / sp.sqrt(d))
    assert net.params(4) == generalizing("bias", 4)
    assert generalizing_symbolic("sim_bn").params(3).W1[0, 0] == K
    with pytest.raises(ValueError, match="^d: this network was built for d = 3"):
        generalizing_symbolic("bias", d=3).params(4)


# ---------------------------------------------------------------- C4, C5 (sim_ln)

@SLOW
@given(cube_subsets(dims=(3, 4), max_n=3).flatmap(
    lambda dx: st.tuples(st.just(dx), labels(dx[1].rows), st.sampled_from((R(1, 10), R(2), R(5))))))
def test_c4_attains_f5_for_any_labels(case):
    (d, X), Y, eps = case
    p = memorizing("sim_ln", X, Y, eps=eps)
    assert interpolates("sim_ln", p, X, Y, eps=eps)
    assert same(trace_hessian("sim_ln", p, X, Y, eps=eps), sim_ln_bound(X, Y, eps))


def test_c4_xor_memorizes_and_has_sharpness_2():
    d = 3
    X = hypercube(d)[[0, 3, 5], :]
    Y = xor_labels(X)
    eps = R(1, 10)
    p = memorizing("sim_ln", X, Y, eps=eps)
    assert same(trace_hessian("sim_ln", p, X, Y, eps=eps), 2)
    assert min_sharpness("sim_ln", X, Y, eps=eps).value == 2
    error = 1 - R(3, 8)
    assert population_errors("sim_ln", p, d, eps=eps) == (error, error)


def test_c4_paper_regimes_miss_the_infimum():
    # ||x'|| = 2 on {-1,1}^3; a = ||x'|||y| = 4, 2/3, 0.
    X = hypercube(3)[[0, 3, 6], :]
    Y = sp.Matrix([2, R(-1, 3), 0])
    for eps, ours, paper in ((R(3), R(26, 27), R(44, 27)), (R(5), R(38, 45), R(86, 45))):
        assert trace_hessian("sim_ln", memorizing("sim_ln", X, Y, eps=eps), X, Y, eps=eps) == ours
        assert sim_ln_bound(X, Y, eps) == ours
        paper_net = memorizing("sim_ln", X, Y, eps=eps, rule="paper")
        assert interpolates("sim_ln", paper_net, X, Y, eps=eps)
        assert trace_hessian("sim_ln", paper_net, X, Y, eps=eps) == paper


@pytest.mark.parametrize("a, eps, expected", [(4, 3, (1, 6)), (1, 2, (1, 4)), (R(1, 2), 2, (2, 1))])
def test_sim_ln_scales_crossover_at_half_eps(a, eps, expected):
    r, u = sim_ln_scales(a, 1, eps)
    assert (r, u) == expected
    assert r * u / max(u, eps) == 1  # f(x_i) = r y u / max(u, eps) = y


def test_c5_sharpness_2_and_generalizes():
    d, eps = 3, R(1, 10)
    X = hypercube(d)[[0, 2, 5, 7], :]
    Y = xor_labels(X)
    p = generalizing("sim_ln", d, eps=eps)
    assert trace_hessian("sim_ln", p, X, Y, eps=eps) == 2 == min_sharpness("sim_ln", X, Y, eps=eps).value
    assert population_errors("sim_ln", p, d, eps=eps) == (0, 0)


# ---------------------------------------------------------------- C6 (sim_bn)

def test_c6_one_tail_attains_8_for_every_scale():
    X, Y = condition1_set(2)
    p = generalizing("sim_bn", 2)
    assert interpolates("sim_bn", p, X, Y)
    assert trace_hessian("sim_bn", p, X, Y) == 8
    assert population_errors("sim_bn", p, 2, X_train=X) == (0, 0)


def test_c6_interpolates_for_every_scale_and_generalizes():
    X, Y = condition1_set(4)
    for k in (R(1, 3), 1, 7, K):
        p = generalizing("sim_bn", 4, scale=k)
        assert interpolates("sim_bn", p, X, Y)
    assert population_errors("sim_bn", generalizing("sim_bn", 4, scale=2), 4, X_train=X) == (0, 0)


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, name", [
    (lambda: generalizing("resnet", 3), "arch"),
    (lambda: generalizing("bias", 1), "d"),
    (lambda: generalizing("bias", 2.5), "d"),
    (lambda: generalizing("sim_ln", 3), "eps"),
    (lambda: generalizing("sim_ln", 3, eps=-1), "eps"),
    (lambda: generalizing("sim_ln", 3, eps=1, scale=R(1, 2)), "scale"),
    (lambda: generalizing("sim_bn", 3, scale=0), "scale"),
    (lambda: generalizing("bias", 3, eps=1), "eps"),
    (lambda: generalizing("bias", 3, depth=3), "depth"),
    (lambda: memorizing("nobias", [[1, 1]], [1]), "arch"),
    (lambda: memorizing("bias", [[1, 1], [1, -1]], [1]), "Y"),
    (lambda: memorizing("bias", [[1, 1], [1, -1]], [1, "a"]), "Y"),
    (lambda: memorizing("bias", [[0, 0], [1, 0], [2, 0]], [1, 1, 1]), "X"),
    (lambda: memorizing("bias", [[1, 1], [1, 1]], [1, 1]), "X"),
    (lambda: memorizing("bias", [[1, 1]], [1], depth=1), "depth"),
    (lambda: memorizing("sim_ln", [[1, 1]], [1]), "eps"),
    (lambda: memorizing("sim_ln", [[1, 1]], [1], eps=0), "eps"),
    (lambda: memorizing("bias", [[1, 1]], [1], rule="other"), "rule"),
    (lambda: memorizing("bias", [[1, 1], [1]], [1, 1]), "X"),
    (lambda: memorizing("bias", [[1, 1]], [1], activation="softplus"), "activation"),
    (lambda: generalizing("bias", 3, foo=1), "foo"),
    (lambda: generalizing("sim_ln", 3, eps=1, epsilon=1), "epsilon"),
    (lambda: generalizing("sim_bn", 3, scale=sp.oo), "scale"),
    (lambda: generalizing("sim_ln", 3, eps=float("nan")), "eps"),
    (lambda: memorizing("bias", [[1], [-1]], [1, -1]), "X"),
    (lambda: memorizing("sim_ln", [[2]], [1], eps=1), "X"),
    (lambda: memorizing("bias", [[1, 1], [1, float("nan")]], [1, 1]), "X"),
    (lambda: memorizing("bias", [[1, 1], [1, -1]], [1, float("nan")]), "Y"),
    (lambda: memorizing("bias", [[1, 1], [1, -1]], [1, sp.oo]), "Y"),
    (lambda: delta_max([[1, 1], [sp.zoo, 1]]), "X"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}: "):
        call()


# ---------------------------------------------------------------- paper-scale check (pytest -m paper)

@pytest.mark.paper
def test_bigger_instance_all_constructions():
    d, rows = 6, [0, 5, 9, 17, 22, 30, 33, 40, 47, 51, 58, 63]
    X = hypercube(d)[rows, :]
    Y = xor_labels(X)
    eps = R(1, 10)
    for arch, p, hyper in (("bias", memorizing("bias", X, Y), {}), ("bias", generalizing("bias", d), {}),
                           ("bias", memorizing("bias", X, Y, depth=3), {"depth": 3}),
                           ("nobias", generalizing("nobias", d), {}),
                           ("sim_ln", memorizing("sim_ln", X, Y, eps=eps), {"eps": eps}),
                           ("sim_ln", generalizing("sim_ln", d, eps=eps), {"eps": eps})):
        assert interpolates(arch, p, X, Y, **hyper)
        assert same(trace_hessian(arch, p, X, Y, **hyper), min_sharpness(arch, X, Y, **hyper).value)
    X1, Y1 = condition1_set(5)
    traced = trace_hessian("sim_bn", generalizing("sim_bn", 5), X1, Y1)
    assert sp.limit(traced, K, sp.oo) == min_sharpness("sim_bn", X1, Y1).value == 8


def test_memorizing_rejects_bad_x_before_the_lp(monkeypatch):
    """NaN / non-real / d = 1 inputs fail naming X before scipy's linprog sees them."""
    import scipy.optimize

    def no_lp(*args, **kwargs):
        raise AssertionError("linprog must not be reached")

    monkeypatch.setattr(scipy.optimize, "linprog", no_lp)  # theory.data imports it when an LP is needed
    for X, message in (([[R(1, 2), 1], [float("nan"), 0]], r"^X: expected finite real numbers, got nan at row 1$"),
                       ([[R(1, 2), 1], [sp.I, 0]], r"^X: expected finite real numbers, got I at row 1$"),
                       ([[R(1, 2), 1], [float("inf"), 0]], r"^X: expected finite real numbers, got oo at row 1$"),
                       ([[R(1, 2)], [3]], r"^X: expected points with d >= 2 coordinates, got 1$")):
        for arch, hyper in (("bias", {}), ("sim_ln", {"eps": 1})):
            with pytest.raises(ValueError, match=message):
                memorizing(arch, X, [1, -1], **hyper)


def test_generalizing_unknown_keyword_is_a_value_error():
    with pytest.raises(ValueError, match=r"^foo: not a keyword of generalizing; expected one of "
                                         r"\('scale', 'eps', 'depth', 'activation'\)$"):
        generalizing("bias", 3, foo=1)


def test_bias_scales_docstring_attributes_the_readings_to_the_proof_sketch():
    doc = " ".join(bias_scales.__doc__.split())
    assert "the Section 4 proof sketch as printed, r_i = (||x_i||^2 + 1)^{1/2}" in doc
    assert "needs r_i = (||x_i||^2 + 1)^{1/4}" in doc


@pytest.mark.parametrize("d", [2, 3])
def test_c1_printed_radical_over_the_product_is_flattest(d):
    # Sec 4: W1 = [sqrt(r_i |y_i|) w_i/eps], W2 = [sign(y_i) sqrt(|y_i|/r_i)], r_i = (||x_i||^2 + 1)^{1/2}.
    X = hypercube(d)
    Y = sp.Matrix([x[0] * x[1] for x in X.tolist()])
    best = min_sharpness("bias", X, Y).value
    product = memorizing("bias", X, Y, rule="paper", reading="product")
    factor = memorizing("bias", X, Y, rule="paper", reading="factor")
    assert interpolates("bias", product, X, Y) and interpolates("bias", factor, X, Y)
    assert same(trace_hessian("bias", product, X, Y), best)
    # radical over |y_i| only: |y|(||x'||^2 + 1) per sample, (2/n) of it summed
    assert same(trace_hessian("bias", factor, X, Y), 2 * (d + 2))
    assert sp.N(trace_hessian("bias", factor, X, Y) - best) > 0
    r_i = sp.sqrt(d + 1)
    relu_at_x0 = (product.W1.row(0) * X.row(0).T)[0] + product.b1[0]  # printed: sqrt(r_i |y_i|) e_i
    assert same(product.W2[0], sp.sign(Y[0]) * sp.sqrt(1 / r_i)) and same(relu_at_x0, sp.sqrt(r_i))


def test_reading_is_checked():
    X = hypercube(3)[[0, 7], :]
    with pytest.raises(ValueError, match=r"^reading: expected one of \('factor', 'product'\), got 'both'$"):
        memorizing("bias", X, [1, 1], rule="paper", reading="both")
    with pytest.raises(ValueError, match=r"^reading: 'product' reads Section 4's printed C1"):
        memorizing("bias", X, [1, 1], reading="product")
    with pytest.raises(ValueError, match=r"^reading: only C1"):
        memorizing("sim_ln", X, [1, 1], eps=1, reading="product")
