"""theory.bounds: the F3/F4 per-sample bound (the sums F3-F6 are tested with the minimum, test_theory_minimum)."""
from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sharpgen.theory.architectures import forward
from sharpgen.theory.bounds import per_sample_bound
from sharpgen.theory.params import Params
from sharpgen.theory.sharpness import grad_norm_sq
from sharpgen.verify.strategies import cube_points, params_for

R = sp.Rational


def exact_equal(a, b) -> bool:
    return sp.simplify(sp.sympify(a) - sp.sympify(b)) == 0


@pytest.mark.parametrize("depth", [2, 3])
@settings(deadline=None, max_examples=10)
@given(data=st.data())
def test_per_sample_bound_f3_f4(depth, data):
    """F3/F4: at f(x) = y, ||∇f(x)||² >= D |y|^{2(D-1)/D} ||x'||^{2/D}."""
    d = data.draw(st.integers(2, 3))
    params = data.draw(params_for("bias", data.draw(st.integers(1, 3)), d, depth))
    x = data.draw(cube_points(d, max_n=1)).row(0)
    y = forward("bias", params, x)[0]
    lhs, rhs = grad_norm_sq("bias", params, x), per_sample_bound(list(x), y, depth=depth)
    assert sp.N(lhs - rhs, 30) >= -sp.Float("1e-25")


def test_per_sample_bound_equality_case():
    """F3 equality: W2 ⊙ 1[W1'x' > 0] = sign(y) relu(W1'x')/||x'|| (x = (3, 4), ||x'||² = 26)."""
    x, y = [3, 4], 2
    xp = sp.Matrix([3, 4, 1])
    c = sp.sqrt(y * sp.sqrt(26)) / 26  # row = c x', so relu = 26 c and W2 = 26 c / sqrt(26)
    p = Params(W1=c * sp.Matrix([[3, 4]]), b1=sp.Matrix([c]), W2=sp.Matrix([26 * c / sp.sqrt(26)]))
    assert exact_equal(forward("bias", p, [x])[0], y)
    assert exact_equal(grad_norm_sq("bias", p, x), per_sample_bound(x, y))
    assert exact_equal(per_sample_bound(x, y), 2 * 2 * sp.sqrt(26))
    assert xp.norm() == sp.sqrt(26)


def test_per_sample_bound_depth_formula():
    assert per_sample_bound([0, 0, 0], 8, depth=3) == 3 * 8 ** R(4, 3)
    assert per_sample_bound([1, 1, 1], 0, depth=3) == 0


@pytest.mark.parametrize("call, name", [
    (lambda: per_sample_bound([1, 1], 1, depth=R(5, 2)), "depth"),
    (lambda: per_sample_bound([], 1), "x"),
    (lambda: per_sample_bound([1, 1], float("nan")), "y"),
    (lambda: per_sample_bound([1, sp.zoo], 1), "x"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        call()
