"""Exact counterexamples to printed statements: Thm 3.2's second conclusion (``sim_bn``, docs/paper.md §8).

Thm 3.2 as printed (Sec. 3.1) ends: near-flattest interpolating width-m 2-MLP-Sim-BN nets have
||W1_i[3:d]||_2 <= ε ||W1_i||_2 for every neuron i ∈ [m]. The family here, found by the
numerical adversary (``numerics.search``) and proved by exact computation, is C6(k) plus a
pair of neurons that read x[3] only and whose outputs cancel at every x:

* ``thm32_counterexample(d, k, t)`` (width 6): rows 5 and 6 are e_3 with bias 0, (W2, γ) =
  (t, t) and (t, -t). Both fire on the training points with x[3] = 1 (some but not all on every
  Condition-1 set: the rank condition makes the third coordinate of the tails take both values),
  so a_j > 0 and no pre-activation is 0. The net interpolates for every (k, t), and for t != 0
  every output weight is nonzero, yet ||W1_i[3:d]|| / ||W1_i|| = 1 for i = 5, 6.
* ``thm32_trace``: Tr ∇²L(k, t) = 8 + 2v/k^2 + 8t^2 + 4(2 + v_+)t^4 exactly (``tail_spreads``),
  -> 8 = inf Tr as k -> oo, t -> 0; ``thm32_witness`` gives (k, t) with Tr <= 8 + κ for any κ > 0.
* ``thm32_idle_neuron`` (width 5): the same with one extra neuron, W2 = γ = 0: Tr = Tr(C6(k)).
* ``off_axis_ratios`` / ``off_axis_mass``: the printed ratio per neuron, and its average weighted by
  output mass |W2_i γ_i|, which tends to 0 along the family (a reading not contradicted here).
* ``thm32_erratum``: the Erratum fields (``verify.ledger.outcome``) as plain strings.

>>> p = thm32_counterexample(3, k=2, t=sp.Rational(1, 3))
>>> off_axis_ratios(p), thm32_trace(3, k=2, t=sp.Rational(1, 3))
([0, 0, 0, 0, 1, 1], 1537/162)
"""
from __future__ import annotations

import sympy as sp

from sharpgen.theory import symbols
from sharpgen.theory.architectures import check_inputs
from sharpgen.theory.checks import as_expr, check_integer, check_positive, is_real_entry, to_exact
from sharpgen.theory.constructions import generalizing
from sharpgen.theory.data import condition1_set, default_condition1_tails
from sharpgen.theory.exact import tidy
from sharpgen.theory.params import Params, check_is_params

t = sp.Symbol("t", real=True)  # output weight of the cancelling pair

THM32_QUOTE = ("Theorem 3.2. Given any training set {(x_i, y_i)} satisfying Condition 1, for any width m and "
               "any ε > 0, there exists constant κ > 0, such that for any width-m 2-MLP-Sim-BN, f^sbn, "
               "satisfying f_θ^sbn interpolates the training set and "
               "Tr ∇²L(θ) ≤ κ + inf_{L(θ')=0} Tr ∇²L(θ'), "
               "it holds that ∀x ∈ {−1, 1}^d, |x[1]x[2] − f_θ(x)| ≤ ε and that ∀i ∈ [m], "
               "∥W1,i[3 : d]∥2 ≤ ε∥W1,i∥2.")
INFIMUM = 8  # inf Tr over interpolators on a Condition-1 set, loss of docs/paper.md §1 (Lemmas A.1, A.3)


def check_off_axis_dimension(d) -> int:
    """d as an int if d >= 3 (the extra neurons read coordinate 3), else ValueError.

    >>> check_off_axis_dimension(2)
    Traceback (most recent call last):
    ...
    ValueError: d: expected an integer >= 3, got 2
    """
    return check_integer("d", d, 3)


def check_weight(name: str, value) -> sp.Expr:
    """``value`` as a finite real number (floats made exact) or an expression in real symbols, else ValueError.

    >>> check_weight("t", 0.5), check_weight("t", t)
    (1/2, t)
    >>> check_weight("t", sp.I)
    Traceback (most recent call last):
    ...
    ValueError: t: expected a finite real number or real symbol, got I
    """
    what = "a finite real number or real symbol"
    v = as_expr(name, value, what)
    if not is_real_entry(v, symbolic=True):
        raise ValueError(f"{name}: expected {what}, got {value!r}")
    return to_exact(v)


