"""Exact probabilities and certificates behind the concentration lemmas of Appendix A.2.1 on P_xor.

On the cube {−1, 1}^d with uniform x, a unit direction w_k = (1, ..., 1, 0, ..., 0)/sqrt(k) (k ones)
has (w_k·x)² = s²/k with s = Σ_{j<=k} x_j = 2 Binomial(k, 1/2) − k, so the average of n independent
copies has an exact, finite distribution. :func:`tail_probability` is the exact probability that it
leaves an interval [lo, hi] (Lemma A.7: (1/n) Σ (w·x_i)² in [1/2, 3/2]; Lemma A.8: the same with
the indicator 1[w·x_i > 0], in [1/8, 3/2]); both lemmas say it is at most δ once n >= C log(c/δ).

:func:`is_psd` decides exactly whether an integer (or rational) symmetric matrix is positive
semidefinite, so Lemma A.10's uniform bounds (1/n) Σ (w·x_i)² in [1/4, 2] for every unit w (the
extreme eigenvalues of XᵀX/n) are certified in exact arithmetic: XᵀX − (n/4) I ⪰ 0 and
2n I − XᵀX ⪰ 0.

:func:`circle_covering` is Lemma A.9 at d = 2: the fewest points whose ε-balls cover the unit
circle, against the lemma's (2/ε + 1)^d.

>>> tail_probability(2, 4, lo=sp.Rational(1, 2), hi=sp.Rational(3, 2))   # 2 Bin(4, 1/2)/4 outside [1/2, 3/2]
1/8
>>> is_psd([[2, 1], [1, 2]]), is_psd([[1, 2], [2, 1]])
(True, False)
"""
from __future__ import annotations

from fractions import Fraction
from math import comb

import sympy as sp

__all__ = ["square_distribution", "tail_probability", "is_psd", "circle_covering"]


def square_distribution(k: int, positive_only: bool = False) -> dict:
    """{value of (w_k·x)² (times 1[w_k·x > 0] if ``positive_only``): probability}, exact rationals,
    for x uniform on the cube (module docstring).

    >>> square_distribution(2)
    {0: 1/2, 2: 1/2}
    """
    dist: dict = {}
    for ones in range(k + 1):
        s = 2 * ones - k
        value = sp.Rational(s * s, k) if (s > 0 or not positive_only) else sp.Integer(0)
        dist[value] = dist.get(value, 0) + sp.Rational(comb(k, ones), 2 ** k)
    return dict(sorted(dist.items()))


def tail_probability(k: int, n: int, *, lo, hi, positive_only: bool = False):
    """P[(1/n) Σ_{i<=n} v_i not in [lo, hi]] for v_i i.i.d. as :func:`square_distribution` (exact):
    the law of the sum over n copies is built by convolution on the lattice of k·v (integers)."""
    if n < 1 or k < 1:
        raise ValueError(f"k, n: expected integers >= 1, got k={k}, n={n}")
    step = {int(v * k): Fraction(int(p.p), int(p.q)) for v, p in square_distribution(k, positive_only).items()}
    law = {0: Fraction(1)}
    for _ in range(n):
        nxt: dict = {}
        for a, pa in law.items():
            for b, pb in step.items():
                nxt[a + b] = nxt.get(a + b, 0) + pa * pb
        law = nxt
    inside = sum((p for total, p in law.items() if lo <= sp.Rational(total, k * n) <= hi), Fraction(0))
    return sp.Rational(1 - inside)


def is_psd(M) -> bool:
    """Whether the symmetric matrix M (rows of integers or rationals) is positive semidefinite,
    decided exactly by symmetric Gaussian elimination (a zero pivot needs a zero row)."""
    A = [[Fraction(v) for v in row] for row in M]
    size = len(A)
    for p in range(size):
        if A[p][p] < 0:
            return False
        if A[p][p] == 0:
            if any(A[p][j] != 0 for j in range(p, size)):
                return False
            continue
        for i in range(p + 1, size):
            f = A[i][p] / A[p][p]
            if f:
                for j in range(p, size):
                    A[i][j] -= f * A[p][j]
    return True


def circle_covering(eps) -> int:
    """The fewest points of the unit circle whose closed ε-balls (chord ε) cover it, 0 < ε < 2:
    N equally spaced points cover iff the half gap's chord 2 sin(π/(2N)) <= ε.

    >>> circle_covering(sp.Rational(1, 2)), (2 / sp.Rational(1, 2) + 1) ** 2
    (7, 25)
    """
    eps = sp.nsimplify(eps)
    if not 0 < eps < 2:
        raise ValueError(f"eps: expected a number in (0, 2), got {eps}")
    N = int(sp.ceiling(sp.pi / (2 * sp.asin(eps / 2))))
    return N
