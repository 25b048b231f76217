"""The flattest generalizing ``bias`` net of Prop A.1 (eq. 16), exact: its support and labels.

Setting (Prop A.1): the label depends only on the first s coordinates x_I, whose values form a
set of extreme points V = {v_1, ..., v_k} ⊂ R^s (labels y_1, ..., y_k), and ||x|| = R on the
support. Here the other d − s coordinates range over {−1, 1}^{d−s}, so R² = ||v||² + d − s needs
every ||v_j|| equal. Neuron j reads x_I only: row r_j w_j/δ (w_j an extreme-point witness of v_j,
0 < δ <= its margin), bias r_j (δ − w_j·v_j)/δ, output y_j/r_j; it fires (value r_j) exactly on
the points with x_I = v_j, so f = y everywhere on the support: population error 0 whatever the
training set. Per training point, ||∇f||² = y_j² (R² + 1)/r_j² + r_j², minimal (= 2 |y_j| ||x'||,
the F3 bound) at r_j² = |y_j| sqrt(R² + 1): flattest on every training set. The paper prints
r² = |y_j| (R² + 1), which is not flattest unless |y_j|² (R² + 1) = 1 (``rule="paper"``, an erratum),
and writes the row with v_j in place of w_j (the same up to scale when every ||v_j|| is equal).
A label y_j = 0 gets a dead neuron (row 0, bias −1, output 0).

>>> from sharpgen.theory.architectures import forward
>>> V = sp.Matrix([[1, 1], [1, -1], [-1, 1], [-1, -1]])
>>> p = prop_a1_network(V, [1, -1, -1, 1], 3)
>>> X = support(V, 3)
>>> list(forward("bias", p, X)) == [x[0] * x[1] for x in X.tolist()]
True
"""
from __future__ import annotations

import itertools

import sympy as sp

from sharpgen.theory.checks import as_labels, as_points, check_integer, to_exact
from sharpgen.theory.constructions import check_delta, check_rule, delta_max
from sharpgen.theory.data import extreme_point_witness
from sharpgen.theory.exact import tidy
from sharpgen.theory.params import Params


def _points(V) -> sp.Matrix:
    return as_points(V, "V", symbolic=False).applyfunc(to_exact)


def support(V, d: int) -> sp.Matrix:
    """Every x = (v, t) with v a row of V and t ∈ {−1, 1}^{d − s}: the support of Prop A.1's distribution.

    >>> support([[3, 4], [4, -3]], 3).T
    Matrix([
    [ 3, 3,  4,  4],
    [ 4, 4, -3, -3],
    [-1, 1, -1,  1]])
    """
    V = _points(V)
    d = check_integer("d", d, V.cols)
    tails = list(itertools.product((-1, 1), repeat=d - V.cols))
    return sp.Matrix([list(V.row(j)) + list(t) for j in range(V.rows) for t in tails])


def labels_on(X, V, labels) -> sp.Matrix:
    """The label of each row of X: that of the v_j equal to its first s coordinates.

    >>> labels_on([[4, -3, 1], [3, 4, -1]], [[3, 4], [4, -3]], [1, 2]).T
    Matrix([[2, 1]])
    """
    V, X = _points(V), as_points(X, "X", symbolic=False).applyfunc(to_exact)
    lookup = {tuple(V.row(j)): y for j, y in enumerate(as_labels(labels, V.rows, "labels"))}
    missing = [i for i in range(X.rows) if tuple(X.row(i)[:V.cols]) not in lookup]
    if missing:
        raise ValueError(f"X: row {missing[0]} does not start with a row of V (not on Prop A.1's support)")
    return sp.Matrix([lookup[tuple(X.row(i)[:V.cols])] for i in range(X.rows)])


def _scale(y, R2, rule):
    if rule == "paper":
        return sp.sqrt(abs(y) * (R2 + 1))
    return sp.sqrt(abs(y) * sp.sqrt(R2 + 1))


def prop_a1_network(V, labels, d: int, *, rule: str = "infimum", delta=None) -> Params:
    """Width-k ``bias`` net of Prop A.1 (eq. 16) for extreme points V (rows, equal norms) with ``labels``.

    ``d`` (>= s, the columns of V) is the input dimension; ``rule="paper"`` takes the printed
    r² = |y_j| (R² + 1); ``delta`` (default ``delta_max(V)``/2) must satisfy 0 < δ <= ``delta_max(V)``.

    >>> p = prop_a1_network([[1, 1], [1, -1]], [1, 0], 2)   # R² = 2: r = 3^(1/4); y = 0: dead neuron
    >>> p.W2.T, p.b1.T
    (Matrix([[3**(3/4)/3, 0]]), Matrix([[-3**(1/4), -1]]))
    >>> prop_a1_network([[1, 1], [1, -1]], [1, 0], 2, rule="paper").W2[0]   # r = sqrt(R² + 1)
    sqrt(3)/3
    >>> prop_a1_network([[1, 0], [0, 2]], [1, 1], 2)
    Traceback (most recent call last):
    ...
    ValueError: V: Prop A.1 needs ||x|| = R on the support, so every ||v_j|| equal; got [1, 4]
    """
    rule, V = check_rule(rule), _points(V)
    Y = as_labels(labels, V.rows, "labels").applyfunc(to_exact)
    d = check_integer("d", d, V.cols)
    norms = {tidy(sum(v ** 2 for v in V.row(j))) for j in range(V.rows)}
    if len(norms) != 1:
        raise ValueError(f"V: Prop A.1 needs ||x|| = R on the support, so every ||v_j|| equal; got {sorted(norms)}")
    R2 = norms.pop() + (d - V.cols)
    W = extreme_point_witness(V)
    delta = check_delta(delta, delta_max(V))
    rows, b1, W2 = [], [], []
    for j, y in enumerate(Y):
        if y == 0:
            rows.append([0] * d), b1.append(-1), W2.append(0)
            continue
        r = _scale(y, R2, rule)
        rows.append([r * w / delta for w in W.row(j)] + [0] * (d - V.cols))
        b1.append(r * (delta - (W.row(j) * V.row(j).T)[0]) / delta)
        W2.append(y / r)
    return Params(W1=sp.Matrix(rows), b1=sp.Matrix(b1), W2=sp.Matrix(W2))
