"""theory.exact: canonical forms and exact order."""
from __future__ import annotations

import sympy as sp

from sharpgen.theory.exact import compare, same, sign, tidy


def test_tidy_makes_equal_numbers_identical():
    a = 2 / (sp.sqrt(3) - 1)
    b = 1 + sp.sqrt(3)
    assert a != b and tidy(a) == tidy(b)
    assert tidy(sp.Float(0.5)) == sp.Float(0.5) and tidy(sp.log(2)) == sp.log(2)


def test_sign_and_compare_are_exact_at_tiny_differences():
    tiny = sp.sqrt(10 ** 40 + 1) - 10 ** 20  # about 5e-21, below float64's resolution of either term
    assert float(sp.sqrt(10 ** 40 + 1)) - 1e20 == 0.0 and sign(tiny) == 1 and sign(-tiny) == -1
    assert compare(sp.sqrt(8), 2 * sp.sqrt(2)) == 0 and same(sp.sqrt(8), 2 * sp.sqrt(2))
    d = sp.Symbol("d", positive=True)
    assert compare(sp.sqrt(d + 1), 0) == 1 and compare(sp.sqrt(d + 1), 2) is None  # the latter depends on d
