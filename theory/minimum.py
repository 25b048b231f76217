"""Exact minimum sharpness inf { Tr ∇²L(θ) : L(θ) = 0 } (docs/paper.md §3: F3-F6).

``min_sharpness(arch, X, Y, **hyper)`` returns a ``MinSharpness``: the value,
whether it is the infimum (``exact``) or only a lower bound, and whether some
interpolating θ attains it (``attained``). ``min_sharpness_xor(arch, d)`` gives
the P_xor values with d symbolic. Labels c x[1] x[2] (one constant c != 0, e.g.
the logistic-loss targets γ_p y) count as P_xor / Condition-1 labels, scaled
(``xor_label_scale``).

Loss convention (docs/paper.md §1): L = (1/n) Σ (f(x_i) - y_i)^2, so at interpolation
Tr ∇²L = (2/n) Σ ||∇_θ f(x_i)||^2 (Lemma 4.1). Under it the Sim-BN constant of
Lemma A.3 is c = 2, not 1 (see ``sim_bn_bound``). This module must not import
``theory.sharpness`` (which re-exports it).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from sharpgen.theory.architectures import check_arch, check_eps
from sharpgen.theory.constructions import D, _exact, augmented_norm, check_depth, check_labels, check_points
from sharpgen.theory.data import check_dimension, extreme_point_witness, is_cube_data, is_real_entry, xor_labels

ACTIVATIONS = ("relu", "softplus")


@dataclass(frozen=True)
class MinSharpness:
    """inf of Tr ∇²L over interpolating θ (``exact``) or a lower bound on it, with its source.

    Behaves as its ``value`` for sympy (``sp.sympify``, ``sp.latex``).

    >>> m = MinSharpness(4 * sp.sqrt(3), attained=True, exact=True, source="F3 (Thm 4.1)")
    >>> m
    MinSharpness(value=4*sqrt(3), attained=True, exact=True, source='F3 (Thm 4.1)')
    >>> sp.latex(m), sp.sympify(m) ** 2
    ('4 \\\\sqrt{3}', 48)
    """

    value: sp.Expr
    attained: bool
    exact: bool
    source: str

    def __repr__(self) -> str:
        return (f"MinSharpness(value={self.value}, attained={self.attained}, exact={self.exact}, "
                f"source={self.source!r})")

    def _sympy_(self):
        return self.value

    def _latex(self, printer):
        return printer._print(self.value)

    def _repr_latex_(self) -> str:
        return f"${sp.latex(self.value)}$"


def _tidy(value) -> sp.Expr:
    value = sp.sympify(value)
    return value if value.is_Rational else sp.radsimp(value)


def _is_extreme(X: sp.Matrix) -> bool:
    try:
        extreme_point_witness(X)
    except ValueError:
        return False
    return True


def bias_bound(X, Y, depth: int = 2) -> sp.Expr:
    """F3/F4 (Thm 4.1): (2/n) Σ_i D |y_i|^{2(D-1)/D} ||x_i'||^{2/D} <= Tr ∇²L at interpolation.

    D = 2: (4/n) Σ ||x_i'|| |y_i|. Holds for any data; attained by C1 on extreme points.

    >>> bias_bound([[1, 1, 1], [1, -1, 1]], [1, -1])
    8
    >>> bias_bound([[1, 1, 1]], [1], depth=3)
    6*2**(2/3)
    """
    X = check_points(X)
    Y = check_labels(Y, X.rows)
    depth = check_depth(depth)
    terms = [depth * abs(Y[i]) ** sp.Rational(2 * (depth - 1), depth)
             * augmented_norm(X.row(i)) ** sp.Rational(2, depth) for i in range(X.rows)]
    return sp.radsimp(sp.Rational(2, X.rows) * sp.Add(*terms))


def nobias_bound(X, Y) -> sp.Expr:
    """F3 without bias (Thm 3.1 setting): (4/n) Σ_i ||x_i|| |y_i| <= Tr ∇²L at interpolation.

    >>> nobias_bound([[1, 1, 1], [1, -1, 1]], [1, -1])
    4*sqrt(3)
    """
    X = check_points(X)
    Y = check_labels(Y, X.rows)
    terms = [sp.sqrt(sum(v ** 2 for v in X.row(i))) * abs(Y[i]) for i in range(X.rows)]
    return sp.radsimp(sp.Rational(4, X.rows) * sp.Add(*terms))


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
    Y = check_labels(Y, X.rows)
    eps = check_eps(eps)
    terms = [sp.Min(1, 2 * augmented_norm(X.row(i)) * abs(Y[i]) / eps) for i in range(X.rows)]
    return sp.Rational(2, X.rows) * sp.Add(*terms)


def sim_bn_bound(X, Y) -> sp.Expr:
    """F6 (Lemma A.3 with our L): Tr ∇²L >= 2 (||W2||^2 + ||γ||^2) >= 4 ||γ ⊙ W2||_1 at interpolation.

    The γ and W2 gradients alone give (2/n) Σ_i Σ_j (W2_j^2 + γ_j^2) h_j(x_i)^2/a_j^2
    = 2 Σ_j (W2_j^2 + γ_j^2) (since Σ_i h_j(x_i)^2 = n a_j^2), so c = 2 (the paper
    writes 1: its Lemma A.3 drops Lemma 4.1's factor 2); AM-GM gives 4 ||γ ⊙ W2||_1.
    From Σ_i y_i f(x_i) = ||y||^2 and |Σ_i y_i h_j(x_i)| <= max(||y+||, ||y-||) sqrt(n) a_j
    (h >= 0): ||γ ⊙ W2||_1 >= ||y||^2 / (sqrt(n) max(||y+||, ||y-||)). Returns
    4 ||y||^2 / (sqrt(n) max(||y+||, ||y-||)) (0 if y = 0), valid for any data.
    On complete xor quadruples Lemma A.1 sharpens ||γ ⊙ W2||_1 >= 2, i.e. 8 (``min_sharpness``).

    >>> sim_bn_bound([[1, 1], [1, -1], [-1, 1], [-1, -1]], [1, -1, -1, 1])
    4*sqrt(2)
    """
    X = check_points(X)
    Y = check_labels(Y, X.rows)
    pos = sp.sqrt(sum(v ** 2 for v in Y if v > 0))
    neg = sp.sqrt(sum(v ** 2 for v in Y if v < 0))
    if pos == 0 and neg == 0:
        return sp.Integer(0)
    return sp.radsimp(4 * sum(v ** 2 for v in Y) / (sp.sqrt(X.rows) * sp.Max(pos, neg)))


def xor_quadruple_tails(X, Y) -> list[tuple] | None:
    """The tails T if the data are complete xor quadruples (Condition 1 without the rank part), else None.

    Complete: every row is in {-1, 1}^d, rows are distinct, y = x[1] x[2], and each
    tail x[3:] that occurs does so with all four (x[1], x[2]). Condition 1 (Thm 3.2)
    further asks the differences of T to span R^{d-2}; Lemma A.1's bound
    ||γ ⊙ W2||_1 >= 2 only needs the quadruples. Labels must be exactly x[1] x[2]
    here; ``min_sharpness`` first divides scaled labels c x[1] x[2] by c (``xor_label_scale``).

    >>> from sharpgen.theory.data import condition1_set
    >>> xor_quadruple_tails(*condition1_set(3))
    [(-1,), (1,)]
    >>> xor_quadruple_tails([[1, 1, 1]], [1]) is None
    True
    """
    X = check_points(X)
    Y = check_labels(Y, X.rows)
    if X.cols < 2 or not is_cube_data(X) or list(Y) != list(xor_labels(X)):
        return None
    rows = {tuple(X.row(i)) for i in range(X.rows)}
    if len(rows) != X.rows:
        return None
    tails = sorted({r[2:] for r in rows})
    complete = all((a, b, *t) in rows for t in tails for a in (-1, 1) for b in (-1, 1))
    return tails if complete and len(rows) == 4 * len(tails) else None


def _same_number(a, b) -> bool:
    diff = a - b
    if diff == 0:
        return True
    if diff.is_Rational or diff.is_zero is False:
        return False
    return sp.simplify(diff) == 0


def xor_label_scale(X, Y) -> sp.Expr | None:
    """The constant c != 0 with y_i = c x_i[1] x_i[2] for all i, on distinct cube points; else None.

    Such labels are P_xor's scaled by c (e.g. γ_p y for the logistic loss with label
    smoothing, F7). Interpolating c x[1] x[2] is interpolating x[1] x[2] with the output
    layer scaled by c, so every minimum sharpness of ``min_sharpness`` on xor labels
    carries over, scaled (see there). All-zero labels give None.

    >>> from sharpgen.theory.data import hypercube, xor_labels
    >>> X = hypercube(2)
    >>> xor_label_scale(X, -3 * xor_labels(X)), xor_label_scale(X, xor_labels(X))
    (-3, 1)
    >>> xor_label_scale(X, [1, 1, 1, 1]) is None
    True
    """
    X = check_points(X)
    Y = check_labels(Y, X.rows)
    if not is_cube_data(X) or len({tuple(X.row(i)) for i in range(X.rows)}) != X.rows:
        return None
    c = Y[0] * X[0, 0] * X[0, 1]  # x[1] x[2] = ±1 is its own inverse
    if c == 0 or not all(_same_number(Y[i] * X[i, 0] * X[i, 1], c) for i in range(1, X.rows)):
        return None
    return c


def _check_hyper(arch: str, depth, activation, eps):
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {ACTIVATIONS}, got {activation!r}")
    if arch != "bias" and activation != "relu":
        raise ValueError(f"activation: {arch} uses relu only, got {activation!r}")
    depth = check_depth(depth)
    if arch != "bias" and depth != 2:
        raise ValueError(f"depth: {arch} has depth 2, got {depth!r}")
    if arch == "sim_ln":
        if eps is None:
            raise ValueError("eps: sim_ln needs eps > 0, got None")
        return depth, check_eps(eps)
    if eps is not None:
        raise ValueError(f"eps: only sim_ln uses eps, got {eps!r} for {arch!r}")
    return depth, None


def min_sharpness(arch, X, Y, *, depth=2, activation="relu", eps=None) -> MinSharpness:
    """inf over interpolating θ of Tr ∇²L (docs/paper.md §3), exact where the paper's bound is attained.

    * all y_i = 0: 0, attained by the zero network (any arch).
    * ``bias`` (relu, depth D): ``bias_bound`` (F3/F4, Thm 4.1); exact and attained
      by C1 when X is a set of extreme points (Def 4.1), else a lower bound.
      softplus: only the trivial bound 0.
    * ``nobias``: ``nobias_bound`` (F3); exact, attained by C3 on distinct cube points
      with labels y = c x[1] x[2] for one constant c != 0 (``xor_label_scale``; c = 1 is
      P_xor, c = γ_p the logistic-loss targets): value (4/n) Σ ||x_i|| |c| = 4 sqrt(d) |c|,
      attained by C3 rebalanced for c (W1 scale σ = sqrt|c| d^{1/4}/2, W2 = c (-1)^{s+t}/(2σ):
      per sample |c|^2 d/(4σ^2) + 4σ^2 = 2 sqrt(d) |c|; scaling C3's W2 alone by c costs
      (c^2 + 1) sqrt(d) per sample instead). Other labels: a lower bound.
    * ``sim_ln``: ``sim_ln_bound`` (F5, Lemma A.12); exact, attained by C4 on extreme points.
    * ``sim_bn``: on complete xor quadruples (e.g. Condition 1) with labels c x[1] x[2],
      c != 0: 8 |c|, exact. Derivation: f is linear in W2_j γ_j, so the interpolators of
      c y are those of y with W2 ⊙ γ scaled by c, and min ||γ ⊙ W2||_1 = 2 |c| (Lemma A.1);
      Tr >= 2 (||W2||^2 + ||γ||^2) >= 4 ||γ ⊙ W2||_1 >= 8 |c| (c = 2 of Lemma A.3 under our L).
      C6 with the balanced split |W2_j| = |γ_j| = sqrt(|c|/2) (sign of W2 times sign(c))
      approaches it as k -> oo (W1, b1 part ~ 1/k^2); scaling C6's W2 alone by c has
      limit 2 (||W2||^2 + ||γ||^2) = 4 c^2 + 4 > 8 |c| unless |c| = 1.
      Attained only when there is one tail (n = 4, e.g. d = 2).
      Why: Tr = 8 |c| needs a zero W1' gradient, c_j (x_i'/a_j - h_ij Σ_l h_lj x_l'/(n a_j^3)),
      at every x_i, i.e. every live neuron fires on exactly one training point; then
      |Σ_i y_i h_ij/a_j| = |c| sqrt(n) and ||γ ⊙ W2||_1 >= |c| sqrt(n) > 2 |c| once n >= 8.
      Elsewhere ``sim_bn_bound``.

    >>> from sharpgen.theory.data import hypercube, xor_labels
    >>> X = hypercube(3)[:5, :]
    >>> min_sharpness("bias", X, xor_labels(X))
    MinSharpness(value=8, attained=True, exact=True, source='F3 (Thm 4.1, attained by C1)')
    >>> min_sharpness("sim_ln", X, xor_labels(X), eps=sp.Rational(1, 10)).value
    2
    >>> min_sharpness("sim_ln", X, xor_labels(X))
    Traceback (most recent call last):
    ...
    ValueError: eps: sim_ln needs eps > 0, got None
    """
    check_arch(arch)
    depth, eps = _check_hyper(arch, depth, activation, eps)
    X = check_points(X)
    Y = check_labels(Y, X.rows)
    if all(v == 0 for v in Y):
        return MinSharpness(sp.Integer(0), True, True, "zero labels (the zero network)")
    if arch == "bias":
        if activation == "softplus":
            return MinSharpness(sp.Integer(0), False, False, "trivial bound Tr >= 0 (F1; no closed form for softplus)")
        name = "F3" if depth == 2 else "F4"
        if _is_extreme(X):
            return MinSharpness(bias_bound(X, Y, depth), True, True, f"{name} (Thm 4.1, attained by C1)")
        return MinSharpness(bias_bound(X, Y, depth), False, False, f"{name} lower bound (X not extreme points)")
    if arch == "nobias":
        exact = xor_label_scale(X, Y) is not None
        source = "F3 (Thm 3.1 setting, attained by C3)" if exact else "F3 lower bound (not P_xor data)"
        return MinSharpness(nobias_bound(X, Y), exact, exact, source)
    if arch == "sim_ln":
        exact = _is_extreme(X)
        source = "F5 (Lemma A.12, Thm 5.1, attained by C4)" if exact else "F5 lower bound (X not extreme points)"
        return MinSharpness(sim_ln_bound(X, Y, eps), exact, exact, source)
    c = xor_label_scale(X, Y)
    tails = None if c is None else xor_quadruple_tails(X, xor_labels(X))
    if tails is None:
        return MinSharpness(sim_bn_bound(X, Y), False, False, "F6 lower bound (Lemma A.3 + Cauchy-Schwarz)")
    return MinSharpness(_tidy(8 * abs(c)), len(tails) == 1, True, "F6 (Lemmas A.1, A.3; C6 as k -> oo)")


def _check_label_scale(label_scale) -> sp.Expr:
    try:
        c = sp.sympify(label_scale, strict=not isinstance(label_scale, sp.Basic))
    except (sp.SympifyError, TypeError):
        c = None
    if c is None or not is_real_entry(c):
        raise ValueError(f"label_scale: expected a finite real number, got {label_scale!r}")
    return _exact(c)


def min_sharpness_xor(arch, d=D, *, depth=2, activation="relu", eps=None, label_scale=1) -> MinSharpness:
    """Minimum sharpness on P_xor training data as an expression in d (F3-F6).

    For any set of distinct cube points with labels x[1] x[2] (any n):
    ``bias`` 2D (d+1)^{1/D} (D = 2: 4 sqrt(d+1), F3/F4, attained by C1 and C2);
    ``nobias`` 4 sqrt(d) (F3, attained by C3); ``sim_ln`` 2 min(1, 2 sqrt(d+1)/ε)
    (F5, attained by C4 and, when ε <= 2 sqrt(d+1), C5), which is 2 for every d >= 2
    when ε <= 2 sqrt(3). ``sim_bn``: 8 when the training set is complete xor
    quadruples (Condition 1), approached by C6, attained only for d = 2.

    ``label_scale`` c: labels c x[1] x[2] (e.g. γ_p for the logistic loss, F7), as
    ``min_sharpness`` on such data: ``bias`` 2D |c|^{2(D-1)/D} (d+1)^{1/D}, ``nobias``
    4 sqrt(d) |c|, ``sim_ln`` 2 min(1, 2 sqrt(d+1) |c|/ε), ``sim_bn`` 8 |c|; c = 0: 0.

    >>> min_sharpness_xor("bias").value, min_sharpness_xor("bias", depth=3).value
    (4*sqrt(d + 1), 6*(d + 1)**(1/3))
    >>> min_sharpness_xor("sim_ln", eps=sp.Rational(1, 10)).value
    2
    >>> min_sharpness_xor("sim_bn", label_scale=-3).value
    24
    >>> min_sharpness_xor("nobias", 1)
    Traceback (most recent call last):
    ...
    ValueError: d: expected an integer >= 2, got 1
    """
    check_arch(arch)
    depth, eps = _check_hyper(arch, depth, activation, eps)
    if not isinstance(d, sp.Symbol):
        d = sp.Integer(check_dimension(d))
    c = abs(_check_label_scale(label_scale))
    if c == 0:
        return MinSharpness(sp.Integer(0), True, True, "zero labels (the zero network)")
    if arch == "bias":
        if activation == "softplus":
            return MinSharpness(sp.Integer(0), False, False, "trivial bound Tr >= 0 (F1; no closed form for softplus)")
        value = 2 * depth * c ** sp.Rational(2 * (depth - 1), depth) * (d + 1) ** sp.Rational(1, depth)
        return MinSharpness(value, True, True, f"{'F3' if depth == 2 else 'F4'} (Thm 4.1, attained by C1)")
    if arch == "nobias":
        return MinSharpness(4 * sp.sqrt(d) * c, True, True, "F3 (Thm 3.1 setting, attained by C3)")
    if arch == "sim_ln":
        small = (2 * sp.sqrt(3) * c - eps).is_nonnegative is True
        value = sp.Integer(2) if small else 2 * sp.Min(1, 2 * sp.sqrt(d + 1) * c / eps)
        return MinSharpness(value, True, True, "F5 (Lemma A.12, attained by C4)")
    return MinSharpness(8 * c, d == 2, True, "F6 (Lemmas A.1, A.3; C6 as k -> oo)")
