"""Losses of docs/paper.md §1 and §3 F7: MSE, and the logistic loss with label smoothing.

F7 (Appendix A.5). The paper prints

    ℓ_p(a, b) = −p log(e^{ba}/(1+e^a)) − (1−p) log(e^{(1−b)a}/(1+e^a)),  b ∈ {0, 1},
    γ_p = ln((1−p)/p),

and states (Thm A.2) that the minimizer of ℓ_p(·, b) is γ_p (2b − 1), and
(Lemma A.13) that at such a minimizer Tr ∇²L_log = (1/(p(1−p))) (1/n) Σ ||∇f||².
Exact computation (functions below, checked in tests/theory/test_theory_losses.py):

* The printed ℓ_p puts weight p on the TRUE label b (and 1 − p on the other),
  so its minimizer is a* = −γ_p (2b − 1) = γ_p (1 − 2b): the opposite sign.
* ℓ_p''(a) = σ(a)(1 − σ(a)) for every b, p, so ℓ_p''(a*) = p(1 − p); with
  ℓ_p'(a*) = 0 the residual term vanishes and Tr ∇²L_log = p(1 − p) (1/n) Σ ||∇f||²:
  the factor is p(1 − p), not 1/(p(1 − p)).
* The intended loss (weight 1 − p on the true label), ``logistic_ls_intended``,
  has minimizer γ_p (2b − 1) as the paper says, and the same curvature p(1 − p).
* Against the MSE of docs/paper.md §1 (no 1/2, Tr ∇²L_mse = (2/n) Σ ||∇f||² at interpolation,
  Lemma 4.1) on targets a*_i: Tr ∇²L_log = (p(1 − p)/2) Tr ∇²L_mse, so the
  flattest minimizers still coincide (the paper's conclusion survives).
"""
from __future__ import annotations

import sympy as sp

from sharpgen.theory.checks import as_expr


def mse(outputs, Y):
    """docs/paper.md §1 training loss L = (1/n) Σ_i (f(x_i) − y_i)², no factor 1/2.

    >>> mse([1, 2], [1, 0])
    2
    >>> mse([1], [1, 2])
    Traceback (most recent call last):
    ...
    ValueError: Y: expected 1 labels (one per output), got 2
    """
    f = list(outputs)
    y = list(Y)
    if not f:
        raise ValueError("outputs: expected at least one output, got none")
    if len(y) != len(f):
        raise ValueError(f"Y: expected {len(f)} labels (one per output), got {len(y)}")
    return sp.Add(*[(sp.sympify(fi) - sp.sympify(yi)) ** 2 for fi, yi in zip(f, y)]) / len(f)


def check_p(p):
    """Return p as a sympy number, or raise ValueError unless 0 < p < 1 (symbols pass unchecked).

    >>> check_p(sp.Rational(1, 5))
    1/5
    >>> check_p(float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: p: expected a number in (0, 1), got nan
    """
    value = as_expr("p", p, "a number in (0, 1)")
    if value.is_positive is False or (1 - value).is_positive is False:
        raise ValueError(f"p: expected a number in (0, 1), got {p!r}")
    if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or (
            value.is_number and not (value.is_positive is True and (1 - value).is_positive is True)):
        # a number must be decided inside (0, 1): nan, zoo and non-real numbers are not
        raise ValueError(f"p: expected a number in (0, 1), got {p!r}")
    return value


def check_b(b):
    """Return b if it is 0 or 1 (the paper's label encoding for ℓ_p), else raise ValueError."""
    if b not in (0, 1) or isinstance(b, bool):
        raise ValueError(f"b: expected 0 or 1, got {b!r}")
    return sp.Integer(b)


def gamma_p(p):
    """γ_p = ln((1 − p)/p), the MSE target scale of F7 (Appendix A.5).

    >>> gamma_p(sp.Rational(1, 5))
    2*log(2)
    """
    p = check_p(p)
    return sp.expand_log(sp.log((1 - p) / p), force=True)


