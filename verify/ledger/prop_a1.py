"""The flattest generalizing ``bias`` net of Prop A.1 (eq. 16), exact; ``theory`` has no such construction.

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

>>> V = sp.Matrix([[1, 1], [1, -1], [-1, 1], [-1, -1]])
>>> p = prop_a1_network(V, [1, -1, -1, 1], 3)
>>> X = support(V, 3)
>>> list(forward("bias", p, X)) == [x[0] * x[1] for x in X.tolist()]
True
"""
from __future__ import annotations

import itertools

import sympy as sp

from sharpgen.theory.architectures import forward
from sharpgen.theory.constructions import delta_max
from sharpgen.theory.data import extreme_point_witness
from sharpgen.theory.params import Params

RULES = ("infimum", "paper")


def support(V, d: int) -> sp.Matrix:
    """Every x = (v, t) with v a row of V and t ∈ {−1, 1}^{d − s}: the support of Prop A.1's distribution."""
    V = sp.Matrix(V)
    tails = list(itertools.product((-1, 1), repeat=d - V.cols))
    return sp.Matrix([list(V.row(j)) + list(t) for j in range(V.rows) for t in tails])


def labels_on(X, V, labels) -> sp.Matrix:
    """The label of each row of X: that of the v_j equal to its first s coordinates."""
    V, X = sp.Matrix(V), sp.Matrix(X)
    lookup = {tuple(V.row(j)): sp.sympify(labels[j]) for j in range(V.rows)}
    return sp.Matrix([lookup[tuple(X.row(i)[:V.cols])] for i in range(X.rows)])


def _scale(y, R2, rule):
    if rule == "paper":
        return sp.sqrt(abs(y) * (R2 + 1))
    return sp.sqrt(abs(y) * sp.sqrt(R2 + 1))


def prop_a1_network(V, labels, d: int, *, rule: str = "infimum", delta=None) -> Params:
    """Width-k ``bias`` net of Prop A.1 for extreme points V (rows, equal norms) with ``labels``, input dim d."""
    if rule not in RULES:
        raise ValueError(f"rule: expected one of {RULES}, got {rule!r}")
    V = sp.Matrix(V)
    norms = {sp.nsimplify(sum(v ** 2 for v in V.row(j))) for j in range(V.rows)}
    if len(norms) != 1:
        raise ValueError(f"V: Prop A.1 needs ||x|| = R on the support, so every ||v_j|| equal; got {sorted(norms)}")
    if not (isinstance(d, int) and d >= V.cols):
        raise ValueError(f"d: expected an integer >= s = {V.cols}, got {d!r}")
    R2 = norms.pop() + (d - V.cols)
    W = extreme_point_witness(V)
    if delta is None:
        margin = delta_max(V)
        delta = sp.Integer(1) if margin == sp.oo else margin / 2
    delta = sp.sympify(delta)
    rows, b1, W2 = [], [], []
    for j in range(V.rows):
        y = sp.sympify(labels[j])
        if y == 0:
            rows.append([0] * d), b1.append(-1), W2.append(0)
            continue
        r = _scale(y, R2, rule)
        rows.append([r * w / delta for w in W.row(j)] + [0] * (d - V.cols))
        b1.append(r * (delta - (W.row(j) * V.row(j).T)[0]) / delta)
        W2.append(y / r)
    return Params(W1=sp.Matrix(rows), b1=sp.Matrix(b1), W2=sp.Matrix(W2))
