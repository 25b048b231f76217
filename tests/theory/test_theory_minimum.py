"""Minimum sharpness (F3-F6): lower bounds hold for random interpolating nets, are attained, c = 2 for Sim-BN."""
from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sharpgen.verify.strategies import cube_subsets, labels
from sharpgen.theory.architectures import forward, relu
from sharpgen.theory.bounds import bias_bound, nobias_bound, sim_bn_bound, sim_ln_bound
from sharpgen.theory.constructions import generalizing, memorizing
from sharpgen.theory.data import condition1_set, hypercube, xor_labels
from sharpgen.theory.losses import mse
from sharpgen.theory.minimum import MinSharpness, min_sharpness, min_sharpness_xor, xor_label_scale, xor_quadruple_tails
from sharpgen.theory.params import Params
from sharpgen.theory.sharpness import parameter_slots, replace_entry, trace_hessian
from sharpgen.theory.symbols import d
from sharpgen.theory.symbols import k as K

R = sp.Rational
FEW = settings(deadline=None, max_examples=15)
SLOW = settings(deadline=None, max_examples=6)
SMALL = st.integers(-2, 2)


def same(a, b) -> bool:
    return sp.simplify(sp.sympify(a) - sp.sympify(b)) == 0


def at_least(a, b) -> bool:
    """a >= b for exact reals (compared to 50 digits, equality allowed)."""
    return sp.N(sp.sympify(a) - sp.sympify(b), 50) > -sp.Float(10) ** -40


def matrix(draw, rows, cols, entries=SMALL):
    return sp.Matrix(rows, cols, draw(st.lists(entries, min_size=rows * cols, max_size=rows * cols)))


@st.composite
def random_nets(draw, arch, max_width=3):
    """(d, X, params) with small-integer weights; the net then interpolates its own outputs."""
    d, X = draw(cube_subsets(dims=(2, 3), max_n=4))
    m = draw(st.integers(1, max_width))
    depth = draw(st.sampled_from((2, 3))) if arch == "bias" else 2
    middle = tuple(matrix(draw, m, m) for _ in range(depth - 2))
    b1 = None if arch == "nobias" else matrix(draw, m, 1)
    gamma = matrix(draw, m, 1) if arch == "sim_bn" else None
    return d, X, Params(W1=matrix(draw, m, d), b1=b1, W2=matrix(draw, m, 1), gamma=gamma, middle=middle)


# ---------------------------------------------------------------- MinSharpness

def test_min_sharpness_result_is_readable_and_sympy_friendly():
    m = min_sharpness("nobias", hypercube(2), xor_labels(hypercube(2)))
    assert m == MinSharpness(4 * sp.sqrt(2), True, True, "F3 (Thm 3.1 setting, attained by C3)")
    assert "value=4*sqrt(2)" in repr(m) and "exact=True" in repr(m)
    assert sp.latex(m) == sp.latex(4 * sp.sqrt(2)) and m._repr_latex_() == "$4 \\sqrt{2}$"
    assert sp.sympify(m) + 1 == 4 * sp.sqrt(2) + 1
    with pytest.raises(AttributeError):
        m.value = 0


def test_min_sharpness_converts_and_compares_like_its_number():
    X = hypercube(3)[[0, 3, 5, 6], :]
    m = min_sharpness("bias", X, xor_labels(X))   # 8
    assert float(m) == 8.0 and int(float(m)) == 8 and f"{m:.2f}" == "8.00" and f"{m}" == repr(m)
    assert m == 8 and m == 8.0 and m == R(8) and m == sp.sqrt(64) and not m == 8.000001 and m != 9
    assert m < 9 and m <= 8 and m >= 8.0 and m > R(79, 10) and not m < 8 and 9 > m and 7 < m
    assert m < min_sharpness("bias", hypercube(4)[:3, :], xor_labels(hypercube(4)[:3, :]))  # 4 sqrt(5) > 8
    assert hash(m) == hash(8) and {m: 1}[m] == 1
    irrational = min_sharpness("nobias", X, xor_labels(X))   # 4 sqrt(3) = 6.928...
    assert irrational < 6.93 and irrational > 6.928 and not irrational == 6.928203230275509
    assert sorted([9, irrational, 2]) == [2, irrational, 9]
    assert abs(float(min_sharpness_xor("bias", 30)) - 4 * 31 ** 0.5) < 1e-12
    assert (m == "8") is False and m != [8]