def _with_extra(c6: Params, rows: int, W2: list, gamma: list) -> Params:
    """C6 with ``rows`` extra neurons, each with W1 row e_3 and bias 0 (pre-activation x[3] = ±1 on the cube)."""
    e3 = sp.zeros(rows, c6.d)
    e3[:, 2] = sp.ones(rows, 1)
    return Params(W1=c6.W1.col_join(e3), b1=c6.b1.col_join(sp.zeros(rows, 1)),
                  W2=c6.W2.col_join(sp.Matrix(W2)), gamma=c6.gamma.col_join(sp.Matrix(gamma)))


def thm32_counterexample(d, k=symbols.k, t=t) -> Params:
    """Width-6 ``sim_bn`` net against Thm 3.2's ∀i ∈ [m]: C6(k) (Lemma A.1) plus a cancelling pair along x[3].

    Neurons 1-4 are C6(k) (``generalizing("sim_bn", d, scale=k)``); neurons 5, 6 have W1 row e_3,
    bias 0, (W2, γ) = (t, t) and (t, -t). Identical rows give identical h/a, so their terms
    t^2 h/a - t^2 h/a cancel at every x: f = C6's f = x[1] x[2] on the whole cube, for every (k, t).

    >>> p = thm32_counterexample(3, k=1, t=2)
    >>> p.W1.row(4), p.b1[4], (p.W2[4], p.gamma[4]), (p.W2[5], p.gamma[5])
    (Matrix([[0, 0, 1]]), 0, (2, 2), (2, -2))
    """
    d = check_off_axis_dimension(d)
    k, t = to_exact(check_positive("k", k)), check_weight("t", t)
    return _with_extra(generalizing("sim_bn", d, scale=k), 2, [t, t], [t, -t])


def thm32_idle_neuron(d, k=symbols.k) -> Params:
    """Width-5 ``sim_bn`` net against Thm 3.2's ∀i ∈ [m]: C6(k) plus one alive neuron e_3 with W2 = γ = 0.

    The fifth neuron fires on the points with x[3] = 1 (a_5 > 0), so it is defined without the
    dead-neuron rule; it changes neither f nor Tr (every gradient through it carries W2 or γ = 0).

    >>> p = thm32_idle_neuron(3, k=1)
    >>> p.width, p.W1.row(4), p.W2[4], p.gamma[4]
    (5, Matrix([[0, 0, 1]]), 0, 0)
    """
    d = check_off_axis_dimension(d)
    return _with_extra(generalizing("sim_bn", d, scale=to_exact(check_positive("k", k))), 1, [0], [0])


def off_axis_ratios(params) -> list:
    """||W1_i[3:d]||_2 / ||W1_i||_2 per neuron i (Thm 3.2's second conclusion); 0 for a zero row.

    A zero row meets the printed ||W1_i[3:d]|| <= ε ||W1_i|| for every ε, hence 0.

    >>> off_axis_ratios(Params(W1=sp.Matrix([[3, 0, 4], [0, 0, 0]]), W2=sp.ones(2, 1)))
    [4/5, 0]
    """
    check_is_params(params)
    if params.d < 3:
        raise ValueError(f"params: expected d >= 3 input columns (W1[3:d] is empty otherwise), got {params.d}")
    out = []
    for i in range(params.width):
        row = params.W1.row(i)
        total = sp.sqrt(sum(v ** 2 for v in row))
        out.append(sp.Integer(0) if total == 0 else tidy(sp.sqrt(sum(v ** 2 for v in row[2:])) / total))
    return out


def off_axis_mass(params) -> sp.Expr:
    """Output-mass weighted ratio Σ_i |W2_i γ_i| r_i / Σ_i |W2_i γ_i|, r_i from ``off_axis_ratios``.

    A reading of Thm 3.2 under which neurons carrying no output mass do not count; along
    ``thm32_counterexample`` it is 2t^2 / (2 + 2t^2) -> 0 (not proved here for all near-flattest nets).

    >>> off_axis_mass(thm32_counterexample(3, k=1, t=t))
    t**2/(t**2 + 1)
    """
    check_is_params(params)
    if params.gamma is None:
        raise ValueError("params: expected a sim_bn net (params.gamma set), got gamma None")
    mass = [abs(w * g) for w, g in zip(params.W2, params.gamma)]
    if all(m == 0 for m in mass):
        raise ValueError("params: expected some output mass W2_i γ_i != 0, got all zero")
    return sp.simplify(sum(m * r for m, r in zip(mass, off_axis_ratios(params))) / sum(mass))


