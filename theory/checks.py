"""Argument checks at the public boundary of ``sharpgen.theory``: one home for each rule.

Every public function validates its arguments once, with these checks, and
raises ``ValueError`` naming the argument and what it accepts. Points and
labels follow docs/paper.md §1 (rows x_i in R^d, one real label per row).
Where a function promises exact results, floats become their exact binary
rationals (``to_exact``): 0.1 is 3602879701896397/36028797018963968, never
a rounded 1/10.

>>> check_dimension(3), check_positive("scale", 2), check_points([[0.5, 1]])
(3, 2, Matrix([[1/2, 1]]))
>>> check_dimension(1)
Traceback (most recent call last):
...
ValueError: d: expected an integer >= 2, got 1
"""
from __future__ import annotations

import numbers

import sympy as sp

_NON_FINITE = (sp.nan, sp.zoo, sp.oo, sp.S.NegativeInfinity)


def to_exact(v):
    """A float (Python or sympy) as its exact rational value; anything else unchanged.

    >>> to_exact(0.5), to_exact(sp.sqrt(2))
    (1/2, sqrt(2))
    """
    return sp.Rational(v) if isinstance(v, (float, sp.Float)) else v


def check_keywords(given, allowed, what: str) -> None:
    """Raise ValueError naming the first key of ``given`` not in ``allowed`` (``what`` says what keys are).

    >>> check_keywords({"foo": 1}, ("eps",), "a hyperparameter")
    Traceback (most recent call last):
    ...
    ValueError: foo: not a hyperparameter; expected one of ('eps',)
    """
    for key in given:
        if key not in allowed:
            raise ValueError(f"{key}: not {what}; expected one of {tuple(allowed)}")


def check_choice(name: str, value, choices: tuple):
    """``value`` if it is one of ``choices``, else ValueError naming ``name`` and the choices.

    >>> check_choice("rule", "paper", ("infimum", "paper"))
    'paper'
    >>> check_choice("rule", "other", ("infimum", "paper"))
    Traceback (most recent call last):
    ...
    ValueError: rule: expected one of ('infimum', 'paper'), got 'other'
    """
    if value not in choices:
        raise ValueError(f"{name}: expected one of {tuple(choices)}, got {value!r}")
    return value


def check_integer(name: str, value, minimum: int) -> int:
    """``value`` as an int if it is an integer >= ``minimum`` (bools refused), else ValueError naming ``name``.

    >>> check_integer("n", 4, 1)
    4
    >>> check_integer("n", 2.0, 1)
    Traceback (most recent call last):
    ...
    ValueError: n: expected an integer >= 1, got 2.0
    """
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, sp.Integer)) or int(value) < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def check_dimension(d, name: str = "d") -> int:
    """The input dimension d (docs/paper.md §1) as an int, else ValueError unless an integer >= 2."""
    return check_integer(name, d, 2)


def check_symbolic_dimension(d):
    """d for a result in d: a sympy Symbol (kept, e.g. ``theory.symbols.d``) or an integer >= 2 (as a sympy Integer).

    >>> check_symbolic_dimension(sp.Symbol("d")), check_symbolic_dimension(3)
    (d, 3)
    """
    return d if isinstance(d, sp.Symbol) else sp.Integer(check_dimension(d))


def check_depth(depth) -> int:
    """Depth D of MLP-Bias (docs/paper.md §2) as an int, else ValueError unless an integer >= 2.

    >>> check_depth(3)
    3
    """
    return check_integer("depth", depth, 2)


def as_expr(name: str, value, what: str) -> sp.Expr:
    """``value`` as a sympy expression, else ValueError naming ``name`` and ``what`` it must be.

    Strings are refused (sympy would parse them as code: ``"a"`` is a Symbol).

    >>> as_expr("p", 0.25, "a number in (0, 1)")
    0.250000000000000
    >>> as_expr("p", "1/4", "a number in (0, 1)")
    Traceback (most recent call last):
    ...
    ValueError: p: expected a number in (0, 1), got '1/4'
    """
    try:
        v = sp.sympify(value, strict=not isinstance(value, sp.Basic))
    except (sp.SympifyError, TypeError):
        raise ValueError(f"{name}: expected {what}, got {value!r}") from None
    if not isinstance(v, sp.Expr):
        raise ValueError(f"{name}: expected {what}, got {value!r}")
    return v


