"""theory.data: exact data (cube, xor labels, Condition 1) and the shared input / label validators."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from sharpgen.theory.data import (as_labels, as_points, condition1_set, extreme_point_witness, hypercube, is_real_entry,
                         xor_labels)

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


def test_data_functions_reject_nan():
    for call in (lambda: xor_labels([[1, float("nan")]]), lambda: extreme_point_witness([[0.5, float("nan")]])):
        with pytest.raises(ValueError, match=r"^X: expected finite real numbers, got nan at row 0$"):
            call()
    assert xor_labels(hypercube(2)).T == sp.Matrix([[1, -1, -1, 1]])
    assert condition1_set(3)[0].shape == (8, 3)
