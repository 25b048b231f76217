"""Exact (sympy) checks of the sim_bn (F6, C6), sim_ln (F5, C4, C5) and logistic-loss (F7) entries.

``EXACT`` maps each of these entry ids to its check (``exact.EXACT`` merges it with ``exact_mlp``'s).
Same conventions as ``exact_mlp``: seeded training sets, exact values, errata with the printed text,
the reading taken, the convention, the kind and both values.
"""
from __future__ import annotations

import itertools

import sympy as sp

from sharpgen.theory import constructions, losses, sharpness
from sharpgen.theory.counterexamples import off_axis_ratios, thm32_counterexample, thm32_erratum, thm32_trace
from sharpgen.theory.exact import same
from sharpgen.theory.generalization import population_errors
from sharpgen.theory.minimum import min_sharpness, min_sharpness_xor, sim_ln_bound
from sharpgen.verify.ledger.exact_mlp import SCALES_ALIKE, printed_traces
from sharpgen.verify.ledger.exact_tools import (EPS_LN, check_flattest, check_population, condition1_sets, gap,
                                                interpolates, memorizing_error, merge, no_error, population_set,
                                                training_sets)
from sharpgen.verify.ledger.outcome import ERROR, INCONSISTENCY, Erratum, Outcome

K = sp.Symbol("k", positive=True)


# ---------------------------------------------------------------- sim_bn (Thm 3.2, Lemmas A.1, A.3)

def _c6_family(profile, sets=condition1_sets):
    """(d, X, Y, C6(k), Tr(k), lim_k Tr, inf Tr) on every Condition-1 set."""
    for d, X, Y in sets(profile):
        p = constructions.generalizing("sim_bn", d, scale=K)
        tr = sharpness.trace_hessian("sim_bn", p, X, Y)
        yield d, X, Y, p, tr, sp.limit(tr, K, sp.oo), min_sharpness("sim_bn", X, Y).value


def check_c6_family(profile, sets=condition1_sets) -> Outcome:
    """C6(k) interpolates every Condition-1 set, Tr(k) > inf for finite k and -> inf = 8 as k -> oo,
    and every member computes x1 x2 on the whole cube with W1[3:d] = 0 (what Thm 3.2 asks of near-flattest nets)."""
    lines, ok, worst = [], True, 0.0
    for d, X, Y, p, tr, limit, best in _c6_family(profile, sets):
        errors = [population_errors("sim_bn", p.subs(K, k), d, X_train=X) for k in (1, 10)]
        rest = p.W1[:, 2:]
        good = (interpolates("sim_bn", p.subs(K, 1), X, Y) and same(limit, best)
                and bool(sp.simplify(tr.subs(K, 1) - best) > 0) and all(e == (0, 0) for e in errors) and rest.is_zero_matrix)
        ok &= good
        worst = max(worst, gap(limit, best), *(float(e[1]) for e in errors))
        lines.append(f"d={d} n={X.rows}: Tr(k)={sp.simplify(tr)}, lim k->oo = {limit} (inf {best}); "
                     f"population errors at k=1, 10: {errors}; ||W1[3:d]|| = 0: {rest.is_zero_matrix}")
    return Outcome(ok, "; ".join(lines), worst, "max(|lim Tr - inf|, population error)")


def check_thm_3_2(profile) -> Outcome:
    """``check_c6_family``, and the statement's second conclusion against an exact family."""
    out = check_c6_family(profile)
    # C6(k) says a near-flattest net with the stated properties exists; the statement is about every one,
    # and theory.counterexamples writes down an interpolating family approaching the infimum that breaks it
    family = thm32_counterexample(4)
    ratios = off_axis_ratios(family)
    out.detail += (f"; the family thm32_counterexample (d = 4, width 6): ratios ||W1_i[3:d]||/||W1_i|| = {ratios}, "
                   f"Tr(k, t) = {sp.sstr(thm32_trace(4))} -> 8")
    erratum = Erratum("Thm 3.2 (∀i ∈ [m])", "every near-flattest net has ||W1_i[3:d]|| <= ε ||W1_i|| for all i",
                      "an interpolating width-6 family with Tr -> 8 = inf has two neurons with ratio 1",
                      **thm32_erratum(4))
    out.errata.append(erratum)
    return out