@pytest.mark.parametrize("operation", [
    float, lambda m: m < 30, lambda m: m <= 30, lambda m: m > 1, lambda m: m >= 1, lambda m: m == 30,
    lambda m: f"{m:.3f}",
])
def test_symbolic_min_sharpness_refuses_numbers_naming_its_symbols(operation):
    m = min_sharpness_xor("bias")
    with pytest.raises(TypeError, match=r"^MinSharpness: cannot .*: the value 4\*sqrt\(d \+ 1\) has free symbols d; "
                                        r"substitute them first, e\.g\. m\.subs\(d=30\)$"):
        operation(m)
    assert operation(m.subs(d=30)) is not None


def test_symbolic_min_sharpness_compares_where_the_assumptions_decide():
    m = min_sharpness_xor("bias")
    assert m > 0 and m == 4 * sp.sqrt(d + 1) and m != 4 * sp.sqrt(d)


# ---------------------------------------------------------------- the bounds hold for every interpolating net

@FEW
@given(random_nets("bias"))
def test_f3_f4_bound_holds_for_random_bias_nets(case):
    d, X, p = case
    Y = forward("bias", p, X)
    ms = min_sharpness("bias", X, Y, depth=p.depth)
    assert ms.exact and at_least(trace_hessian("bias", p, X, Y), ms.value)


@FEW
@given(random_nets("nobias"))
def test_f3_bound_holds_for_random_nobias_nets(case):
    d, X, p = case
    Y = forward("nobias", p, X)
    assert at_least(trace_hessian("nobias", p, X, Y), nobias_bound(X, Y))


@SLOW
@given(random_nets("sim_ln", max_width=2), st.sampled_from((R(1, 2), R(1), R(3))))
def test_f5_bound_holds_for_random_sim_ln_nets(case, eps):
    d, X, p = case
    Y = forward("sim_ln", p, X, eps=eps)
    assert at_least(trace_hessian("sim_ln", p, X, Y, eps=eps), sim_ln_bound(X, Y, eps))


def test_sim_bn_generic_bound_holds_for_a_net_with_a_dead_neuron():
    X = hypercube(2)[[0, 1, 3], :]
    p = Params(W1=sp.Matrix([[1, 0], [0, 1], [1, 1]]), b1=sp.Matrix([1, 0, -5]), W2=sp.Matrix([1, -2, 3]),
               gamma=sp.Matrix([2, 1, 1]))
    Y = forward("sim_bn", p, X)
    assert at_least(trace_hessian("sim_bn", p, X, Y), sim_bn_bound(X, Y))
    assert not min_sharpness("sim_bn", X, Y).exact


# ---------------------------------------------------------------- exactness and attainment

@FEW
@given(cube_subsets(max_n=6).flatmap(lambda dx: st.tuples(st.just(dx), labels(dx[1].rows))))
def test_values_on_cube_data(case):
    (d, X), Y = case
    nonzero = any(v != 0 for v in Y)
    ms = min_sharpness("bias", X, Y)
    assert ms.exact and ms.attained and same(ms.value, bias_bound(X, Y))
    nob = min_sharpness("nobias", X, Y)
    # exact on labels c x[1] x[2] for one constant c != 0 (c = 1: P_xor; finding: scale covariance)
    c = Y[0] * X[0, 0] * X[0, 1]
    scaled_xor = c != 0 and all(Y[i] == c * X[i, 0] * X[i, 1] for i in range(X.rows))
    assert nob.exact == (scaled_xor or not nonzero)
    if list(Y) == list(xor_labels(X)):
        assert nob.exact
    ln = min_sharpness("sim_ln", X, Y, eps=R(1, 10))
    n_nonzero = sum(1 for v in Y if v != 0)
    assert ln.exact and ln.value == R(2 * n_nonzero, X.rows)  # a = ||x'|| |y| >= 2/3 > eps/2


def test_non_extreme_data_gives_lower_bounds_only():
    X = sp.Matrix([[0, 0], [1, 0], [2, 0]])
    Y = sp.Matrix([1, 2, 3])
    for arch, hyper in (("bias", {}), ("sim_ln", {"eps": 1})):
        ms = min_sharpness(arch, X, Y, **hyper)
        assert not ms.exact and not ms.attained and "lower bound" in ms.source
    assert min_sharpness("bias", X, Y).value == bias_bound(X, Y)


def test_zero_labels_give_zero():
    X = sp.Matrix([[0, 0], [1, 0], [2, 0]])
    for arch in ("bias", "nobias", "sim_bn"):
        assert min_sharpness(arch, X, [0, 0, 0]) == MinSharpness(0, True, True, "zero labels (the zero network)")


