"""theory.prop_a1: the Prop A.1 (eq. 16) construction equals the label on its support and is flattest."""
from __future__ import annotations

import pytest
import sympy as sp

from sharpgen.theory.architectures import forward
from sharpgen.theory.exact import same
from sharpgen.theory.minimum import min_sharpness
from sharpgen.theory.prop_a1 import labels_on, prop_a1_network, support
from sharpgen.theory.sharpness import trace_hessian

V = sp.Matrix([[3, 4], [-4, 3], [0, -5], [4, -3]]) / 5  # rational points of the unit circle
LABELS = (1, sp.Rational(-1, 2), 0, 2)


@pytest.mark.parametrize("d", [2, 3])
def test_equals_the_label_on_the_whole_support_and_attains_f3(d):
    X = support(V, d)
    assert X.rows == V.rows * 2 ** (d - 2)
    Y = labels_on(X, V, LABELS)
    p = prop_a1_network(V, LABELS, d)
    assert all(same(f, y) for f, y in zip(forward("bias", p, X), Y))
    rows = [0, 2, X.rows - 1]
    assert same(trace_hessian("bias", p, X[rows, :], Y[rows, :]), min_sharpness("bias", X[rows, :], Y[rows, :]).value)


def test_the_printed_scale_is_sharper():
    X = support(V, 3)
    Y = labels_on(X, V, LABELS)
    ours = trace_hessian("bias", prop_a1_network(V, LABELS, 3), X, Y)
    printed = trace_hessian("bias", prop_a1_network(V, LABELS, 3, rule="paper"), X, Y)
    assert same(ours, min_sharpness("bias", X, Y).value) and sp.N(printed - ours) > 0


@pytest.mark.parametrize("call, message", [
    (lambda: prop_a1_network(V, LABELS, 3, rule="printed"), r"^rule: expected one of"),
    (lambda: prop_a1_network(V, LABELS, 1), r"^d: expected an integer >= 2, got 1$"),
    (lambda: prop_a1_network(V, LABELS[:3], 3), r"^labels: expected "),
    (lambda: prop_a1_network([[1, 0], [0, 2]], [1, 1], 2), r"^V: Prop A.1 needs \|\|x\|\| = R"),
    (lambda: prop_a1_network(V, LABELS, 3, delta=10), r"^delta: expected a number with 0 < delta <= "),
    (lambda: labels_on([[9, 9, 1]], V, LABELS), r"^X: row 0 does not start with a row of V"),
    (lambda: support([[1, 2], [3]], 3), r"^V: expected an \(n, d\) array"),
])
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()