def check_positive(name: str, value, what: str = "a number > 0") -> sp.Expr:
    """``value`` as a sympy expression known to be finite and > 0 (positive Symbols allowed), else ValueError.

    Used for ε (docs/paper.md §2), the scales of C1-C6 (docs/paper.md §4) and the δ of Thm 4.1 / Thm 5.1.
    nan and oo are refused (nan is not known positive, oo is not finite).

    >>> check_positive("scale", sp.Symbol("k", positive=True))
    k
    >>> check_positive("scale", -1)
    Traceback (most recent call last):
    ...
    ValueError: scale: expected a number > 0, got -1
    """
    v = as_expr(name, value, what)
    if v.is_positive is not True or v.is_finite is False:
        raise ValueError(f"{name}: expected {what}, got {value!r}")
    return v


def check_eps(eps) -> sp.Expr:
    """ε of ``sim_ln`` (docs/paper.md §2) as a sympy number, else ValueError unless it is > 0.

    >>> check_eps(0.5)
    0.500000000000000
    >>> check_eps(0)
    Traceback (most recent call last):
    ...
    ValueError: eps: expected a number > 0, got 0
    """
    return check_positive("eps", eps)


def is_real_entry(v, *, symbolic: bool = False) -> bool:
    """True if ``v`` is a finite real sympy number (or, with ``symbolic``, an expression
    with free symbols not known to be non-real or infinite). nan, ±oo, zoo, I: False.

    >>> is_real_entry(sp.Rational(1, 2)), is_real_entry(sp.nan), is_real_entry(sp.I), is_real_entry(sp.oo)
    (True, False, False, False)
    >>> is_real_entry(sp.Symbol("k")), is_real_entry(sp.Symbol("k"), symbolic=True)
    (False, True)
    """
    if not isinstance(v, sp.Expr):
        return False
    if v.is_Rational:
        return True
    if v.has(*_NON_FINITE):
        return False
    if v.is_number:
        return v.is_real is True and v.is_finite is not False
    return symbolic and v.is_extended_real is not False and v.is_finite is not False


def check_nonnegative(name: str, value) -> sp.Expr:
    """``value`` as a finite real >= 0 (symbols not known negative pass), else ValueError naming ``name``.

    >>> check_nonnegative("radius", 0)
    0
    >>> check_nonnegative("radius", float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: radius: expected a finite number >= 0, got nan
    """
    what = "a finite number >= 0"
    v = as_expr(name, value, what)
    if (not is_real_entry(v, symbolic=True) or v.is_nonnegative is False
            or (v.is_number and v.is_nonnegative is not True)):
        raise ValueError(f"{name}: expected {what}, got {value!r}")
    return v


def check_real(name: str, value) -> sp.Expr:
    """``value`` as an exact finite real number (floats become exact rationals), else ValueError.

    >>> check_real("label_scale", -0.5)
    -1/2
    >>> check_real("label_scale", sp.I)
    Traceback (most recent call last):
    ...
    ValueError: label_scale: expected a finite real number, got I
    """
    what = "a finite real number"
    v = as_expr(name, value, what)
    if not is_real_entry(v):
        raise ValueError(f"{name}: expected {what}, got {value!r}")
    return to_exact(v)


def check_entries(mat: sp.Matrix, name: str, what: str, *, symbolic: bool, by_row: bool = True) -> None:
    """Raise ValueError naming ``name`` and the place of the first entry that is not ``is_real_entry``."""
    for i in range(mat.rows):
        for j in range(mat.cols):
            if not is_real_entry(mat[i, j], symbolic=symbolic):
                where = f"row {i}" if by_row else f"entry ({i}, {j})"
                raise ValueError(f"{name}: expected {what}, got {mat[i, j]} at {where}")


def _rows(X):
    return X.tolist() if hasattr(X, "tolist") else X