@pytest.mark.parametrize("eps", [R(1, 10), R(3), R(10)])
def test_sim_ln_xor_value_and_crossover(eps):
    d = 3
    X = hypercube(d)[[1, 2, 4], :]
    Y = xor_labels(X)
    expected = 2 * sp.Min(1, 4 / eps)  # 2 min(1, 2 sqrt(d+1)/eps)
    assert min_sharpness("sim_ln", X, Y, eps=eps).value == expected
    assert min_sharpness_xor("sim_ln", d, eps=eps).value == expected
    assert trace_hessian("sim_ln", memorizing("sim_ln", X, Y, eps=eps), X, Y, eps=eps) == expected
    # C5 always costs 2: flattest only while eps <= 2 sqrt(d + 1) = 4.
    assert trace_hessian("sim_ln", generalizing("sim_ln", d, eps=eps), X, Y, eps=eps) == 2


# ---------------------------------------------------------------- Sim-BN (F6)

def _w2_gamma_part(p, X, Y):
    """Σ of ∂²L/∂θ² over the W2 and gamma entries only (exact)."""
    t = sp.Dummy("t")
    total = 0
    for field, r, c, value in parameter_slots(p):
        if field in ("W2", "gamma"):
            loss = mse(forward("sim_bn", replace_entry(p, field, r, c, t), X), Y)
            total += sp.diff(loss, t, 2).subs(t, value)
    return sp.simplify(total)


@FEW
@given(random_nets("sim_bn"), st.booleans())
def test_sim_bn_constant_c_is_2(case, interpolating):
    d, X, p = case
    Y = forward("sim_bn", p, X) if interpolating else sp.Matrix([1] * X.rows)
    H = (p.W1 * X.T + p.b1 * sp.ones(1, X.rows)).applyfunc(relu)
    alive = [j for j in range(p.width) if any(v != 0 for v in H.row(j))]
    # f is linear in each W2_j and gamma_j, so even off interpolation the part is 2 Σ_alive (W2_j² + γ_j²).
    assert _w2_gamma_part(p, X, Y) == 2 * sum(p.W2[j] ** 2 + p.gamma[j] ** 2 for j in alive)


@given(st.lists(st.fractions(min_value=-5, max_value=5), min_size=3, max_size=3))
@settings(deadline=None, max_examples=200)
def test_lemma_a27_quadruple_inequality(values):
    # a(1,1) + a(-1,-1) = a(1,-1) + a(-1,1) (same tail): (Σ_t y_t relu(a_t))² <= Σ_t relu(a_t)².
    a1, a2, a3 = (sp.Rational(v.numerator, v.denominator) for v in values)
    a4 = a2 + a3 - a1
    h = [max(v, 0) for v in (a1, a2, a3, a4)]
    assert (h[0] - h[1] - h[2] + h[3]) ** 2 <= sum(v ** 2 for v in h)


def test_sim_bn_infimum_8_approached_by_c6_not_attained():
    X, Y = condition1_set(3)
    ms = min_sharpness("sim_bn", X, Y)
    assert (ms.value, ms.exact, ms.attained) == (8, True, False)
    traced = trace_hessian("sim_bn", generalizing("sim_bn", 3), X, Y)
    assert sp.limit(traced, K, sp.oo) == 8
    for k in (R(1, 2), 1, 3, 100):
        assert traced.subs(K, k) > 8
    assert trace_hessian("sim_bn", generalizing("sim_bn", 3, scale=3), X, Y) == traced.subs(K, 3)
    assert sim_bn_bound(X, Y) == 4 * sp.sqrt(2) < 8


def test_sim_bn_one_tail_is_attained():
    X, Y = condition1_set(2)
    ms = min_sharpness("sim_bn", X, Y)
    assert (ms.value, ms.exact, ms.attained) == (8, True, True)
    assert min_sharpness_xor("sim_bn", 2).attained and not min_sharpness_xor("sim_bn").attained


def test_xor_quadruple_tails():
    X, Y = condition1_set(4)
    assert len(xor_quadruple_tails(X, Y)) == 3
    assert xor_quadruple_tails(X[:-1, :], Y[:-1, :]) is None
    assert xor_quadruple_tails(X, -Y) is None


# ---------------------------------------------------------------- scaled xor labels c x[1] x[2]

SCALES = [sp.Integer(3), R(-1, 2), sp.log(4), -sp.log(4)]  # log 4 = γ_p for p = 1/5 (logistic runs)


