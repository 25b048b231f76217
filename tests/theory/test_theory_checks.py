"""theory.checks: the one home of argument validation (points, labels, numbers, keywords)."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from sharpgen.theory.checks import (as_expr, as_labels, as_points, check_integer, check_keywords, check_nonnegative,
                                    check_points, check_positive, check_real, is_real_entry, to_exact)

BAD = [float("nan"), float("inf"), -float("inf"), sp.nan, sp.oo, -sp.oo, sp.zoo, sp.I, 1 + sp.I, "a", "1"]


@pytest.mark.parametrize("bad", BAD, ids=repr)
@pytest.mark.parametrize("name", ["X", "X_train"])
def test_as_points_rejects_non_finite_and_non_real(bad, name):
    with pytest.raises(ValueError, match=rf"^{name}: expected finite real numbers, got .+ at row 1$"):
        as_points([[1, 2], [3, bad]], name)


def test_as_points_numpy_nan_and_symbols():
    with pytest.raises(ValueError, match=r"^X: expected finite real numbers, got nan at row 0$"):
        as_points(np.array([[np.nan, 1.0]]))
    k = sp.Symbol("k", real=True)
    assert as_points([[k, 1]])[0, 0] == k
    with pytest.raises(ValueError, match=r"^X: expected finite real numbers, got k at row 0$"):
        as_points([[k, 1]], symbolic=False)
    assert as_points([[sp.sqrt(2), 0.5]]).shape == (1, 2)


@pytest.mark.parametrize("bad", BAD, ids=repr)
def test_as_labels_rejects_non_finite_and_non_real(bad):
    with pytest.raises(ValueError, match=r"^Y: expected finite real numbers as labels, got .+ at row 1$"):
        as_labels([1, bad], 2)
    with pytest.raises(ValueError, match=r"^Y_test: expected finite real numbers as labels"):
        as_labels(np.array([[1.0], [np.nan]]) if bad == "a" else [[1], [bad]], 2, "Y_test")


def test_as_labels_shapes_and_symbols():
    assert as_labels([[1, -1, 2]], 3).shape == (3, 1)
    assert [float(v) for v in as_labels(np.array([1.0, -1.0]), 2)] == [1.0, -1.0]
    k = sp.Symbol("k")
    assert as_labels([k], 1, symbolic=True)[0] == k
    with pytest.raises(ValueError, match=r"^Y: expected finite real numbers as labels, got k at row 0$"):
        as_labels([k], 1)
    with pytest.raises(ValueError, match=r"^Y: expected 2 labels \(one per row of X\), got shape \(3, 1\)$"):
        as_labels([1, 2, 3], 2)
    assert is_real_entry(sp.log(4)) and not is_real_entry(sp.log(-4))



def test_exact_conversion_of_floats():
    assert to_exact(0.1) == sp.Rational(3602879701896397, 36028797018963968) and to_exact(sp.Float(0.5)) == R(1, 2)
    assert check_points([[0.1, 1]])[0, 0] == to_exact(0.1)
    assert check_real("c", 0.25) == R(1, 4)


R = sp.Rational


@pytest.mark.parametrize("value, ok", [(2, True), (np.int64(3), True), (sp.Integer(4), True), (1, False),
                                       (True, False), (2.0, False), ("2", False), (sp.Rational(5, 2), False)])
def test_check_integer(value, ok):
    if ok:
        assert check_integer("d", value, 2) == int(value)
    else:
        with pytest.raises(ValueError, match=r"^d: expected an integer >= 2, got "):
            check_integer("d", value, 2)


@pytest.mark.parametrize("check, value", [
    (lambda v: check_positive("scale", v), 0), (lambda v: check_positive("scale", v), sp.oo),
    (lambda v: check_positive("scale", v), sp.nan), (lambda v: check_positive("scale", v), "1"),
    (lambda v: check_nonnegative("scale", v), -1), (lambda v: check_nonnegative("scale", v), sp.zoo),
    (lambda v: check_real("scale", v), sp.I), (lambda v: check_real("scale", v), sp.Symbol("c")),
    (lambda v: as_expr("scale", v, "a number"), [1]),
])
def test_number_checks_refuse_naming_the_argument(check, value):
    with pytest.raises(ValueError, match=r"^scale: expected "):
        check(value)


def test_number_checks_accept():
    k = sp.Symbol("k", positive=True)
    assert check_positive("scale", k) == k and check_nonnegative("r", 0) == 0 and check_real("c", -2) == -2


def test_check_keywords_names_the_unknown_key():
    check_keywords({"eps": 1}, ("eps",), "a hyperparameter")
    with pytest.raises(ValueError, match=r"^lr: not a keyword of f; expected one of \('eps',\)$"):
        check_keywords({"eps": 1, "lr": 2}, ("eps",), "a keyword of f")
