"""The flattest interpolating networks of docs/paper.md §4 (constructions C1-C6), exact.

* ``memorizing(arch, X, Y)``: width n, neuron i fires on x_i only.
  C1 ``bias`` (Thm 4.1, Prop 4.1, any depth D), C4 ``sim_ln`` (Thm 5.1, Prop 5.1).
* ``generalizing(arch, d)``: width 4, neuron (s, t) reads (-1)^s x[1] + (-1)^t x[2].
  C2 ``bias`` (Prop 4.2), C3 ``nobias`` (Thm 3.1), C5 ``sim_ln`` (Prop 5.2),
  C6 ``sim_bn`` (Lemma A.1 / A.3).
* ``generalizing_symbolic(arch)``: the same width-4 networks with d a sympy
  Symbol (only the first two input columns are nonzero; ``.params(d)`` pads).

Neuron order of the width-4 networks: (s, t) = (0,0), (0,1), (1,0), (1,1).

Where the paper's printed formula does not attain its own bound, the code
keeps the value that does (see the docstrings of ``generalizing`` and
``sim_ln_scales``); the paper's variant stays reachable through ``scale=`` and
``rule="paper"`` so the difference can be computed.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from sharpgen.theory import symbols
from sharpgen.theory.architectures import FORMULAS, check_arch, check_hyper
from sharpgen.theory.checks import (check_choice, check_depth, check_dimension, check_eps, check_keywords,
                                    check_labels, check_points, check_positive, check_symbolic_dimension, to_exact)
from sharpgen.theory.data import augmented_norm, extreme_point_witness, is_cube_data
from sharpgen.theory.params import Params, fields_repr

NEURONS = ((0, 0), (0, 1), (1, 0), (1, 1))
RULES = ("infimum", "paper")
READINGS = ("factor", "product")  # of the radicals in Section 4's printed C1 (see bias_scales)
GENERALIZING_KEYWORDS = ("scale", "eps", "depth", "activation")


def _margin(X: sp.Matrix, W: sp.Matrix) -> sp.Expr:
    if is_cube_data(X):
        # w_i = x_i / sqrt(d) and x_i . x <= d - 2 for every other cube point x.
        return 2 / sp.sqrt(X.cols)
    gaps = [(W.row(i) * (X.row(i) - X.row(j)).T)[0] for i in range(X.rows) for j in range(X.rows) if j != i]
    return sp.Min(*gaps) if gaps else sp.oo


def delta_max(X) -> sp.Expr:
    """Largest δ for which memorizing neuron i fires on x_i only (proofs of Thm 4.1, Thm 5.1).

    Neuron i has pre-activation u_i (w_i.(x - x_i) + δ)/δ with w_i the witness of
    ``extreme_point_witness``; it is > 0 only where w_i.(x_i - x) < δ. The bound is
    min over i != j of w_i.(x_i - x_j); on cube data it is 2/sqrt(d), which also
    silences every cube point off the training set (so f = 0 there, Prop 4.1).
    Returns ``oo`` for a single non-cube point.

    >>> delta_max([[1, 1, 1], [-1, 1, 1]])
    2*sqrt(3)/3
    """
    X = check_points(X)
    return _margin(X, extreme_point_witness(X))


def check_delta(delta, dmax) -> sp.Expr:
    """δ of a memorizing first layer: ``dmax``/2 by default (1 when ``dmax`` is oo), else 0 < δ <= ``dmax``.

    >>> check_delta(None, sp.sqrt(2)), check_delta(sp.Rational(1, 2), sp.sqrt(2)), check_delta(None, sp.oo)
    (sqrt(2)/2, 1/2, 1)
    """
    if delta is None:
        return sp.Integer(1) if dmax == sp.oo else dmax / 2
    what = f"a number with 0 < delta <= {dmax} (witness margin, see delta_max)"
    v = check_positive("delta", delta, what)
    if (dmax - v).is_nonnegative is not True:
        raise ValueError(f"delta: expected {what}, got {delta!r}")
    return to_exact(v)


def _memorizing_layer(X: sp.Matrix, W: sp.Matrix, u: list, delta) -> tuple[sp.Matrix, sp.Matrix]:
    """Row i = u_i w_i / δ, bias u_i (-w_i.x_i + δ)/δ: value u_i at x_i, <= 0 elsewhere."""
    W1 = sp.Matrix.vstack(*[u[i] * W.row(i) / delta for i in range(X.rows)])
    b1 = sp.Matrix([u[i] * (-(W.row(i) * X.row(i).T)[0] + delta) / delta for i in range(X.rows)])
    return W1, b1


def check_rule(rule) -> str:
    """``rule`` if it is one of ``RULES``: "infimum" (the value that attains the bound) or "paper" (as printed).

    >>> check_rule("paper")
    'paper'
    """
    return check_choice("rule", rule, RULES)


def check_reading(reading) -> str:
    """``reading`` if it is one of ``READINGS``: how Section 4's printed depth-2 C1 radicals are read.

    >>> check_reading("product")
    'product'
    """
    return check_choice("reading", reading, READINGS)


def bias_scales(norm, y, depth: int = 2, *, rule: str = "infimum", reading: str = "factor") -> tuple[sp.Expr, sp.Expr]:
    """(r, u) of neuron i in the depth-D memorizing MLP-Bias C1 (Thm 4.1, proof in A.3.1).

    r = (||x'||/|y|)^{1/D}, u = |y| r^{D-1}: then ||∇f(x_i)||^2 equals the F4 bound
    D |y|^{2(D-1)/D} ||x'||^{2/D}. Row i of W1 is u w_i/δ and W2[i] = sign(y)/r.
    ``rule="paper"`` at D = 2 takes the Section 4 proof sketch as printed, r_i = (||x_i||^2 + 1)^{1/2}
    = ||x'||, under one of two readings of its radicals (``reading``):

    * ``"product"``: the radical covers the product, row sqrt(r_i |y_i|) w_i/ε and W2[i] =
      sign(y_i) sqrt(|y_i|/r_i), as the sketch's relu(W1 x_i + b1) = sqrt(r_i |y_i|) e_i says:
      u = sqrt(|y| ||x'||), 1/r = sqrt(|y|/||x'||), the same as A.3.1 at D = 2; it attains the bound.
    * ``"factor"``: the radical covers |y_i| only, row r_i sqrt|y_i| w_i/ε and W2[i] =
      sign(y_i) sqrt|y_i|/r_i: u = sqrt|y| ||x'||, 1/r = sqrt|y|/||x'||, costing |y|(||x'||^2 + 1)
      > 2 ||x'|| |y| per sample; this reading needs r_i = (||x_i||^2 + 1)^{1/4} to attain it.

    For y = 0, ``rule="infimum"`` gives (oo, 0): a dead neuron (zero row, bias and
    outgoing weights; written 1/r = 0) with gradient 0 = the bound, while the paper's
    r = u = 1 (A.3.1, ``rule="paper"``) keeps it firing, with ||∇f(x_i)||^2 = 1.

    >>> bias_scales(2, 1)
    (sqrt(2), sqrt(2))
    >>> bias_scales(2, 0, 3), bias_scales(2, 0, 3, rule="paper")
    ((oo, 0), (1, 1))
    >>> bias_scales(2, 1, rule="paper"), bias_scales(2, 1, rule="paper", reading="product")
    ((2, 2), (sqrt(2), sqrt(2)))
    """
    depth, rule, reading = check_depth(depth), check_rule(rule), check_reading(reading)
    if reading == "product" and (rule, depth) != ("paper", 2):
        raise ValueError(f"reading: 'product' reads Section 4's printed C1 (rule='paper', depth=2), "
                         f"got rule={rule!r}, depth={depth}")
    y = sp.sympify(y)
    if y == 0:
        return (sp.Integer(1), sp.Integer(1)) if rule == "paper" else (sp.oo, sp.Integer(0))
    if rule == "paper" and depth == 2:
        r_i = sp.sympify(norm)  # the printed r_i = (||x_i||^2 + 1)^{1/2}
        if reading == "product":
            return 1 / sp.sqrt(abs(y) / r_i), sp.sqrt(r_i * abs(y))
        return r_i / sp.sqrt(abs(y)), r_i * sp.sqrt(abs(y))
    r = (sp.sympify(norm) / abs(y)) ** sp.Rational(1, depth)
    return r, abs(y) * r ** (depth - 1)


def sim_ln_scales(norm, y, eps, *, rule: str = "infimum") -> tuple[sp.Expr, sp.Expr]:
    """(r, u) of neuron i in the memorizing Sim-LN network C4 (Thm 5.1; W2[i] = r y, ||h(x_i)|| = u).

    With a = ||x'|| |y|, neuron i alone firing at x_i: if u > ε the sample costs
    ||∇f||^2 = 1 (only the W2 gradient h/||h|| survives); if u < ε it costs
    u^2/ε^2 + a^2/u^2 >= 2a/ε, equal at u = sqrt(ε a) (which is < ε iff a < ε).
    So the per-sample infimum min(1, 2a/ε) of F5 / Lemma A.12 is attained by
    (1, 2ε) when 2a >= ε, by (sqrt(ε/a), sqrt(ε a)) when 0 < 2a < ε, and by a dead
    neuron (r, u) = (0, 0) when y = 0 (cost 0) -- ``rule="infimum"``.
    The paper (``rule="paper"``) switches at a > ε instead of 2a >= ε (for
    ε/2 < a <= ε it costs 2a/ε > 1) and uses (0, 2ε) for y = 0 (cost 1 > 0).

    >>> sim_ln_scales(2, 1, sp.Rational(1, 10))
    (1, 1/5)
    >>> sim_ln_scales(1, sp.Rational(3, 4), 1), sim_ln_scales(1, sp.Rational(3, 4), 1, rule="paper")
    ((1, 2), (2*sqrt(3)/3, sqrt(3)/2))
    """
    rule, eps = check_rule(rule), check_eps(eps)
    y = sp.sympify(y)
    a = sp.sympify(norm) * abs(y)
    if y == 0:
        return (sp.Integer(0), 2 * eps) if rule == "paper" else (sp.Integer(0), sp.Integer(0))
    large = sp.Gt(a, eps) if rule == "paper" else sp.Ge(2 * a, eps)
    if large not in (sp.true, sp.false):
        raise ValueError(f"eps: cannot decide which Thm 5.1 regime applies (a = {a}, eps = {eps}); pass a number")
    if large == sp.true:
        return sp.Integer(1), 2 * eps
    return sp.sqrt(eps / a), sp.sqrt(eps * a)


def memorizing(arch, X, Y, *, delta=None, depth=2, eps=None, activation="relu", rule="infimum",
               reading="factor") -> Params:
    """Memorizing flattest interpolator, width n: neuron i fires on x_i only (Thm 4.1 / Thm 5.1).

    C1, ``arch="bias"`` (Thm 4.1, Prop 4.1): first layer row i = u_i w_i/δ, bias
    u_i(-w_i.x_i + δ)/δ (w_i from ``extreme_point_witness``), middle layers
    diag(1/r_i), output W2[i] = sign(y_i)/r_i, (r_i, u_i) from ``bias_scales``
    (depth 2: W1 row r_i sqrt|y_i| w_i/δ, W2[i] = sign(y_i) sqrt|y_i|/r_i,
    r_i = (||x_i||^2+1)^{1/4}). Tr ∇²L equals the F3/F4 bound.
    C4, ``arch="sim_ln"`` (Thm 5.1, Prop 5.1): same first layer with (r_i, u_i)
    from ``sim_ln_scales``, W2[i] = r_i y_i; Tr ∇²L = (2/n) Σ min(1, (2/ε)||x_i'|| |y_i|) (F5).

    ``rule="paper"`` uses the paper's printed (r_i, u_i) instead (they differ for y_i = 0,
    for sim_ln when ε/2 < ||x_i'|| |y_i| <= ε, and for depth-2 ``bias`` under the ``reading="factor"``
    of Section 4's radicals; ``reading="product"`` is the other reading, see ``bias_scales``).
    ``delta`` (default ``delta_max(X)/2``) must satisfy 0 < δ <= ``delta_max(X)``; on
    cube data f = 0 at every cube point off the training set. X must hold finite real
    numbers with d >= 2 (``check_points``, checked before any LP runs); non-extreme X
    raises ``extreme_point_witness``'s ValueError naming X.

    >>> X = [[1, 1], [1, -1]]
    >>> p = memorizing("bias", X, [1, -1])
    >>> p.W2.T, p.b1.T
    (Matrix([[3**(3/4)/3, -3**(3/4)/3]]), Matrix([[-3**(1/4), -3**(1/4)]]))
    >>> memorizing("sim_ln", X, [1, -1], eps=sp.Rational(1, 10)).W2.T
    Matrix([[1, -1]])
    >>> memorizing("bias", X, [1, -1], delta=5)
    Traceback (most recent call last):
    ...
    ValueError: delta: expected a number with 0 < delta <= sqrt(2) (witness margin, see delta_max), got 5
    """
    if check_arch(arch) not in ("bias", "sim_ln"):
        raise ValueError(f"arch: memorizing constructions exist for 'bias' (C1) and 'sim_ln' (C4), got {arch!r}")
    activation, depth, eps = check_hyper(arch, activation=activation, depth=depth, eps=eps)
    if activation != "relu":
        raise ValueError(f"activation: the memorizing constructions use 'relu', got {activation!r}")
    rule, reading = check_rule(rule), check_reading(reading)
    if arch == "sim_ln" and reading != "factor":
        raise ValueError(f"reading: only C1 (arch='bias') has radicals to read, got {reading!r} for 'sim_ln'")
    X = check_points(X)
    Y = check_labels(Y, X.rows)
    W = extreme_point_witness(X)
    delta = check_delta(delta, _margin(X, W))
    norms = [augmented_norm(X.row(i)) for i in range(X.rows)]
    if arch == "bias":
        scales = [bias_scales(norms[i], Y[i], depth, rule=rule, reading=reading) for i in range(X.rows)]
        W1, b1 = _memorizing_layer(X, W, [u for _, u in scales], delta)
        inv = [1 / r for r, _ in scales]
        middle = tuple(sp.diag(*inv) for _ in range(depth - 2))
        return Params(W1=W1, b1=b1, W2=sp.Matrix([sp.sign(Y[i]) * inv[i] for i in range(X.rows)]), middle=middle)
    scales = [sim_ln_scales(norms[i], Y[i], eps, rule=rule) for i in range(X.rows)]
    W1, b1 = _memorizing_layer(X, W, [u for _, u in scales], delta)
    return Params(W1=W1, b1=b1, W2=sp.Matrix([scales[i][0] * Y[i] for i in range(X.rows)]))


@dataclass(frozen=True)
class XorNetwork:
    """A width-4 P_xor construction whose entries may contain the symbol ``d``.

    Only the first two input columns of W1 are nonzero (``head``, 4 x 2); ``params(d)``
    pads the d - 2 zero columns for a concrete d and substitutes it.

    >>> net = generalizing_symbolic("bias")
    >>> net
    XorNetwork(
        arch='bias',
        d=d,
        head=Matrix([
            [ (d + 1)**(1/4),  (d + 1)**(1/4)],
            [ (d + 1)**(1/4), -(d + 1)**(1/4)],
            [-(d + 1)**(1/4),  (d + 1)**(1/4)],
            [-(d + 1)**(1/4), -(d + 1)**(1/4)]]),
        b1=Matrix([-(d + 1)**(1/4), -(d + 1)**(1/4), -(d + 1)**(1/4), -(d + 1)**(1/4)]),
        W2=Matrix([(d + 1)**(-1/4), -1/(d + 1)**(1/4), -1/(d + 1)**(1/4), (d + 1)**(-1/4)]))
    >>> net.head.row(0), net.b1[0], net.W2[0]
    (Matrix([[(d + 1)**(1/4), (d + 1)**(1/4)]]), -(d + 1)**(1/4), (d + 1)**(-1/4))
    >>> net.params(3).W1.shape
    (4, 3)
    """

    arch: str
    head: sp.Matrix
    W2: sp.Matrix
    b1: sp.Matrix | None
    gamma: sp.Matrix | None
    d: sp.Expr

    def params(self, d) -> Params:
        """The Params for a concrete integer d >= 2 (docs/paper.md §2 layout)."""
        d = check_dimension(d)
        if not isinstance(self.d, sp.Symbol) and d != self.d:
            raise ValueError(f"d: this network was built for d = {self.d}, got {d}")

        def sub(m):
            return None if m is None else m.subs(self.d, d)

        W1 = sub(self.head).row_join(sp.zeros(4, d - 2))
        return Params(W1=W1, b1=sub(self.b1), W2=sub(self.W2), gamma=sub(self.gamma))

    def __repr__(self) -> str:
        pairs = [("arch", self.arch), ("d", self.d), ("head", self.head), ("b1", self.b1), ("W2", self.W2),
                 ("gamma", self.gamma)]
        return fields_repr("XorNetwork", [(name, value) for name, value in pairs if value is not None])

    def _latex(self, printer) -> str:
        r"""``sympy.latex(net)``: f(x) of its architecture, then W1 = [head | 0] and the other fields.

        >>> print(sp.latex(generalizing_symbolic("nobias").subs(d=16)))   # doctest: +NORMALIZE_WHITESPACE
        f(x) = W_{2}^{\top} \operatorname{relu}\left(W_{1} x\right),\;
        W_{1} = \left[\, \left[\begin{matrix}1 & 1\\1 & -1\\-1 & 1\\-1 & -1\end{matrix}\right]
        \;\middle|\; 0_{4 \times 14} \,\right],\;
        W_{2} = \left[\begin{matrix}\frac{1}{2} & - \frac{1}{2} & - \frac{1}{2} & \frac{1}{2}\end{matrix}\right]^{\top}
        """
        zeros = printer._print(self.d - 2)
        zeros = zeros if (self.d - 2).is_number else f"\\left({zeros}\\right)"
        head = printer._print(self.head)
        parts = [f"f(x) = {FORMULAS[self.arch]}",
                 f"W_{{1}} = \\left[\\, {head} \\;\\middle|\\; 0_{{4 \\times {zeros}}} \\,\\right]"]
        parts += [f"{label} = {printer._print(m.T)}^{{\\top}}" for label, m in
                  (("b_{1}", self.b1), ("W_{2}", self.W2), ("\\gamma", self.gamma)) if m is not None]
        return ",\\; ".join(parts)

    @property
    def free_symbols(self) -> set:
        mats = [m for m in (self.head, self.W2, self.b1, self.gamma) if m is not None]
        return set().union(sp.sympify(self.d).free_symbols, *[m.free_symbols for m in mats])

    def subs(self, *args, **kwargs) -> "XorNetwork":
        """Substitute into every entry (and ``d``), as sympy's ``subs``; names resolve to the free symbols.

        ``net.subs(k=3)`` fixes C6's scale; ``net.subs(d=5)`` fixes the dimension
        (then ``net.params(5)``). Names work as in ``theory.symbols``.

        >>> generalizing_symbolic("sim_bn").subs("k", 2).head.row(0)
        Matrix([[2, 2]])
        >>> generalizing_symbolic("bias").subs(d=3).W2[0]
        sqrt(2)/2
        """
        mapping = symbols.substitution(self.free_symbols, *args, **kwargs)

        def sub(m):
            return None if m is None else m.subs(mapping)
        d = sp.sympify(self.d).subs(mapping)
        return XorNetwork(arch=self.arch, head=sub(self.head), W2=sub(self.W2), b1=sub(self.b1),
                          gamma=sub(self.gamma), d=check_symbolic_dimension(d))


def _default_scale(arch: str, d, eps):
    return {"bias": (d + 1) ** sp.Rational(1, 4), "nobias": d ** sp.Rational(1, 4) / 2,
            "sim_ln": None if eps is None else 2 * eps, "sim_bn": symbols.k}[arch]


def generalizing_symbolic(arch, *, d=symbols.d, scale=None, eps=None, depth=2, activation="relu") -> XorNetwork:
    """The width-4 generalizing construction of ``arch`` with d kept symbolic (C2, C3, C5, C6).

    Neuron (s, t) has W1 row σ((-1)^s, (-1)^t, 0, ..., 0) (σ = ``scale``) and:

    * C2 ``bias`` (Prop 4.2): b1 = -σ, W2 = (-1)^{s+t}/σ, default σ = (d+1)^{1/4}.
      Each sample costs (d+1)/σ^2 + σ^2, minimal 2 sqrt(d+1) (F3) only at the default;
      the paper prints σ = (d^2+1)^{1/4} (erratum; pass it as ``scale`` to compare).
    * C3 ``nobias``: W2 = (-1)^{s+t}/(2σ), default σ = d^{1/4}/2 (then W2 = (-1)^{s+t} 2σ/sqrt(d)),
      cost d/(4σ^2) + 4σ^2, minimal 2 sqrt(d) at the default.
    * C5 ``sim_ln`` (Prop 5.2): b1 = -σ, W2 = (-1)^{s+t}, default σ = 2ε; needs σ > ε. Cost 1
      per sample, Tr = 2: flattest iff ε <= 2 sqrt(d+1) (F5; the paper asks ε < sqrt(d+1)).
    * C6 ``sim_bn`` (Lemma A.1): b1 = -σ, W2 = (-1)^{s+t}/sqrt(2), γ = 1/sqrt(2),
      default σ = Symbol('k', positive=True); interpolates for every σ > 0.

    On every cube point exactly one neuron fires, with value σ (2σ for nobias), so
    f(x) = x[1] x[2] on the whole cube.

    >>> generalizing_symbolic("nobias").W2.T
    Matrix([[d**(-1/4), -1/d**(1/4), -1/d**(1/4), d**(-1/4)]])
    >>> generalizing_symbolic("sim_ln", eps=1, scale=1)
    Traceback (most recent call last):
    ...
    ValueError: scale: expected a number > eps = 1 (the firing neuron must exceed eps), got 1
    """
    activation, depth, eps = check_hyper(arch, activation=activation, depth=depth, eps=eps)
    if activation != "relu":
        raise ValueError(f"activation: the generalizing constructions use 'relu', got {activation!r}")
    if depth != 2:
        raise ValueError(f"depth: the generalizing constructions have depth 2, got {depth!r}")
    d = check_symbolic_dimension(d)
    sigma = _default_scale(arch, d, eps) if scale is None else check_positive("scale", scale)
    if arch == "sim_ln" and (sigma - eps).is_positive is not True:
        raise ValueError(f"scale: expected a number > eps = {eps} (the firing neuron must exceed eps), got {scale!r}")
    signs = [sp.Integer(-1) ** (s + t) for s, t in NEURONS]
    head = sp.Matrix([[sigma * (-1) ** s, sigma * (-1) ** t] for s, t in NEURONS])
    b1 = None if arch == "nobias" else sp.Matrix([-sigma] * 4)
    gamma = sp.Matrix([1 / sp.sqrt(2)] * 4) if arch == "sim_bn" else None
    out = {"bias": 1 / sigma, "nobias": 1 / (2 * sigma), "sim_ln": sp.Integer(1), "sim_bn": 1 / sp.sqrt(2)}[arch]
    return XorNetwork(arch=arch, head=head, W2=sp.Matrix([g * out for g in signs]), b1=b1, gamma=gamma, d=d)


def generalizing(arch, d, **hyper) -> Params:
    """Width-4 flattest (C6: near-flattest) interpolator that generalizes on P_xor, for a concrete d.

    C2 ``bias`` (Prop 4.2), C3 ``nobias``, C5 ``sim_ln`` (Prop 5.2, needs ``eps``),
    C6 ``sim_bn`` (Lemma A.1; ``scale`` = k, default the positive Symbol k). Same
    keywords as ``generalizing_symbolic`` (``scale``, ``eps``, ``depth=2``,
    ``activation="relu"``); f(x) = x[1] x[2] on all of {-1, 1}^d.

    >>> p = generalizing("bias", 3)
    >>> p.W1.row(0), p.b1[0], p.W2[0]
    (Matrix([[sqrt(2), sqrt(2), 0]]), -sqrt(2), sqrt(2)/2)
    >>> generalizing("sim_bn", 2, scale=3).W1.row(3)
    Matrix([[-3, -3]])
    >>> generalizing("bias", 1)
    Traceback (most recent call last):
    ...
    ValueError: d: expected an integer >= 2, got 1
    >>> generalizing("bias", 3, foo=1)
    Traceback (most recent call last):
    ...
    ValueError: foo: not a keyword of generalizing; expected one of ('scale', 'eps', 'depth', 'activation')
    """
    check_keywords(hyper, GENERALIZING_KEYWORDS, "a keyword of generalizing")
    d = check_dimension(d)
    return generalizing_symbolic(arch, d=symbols.d, **hyper).params(d)