def test_xor_label_scale():
    X, Y = condition1_set(3)
    for c in SCALES:
        assert same(xor_label_scale(X, c * Y), c)
    assert xor_label_scale(X, Y) == 1 and xor_label_scale(X, 0 * Y) is None
    assert xor_label_scale(X, Y + sp.Matrix([1] + [0] * (X.rows - 1))) is None
    assert xor_label_scale(sp.Matrix([[1, 1], [1, 1]]), [1, 1]) is None  # repeated point
    assert xor_label_scale([[2, 1]], [1]) is None  # not a cube point


@pytest.mark.parametrize("c", SCALES, ids=str)
def test_nobias_scaled_xor_labels_exact_and_attained_by_rebalanced_c3(c):
    d = 3
    X = hypercube(d)[[0, 3, 5, 6, 7], :]
    Y = c * xor_labels(X)
    ms = min_sharpness("nobias", X, Y)
    assert ms.exact and ms.attained and same(ms.value, 4 * sp.sqrt(d) * abs(c))
    # C3 rebalanced for c: W1 scale sqrt|c| d^{1/4}/2, then W2 times c; it interpolates c x[1] x[2]
    p = generalizing("nobias", d, scale=sp.sqrt(abs(c)) * sp.root(d, 4) / 2)
    q = Params(W1=p.W1, W2=c * p.W2)
    assert list(forward("nobias", q, hypercube(d)) - c * xor_labels(hypercube(d))) == [0] * 2 ** d
    assert same(trace_hessian("nobias", q, X, Y), ms.value)
    # scaling W2 alone by c is unbalanced: (c^2 + 1) sqrt(d) per sample, > 2 sqrt(d) |c|
    c3 = generalizing("nobias", d)
    unbalanced = trace_hessian("nobias", Params(W1=c3.W1, W2=c * c3.W2), X, Y)
    assert same(unbalanced, 2 * (c ** 2 + 1) * sp.sqrt(d)) and sp.N(unbalanced - ms.value) > 0
    assert same(min_sharpness_xor("nobias", d, label_scale=c).value, ms.value)


def _scaled_c6(d, c, balanced=True):
    p = generalizing("sim_bn", d)
    if not balanced:
        return Params(W1=p.W1, b1=p.b1, W2=c * p.W2, gamma=p.gamma)
    s = sp.sqrt(abs(c))  # |W2_j| = |gamma_j| = sqrt(|c|/2)
    return Params(W1=p.W1, b1=p.b1, W2=sp.sign(c) * s * p.W2, gamma=s * p.gamma)


@pytest.mark.parametrize("c", SCALES, ids=str)
def test_sim_bn_scaled_condition1_labels_infimum_8c(c):
    X, Y = condition1_set(3)
    ms = min_sharpness("sim_bn", X, c * Y)
    assert (ms.exact, ms.attained) == (True, False) and same(ms.value, 8 * abs(c))
    q = _scaled_c6(3, c)
    assert list(forward("sim_bn", q, X) - c * Y) == [0] * X.rows
    traced = trace_hessian("sim_bn", q, X, c * Y)
    assert same(sp.limit(traced, K, sp.oo), 8 * abs(c))
    for k in (R(1, 2), 1, 7):
        assert sp.N(traced.subs(K, k) - 8 * abs(c)) > 0
    # the unbalanced C6 (W2 alone times c) tends to 2 (||W2||^2 + ||gamma||^2) = 4 c^2 + 4 >= 8 |c|
    unbalanced = trace_hessian("sim_bn", _scaled_c6(3, c, balanced=False), X, c * Y)
    assert same(sp.limit(unbalanced, K, sp.oo), 4 * c ** 2 + 4)
    assert same(min_sharpness_xor("sim_bn", 3, label_scale=c).value, ms.value)


@pytest.mark.parametrize("c", [sp.Integer(3), -sp.log(4)], ids=str)
def test_sim_bn_scaled_one_tail_is_attained(c):
    X, Y = condition1_set(2)
    ms = min_sharpness("sim_bn", X, c * Y)
    assert (ms.exact, ms.attained) == (True, True) and same(ms.value, 8 * abs(c))
    traced = trace_hessian("sim_bn", _scaled_c6(2, c), X, c * Y)
    assert same(traced, 8 * abs(c))  # every k > 0