def logistic_ls(a, b, p):
    """ℓ_p(a, b) exactly as printed in Appendix A.5 (docs/paper.md §3 F7).

    ℓ_p(a, b) = −p log(e^{ba}/(1+e^a)) − (1−p) log(e^{(1−b)a}/(1+e^a)).
    It weights the true label b by p; see ``logistic_minimizer``.

    >>> logistic_ls(0, 1, sp.Rational(1, 5))
    log(2)
    """
    b, p = check_b(b), check_p(p)
    a = sp.sympify(a)
    return (-p * sp.log(sp.exp(b * a) / (1 + sp.exp(a)))
            - (1 - p) * sp.log(sp.exp((1 - b) * a) / (1 + sp.exp(a))))


def logistic_ls_intended(a, b, p):
    """Label-smoothed logistic loss with weight 1 − p on the true label (F7, corrected).

    ℓ̃_p(a, b) = −(1−p) log(e^{ba}/(1+e^a)) − p log(e^{(1−b)a}/(1+e^a)) = ℓ_p(a, 1 − b).
    Its minimizer is γ_p (2b − 1), the value Thm A.2 states.

    >>> sp.simplify(logistic_ls_intended(1, 1, sp.Rational(1, 5)) - logistic_ls(1, 0, sp.Rational(1, 5)))
    0
    """
    b, p = check_b(b), check_p(p)
    return logistic_ls(a, 1 - int(b), p)


def _target_probability(b, p, intended):
    """σ(a*) of the minimizer: the weight the loss puts on label 1."""
    b, p = check_b(b), check_p(p)
    on_true = 1 - p if intended else p
    return on_true * b + (1 - on_true) * (1 - b)


def logistic_minimizer(b, p, *, intended=False):
    """Exact argmin over a of ℓ_p(a, b) (Thm A.2 of Appendix A.5, checked).

    ℓ_p(a, b) = −q a + log(1 + e^a) with q = p b + (1 − p)(1 − b), so
    ℓ_p' = σ(a) − q vanishes at a* = ln(q/(1 − q)) (ℓ_p is strictly convex).
    Paper's claim: a* = γ_p (2b − 1). What holds for the printed ℓ_p:
    a* = −γ_p (2b − 1) (b = 1: ln(p/(1−p)); b = 0: ln((1−p)/p)).
    With ``intended=True`` (``logistic_ls_intended``) a* = γ_p (2b − 1).

    >>> p = sp.Rational(1, 5)
    >>> logistic_minimizer(1, p), paper_logistic_minimizer(1, p)
    (-2*log(2), 2*log(2))
    >>> logistic_minimizer(1, p, intended=True)
    2*log(2)
    """
    q = _target_probability(b, p, intended)
    return sp.expand_log(sp.log(q / (1 - q)), force=True)


def paper_logistic_minimizer(b, p):
    """The minimizer as Thm A.2 states it: γ_p (2b − 1) (true for the intended loss only).

    >>> paper_logistic_minimizer(0, sp.Rational(1, 5))
    -2*log(2)
    """
    return gamma_p(p) * (2 * check_b(b) - 1)


def logistic_trace_factor(p):
    """c with Tr ∇²L_log = c · (1/n) Σ_i ||∇_θ f(x_i)||² at a minimizer (Lemma A.13, exact): p(1 − p).

    c = ℓ_p''(a*) = σ(a*)(1 − σ(a*)) = p(1 − p), for b = 0, 1 and both sign
    conventions (printed and intended loss): at a minimizer ℓ_p'(a*) = 0 removes
    the residual term, with L_log = (1/n) Σ ℓ_p(f(x_i), b_i). The paper states
    1/(p(1−p)) (``paper_logistic_trace_factor``).

    >>> logistic_trace_factor(sp.Rational(1, 5)), logistic_trace_factor(sp.Rational(1, 2))
    (4/25, 1/4)
    """
    p = check_p(p)
    return p * (1 - p)


def paper_logistic_trace_factor(p):
    """The factor as Lemma A.13 states it: 1/(p(1 − p)).

    >>> paper_logistic_trace_factor(sp.Rational(1, 5))
    25/4
    """
    p = check_p(p)
    return 1 / (p * (1 - p))
