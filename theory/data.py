"""Exact data: the hypercube, P_xor labels, extreme-point witnesses, Condition 1.

Rows of a data matrix are points x_i in R^d (docs/paper.md §1); labels are m x 1 columns.
"""
from __future__ import annotations

import itertools

import numpy as np
import sympy as sp
from scipy.optimize import linprog


def check_dimension(d, name: str = "d") -> int:
    """Return ``d`` as an int, or raise ValueError unless it is an integer >= 2."""
    if isinstance(d, bool) or not isinstance(d, (int, np.integer, sp.Integer)) or int(d) < 2:
        raise ValueError(f"{name}: expected an integer >= 2, got {d!r}")
    return int(d)


_NON_FINITE = (sp.nan, sp.zoo, sp.oo, sp.S.NegativeInfinity)


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


def _raw_rows(X):
    rows = X.tolist() if hasattr(X, "tolist") else X
    return rows if isinstance(rows, (list, tuple)) else None


def _reject_strings(rows, name: str, what: str) -> None:
    """Strings would be parsed by sympy (``"a"`` -> Symbol a): refuse them up front."""
    if rows is None:
        return
    for i, row in enumerate(rows):
        for v in (row if isinstance(row, (list, tuple)) else [row]):
            if isinstance(v, str):
                raise ValueError(f"{name}: expected {what}, got {v!r} at row {i}")


def _check_entries(mat: sp.Matrix, name: str, what: str, symbolic: bool) -> None:
    for i in range(mat.rows):
        for j in range(mat.cols):
            if not is_real_entry(mat[i, j], symbolic=symbolic):
                raise ValueError(f"{name}: expected {what}, got {mat[i, j]} at row {i}")


def as_points(X, name: str = "X", *, symbolic: bool = True) -> sp.Matrix:
    """X as a sympy Matrix of rows, or ValueError naming ``name``.

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
    _reject_strings(_raw_rows(X), name, "finite real numbers")
    try:
        mat = sp.Matrix(X.tolist() if hasattr(X, "tolist") else X)
    except (TypeError, ValueError, sp.SympifyError):
        raise ValueError(f"{name}: expected an (n, d) array of points with rows of equal length") from None
    if mat.rows < 1 or mat.cols < 1:
        raise ValueError(f"{name}: expected a non-empty (n, d) array of points, got shape {mat.shape}")
    _check_entries(mat, name, "finite real numbers", symbolic)
    return mat


def as_labels(Y, n: int, name: str = "Y", *, symbolic: bool = False) -> sp.Matrix:
    """Labels y_i (docs/paper.md §1) as an n x 1 sympy column of finite real numbers, else ValueError naming ``name``.

    A row (1 x n) is transposed. nan, ±oo, zoo, non-real numbers and strings are
    refused; ``symbolic=True`` also lets through expressions with free symbols
    not known to be non-real (e.g. outputs of a network with a symbolic scale).
    The one label validator of ``theory`` (``constructions.check_labels`` and
    ``sharpness`` use it).

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
    _reject_strings(_raw_rows(Y), name, what)
    try:
        col = sp.Matrix(Y.tolist() if hasattr(Y, "tolist") else Y)
    except (TypeError, ValueError, sp.SympifyError):
        raise ValueError(f"{name}: expected {n} {what}, got {Y!r}") from None
    if col.rows == 1 and col.cols != 1:
        col = col.T
    if col.shape != (n, 1):
        raise ValueError(f"{name}: expected {n} labels (one per row of X), got shape {col.shape}")
    _check_entries(col, name, what, symbolic)
    return col


def hypercube(d: int) -> sp.Matrix:
    """All 2^d points of {-1, +1}^d as rows (P_xor's support, docs/paper.md §1).

    >>> hypercube(2)
    Matrix([
    [-1, -1],
    [-1,  1],
    [ 1, -1],
    [ 1,  1]])
    """
    d = check_dimension(d)
    return sp.Matrix(list(itertools.product((-1, 1), repeat=d)))


def is_cube_data(X: sp.Matrix) -> bool:
    return all(v in (-1, 1) for v in X)


def xor_labels(X) -> sp.Matrix:
    """P_xor labels y = x[1] * x[2] (docs/paper.md §1) as a column.

    >>> xor_labels(hypercube(2)).T
    Matrix([[1, -1, -1, 1]])
    """
    X = as_points(X)
    if X.cols < 2:
        raise ValueError(f"X: P_xor needs d >= 2 columns, got {X.cols}")
    if not is_cube_data(X):
        raise ValueError("X: P_xor points must have every entry in {-1, +1}")
    return sp.Matrix([X[i, 0] * X[i, 1] for i in range(X.rows)])