def check_lemma_a_1(profile) -> Outcome:
    """On every Condition-1 set C6 (k = 1) interpolates with ||γ ⊙ W2||₁ = 2, the bound of Lemma A.1, and each
    neuron meets the proof's Cauchy-Schwarz step |Σ_i y_i h_ij/a_j| <= n/2 with equality."""
    lines, ok, worst = [], True, 0.0
    for d, X, Y in condition1_sets(profile):
        p = constructions.generalizing("sim_bn", d, scale=1)
        l1 = sum(abs(g * w) for g, w in zip(p.gamma, p.W2))
        h = [[max(0, (p.W1.row(j) * X.row(i).T)[0] + p.b1[j]) for i in range(X.rows)] for j in range(4)]
        a = [sp.sqrt(sum(v ** 2 for v in h[j]) / X.rows) for j in range(4)]
        cs = [abs(sum(Y[i] * h[j][i] for i in range(X.rows))) / a[j] for j in range(4)]
        good = interpolates("sim_bn", p, X, Y) and same(l1, 2) and all(same(c, sp.Rational(X.rows, 2)) for c in cs)
        ok &= good
        worst = max(worst, gap(l1, 2), *(gap(c, sp.Rational(X.rows, 2)) for c in cs))
        lines.append(f"d={d} n={X.rows}: ||γ⊙W2||₁ = {l1}, |Σ y h_j|/a_j = {sorted(set(cs))} (n/2 = {X.rows / 2:g})")
    return Outcome(ok, "; ".join(lines), worst, "max |value - bound| (||γ⊙W2||₁ vs 2, neuron sums vs n/2)")


def check_lemma_a_3(profile) -> Outcome:
    """Along C6(k) the trace tends to 2 (||W2||² + ||γ||²) = 8 = inf Tr with the loss of Lemma 4.1,
    L = (1/n) Σ (f − y)²; with L = (1/(2n)) Σ (f − y)² (Lemma A.3's (1/n) Σ ||∇f||²) it tends to 4."""
    lines, ok, worst = [], True, 0.0
    for d, X, Y, p, tr, limit, best in _c6_family(profile):
        norm_sq = sum(w ** 2 for w in p.W2) + sum(g ** 2 for g in p.gamma)
        ok &= same(limit, 2 * norm_sq) and same(limit, best)
        worst = max(worst, gap(limit, 2 * norm_sq))
        lines.append(f"d={d}: lim Tr = {limit}, 2(||W2||² + ||γ||²) = {2 * norm_sq}, inf = {best}")
    out = Outcome(ok, "; ".join(lines), worst, "|lim Tr - 2(||W2||² + ||γ||²)|", {"inf_trace": float(best)})
    half = best / 2  # L/2 has Hessian ∇²L/2: the infimum under the ½ convention, exactly
    if not same(best, norm_sq):
        out.numbers["inf_trace_half_loss"] = float(half)
        out.errata.append(Erratum(
            "Lemma A.3 (sim_bn)", f"Tr >= ||W2||^2 + ||gamma||^2, so inf Tr = inf (||W2||^2 + ||gamma||^2) = {norm_sq}",
            f"with L = (1/n) sum (f - y)^2 (Lemma 4.1's loss), Tr >= 2(||W2||^2 + ||gamma||^2) and inf Tr = {best}; "
            f"with L = (1/(2n)) sum (f - y)^2, inf Tr = {half}",
            kind=INCONSISTENCY if same(half, norm_sq) else ERROR, where="statement",
            quote="Tr ∇²L(θ) ≥ ‖W2‖² + ‖γ‖² and inf Tr ∇²L = inf ‖W2‖² + ‖γ‖²; proof: 'By Lemma 4.1, "
                  "Tr ∇²L(θ) = (1/n) Σ ‖∇θ f(x_i)‖²' (Lemma 4.1: (2/n) Σ ‖∇θ f(x_i)‖²)",
            reading="the proof cites Lemma 4.1 with 1/n where Lemma 4.1 (proved for L = (1/n) Σ (f − y)²) has "
                    "2/n; the lemma holds with the ½ convention and is off by 2 with Lemma 4.1's loss, which "
                    "sharpgen uses (docs/paper.md §1)",
            convention="the loss: (1/n) Σ (f − y)² (Lemma 4.1, sharpgen) or (1/n) Σ ½(f − y)² (Lemma A.3's 1/n)",
            printed_value=f"inf Tr = {norm_sq} (Lemma A.3's 1/n; the exact infimum for L = (1/(2n)) Σ (f − y)²: {half})",
            other_value=f"inf Tr = {best} (Lemma 4.1's 2/n, L = (1/n) Σ (f − y)²)"))
    return out


