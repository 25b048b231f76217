"""Exact minimum sharpness inf { Tr ∇²L(θ) : L(θ) = 0 } (docs/paper.md §3: F3-F6).

``min_sharpness(arch, X, Y, **hyper)`` returns a ``MinSharpness``: the value,
whether it is the infimum (``exact``) or only a lower bound, and whether some
interpolating θ attains it (``attained``). ``min_sharpness_xor(arch, d)`` gives
the P_xor values with d symbolic (``theory.symbols.d``). Labels c x[1] x[2]
(one constant c != 0, e.g. the logistic-loss targets γ_p y) count as P_xor /
Condition-1 labels, scaled (``xor_label_scale``). The bounds themselves, valid
for any data, are in ``theory.bounds``.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from sharpgen.theory import symbols
from sharpgen.theory.architectures import check_hyper
from sharpgen.theory.bounds import bias_bound, f3_f4, f5, nobias_bound, sim_bn_bound, sim_ln_bound
from sharpgen.theory.checks import check_labels, check_points, check_real, check_symbolic_dimension, to_exact
from sharpgen.theory.data import extreme_point_witness, is_cube_data, xor_labels
from sharpgen.theory.exact import compare, same, tidy


@dataclass(frozen=True)
class MinSharpness:
    """inf of Tr ∇²L over interpolating θ (``exact``) or a lower bound on it, with its source.

    Behaves as its ``value`` for sympy (``sp.sympify``, ``sp.latex``) and, when the
    value is a number, for Python: ``float(m)``, ``m < 9``, ``m == 8``, ``f"{m:.3f}"``,
    compared exactly (a float by its exact binary value). A value with free symbols
    (``min_sharpness_xor``'s d) is ordered only where their assumptions decide
    (``m > 0``) and equals only expressions identical to it (``m == 4*sqrt(d + 1)``);
    ``float(m)`` and any other comparison raise TypeError naming the symbols:
    ``m.subs(d, 30)``, ``m.subs("d", 30)`` or ``m.subs(d=30)`` substitutes first
    (``theory.symbols``). Two ``MinSharpness`` are equal when all their fields are.

    >>> m = MinSharpness(4 * sp.sqrt(3), attained=True, exact=True, source="F3 (Thm 4.1)")
    >>> m
    MinSharpness(value=4*sqrt(3), attained=True, exact=True, source='F3 (Thm 4.1)')
    >>> sp.latex(m), sp.sympify(m) ** 2
    ('4 \\\\sqrt{3}', 48)
    >>> float(m), m < 7, m > 6.9, m == sp.sqrt(48), f"{m:.4f}"
    (6.928203230275509, True, True, True, '6.9282')
    """

    value: sp.Expr
    attained: bool
    exact: bool
    source: str
    # min_sharpness_xor at a concrete d, when this value came from a symbolic d (see ``subs``)
    _remake = None

    def __repr__(self) -> str:
        return (f"MinSharpness(value={self.value}, attained={self.attained}, exact={self.exact}, "
                f"source={self.source!r})")

    def _sympy_(self):
        return self.value

    def _latex(self, printer):
        return printer._print(self.value)

    def _repr_latex_(self) -> str:
        return f"${sp.latex(self.value)}$"

    @property
    def free_symbols(self) -> set:
        return sp.sympify(self.value).free_symbols

    def _symbolic_error(self, what: str) -> TypeError:
        names = ", ".join(sorted(s.name for s in self.free_symbols))
        return TypeError(f"MinSharpness: cannot {what}: the value {self.value} has free symbols {names}; "
                         f"substitute them first, e.g. m.subs({names.split(', ')[0]}=30)")

    def __float__(self) -> float:
        if self.free_symbols:
            raise self._symbolic_error("convert to float")
        return float(self.value)

    def __format__(self, spec: str) -> str:
        return format(float(self), spec) if spec else str(self)

    @staticmethod
    def _operand(other):
        """``other`` as an exact sympy expression (floats by their exact value), or None if it is no number."""
        if isinstance(other, MinSharpness):
            return other.value
        try:
            o = sp.sympify(to_exact(other) if isinstance(other, float) and other == other else other, strict=True)
        except (sp.SympifyError, TypeError, ValueError):
            return None
        return o if isinstance(o, sp.Expr) and not o.has(sp.nan) else None

    def _order(self, other):
        """compare(value, other): -1, 0, 1; NotImplemented for non-numbers; TypeError if undecidable."""
        o = self._operand(other)
        if o is None:
            return NotImplemented
        result = compare(self.value, o)
        if result is None:
            raise self._symbolic_error(f"compare with {o}")
        return result

    def __eq__(self, other):
        if isinstance(other, MinSharpness):
            return (self.value, self.attained, self.exact, self.source) == (
                other.value, other.attained, other.exact, other.source)
        o = self._operand(other)
        if o is not None and self.free_symbols and o.free_symbols:
            return same(self.value, o)  # two expressions: equal as expressions in their symbols
        r = self._order(other)
        return r if r is NotImplemented else r == 0

    def __hash__(self):
        return hash(self.value)

    def __lt__(self, other):
        r = self._order(other)
        return r if r is NotImplemented else r < 0

    def __le__(self, other):
        r = self._order(other)
        return r if r is NotImplemented else r <= 0

    def __gt__(self, other):
        r = self._order(other)
        return r if r is NotImplemented else r > 0

    def __ge__(self, other):
        r = self._order(other)
        return r if r is NotImplemented else r >= 0

    def subs(self, *args, **kwargs) -> "MinSharpness":
        """Substitute into the value, as sympy's ``subs``; names resolve to our symbols (``theory.symbols``).

        A result of ``min_sharpness_xor`` with symbolic d is recomputed at a concrete d,
        so ``attained`` and the check of d (an integer >= 2) follow.

        >>> from sharpgen.theory.symbols import d
        >>> m = min_sharpness_xor("bias")
        >>> m.subs(d, 3).value, m.subs("d", 3).value, m.subs(d=3) == 8
        (8, 8, True)
        >>> min_sharpness_xor("sim_bn").subs(d=2).attained, min_sharpness_xor("sim_bn").subs(d=3).attained
        (True, False)
        """
        free = self.free_symbols | ({symbols.d} if self._remake else set())
        mapping = symbols.substitution(free, *args, **kwargs)
        if self._remake is not None and symbols.d in mapping and sp.sympify(mapping[symbols.d]).is_number:
            remade = self._remake(mapping.pop(symbols.d))
            return remade.subs(mapping) if mapping else remade
        return MinSharpness(sp.sympify(self.value).subs(mapping), self.attained, self.exact, self.source)


def _is_extreme(X: sp.Matrix) -> bool:
    try:
        extreme_point_witness(X)
    except ValueError:
        return False
    return True


def _distinct_cube(X: sp.Matrix) -> set | None:
    """The rows of X as a set if they are distinct points of {-1, 1}^d, else None."""
    rows = {tuple(X.row(i)) for i in range(X.rows)}
    return rows if is_cube_data(X) and len(rows) == X.rows else None


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
    rows = _distinct_cube(X)
    if rows is None or list(Y) != list(xor_labels(X)):
        return None
    tails = sorted({r[2:] for r in rows})
    complete = all((a, b, *t) in rows for t in tails for a in (-1, 1) for b in (-1, 1))
    return tails if complete and len(rows) == 4 * len(tails) else None


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
    if _distinct_cube(X) is None:
        return None
    c = Y[0] * X[0, 0] * X[0, 1]  # x[1] x[2] = ±1 is its own inverse
    if c == 0 or not all(same(Y[i] * X[i, 0] * X[i, 1], c) for i in range(1, X.rows)):
        return None
    return c


def _min_bias(X, Y, depth, activation) -> MinSharpness:
    """``bias``: F3/F4 (Thm 4.1), exact and attained by C1 on extreme points (Def 4.1)."""
    if activation == "softplus":
        return MinSharpness(sp.Integer(0), False, False, "trivial bound Tr >= 0 (F1; no closed form for softplus)")
    name = "F3" if depth == 2 else "F4"
    if _is_extreme(X):
        return MinSharpness(bias_bound(X, Y, depth), True, True, f"{name} (Thm 4.1, attained by C1)")
    return MinSharpness(bias_bound(X, Y, depth), False, False, f"{name} lower bound (X not extreme points)")


def _min_nobias(X, Y) -> MinSharpness:
    """``nobias``: F3, exact on distinct cube points with labels c x[1] x[2], c != 0.

    Value (4/n) Σ ||x_i|| |c| = 4 sqrt(d) |c|, attained by C3 rebalanced for c
    (W1 scale σ = sqrt|c| d^{1/4}/2, W2 = c (-1)^{s+t}/(2σ): per sample
    |c|^2 d/(4σ^2) + 4σ^2 = 2 sqrt(d) |c|; scaling C3's W2 alone by c costs
    (c^2 + 1) sqrt(d) per sample instead). Other labels: a lower bound.
    """
    exact = xor_label_scale(X, Y) is not None
    source = "F3 (Thm 3.1 setting, attained by C3)" if exact else "F3 lower bound (not P_xor data)"
    return MinSharpness(nobias_bound(X, Y), exact, exact, source)


def _min_sim_ln(X, Y, eps) -> MinSharpness:
    """``sim_ln``: F5 (Lemma A.12), exact and attained by C4 on extreme points."""
    exact = _is_extreme(X)
    source = "F5 (Lemma A.12, Thm 5.1, attained by C4)" if exact else "F5 lower bound (X not extreme points)"
    return MinSharpness(sim_ln_bound(X, Y, eps), exact, exact, source)


def _min_sim_bn(X, Y) -> MinSharpness:
    """``sim_bn``: 8 |c| on complete xor quadruples (e.g. Condition 1) with labels c x[1] x[2], c != 0.

    Derivation: f is linear in W2_j γ_j, so the interpolators of c y are those of y
    with W2 ⊙ γ scaled by c, and min ||γ ⊙ W2||_1 = 2 |c| (Lemma A.1);
    Tr >= 2 (||W2||^2 + ||γ||^2) >= 4 ||γ ⊙ W2||_1 >= 8 |c| (c = 2 of Lemma A.3 under our L).
    C6 with the balanced split |W2_j| = |γ_j| = sqrt(|c|/2) (sign of W2 times sign(c))
    approaches it as k -> oo (W1, b1 part ~ 1/k^2); scaling C6's W2 alone by c has
    limit 2 (||W2||^2 + ||γ||^2) = 4 c^2 + 4 > 8 |c| unless |c| = 1.
    Attained only when there is one tail (n = 4, e.g. d = 2). Why: Tr = 8 |c| needs a
    zero W1' gradient, c_j (x_i'/a_j - h_ij Σ_l h_lj x_l'/(n a_j^3)), at every x_i, i.e.
    every live neuron fires on exactly one training point; then |Σ_i y_i h_ij/a_j| =
    |c| sqrt(n) and ||γ ⊙ W2||_1 >= |c| sqrt(n) > 2 |c| once n >= 8.
    Elsewhere ``sim_bn_bound``.
    """
    c = xor_label_scale(X, Y)
    tails = None if c is None else xor_quadruple_tails(X, xor_labels(X))
    if tails is None:
        return MinSharpness(sim_bn_bound(X, Y), False, False, "F6 lower bound (Lemma A.3 + Cauchy-Schwarz)")
    return MinSharpness(tidy(8 * abs(c)), len(tails) == 1, True, "F6 (Lemmas A.1, A.3; C6 as k -> oo)")


def min_sharpness(arch, X, Y, *, depth=2, activation="relu", eps=None) -> MinSharpness:
    """inf over interpolating θ of Tr ∇²L (docs/paper.md §3), exact where the paper's bound is attained.

    * all y_i = 0: 0, attained by the zero network (any arch).
    * ``bias`` (relu, depth D): ``bias_bound`` (F3/F4, Thm 4.1); exact and attained
      by C1 when X is a set of extreme points (Def 4.1), else a lower bound.
      softplus: only the trivial bound 0.
    * ``nobias``: ``nobias_bound`` (F3); exact, attained by C3 (rebalanced) on distinct
      cube points with labels y = c x[1] x[2] for one constant c != 0 (``xor_label_scale``;
      c = 1 is P_xor, c = γ_p the logistic-loss targets); elsewhere a lower bound.
    * ``sim_ln``: ``sim_ln_bound`` (F5, Lemma A.12); exact, attained by C4 on extreme points.
    * ``sim_bn``: 8 |c| on complete xor quadruples (e.g. Condition 1) with labels
      c x[1] x[2], exact, approached by C6 as k -> oo and attained only for n = 4;
      elsewhere ``sim_bn_bound`` (F6).

    The derivations are in the docstrings of ``_min_nobias`` and ``_min_sim_bn``.

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
    activation, depth, eps = check_hyper(arch, activation=activation, depth=depth, eps=eps)
    X = check_points(X)
    Y = check_labels(Y, X.rows)
    if all(v == 0 for v in Y):
        return MinSharpness(sp.Integer(0), True, True, "zero labels (the zero network)")
    if arch == "bias":
        return _min_bias(X, Y, depth, activation)
    if arch == "nobias":
        return _min_nobias(X, Y)
    if arch == "sim_ln":
        return _min_sim_ln(X, Y, eps)
    return _min_sim_bn(X, Y)


def _xor_value(arch, d, depth, activation, eps, c) -> MinSharpness:
    """``min_sharpness_xor`` for checked arguments, |c| > 0: the per-sample bounds at ||x'||^2 = d + 1."""
    if arch == "bias":
        if activation == "softplus":
            return MinSharpness(sp.Integer(0), False, False, "trivial bound Tr >= 0 (F1; no closed form for softplus)")
        name = "F3" if depth == 2 else "F4"
        return MinSharpness(2 * f3_f4(sp.sqrt(d + 1), c, depth), True, True, f"{name} (Thm 4.1, attained by C1)")
    if arch == "nobias":
        return MinSharpness(2 * f3_f4(sp.sqrt(d), c), True, True, "F3 (Thm 3.1 setting, attained by C3)")
    if arch == "sim_ln":
        # ||x'|| = sqrt(d + 1) >= sqrt(3): the minimum is 2 for every d once eps <= 2 sqrt(3) |c|
        small = (2 * sp.sqrt(3) * c - eps).is_nonnegative is True
        value = sp.Integer(2) if small else 2 * f5(sp.sqrt(d + 1), c, eps)
        return MinSharpness(value, True, True, "F5 (Lemma A.12, attained by C4)")
    return MinSharpness(8 * c, d == 2, True, "F6 (Lemmas A.1, A.3; C6 as k -> oo)")


def min_sharpness_xor(arch, d=symbols.d, *, depth=2, activation="relu", eps=None, label_scale=1) -> MinSharpness:
    """Minimum sharpness on P_xor training data as an expression in d (F3-F6).

    For any set of distinct cube points with labels x[1] x[2] (any n):
    ``bias`` 2D (d+1)^{1/D} (D = 2: 4 sqrt(d+1), F3/F4, attained by C1 and C2);
    ``nobias`` 4 sqrt(d) (F3, attained by C3); ``sim_ln`` 2 min(1, 2 sqrt(d+1)/ε)
    (F5, attained by C4 and, when ε <= 2 sqrt(d+1), C5), which is 2 for every d >= 2
    when ε <= 2 sqrt(3). ``sim_bn``: 8 when the training set is complete xor
    quadruples (Condition 1), approached by C6, attained only for d = 2.
    ``d`` defaults to the symbol ``theory.symbols.d``; substitute it with
    ``.subs(d, 30)`` (``MinSharpness.subs``, names accepted).

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
    activation, depth, eps = check_hyper(arch, activation=activation, depth=depth, eps=eps)
    d_value = check_symbolic_dimension(d)
    c = abs(check_real("label_scale", label_scale))
    if c == 0:
        return MinSharpness(sp.Integer(0), True, True, "zero labels (the zero network)")
    result = _xor_value(arch, d_value, depth, activation, eps, c)
    if d_value == symbols.d:
        object.__setattr__(result, "_remake", lambda at: min_sharpness_xor(
            arch, at, depth=depth, activation=activation, eps=eps, label_scale=label_scale))
    return result
