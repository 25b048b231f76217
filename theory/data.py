"""Exact data: the hypercube, P_xor labels, x', extreme-point witnesses, Condition 1.

Rows of a data matrix are points x_i in R^d (docs/paper.md §1); labels are n x 1 columns.
Inputs are validated by ``theory.checks`` (``as_points``).

The whole cube has 2^d points, so enumerating it has limits, refused up front
with the reason: ``CUBE_ARRAY_MAX_D`` for the integer array (2^20 x 20
int64 = 168 MB) and ``HYPERCUBE_MAX_D`` for the sympy matrix (2^16 rows, about
5 s and 200 MB on the 2-core development CPU; each step of d doubles both).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from sharpgen.theory.checks import as_points, check_dimension

CUBE_ARRAY_MAX_D = 20
HYPERCUBE_MAX_D = 16


def check_cube_dimension(d, limit: int, what: str) -> int:
    """d if 2 <= d <= ``limit``, else ValueError naming the limit and why (``what`` materialises 2^d points).

    >>> check_cube_dimension(40, 20, "cube_array")
    Traceback (most recent call last):
    ...
    ValueError: d: expected an integer in [2, 20] for cube_array, got 40 (it holds all 2^d = 1099511627776 cube points; larger d would exhaust memory: use a sample of cube points instead)
    """
    d = check_dimension(d)
    if d > limit:
        raise ValueError(f"d: expected an integer in [2, {limit}] for {what}, got {d} (it holds all 2^d = {2 ** d} "
                         f"cube points; larger d would exhaust memory: use a sample of cube points instead)")
    return d


def augment(x, bias: bool = True) -> sp.Matrix:
    """x' = (x, 1) as a column (docs/paper.md §1) when ``bias``, else x as a column.

    >>> augment([3, 4]).T, augment([3, 4], bias=False).T
    (Matrix([[3, 4, 1]]), Matrix([[3, 4]]))
    """
    col = sp.Matrix(list(x))
    return col.col_join(sp.Matrix([1])) if bias else col


def augmented_norm(x, bias: bool = True) -> sp.Expr:
    """||x'|| = sqrt(||x||^2 + 1), the norm of x with a 1 appended (docs/paper.md §1); ||x|| without ``bias``.

    >>> augmented_norm([1, -1, 1]), augmented_norm([1, -1, 1], bias=False)
    (2, sqrt(3))
    """
    xp = augment(x, bias)
    return sp.sqrt((xp.T * xp)[0])


def cube_array(d: int) -> np.ndarray:
    """{−1, 1}^d as a (2^d, d) int64 array, rows in lexicographic order (-1 before 1): ``hypercube``'s order.

    Row c is the binary expansion of c, most significant bit first, 0 -> -1 and 1 -> +1; d <= ``CUBE_ARRAY_MAX_D``.

    >>> cube_array(2).tolist()
    [[-1, -1], [-1, 1], [1, -1], [1, 1]]
    """
    d = check_cube_dimension(d, CUBE_ARRAY_MAX_D, "cube_array")
    bits = (np.arange(2 ** d, dtype=np.int64)[:, None] >> np.arange(d - 1, -1, -1, dtype=np.int64)) & 1
    return 2 * bits - 1


def hypercube(d: int) -> sp.Matrix:
    """All 2^d points of {-1, +1}^d as rows (P_xor's support, docs/paper.md §1); d <= ``HYPERCUBE_MAX_D``.

    >>> hypercube(2)
    Matrix([
    [-1, -1],
    [-1,  1],
    [ 1, -1],
    [ 1,  1]])
    """
    return sp.Matrix(cube_array(check_cube_dimension(d, HYPERCUBE_MAX_D, "hypercube")).tolist())


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
    from scipy.optimize import linprog  # deferred: only non-cube data needs scipy; keeps sharpgen.theory light
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


CONDITION1_MAX_D = 256  # exact Condition-1 sets: up front, before a sympy matrix is built
CONDITION1_MAX_POINTS = 4096


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
    >>> condition1_set(10 ** 6)
    Traceback (most recent call last):
    ...
    ValueError: d: expected at most 256 for an exact Condition-1 set (a sympy matrix of 4 x (number of tails) rows whose rank check grows as d^2 to d^3: 2 s at d = 256), got 1000000
    """
    d = check_dimension(d)
    if d > CONDITION1_MAX_D:
        raise ValueError(f"d: expected at most {CONDITION1_MAX_D} for an exact Condition-1 set (a sympy matrix of "
                         f"4 x (number of tails) rows whose rank check grows as d^2 to d^3: 2 s at d = 256), got {d}")
    tails = default_condition1_tails(d) if tails is None else list(tails)
    if 4 * len(tails) > CONDITION1_MAX_POINTS:
        raise ValueError(f"tails: expected at most {CONDITION1_MAX_POINTS // 4} tails ({CONDITION1_MAX_POINTS} "
                         f"training points, each an exact sympy row), got {len(tails)}")
    tails = [tuple(t) for t in tails]
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