def check_table1_sim_bn(profile) -> Outcome:
    """Row 3: the near-flattest family C6(k) generalizes on a Condition-1 set (first profile dim)."""
    return check_c6_family(profile, sets=lambda prof: itertools.islice(condition1_sets(prof), 1))


# ---------------------------------------------------------------- sim_ln (Thm 5.1, Lemma A.12, Props 5.1, 5.2)

def _c4(eps=EPS_LN):
    return lambda d, X, Y: constructions.memorizing("sim_ln", X, Y, eps=eps)


def _c5(d, X, Y):
    return constructions.generalizing("sim_ln", d, eps=EPS_LN)


# Off the cube, with ε = 1: labels in both regimes of Thm 5.1 and a zero label; per case what the
# printed construction does there and the printed text it reads.
OFF_CUBE_X = sp.Matrix([[1, 0], [0, 1], [-1, 0]])
OFF_CUBE_CASES = (
    (sp.Matrix([sp.Rational(2, 5), 1, -1]), "printed regime switch at ||x'|| |y| = eps (not eps/2)",
     "1. r_i = 1, u_i = 2ε when √(‖x_i‖² + 1)|y_i| > ε. 2. r_i = (ε/(√(‖x_i‖² + 1)|y_i|))^{1/2}, "
     "u_i = ε(√(‖x_i‖² + 1)|y_i|/ε)^{1/2} when 0 < √(‖x_i‖² + 1)|y_i| ≤ ε",
     "as printed: case 2 costs (2/ε)‖x'‖|y| per sample, above Lemma A.12's min(1, (2/ε)‖x'‖|y|) when "
     "ε/2 < ‖x'‖|y| ≤ ε, so the switch belongs at ε/2 (for ε small enough that no sample falls in that band, "
     "as the theorem's 'sufficiently small ε' allows, the printed construction is flattest)"),
    (sp.Matrix([0, 1, -1]), "printed (r, u) = (0, 2 eps) for y = 0 keeps that neuron firing",
     "3. r_i = 0, u_i = 2ε when y_i = 0",
     "as printed: the neuron fires with value 2ε > ε at x_i, so ∇_{W2} f(x_i) = e_i costs 1 while Lemma "
     "A.12's term for y_i = 0 is 0; a dead neuron attains it, for every ε"),
)


def check_thm_5_1(profile) -> Outcome:
    out = check_flattest("sim_ln", _c4(), profile, eps=EPS_LN)
    eps = sp.Integer(1)
    for Y, what, quote, reading in OFF_CUBE_CASES:
        tr_printed, tr_ours, best = printed_traces(
            out, "sim_ln", constructions.memorizing("sim_ln", OFF_CUBE_X, Y, eps=eps, rule="paper"),
            constructions.memorizing("sim_ln", OFF_CUBE_X, Y, eps=eps), OFF_CUBE_X, Y, eps=eps)
        if not same(tr_printed, best):
            out.errata.append(Erratum(
                "C4 (Thm 5.1)", f"{what}, eps=1: Tr = {tr_printed} (labels {list(Y)})",
                f"sharpgen's construction: Tr = {tr_ours} = the minimum {best}", kind=ERROR, where="proof",
                quote=quote, reading=reading, convention=SCALES_ALIKE, printed_value=f"Tr = {tr_printed}",
                other_value=f"Tr = {tr_ours} = the minimum"))
    return out