def _reject_strings(rows, name: str, what: str) -> None:
    """Strings would be parsed by sympy (``"a"`` -> Symbol a): refuse them up front."""
    if not isinstance(rows, (list, tuple)):
        return
    for i, row in enumerate(rows):
        for v in (row if isinstance(row, (list, tuple)) else [row]):
            if isinstance(v, str):
                raise ValueError(f"{name}: expected {what}, got {v!r} at row {i}")


def as_points(X, name: str = "X", *, symbolic: bool = True) -> sp.Matrix:
    """X as a sympy Matrix of rows x_i (docs/paper.md §1), or ValueError naming ``name``.

    Every entry must be a finite real number: nan, ±oo, zoo, non-real numbers and
    strings are refused. With ``symbolic`` (default) entries may also contain free
    symbols not known to be non-real; ``symbolic=False`` asks for numbers only.

    >>> as_points([[1, 2]])
    Matrix([[1, 2]])
    >>> as_points([[float("nan"), 1]])
    Traceback (most recent call last):
    ...
    ValueError: X: expected finite real numbers, got nan at row 0
    >>> as_points([[1, 1], [1, "a"]], "X_train")
    Traceback (most recent call last):
    ...
    ValueError: X_train: expected finite real numbers, got 'a' at row 1
    """
    _reject_strings(_rows(X), name, "finite real numbers")
    try:
        mat = sp.Matrix(_rows(X))
    except (TypeError, ValueError, sp.SympifyError):
        raise ValueError(f"{name}: expected an (n, d) array of points with rows of equal length") from None
    if mat.rows < 1 or mat.cols < 1:
        raise ValueError(f"{name}: expected a non-empty (n, d) array of points, got shape {mat.shape}")
    check_entries(mat, name, "finite real numbers", symbolic=symbolic)
    return mat


def as_labels(Y, n: int, name: str = "Y", *, symbolic: bool = False) -> sp.Matrix:
    """Labels y_i (docs/paper.md §1) as an n x 1 sympy column of finite real numbers, else ValueError naming ``name``.

    A row (1 x n) is transposed. nan, ±oo, zoo, non-real numbers and strings are
    refused; ``symbolic=True`` also lets through expressions with free symbols
    not known to be non-real (e.g. outputs of a network with a symbolic scale).

    >>> as_labels([1, -1], 2).T
    Matrix([[1, -1]])
    >>> as_labels([1, float("nan")], 2)
    Traceback (most recent call last):
    ...
    ValueError: Y: expected finite real numbers as labels, got nan at row 1
    >>> as_labels([1, 2], 3)
    Traceback (most recent call last):
    ...
    ValueError: Y: expected 3 labels (one per row of X), got shape (2, 1)
    """
    what = "finite real numbers as labels"
    _reject_strings(_rows(Y), name, what)
    try:
        col = sp.Matrix(_rows(Y))
    except (TypeError, ValueError, sp.SympifyError):
        raise ValueError(f"{name}: expected {n} {what}, got {Y!r}") from None
    if col.rows == 1 and col.cols != 1:
        col = col.T
    if col.shape != (n, 1):
        raise ValueError(f"{name}: expected {n} labels (one per row of X), got shape {col.shape}")
    check_entries(col, name, what, symbolic=symbolic)
    return col


def check_points(X) -> sp.Matrix:
    """Training inputs of the exact results (bounds, constructions): numbers only, d >= 2, floats made exact.

    >>> check_points([[1, 2], [3]])
    Traceback (most recent call last):
    ...
    ValueError: X: expected an (n, d) array of points with rows of equal length
    >>> check_points([[1], [2]])
    Traceback (most recent call last):
    ...
    ValueError: X: expected points with d >= 2 coordinates, got 1
    """
    X = as_points(X, "X", symbolic=False)
    if X.cols < 2:
        raise ValueError(f"X: expected points with d >= 2 coordinates, got {X.cols}")
    return X.applyfunc(to_exact)


def check_labels(Y, n: int) -> sp.Matrix:
    """Labels of the exact results: ``as_labels`` (numbers only), floats made exact.

    >>> check_labels([0.25, -1], 2).T
    Matrix([[1/4, -1]])
    """
    return as_labels(Y, n, "Y").applyfunc(to_exact)