def neuron_activity(params, X) -> list:
    """Per neuron j: (# training points with W1_j x + b1_j > 0, # with it exactly 0), signs decided exactly.

    a_j > 0 (sim_bn's statistic defined, docs/paper.md §2) iff the first count is > 0; a second
    count of 0 means relu'(0) never enters.

    >>> X, _ = condition1_set(3)
    >>> neuron_activity(thm32_counterexample(3, k=1, t=1), X)
    [(2, 0), (2, 0), (2, 0), (2, 0), (4, 0), (4, 0)]
    """
    check_is_params(params)
    if params.b1 is None:
        raise ValueError("params: expected a net with bias (params.b1 set), got b1 None")
    X = check_inputs(params, X)
    Z = X * params.W1.T + sp.ones(X.rows, 1) * params.b1.T
    out = []
    for j in range(params.width):
        column = [sp.simplify(z) for z in Z.col(j)]
        if any(z.is_positive is None and z.is_zero is None for z in column):
            raise ValueError(f"params: cannot decide the sign of neuron {j}'s pre-activations; pass numbers")
        out.append((sum(bool(z.is_positive) for z in column), sum(bool(z.is_zero) for z in column)))
    return out


def tail_spreads(d, tails=None) -> tuple[sp.Rational, sp.Rational]:
    """(v, v_+) of a Condition-1 tail set T ⊂ {-1, 1}^{d-2} (default ``default_condition1_tails``).

    v = (1/|T|) Σ_{s ∈ T} ||s − mean(T)||^2; v_+ the same over T_+ = {s ∈ T : s[1] = 1} with that
    coordinate dropped (it is constant there). They are the W1' curvatures of ``thm32_trace``.

    >>> tail_spreads(3), tail_spreads(4), tail_spreads(4, [(1, 1), (-1, 1), (1, -1), (-1, -1)])
    ((1, 0), (16/9, 1), (2, 1))
    """
    d = check_off_axis_dimension(d)
    tails = default_condition1_tails(d) if tails is None else [tuple(s) for s in tails]
    condition1_set(d, tails)  # validates Condition 1 (which makes s[1] take both values)
    plus = [s[1:] for s in tails if s[0] == 1]
    return _spread(tails), _spread(plus)


def _spread(points) -> sp.Rational:
    n = len(points)
    mean = [sp.Rational(sum(col), n) for col in zip(*points)]
    return sum(((v - m) ** 2 for s in points for v, m in zip(s, mean)), sp.Integer(0)) / n


def thm32_trace(d, tails=None, *, k=symbols.k, t=t) -> sp.Expr:
    """Exact Tr ∇²L of ``thm32_counterexample(d, k, t)`` on ``condition1_set(d, tails)``:
    8 + 2v/k^2 + 8t^2 + 4(2 + v_+)t^4 (v, v_+ from ``tail_spreads``).

    Derivation (F1, Lemma 4.1): the net interpolates, so the residual is 0 and Tr = (2/n) Σ_i ||∇f(x_i)||^2,
    a sum over neurons (neuron j's parameters enter only c_j u_j, c_j = W2_j γ_j, u_j = h_j/a_j):
    (2/n) Σ_i [(W2_j^2 + γ_j^2) u_j(x_i)^2 + c_j^2 ||∇_{W1_j'} u_j(x_i)||^2], where (1/n) Σ_i u_j^2 = 1 and
    ∇u_j(x_i) = (x_i' − μ_j)/a_j on the points where j fires (μ_j their mean x'), 0 elsewhere. C6 neuron
    (W2^2 + γ^2 = 1, c^2 = 1/4, a = k/2, fires on one point per tail): 2 + v/(2k^2). Extra neuron
    (W2^2 + γ^2 = 2t^2, c^2 = t^4, fires on x[3] = 1): 4t^2 + 2t^4 (2 + v_+), the 2 from x[1], x[2].
    ``tail_spreads`` gives (v, v_+); the tests check this against ``trace_hessian`` (jets and diff).

    >>> thm32_trace(3)
    8*t**4 + 8*t**2 + 8 + 2/k**2
    >>> thm32_trace(4, k=3, t=0)   # 8 + 32/81: C6(3) alone
    680/81
    """
    v, v_plus = tail_spreads(d, tails)
    k, t = to_exact(check_positive("k", k)), check_weight("t", t)
    return INFIMUM + 2 * v / k ** 2 + 8 * t ** 2 + 4 * (2 + v_plus) * t ** 4


