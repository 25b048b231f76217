"""theory.data: exact data (cube, xor labels, x', extreme points, Condition 1)."""
from __future__ import annotations

import pytest
import sympy as sp

from sharpgen.theory.data import augment, augmented_norm, condition1_set, extreme_point_witness, hypercube, xor_labels


def test_data_functions_reject_nan():
    for call in (lambda: xor_labels([[1, float("nan")]]), lambda: extreme_point_witness([[0.5, float("nan")]])):
        with pytest.raises(ValueError, match=r"^X: expected finite real numbers, got nan at row 0$"):
            call()
    assert xor_labels(hypercube(2)).T == sp.Matrix([[1, -1, -1, 1]])
    assert condition1_set(3)[0].shape == (8, 3)


def test_augmented_input_and_norm():
    """x' = (x, 1) (docs/paper.md §1): ||x'||² = ||x||² + 1; without bias x itself."""
    x = [3, 4]
    assert list(augment(x)) == [3, 4, 1] and list(augment(sp.Matrix([[3, 4]]), bias=False)) == [3, 4]
    assert augmented_norm(x) == sp.sqrt(26) and augmented_norm(x, bias=False) == 5
