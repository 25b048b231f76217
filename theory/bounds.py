"""Lower bounds on Tr ∇²L over interpolating networks, for any data (docs/paper.md §3: F3-F6).

Loss convention (docs/paper.md §1): L = (1/n) Σ (f(x_i) - y_i)^2, so at interpolation
Tr ∇²L = (2/n) Σ ||∇_θ f(x_i)||^2 (Lemma 4.1, F1) and each bound is (2/n) times a sum of
per-sample bounds on ||∇_θ f(x_i)||^2. Under it the Sim-BN constant of Lemma A.3 is
c = 2, not 1 (see ``sim_bn_bound``). ``theory.minimum`` says when they are attained.

>>> bias_bound([[1, 1, 1], [1, -1, 1]], [1, -1]), nobias_bound([[1, 1, 1], [1, -1, 1]], [1, -1])
(8, 4*sqrt(3))
"""
from __future__ import annotations

import sympy as sp

from sharpgen.theory.checks import as_labels, as_points, check_depth, check_eps, check_labels, check_points
from sharpgen.theory.data import augmented_norm
from sharpgen.theory.exact import tidy


def f3_f4(norm, y, depth: int = 2) -> sp.Expr:
    """The F3/F4 per-sample bound D |y|^{2(D-1)/D} ||x'||^{2/D} from ``norm`` = ||x'|| (unchecked)."""
    D = sp.Integer(depth)
    return D * sp.Abs(y) ** (2 * (D - 1) / D) * sp.sympify(norm) ** (2 / D)


def f5(norm, y, eps) -> sp.Expr:
    """The F5 per-sample bound min(1, (2/ε) ||x'|| |y|) from ``norm`` = ||x'|| (unchecked)."""
    return sp.Min(1, 2 * sp.sympify(norm) * sp.Abs(y) / eps)


def per_sample_bound(x, y, *, depth=2, bias=True):
    """F3/F4 lower bound on ||∇_θ f(x)||² over depth-D relu MLPs with f(x) = y.

    D |y|^{2(D−1)/D} ||x'||^{2/D}, x' = (x, 1) if ``bias`` else x
    (D = 2: 2 ||x'|| |y|; Theorem 4.1's proof, F3 by Cauchy–Schwarz/AM–GM).

    >>> per_sample_bound([1, 1, 1], -1)
    4
    >>> per_sample_bound([1, 1, 1], 1, bias=False)
    2*sqrt(3)
    >>> per_sample_bound([1, 1], 1, depth=1)
    Traceback (most recent call last):
    ...
    ValueError: depth: expected an integer >= 2, got 1
    """
    depth = check_depth(depth)
    entries = list(x) if isinstance(x, sp.MatrixBase) else list(x.tolist() if hasattr(x, "tolist") else x)
    x = as_points([entries], "x")
    y = as_labels([y], 1, "y", symbolic=True)[0]
    return f3_f4(augmented_norm(x, bool(bias)), y, depth)


def _sum_bound(X, Y, term) -> sp.Expr:
    """(2/n) Σ_i term(x_i, y_i), tidied."""
    return tidy(sp.Rational(2, X.rows) * sp.Add(*[term(X.row(i), Y[i]) for i in range(X.rows)]))


def bias_bound(X, Y, depth: int = 2) -> sp.Expr:
    """F3/F4 (Thm 4.1): (2/n) Σ_i D |y_i|^{2(D-1)/D} ||x_i'||^{2/D} <= Tr ∇²L at interpolation.

    D = 2: (4/n) Σ ||x_i'|| |y_i|. Holds for any data; attained by C1 on extreme points.

    >>> bias_bound([[1, 1, 1], [1, -1, 1]], [1, -1])
    8
    >>> bias_bound([[1, 1, 1]], [1], depth=3)
    6*2**(2/3)
    """
    X = check_points(X)
    Y, depth = check_labels(Y, X.rows), check_depth(depth)
    return _sum_bound(X, Y, lambda x, y: f3_f4(augmented_norm(x), y, depth))


def nobias_bound(X, Y) -> sp.Expr:
    """F3 without bias (Thm 3.1 setting): (4/n) Σ_i ||x_i|| |y_i| <= Tr ∇²L at interpolation.

    >>> nobias_bound([[1, 1, 1], [1, -1, 1]], [1, -1])
    4*sqrt(3)
    """
    X = check_points(X)
    Y = check_labels(Y, X.rows)
    return _sum_bound(X, Y, lambda x, y: f3_f4(augmented_norm(x, bias=False), y))


def sim_ln_bound(X, Y, eps) -> sp.Expr:
    """F5 (Lemma A.12): (2/n) Σ_i min(1, (2/ε) ||x_i'|| |y_i|) <= Tr ∇²L at interpolation.

    Per sample: ||h(x_i)|| > ε costs >= 1 (the W2 gradient h/||h||), ||h(x_i)|| < ε
    costs >= 2 ||x_i'|| |y_i|/ε (AM-GM). Holds for any data; C4 attains it on extreme points.

    >>> sim_ln_bound([[1, 1, 1], [1, -1, 1]], [1, -1], sp.Rational(1, 10))
    2
    >>> sim_ln_bound([[1, 1, 1]], [sp.Rational(1, 8)], 1)
    1
    """
    X = check_points(X)
    Y, eps = check_labels(Y, X.rows), check_eps(eps)
    return _sum_bound(X, Y, lambda x, y: f5(augmented_norm(x), y, eps))


def sim_bn_bound(X, Y) -> sp.Expr:
    """F6 (Lemma A.3 with our L): Tr ∇²L >= 2 (||W2||^2 + ||γ||^2) >= 4 ||γ ⊙ W2||_1 at interpolation.

    The γ and W2 gradients alone give (2/n) Σ_i Σ_j (W2_j^2 + γ_j^2) h_j(x_i)^2/a_j^2
    = 2 Σ_j (W2_j^2 + γ_j^2) (since Σ_i h_j(x_i)^2 = n a_j^2), so c = 2 (the paper
    writes 1: its Lemma A.3 drops Lemma 4.1's factor 2); AM-GM gives 4 ||γ ⊙ W2||_1.
    From Σ_i y_i f(x_i) = ||y||^2 and |Σ_i y_i h_j(x_i)| <= max(||y+||, ||y-||) sqrt(n) a_j
    (h >= 0): ||γ ⊙ W2||_1 >= ||y||^2 / (sqrt(n) max(||y+||, ||y-||)). Returns
    4 ||y||^2 / (sqrt(n) max(||y+||, ||y-||)) (0 if y = 0), valid for any data.
    On complete xor quadruples Lemma A.1 sharpens ||γ ⊙ W2||_1 >= 2, i.e. 8 (``theory.minimum``).

    >>> sim_bn_bound([[1, 1], [1, -1], [-1, 1], [-1, -1]], [1, -1, -1, 1])
    4*sqrt(2)
    """
    X = check_points(X)
    Y = check_labels(Y, X.rows)
    pos = sp.sqrt(sum(v ** 2 for v in Y if v > 0))
    neg = sp.sqrt(sum(v ** 2 for v in Y if v < 0))
    if pos == 0 and neg == 0:
        return sp.Integer(0)
    return tidy(4 * sum(v ** 2 for v in Y) / (sp.sqrt(X.rows) * sp.Max(pos, neg)))