def check_lemma_a_12(profile) -> Outcome:
    """F5 is 2 on P_xor training sets for ε = 1/1000 (and symbolically for ε <= 2 sqrt(3)); off the cube,
    with both regimes and a zero label, C4 attains it exactly, so the bound is the infimum there too."""
    lines, ok, worst = [], True, 0.0
    xor_value = min_sharpness_xor("sim_ln", eps=2 * sp.sqrt(3)).value
    ok &= same(xor_value, 2)
    for d, X, Y in training_sets(profile):
        bound = sim_ln_bound(X, Y, EPS_LN)
        ok &= same(bound, 2)
        worst = max(worst, gap(bound, 2))
        lines.append(f"d={d} n={X.rows}: F5 = {bound}")
    for Y in (sp.Matrix([sp.Rational(1, 5), 1, -1]), OFF_CUBE_CASES[1][0]):
        bound = sim_ln_bound(OFF_CUBE_X, Y, 1)
        tr = sharpness.trace_hessian("sim_ln", constructions.memorizing("sim_ln", OFF_CUBE_X, Y, eps=1), OFF_CUBE_X, Y,
                                     eps=1)
        ok &= same(tr, bound)
        worst = max(worst, gap(tr, bound))
        lines.append(f"off cube, eps=1, labels {list(Y)}: Tr C4 = {tr} = F5 {sp.nsimplify(bound)}")
    return Outcome(ok, f"P_xor value at eps = 2 sqrt(3): {xor_value}; " + "; ".join(lines), worst,
                   "max |Tr or F5 - expected|")


def check_prop_5_1(profile) -> Outcome:
    first = lambda prof: itertools.islice(training_sets(prof), 1)
    return merge(check_flattest("sim_ln", _c4(), profile, sets=first, eps=EPS_LN),
                 check_population("sim_ln", _c4(), memorizing_error, profile, eps=EPS_LN))


def check_prop_5_2(profile) -> Outcome:
    return merge(check_flattest("sim_ln", _c5, profile, eps=EPS_LN),
                 check_population("sim_ln", _c5, no_error, profile, eps=EPS_LN))


def check_table1_sim_ln(profile) -> Outcome:
    """Row 4: on one training set C4 and C5 have the same minimal Tr = 2; their population errors are
    1 − n/2^d and 0 (on {-1,1}^population_d)."""
    d, X, Y = next(training_sets(profile))
    traces = {name: sharpness.trace_hessian("sim_ln", make(d, X, Y), X, Y, eps=EPS_LN)
              for name, make in (("C4", _c4()), ("C5", _c5))}
    best = min_sharpness("sim_ln", X, Y, eps=EPS_LN).value
    dp, Xp, Yp = population_set(profile)
    errors = {name: population_errors("sim_ln", make(dp, Xp, Yp), dp, eps=EPS_LN)[1]
              for name, make in (("C4", _c4()), ("C5", _c5))}
    want = memorizing_error(dp, Xp.rows)
    ok = all(same(t, best) for t in traces.values()) and same(errors["C4"], want) and errors["C5"] == 0
    return Outcome(ok, f"d={d} n={X.rows}: Tr {traces} = min {best}; population zero-one on {{-1,1}}^{dp} "
                       f"(n={Xp.rows}): {errors} (C4 expected {want})",
                   max(*(gap(t, best) for t in traces.values()), gap(errors["C4"], want), float(errors["C5"])),
                   "max |Tr - min|, |error - expected|",
                   {"trace_C4": float(traces["C4"]), "trace_C5": float(traces["C5"]), "min": float(best),
                    "error_C4": float(errors["C4"]), "error_C5": float(errors["C5"])})


# ---------------------------------------------------------------- logistic loss (Thm A.2, Lemma A.13)

P_SMOOTH = sp.Rational(1, 5)  # the paper's p = 0.2 (Appendix B.3)


