"""Exact numbers: one canonical form, and signs and order decided exactly.

Results of ``sharpgen.theory`` are sympy expressions; ``tidy`` puts them in one
canonical form so that equal values computed along different routes (jets,
closed forms, bounds) print and compare the same. ``compare`` decides the order
of two exact reals, free symbols included as far as their assumptions allow;
``same`` is the one exact equality of sharpgen (theory and the ledger's checks).

>>> tidy(1 / (1 + sp.sqrt(2))), compare(sp.sqrt(2), sp.Rational(7, 5))
(-1 + sqrt(2), 1)
"""
from __future__ import annotations

import sympy as sp

NEAR_ZERO = sp.Float(10) ** -40  # below this, ``sign`` asks ``simplify`` whether a value is 0


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

    Rationals directly; otherwise the value at 50 significant digits decides when it is at
    least ``NEAR_ZERO`` = 10^-40 away from 0 (a non-zero number has its sign right at any
    precision; much faster than sympy's relational ``v > 0`` on nested radicals); nearer
    to 0, ``simplify`` decides whether it is 0, and the 50 digits give the sign if not.

    >>> sign(sp.sqrt(2) - sp.Rational(3, 2)), sign(sp.sqrt(8) - 2 * sp.sqrt(2))
    (-1, 0)
    """
    value = sp.sympify(value)
    if value.is_Rational:
        return int(sp.sign(value))
    x = sp.N(value, 50)
    if abs(x) < NEAR_ZERO and sp.simplify(value) == 0:
        return 0
    return 1 if x > 0 else -1


def positive(value) -> bool:
    """value > 0 for an exact real number, by ``sign``: relu's branch, with relu'(0) = 0.

    >>> positive(sp.sqrt(2) - sp.Rational(141, 100)), positive(sp.sqrt(8) - 2 * sp.sqrt(2))
    (True, False)
    """
    return sign(value) > 0


def equal_digits(a, b, digits: int = 50) -> bool:
    """|a − b| < 10^-digits, evaluated to digits + 10 significant digits: numeric equality.

    False is exact (a difference that large is computed right); True is numeric only.
    ``same`` uses it to reject quickly and as its one numeric fallback.

    >>> equal_digits(sp.root(16, 3), 2 * sp.root(2, 3)), equal_digits(sp.sqrt(2), sp.Rational(99, 70))
    (True, False)
    """
    return abs(sp.N(sp.sympify(a) - sp.sympify(b), digits + 10)) < sp.Float(10) ** -digits


def prime_radicals(expr) -> sp.Expr:
    """Every root n^(p/q) of a positive integer n written over n's primes, so equal radicals look equal.

    >>> prime_radicals(sp.root(575, 3))
    23**(1/3)*5**(2/3)
    """
    def split(power):
        return sp.Mul(*[sp.Pow(prime, k * power.exp) for prime, k in sp.factorint(power.base).items()])
    return sp.sympify(expr).replace(
        lambda e: e.is_Pow and e.base.is_Integer and e.base > 1 and e.exp.is_Rational and not e.exp.is_Integer,
        split)


def same(a, b) -> bool:
    """Whether a = b, decided on the difference a − b, in this order:

    1. structurally 0 (sympy's automatic simplification): equal;
    2. a rational, or (with free symbols) known to sympy to be non-zero: not equal;
    3. without free symbols: not equal when ``equal_digits(a, b)`` (10^-50 at 60 digits) is
       False, which is exact; with exp or log in it (softplus nets, the logistic loss), which
       have no canonical form in sympy and on which ``simplify`` takes minutes, equal to 50
       digits counts as equal: the one numeric fallback, tolerance 10^-50;
    4. otherwise equal iff ``expand`` after ``prime_radicals`` (then powers of one prime combine)
       or ``simplify`` gives 0.

    >>> same(sp.sqrt(8), 2 * sp.sqrt(2)), same(1, 2), same(sp.root(16, 3), 2 * sp.root(2, 3))
    (True, False, True)
    >>> same(sp.log(6), sp.log(2) + sp.log(3)), same(sp.E, sp.E + sp.Rational(1, 10 ** 45))
    (True, False)
    """
    diff = sp.sympify(a) - sp.sympify(b)
    if diff == 0:
        return True
    if diff.is_Rational or (diff.free_symbols and diff.is_zero is False):
        return False
    if not diff.free_symbols:
        if not equal_digits(diff, 0):
            return False
        if diff.has(sp.exp, sp.log):
            return True
    return sp.expand(prime_radicals(diff)) == 0 or sp.simplify(diff) == 0


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
