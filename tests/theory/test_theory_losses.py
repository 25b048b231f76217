"""theory.losses: MSE and the F7 (Appendix A.5) logistic-with-label-smoothing findings."""
from __future__ import annotations

import pytest
import sympy as sp

from sharpgen.theory.losses import (check_p, gamma_p, logistic_ls, logistic_ls_intended, logistic_minimizer, logistic_trace_factor, mse,
                           paper_logistic_minimizer, paper_logistic_trace_factor)

R = sp.Rational
a = sp.Symbol("a", real=True)
PS = [R(1, 5), R(1, 10), R(2, 5), R(3, 4)]


def test_mse_hand():
    assert mse([1, 2, 3], [1, 0, 0]) == R(13, 3)
    assert mse(sp.Matrix([a]), [1]) == (a - 1) ** 2


def test_gamma_and_labels():
    assert gamma_p(R(1, 5)) == 2 * sp.log(2)
    assert gamma_p(R(1, 2)) == 0


def test_printed_loss_is_the_formula():
    p = sp.Symbol("p", positive=True)
    for b in (0, 1):
        lit = -p * sp.log(sp.exp(b * a) / (1 + sp.exp(a))) - (1 - p) * sp.log(sp.exp((1 - b) * a) / (1 + sp.exp(a)))
        assert sp.simplify(logistic_ls(a, b, p) - lit) == 0
    # it weights the true label by p: b = 1 is  -p log σ(a) - (1-p) log(1 - σ(a))
    sig = 1 / (1 + sp.exp(-a))
    assert sp.simplify(sp.expand_log(logistic_ls(a, 1, R(1, 5)) - (-R(1, 5) * sp.log(sig) - R(4, 5) * sp.log(1 - sig)),
                                     force=True)) == 0


@pytest.mark.parametrize("p", PS)
@pytest.mark.parametrize("b", [0, 1])
def test_thm_a2_minimizer_sign(p, b):
    loss = logistic_ls(a, b, p)
    a_star = logistic_minimizer(b, p)
    assert sp.simplify(sp.diff(loss, a).subs(a, a_star)) == 0
    assert sp.diff(loss, a, 2).subs(a, a_star).is_positive  # strictly convex: the unique minimizer
    # what holds: a* = -γ_p (2b - 1); the paper's γ_p (2b - 1) is the opposite sign
    assert sp.simplify(a_star + paper_logistic_minimizer(b, p)) == 0
    assert sp.simplify(sp.diff(loss, a).subs(a, paper_logistic_minimizer(b, p))) != 0
    # the intended loss (weight 1 - p on the true label) has the paper's minimizer
    intended = logistic_ls_intended(a, b, p)
    assert sp.simplify(sp.diff(intended, a).subs(a, paper_logistic_minimizer(b, p))) == 0
    assert sp.simplify(logistic_minimizer(b, p, intended=True) - paper_logistic_minimizer(b, p)) == 0


def test_minimizer_values_p_one_fifth():
    p = R(1, 5)
    assert logistic_minimizer(1, p) == -2 * sp.log(2) and logistic_minimizer(0, p) == 2 * sp.log(2)
    assert paper_logistic_minimizer(1, p) == 2 * sp.log(2) and paper_logistic_minimizer(0, p) == -2 * sp.log(2)


@pytest.mark.parametrize("p", PS)
def test_lemma_a13_curvature(p):
    for b in (0, 1):
        for loss, a_star in ((logistic_ls(a, b, p), logistic_minimizer(b, p)),
                             (logistic_ls_intended(a, b, p), logistic_minimizer(b, p, intended=True))):
            assert sp.simplify(sp.diff(loss, a, 2).subs(a, a_star) - p * (1 - p)) == 0
    assert logistic_trace_factor(p) == p * (1 - p)
    assert paper_logistic_trace_factor(p) == 1 / (p * (1 - p))
    assert logistic_trace_factor(p) != paper_logistic_trace_factor(p)


def test_trace_factor_on_a_network():
    """Tr ∇²L_log = p(1-p) (1/n) Σ ||∇f||² at a minimizer: one relu unit f = v relu(w), x = 1, n = 1."""
    p = R(1, 5)
    w = sp.Symbol("w", positive=True)
    for b in (0, 1):
        a_star = logistic_minimizer(b, p)
        # sign of v follows a*; w = 1 > 0 keeps the unit active (relu(w) = w)
        V = sp.Symbol("V", real=True)
        loss = logistic_ls(V * w, b, p)
        point = {w: 1, V: a_star}
        trace = sum(sp.diff(loss, s, 2).subs(point) for s in (w, V))
        grad_sq = (a_star ** 2 + 1)  # (∂f/∂w)² + (∂f/∂V)² = V² + w²
        assert sp.simplify(trace - logistic_trace_factor(p) * grad_sq) == 0
        assert sp.simplify(trace - paper_logistic_trace_factor(p) * grad_sq) != 0


@pytest.mark.parametrize("call, name", [
    (lambda: gamma_p(0), "p"),
    (lambda: gamma_p(1), "p"),
    (lambda: gamma_p("x y"), "p"),
    (lambda: logistic_ls(a, 2, R(1, 5)), "b"),
    (lambda: logistic_ls(a, True, R(1, 5)), "b"),
    (lambda: logistic_minimizer(1, R(3, 2)), "p"),
    (lambda: mse([], []), "outputs"),
    (lambda: mse([1, 2], [1]), "Y"),
    (lambda: check_p(float("nan")), "p"),
    (lambda: check_p(sp.nan), "p"),
    (lambda: check_p(sp.zoo), "p"),
    (lambda: check_p(sp.oo), "p"),
    (lambda: check_p(sp.I / 2), "p"),
    (lambda: check_p(sp.Rational(1, 2) + sp.I), "p"),
    (lambda: gamma_p(float("nan")), "p"),
    (lambda: logistic_trace_factor(sp.nan), "p"),
])
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=rf"^{name}:"):
        call()


def test_check_p_keeps_symbols_and_numbers_inside():
    p = sp.Symbol("p", positive=True)
    assert check_p(p) == p and check_p(0.2) == sp.Float(0.2)