def thm32_witness(kappa, d, tails=None) -> tuple[sp.Integer, sp.Rational]:
    """(k, t), k an integer and t = 1/q != 0, with Tr ∇²L(k, t) <= 8 + κ = inf Tr + κ (Thm 3.2's hypothesis).

    k = ceil(2 sqrt(v/κ)) makes 2v/k^2 <= κ/2; q = ceil(sqrt((32 + 8v_+)/κ)) (t <= 1, so
    8t^2 + 4(2+v_+)t^4 <= (16 + 4v_+)t^2 <= κ/2). The bound is re-checked exactly.

    >>> thm32_witness(sp.Rational(1, 10), 3)
    (7, 1/18)
    >>> thm32_witness(0, 3)
    Traceback (most recent call last):
    ...
    ValueError: kappa: expected a number > 0, got 0
    """
    kappa = to_exact(check_positive("kappa", kappa))
    if not kappa.is_number:
        raise ValueError(f"kappa: expected a number > 0, got {kappa!r}")
    v, v_plus = tail_spreads(d, tails)
    k = max(sp.Integer(1), sp.ceiling(2 * sp.sqrt(v / kappa)))
    q = max(sp.Integer(1), sp.ceiling(sp.sqrt((32 + 8 * v_plus) / kappa)))
    trace = thm32_trace(d, tails, k=k, t=1 / q)
    if not bool(trace <= INFIMUM + kappa):  # by the bound above it cannot fail
        raise ArithmeticError(f"thm32_witness: Tr = {trace} > 8 + {kappa} at (k, t) = ({k}, 1/{q})")
    return k, sp.Rational(1, q)


def thm32_erratum(d=4, tails=None) -> dict:
    """The fields kind, where, quote, reading, convention, printed_value, other_value of
    ``verify.ledger.outcome.Erratum`` for Thm 3.2's second conclusion, as plain strings.

    >>> e = thm32_erratum(3)
    >>> sorted(e), e["kind"], e["where"]
    (['convention', 'kind', 'other_value', 'printed_value', 'quote', 'reading', 'where'], 'error', 'statement')
    """
    trace = thm32_trace(d, tails)
    kappa = sp.Rational(1, 100)
    k, w = thm32_witness(kappa, d, tails)
    return {
        "kind": "error",
        "where": "statement",
        "quote": THM32_QUOTE,
        "reading": ("as printed: ∀i ∈ [m] ranges over every neuron of the width-m net, as the text quantifies it, "
                    "whatever its output weights; the output-mass weighted ratio Σ|W2_i γ_i| r_i / Σ|W2_i γ_i| "
                    "= t^2/(1 + t^2) -> 0 along the family, so a mass-weighted statement is not contradicted "
                    "here (not proved in general); the first conclusion holds along it (f = x[1]x[2] on the cube)"),
        "convention": ("none beyond the paper's definitions: every neuron is alive (a_j > 0, no dead-neuron rule), "
                       "no training pre-activation is 0 (relu'(0) unused), every output weight is nonzero for "
                       "t != 0; the loss of docs/paper.md §1 (no 1/2) only scales Tr and its infimum by 2"),
        "printed_value": ("for every ε > 0 some κ > 0 forces ||W1_i[3:d]|| <= ε ||W1_i|| for all i ∈ [m] "
                          "whenever f interpolates and Tr <= inf Tr + κ: ratio <= ε (< 1) for every neuron, at every width m"),
        "other_value": (f"ratio 1 for neurons 5, 6 of thm32_counterexample (d = {d}, width 6; width 5 with "
                        f"W2 = γ = 0 too), which interpolates for all (k, t) with Tr = {sp.sstr(trace)} -> 8 = inf Tr "
                        f"as k -> oo, t -> 0; e.g. Tr <= 8 + {kappa} at (k, t) = ({k}, {w})"),
    }
