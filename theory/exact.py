"""Exact numbers: one canonical form, and signs and order decided exactly.

Results of ``sharpgen.theory`` are sympy expressions; ``tidy`` puts them in one
canonical form so that equal values computed along different routes (jets,
closed forms, bounds) print and compare the same. ``compare`` decides the order
of two exact reals, free symbols included as far as their assumptions allow.

>>> tidy(1 / (1 + sp.sqrt(2))), compare(sp.sqrt(2), sp.Rational(7, 5))
(-1 + sqrt(2), 1)
"""
from __future__ import annotations

import sympy as sp


def tidy(expr) -> sp.Expr:
    """Canonical exact form: radicals rationalised and expanded (numbers), simplified (small symbolic).

    Rationals and floats stay as they are; values with ``Piecewise``, exp or log
    (softplus nets) have no cheap canonical form and are returned unchanged.

    >>> tidy(sp.sqrt(2) * (sp.sqrt(2) + 1))
    sqrt(2) + 2
    """
    expr = sp.sympify(expr)
    if expr.is_Rational or expr.is_Float or expr.has(sp.Piecewise, sp.exp, sp.log):
        return expr
    if not expr.free_symbols:
        return sp.radsimp(sp.expand(expr))
    # simplify is worth it on construction-sized expressions only
    return sp.simplify(expr) if sp.count_ops(expr) <= 400 else sp.expand(expr)


def sign(value) -> int:
    """The sign (-1, 0, 1) of an exact real number without free symbols.

    0 when sympy simplifies it to 0; otherwise read at 50 significant digits
    (a non-zero value has its sign right at any precision).

    >>> sign(sp.sqrt(2) - sp.Rational(3, 2)), sign(sp.sqrt(8) - 2 * sp.sqrt(2))
    (-1, 0)
    """
    value = sp.sympify(value)
    if value.is_Rational:
        return int(sp.sign(value))
    if sp.simplify(value) == 0:
        return 0
    return 1 if sp.N(value, 50) > 0 else -1


def same(a, b) -> bool:
    """Exact equality of two expressions (structural first, then ``simplify`` of the difference).

    >>> same(sp.sqrt(8), 2 * sp.sqrt(2)), same(1, 2)
    (True, False)
    """
    diff = sp.sympify(a) - sp.sympify(b)
    if diff == 0:
        return True
    if diff.is_Rational or diff.is_zero is False:
        return False
    return sp.simplify(diff) == 0


def compare(a, b) -> int | None:
    """-1, 0 or 1 as a < b, a = b, a > b for exact reals; None when free symbols leave it open.

    >>> d = sp.Symbol("d", positive=True)
    >>> compare(4 * sp.sqrt(d + 1), 0), compare(d, 3) is None
    (1, True)
    """
    diff = sp.sympify(a) - sp.sympify(b)
    if not diff.free_symbols:
        return sign(diff)
    if same(diff, 0):
        return 0
    for result, known in ((1, diff.is_positive), (-1, diff.is_negative)):
        if known:
            return result
    return None
