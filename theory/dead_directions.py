"""Directions that no training point reaches: where Lemma 3.1's norm bound cannot hold.

Lemma 3.1 (paper §3.1, "under the setting of Theorem 3.1", n = Ω(d log(d/δ))) says every
flattest interpolating ``nobias`` net lies in Θ_C = {Σ_j ||W1_j||₂ |W2_j| <= C} for an absolute
constant C. A direction u with u·x_i < 0 for every training point shows why the lemma needs its
sample size: a neuron a·relu(c u·x) is 0 with zero gradient on every x_i (relu'(z) = 0 for
z < 0), so adding it (or turning a spare neuron into it) changes neither the fit nor
Tr ∇²L = (2/n) Σ_i ||∇f(x_i)||² (Lemma 4.1), while its path norm |a| c ||u|| is any number. So
where such a u exists, no C bounds the flattest set, and the lemma's setting is not met. On the
cube, n = d random points admit one with high probability; at n >> d log d none exists (no
open half-space misses n random cube points).

No convention is involved: the neuron is strictly negative on every training point (no relu'(0)
choice), and the certificate is exact (a rational u checked in integer arithmetic).

>>> dead_direction([[1, 1], [1, -1]])          # both points have x[1] = 1: u = (-1, 0) misses them
[-1, 0]
>>> dead_direction([[1, 1], [1, -1], [-1, 1], [-1, -1]]) is None   # the whole square: none
True
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from sharpgen.theory.data import as_points

__all__ = ["dead_direction", "is_dead_direction", "origin_interior"]


def is_dead_direction(u, X) -> bool:
    """Whether u·x_i < 0 for every row x_i of X, decided exactly.

    >>> is_dead_direction([-1, 0], [[1, 1], [1, -1]]), is_dead_direction([1, 0], [[1, 1]])
    (True, False)
    """
    X = as_points(X, symbolic=False)
    uv = sp.Matrix([list(u)])
    return all((uv * X.row(i).T)[0] < 0 for i in range(X.rows))


def dead_direction(X) -> list | None:
    """An exact rational u with u·x_i < 0 for every training point x_i, or None when none exists.

    Solves the LP max t s.t. u·x_i + t <= 0 (all i), |u_k| <= 1, t <= 1 (scipy's HiGHS), then
    rationalises u and re-checks it exactly (:func:`is_dead_direction`); t* <= 0 means no open
    half-space through the origin contains the points' negatives, so no u exists.

    Parameters
    ----------
    X : rows are the training inputs (any real points).

    See Also
    --------
    sharpgen.theory.data.extreme_point_witness : the LP witness of Definition 4.1.
    """
    from scipy.optimize import linprog  # deferred on purpose: `import sharpgen.theory` stays without scipy
    X = as_points(X, symbolic=False)
    Xf = np.array(X.tolist(), dtype=float)
    n, d = Xf.shape
    cost = np.zeros(d + 1)
    cost[-1] = -1.0  # maximise t
    A = np.hstack([Xf, np.ones((n, 1))])
    res = linprog(cost, A_ub=A, b_ub=np.zeros(n), bounds=[(-1, 1)] * d + [(None, 1)], method="highs")
    if res.status != 0 or res.x[-1] <= 1e-9:
        return None
    for tol in (1e-6, 1e-9, 1e-12):
        u = [sp.nsimplify(v, rational=True, tolerance=tol) for v in res.x[:d]]
        if is_dead_direction(u, X):
            return u
    return None


def origin_interior(X) -> bool:
    """Whether the origin is an interior point of the convex hull of the rows of X, that is, whether
    no unit w has w·x_i <= 0 for every i (not even with equalities). Where such a w exists, every
    average of the form (1/n) Σ φ(w·x_i) 1[w·x_i > 0] is 0 at it, so the lower bounds of Lemmas
    A.5 and A.6 fail on that training set.

    Decided by the LP max t s.t. Σ λ_i x_i = 0, Σ λ_i = 1, λ_i >= t (scipy's HiGHS; interior iff
    t* > 0 and the rows span R^d), in floating point with a 1e-9 margin.

    >>> origin_interior([[1, 1], [1, -1], [-1, 1], [-1, -1]]), origin_interior([[1, 1], [1, -1], [-1, 1]])
    (True, False)
    """
    from scipy.optimize import linprog  # deferred on purpose, as in dead_direction
    Xf = np.array(as_points(X, symbolic=False).tolist(), dtype=float)
    n, d = Xf.shape
    if np.linalg.matrix_rank(Xf) < d:
        return False
    cost = np.zeros(n + 1)
    cost[-1] = -1.0
    A_eq = np.vstack([np.hstack([Xf.T, np.zeros((d, 1))]), np.hstack([np.ones((1, n)), np.zeros((1, 1))])])
    b_eq = np.concatenate([np.zeros(d), [1.0]])
    A_ub = np.hstack([-np.eye(n), np.ones((n, 1))])  # t - λ_i <= 0
    res = linprog(cost, A_ub=A_ub, b_ub=np.zeros(n), A_eq=A_eq, b_eq=b_eq,
                  bounds=[(0, None)] * n + [(None, None)], method="highs")
    return bool(res.status == 0 and res.x[-1] > 1e-9)