def _check_distinct(X: sp.Matrix) -> None:
    seen = {}
    for i in range(X.rows):
        key = tuple(X.row(i))
        if key in seen:
            raise ValueError(f"X: point {i} repeats point {seen[key]}, so it is not an extreme point (Def 4.1)")
        seen[key] = i


def extreme_point_witness(X) -> sp.Matrix:
    """Witnesses that every row of X is an extreme point of S (Def 4.1).

    Row i of the result is w_i with w_i . x_i > w_i . x_j for every j != i.
    Hypercube data gets the exact w_i = x_i / ||x_i||; other data gets an
    LP solution (scipy), rationalised and re-checked exactly. Raises
    ValueError naming the first point that is not extreme.

    >>> X = sp.Matrix([[1, 1], [-1, 1]])
    >>> extreme_point_witness(X)
    Matrix([
    [ sqrt(2)/2, sqrt(2)/2],
    [-sqrt(2)/2, sqrt(2)/2]])
    >>> extreme_point_witness([[0, 0], [1, 0], [2, 0]])
    Traceback (most recent call last):
    ...
    ValueError: X: point 1 is not an extreme point of the training set (no witness w with w.x_1 > w.x_j for all j != 1)
    """
    X = as_points(X, symbolic=False)
    _check_distinct(X)
    if is_cube_data(X):
        return X / sp.sqrt(X.cols)
    Xf = np.array(X.tolist(), dtype=float)
    rows = []
    for i in range(X.rows):
        rows.append(_lp_witness(X, Xf, i))
    return sp.Matrix(rows)


def _lp_witness(X: sp.Matrix, Xf: np.ndarray, i: int) -> list:
    # Feasibility LP: w . (x_i - x_j) >= 1 for all j != i, |w_k| <= bound.
    others = [j for j in range(X.rows) if j != i]
    if not others:
        return [sp.Integer(0)] * (X.cols - 1) + [sp.Integer(1)] if X.cols > 1 else [sp.Integer(1)]
    A = -(Xf[i] - Xf[others])
    res = linprog(np.zeros(X.cols), A_ub=A, b_ub=-np.ones(len(others)), bounds=[(-1e6, 1e6)] * X.cols,
                  method="highs")
    if res.status == 0:
        w = [sp.nsimplify(v, rational=True, tolerance=1e-9) for v in res.x]
        wv = sp.Matrix([w])
        if all((wv * (X.row(i) - X.row(j)).T)[0] > 0 for j in others):
            return w
    raise ValueError(f"X: point {i} is not an extreme point of the training set "
                     f"(no witness w with w.x_{i} > w.x_j for all j != {i})")


def default_condition1_tails(d: int) -> list[tuple[int, ...]]:
    """The all-ones tail and the d-2 tails with one -1: their differences are -2 e_k."""
    d = check_dimension(d)
    k = d - 2
    ones = (1,) * k
    return [ones] + [tuple(-1 if j == i else 1 for j in range(k)) for i in range(k)]


def condition1_set(d: int, tails=None) -> tuple[sp.Matrix, sp.Matrix]:
    """A complete training set satisfying Condition 1 (Thm 3.2), with xor labels.

    ``tails`` is a set T of points of {-1,1}^{d-2} whose pairwise differences
    span R^{d-2} (default: ``default_condition1_tails(d)``). The set is every
    (x1, x2, t) with x1, x2 in {-1, 1}, t in T, labelled x1 * x2.

    >>> X, Y = condition1_set(3)
    >>> X.shape, list(Y)
    ((8, 3), [1, -1, -1, 1, 1, -1, -1, 1])
    >>> condition1_set(4, tails=[(1, 1), (-1, -1)])
    Traceback (most recent call last):
    ...
    ValueError: tails: differences of the tails span a space of dimension 1, need d - 2 = 2 (Condition 1)
    """
    d = check_dimension(d)
    tails = default_condition1_tails(d) if tails is None else [tuple(t) for t in tails]
    if not tails:
        raise ValueError("tails: expected at least one tail")
    for t in tails:
        if len(t) != d - 2 or any(v not in (-1, 1) for v in t):
            raise ValueError(f"tails: each tail must be a point of {{-1, 1}}^{d - 2}, got {t}")
    if len(set(tails)) != len(tails):
        raise ValueError("tails: tails must be distinct")
    if d > 2:
        diffs = sp.Matrix([[a - b for a, b in zip(t, tails[0])] for t in tails[1:]]) if len(tails) > 1 else sp.zeros(1, d - 2)
        rank = diffs.rank()
        if rank != d - 2:
            raise ValueError(f"tails: differences of the tails span a space of dimension {rank}, "
                             f"need d - 2 = {d - 2} (Condition 1)")
    rows = [(x1, x2, *t) for t in tails for x1 in (-1, 1) for x2 in (-1, 1)]
    X = sp.Matrix(rows)
    return X, xor_labels(X)