@pytest.mark.parametrize("c", [R(1, 4), sp.Integer(-2), sp.log(4)], ids=str)
def test_min_sharpness_xor_label_scale_matches_concrete_data(c):
    d = 3
    X = hypercube(d)[[1, 2, 4, 7], :]
    Y = c * xor_labels(X)
    for arch, hyper in (("bias", {}), ("bias", {"depth": 3}), ("nobias", {}), ("sim_ln", {"eps": R(1, 10)}),
                        ("sim_ln", {"eps": R(10)})):
        concrete = min_sharpness(arch, X, Y, **hyper)
        assert concrete.exact
        assert same(min_sharpness_xor(arch, d, label_scale=c, **hyper).value, concrete.value), (arch, hyper)
    assert min_sharpness_xor("nobias", label_scale=0).value == 0


# ---------------------------------------------------------------- P_xor in symbolic d

@pytest.mark.parametrize("d", [2, 3, 4])
def test_min_sharpness_xor_matches_concrete_data(d):
    X = hypercube(d)
    Y = xor_labels(X)
    sym = sp.Symbol("d", positive=True, integer=True)
    for arch, hyper in (("bias", {}), ("bias", {"depth": 3}), ("nobias", {}), ("sim_ln", {"eps": R(1, 10)})):
        concrete = min_sharpness(arch, X, Y, **hyper).value
        assert same(min_sharpness_xor(arch, sym, **hyper).value.subs(sym, d), concrete)
        assert same(min_sharpness_xor(arch, d, **hyper).value, concrete)
    assert min_sharpness_xor("bias").value == 4 * sp.sqrt(sym + 1)
    assert min_sharpness_xor("nobias").value == 4 * sp.sqrt(sym)


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, name", [
    (lambda: min_sharpness("mlp", [[1, 1]], [1]), "arch"),
    (lambda: min_sharpness("sim_ln", [[1, 1]], [1]), "eps"),
    (lambda: min_sharpness("sim_ln", [[1, 1]], [1], eps=-1), "eps"),
    (lambda: min_sharpness("bias", [[1, 1]], [1], eps=1), "eps"),
    (lambda: min_sharpness("nobias", [[1, 1]], [1], depth=3), "depth"),
    (lambda: min_sharpness("bias", [[1, 1]], [1], depth=0), "depth"),
    (lambda: min_sharpness("bias", [[1, 1]], [1], activation="tanh"), "activation"),
    (lambda: min_sharpness("sim_bn", [[1, 1]], [1], activation="softplus"), "activation"),
    (lambda: min_sharpness("bias", [[1, 1]], [1, 2]), "Y"),
    (lambda: min_sharpness("bias", [[1, 1]], ["y"]), "Y"),
    (lambda: min_sharpness("bias", [], []), "X"),
    (lambda: min_sharpness_xor("nobias", 1), "d"),
    (lambda: min_sharpness_xor("sim_ln"), "eps"),
    # non-finite / non-real input, d = 1
    (lambda: min_sharpness("bias", [[1, float("nan")]], [1]), "X"),
    (lambda: min_sharpness("nobias", [[1, 1], [sp.oo, 1]], [1, 1]), "X"),
    (lambda: min_sharpness("bias", [[1, sp.I]], [1]), "X"),
    (lambda: min_sharpness("bias", [["a", 1]], [1]), "X"),
    (lambda: min_sharpness("bias", [[1, 1]], [float("nan")]), "Y"),
    (lambda: min_sharpness("sim_bn", [[1, 1]], [sp.zoo]), "Y"),
    (lambda: min_sharpness("nobias", [[1, 1]], [-sp.oo]), "Y"),
    (lambda: min_sharpness("bias", [[1, 1]], [1 + sp.I]), "Y"),
    (lambda: min_sharpness("bias", [[1], [-1]], [1, -1]), "X"),
    (lambda: min_sharpness("nobias", [[1]], [1]), "X"),
    (lambda: min_sharpness_xor("nobias", 3, label_scale=float("nan")), "label_scale"),
    (lambda: min_sharpness_xor("nobias", 3, label_scale="c"), "label_scale"),
    (lambda: min_sharpness_xor("nobias", 3, label_scale=sp.I), "label_scale"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}: "):
        call()


def test_d1_and_nan_messages():
    with pytest.raises(ValueError, match=r"^X: expected points with d >= 2 coordinates, got 1$"):
        min_sharpness("bias", [[1], [-1]], [1, -1])
    with pytest.raises(ValueError, match=r"^X: expected finite real numbers, got nan at row 1$"):
        min_sharpness("bias", [[1, 1], [float("nan"), 1]], [1, 1])
    with pytest.raises(ValueError, match=r"^Y: expected finite real numbers as labels, got nan at row 0$"):
        min_sharpness("nobias", [[1, 1]], [float("nan")])
