"""theory.exact: canonical forms and exact order."""
from __future__ import annotations

import sympy as sp

from sharpgen.theory.exact import compare, equal_digits, positive, same, sign, tidy


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


def test_same_rejects_exactly_and_falls_back_to_digits_only_for_exp_and_log():
    assert same(sp.root(16, 3) + sp.sqrt(2), 2 * sp.root(2, 3) + sp.sqrt(2))  # decided by expand
    assert not same(sp.sqrt(2), sp.sqrt(2) + sp.Rational(1, 10 ** 45))  # a tiny non-zero gap is a gap
    assert not same(sp.log(3), sp.log(3) + sp.Rational(1, 10 ** 45))
    assert same(sp.log(1 + sp.exp(2)) - 2, sp.log(1 + sp.exp(-2)))  # the fallback: equal to 50 digits
    x = sp.Symbol("x", positive=True)
    assert same(sp.sqrt(x) ** 2, x) and not same(x, x + 1) and not same(x, 2 * x)


def test_positive_is_relu_branch_with_relu_prime_zero_at_zero():
    assert positive(sp.sqrt(2) - sp.Rational(141, 100)) and not positive(sp.sqrt(8) - 2 * sp.sqrt(2))
    assert not positive(sp.Rational(-1, 10 ** 60)) and positive(sp.sqrt(10 ** 40 + 1) - 10 ** 20)


def test_equal_digits_is_a_tolerance_of_ten_to_minus_digits():
    assert equal_digits(1, 1 + sp.Rational(1, 10 ** 51)) and not equal_digits(1, 1 + sp.Rational(1, 10 ** 49))
    assert equal_digits(1, 1 + sp.Rational(1, 10 ** 5), digits=4)