def check_thm_a_2(profile) -> Outcome:
    out = Outcome(True, "", 0.0, "|intended-loss minimizer - gamma_p (2b - 1)|")
    lines = []
    for b in (0, 1):
        literal = losses.logistic_minimizer(b, P_SMOOTH)
        intended = losses.logistic_minimizer(b, P_SMOOTH, intended=True)
        claimed = losses.paper_logistic_minimizer(b, P_SMOOTH)
        out.passed &= same(intended, claimed)
        out.worst = max(out.worst, gap(intended, claimed))
        lines.append(f"b={b}: claimed a*={claimed}, literal loss a*={literal}, intended loss a*={intended}")
        if not same(literal, claimed):
            out.errata.append(Erratum(
                f"Thm A.2 (b={b}, p=1/5)", f"minimizer gamma_p(2b-1) = {claimed}",
                f"the loss as printed is minimized at {literal}; weight 1-p on the true label gives {intended}",
                kind=INCONSISTENCY, where="statement",
                quote="ℓ_logistic,p(a, b) = −p log(e^{ba}/(1 + e^a)) − (1 − p) log(e^{(1−b)a}/(1 + e^a)) (Def A.2); "
                      "γ_p = ln((1 − p)/p); the minimizers of L_mse over {x_i, γ_p(2y_i − 1)} and of L_log over "
                      "{(x_i, y_i)} are the same",
                reading="Def A.2 and Thm A.2 disagree: Def A.2 as printed gives the observed label b the weight "
                        "p, so ℓ(·, b) is minimized at −γ_p(2b − 1); with weight 1 − p on b (label smoothing with "
                        "the small p = 0.2 of Appendix B.3, the reading Thm A.2 and γ_p = ln((1 − p)/p) need) the "
                        "theorem holds, which the ledger checks. One of the two statements is misprinted; the "
                        "theorem is taken as meant, so the entry is not contradicted",
                convention="label smoothing: which label gets weight p (Def A.2: the observed one)",
                printed_value=f"minimizer {literal} (Def A.2 as printed) against the claimed {claimed}",
                other_value=f"minimizer {intended} = the claimed value (weight 1 - p on the true label)"))
    out.detail = "; ".join(lines) + ("; Def A.2 as printed (weight p on the observed label) disagrees with the "
                                     "theorem, which holds with weight 1 - p" if out.errata else "")
    return out


def check_lemma_a_13(profile) -> Outcome:
    factor, claimed = losses.logistic_trace_factor(P_SMOOTH), losses.paper_logistic_trace_factor(P_SMOOTH)
    a = sp.Symbol("a", real=True)  # the network output
    curvature = sp.diff(losses.logistic_ls_intended(a, 1, P_SMOOTH), a, 2).subs(
        a, losses.paper_logistic_minimizer(1, P_SMOOTH))
    ok = same(factor, P_SMOOTH * (1 - P_SMOOTH)) and same(curvature, factor)
    out = Outcome(ok, f"Tr factor: exact {factor} (loss curvature at the minimizer {sp.nsimplify(curvature)}), "
                      f"paper {claimed}", gap(curvature, factor), "|curvature at minimizer - p(1-p)|",
                  {"factor": float(factor), "paper_factor": float(claimed)})
    if not same(factor, claimed):
        out.detail += "; the statement as printed is contradicted: the factor is p(1-p), not 1/(p(1-p))"
        out.errata.append(Erratum(
            "Lemma A.13 (p=1/5)", f"Tr = {claimed} * (1/n) sum ||grad f||^2",
            f"Tr = {factor} * (1/n) sum ||grad f||^2, i.e. p(1-p) not 1/(p(1-p))", kind=ERROR, where="statement",
            quote="Tr ∇²L_log(θ) = (1/(p(1 − p))) (1/n) Σ ‖∇θ f(x_i)‖² (Lemma A.13 and eq. 19)",
            reading="as printed: the fraction is 1 over p(1 − p); the loss's curvature d²ℓ/da² = σ(a)(1 − σ(a)) "
                    "is p(1 − p) at ±γ_p, whichever label gets weight p",
            convention="none (p(1 - p) is symmetric in p and 1 - p; the logistic loss has no ½)",
            printed_value=f"{claimed} = 1/(p(1-p)) at p = 1/5", other_value=f"{factor} = p(1-p) at p = 1/5"))
    return out


EXACT = {
    "thm-3.2": check_thm_3_2,
    "lemma-A.1": check_lemma_a_1,
    "lemma-A.3": check_lemma_a_3,
    "thm-5.1": check_thm_5_1,
    "lemma-A.12": check_lemma_a_12,
    "prop-5.1": check_prop_5_1,
    "prop-5.2": check_prop_5_2,
    "thm-A.2": check_thm_a_2,
    "lemma-A.13": check_lemma_a_13,
    "table1-sim_bn": check_table1_sim_bn,
    "table1-sim_ln": check_table1_sim_ln,
}
