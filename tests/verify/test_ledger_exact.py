"""Exact evidence: every entry passes on the quick profile, the errata carry both values, and each check can fail."""
from dataclasses import replace

import pytest
import sympy as sp

from sharpgen.theory import constructions
from sharpgen.theory.params import Params
from sharpgen.verify.ledger import concentration, exact, exact_mlp, exact_norm, exact_tools, prop_a2
from sharpgen.verify.ledger.exact import EXACT
from sharpgen.verify.ledger.profiles import PROFILES

QUICK = PROFILES["quick"]


@pytest.mark.parametrize("entry_id", sorted(set(EXACT) - {"prop-A.2"}))  # prop-A.2: tests/verify/test_ledger_prop_a2.py
def test_exact_check_passes_with_a_number(entry_id):
    out = EXACT[entry_id](QUICK)
    assert out.passed, out.detail
    assert out.worst == 0.0 and out.worst_what


def _errata():
    return {e.claim: e for check in EXACT.values() for e in check(QUICK).errata}


def test_errata_keep_both_values():
    errata = _errata()
    # Prop 4.2's printed r is not flattest at d = 3: 14 sqrt(10)/5 > 8 = 4 sqrt(d + 1).
    assert "14*sqrt(10)/5" in errata["C2 (Prop 4.2)"].paper and "8" in errata["C2 (Prop 4.2)"].exact
    assert "25/4" in errata["Lemma A.13 (p=1/5)"].paper and "4/25" in errata["Lemma A.13 (p=1/5)"].exact
    assert "inf Tr = 8" in errata["Lemma A.3 (sim_bn)"].exact and "= 4" in errata["Lemma A.3 (sim_bn)"].paper
    assert "r^2 = |y_j| (R^2 + 1)" in errata["Prop A.1 (eq. 16)"].paper
    assert {"C1 (Thm 4.1, Sec 4)", "C1 depth D (Thm 4.1, y_i = 0)", "C4 (Thm 5.1)", "Thm A.2 (b=0, p=1/5)"} <= set(errata)


def test_every_erratum_carries_its_reading_convention_kind_and_both_values():
    from sharpgen.verify.ledger.outcome import ERRATUM_KINDS, ERRATUM_WHERE
    errata = [e for check in EXACT.values() for e in check(QUICK).errata]
    assert len(errata) == 12
    for e in errata:
        assert e.kind in ERRATUM_KINDS and e.where in ERRATUM_WHERE
        assert all(getattr(e, k).strip() for k in ("quote", "reading", "convention", "printed_value", "other_value"))
    kinds = {e.claim: e.kind for e in errata}
    assert kinds["C1 (Thm 4.1, Sec 4)"] == "ambiguous typesetting" and kinds["Lemma A.3 (sim_bn)"] == "inconsistency"
    assert {kinds[c] for c in ("C2 (Prop 4.2)", "Prop A.1 (eq. 16)", "C4 (Thm 5.1)", "Lemma A.13 (p=1/5)",
                               "Thm 3.2 (∀i ∈ [m])")} == {"error"}


def test_thm32_weights_contradicted_by_the_exact_family_and_table1_row3_not():
    out = exact_norm.check_thm_3_2(QUICK)
    assert out.status == "contradicted" and out.contradictions[0].claim == "Thm 3.2 (∀i ∈ [m])"
    assert exact_norm.check_table1_sim_bn(QUICK).status == "pass"  # the row is about generalization


def test_c1_both_readings_of_the_radical():
    # Sec 4's printed r_i = (||x_i||^2 + 1)^{1/2}: the radical over the product attains 8, over |y_i| alone 10.
    out = exact_mlp.check_thm_4_1(QUICK)
    assert out.status == "pass"
    assert out.numbers["trace_product_reading"] == 8 and out.numbers["trace_factor_reading"] == 10
    (e,) = out.errata
    assert e.kind == "ambiguous typesetting" and "10" in e.printed_value and "8" in e.other_value


def test_sim_bn_both_loss_conventions():
    out = exact_norm.check_lemma_a_3(QUICK)
    assert out.status == "pass" and out.numbers["inf_trace"] == 8 and out.numbers["inf_trace_half_loss"] == 4
    (e,) = out.errata
    assert e.kind == "inconsistency" and "inf Tr = 4" in e.printed_value and "inf Tr = 8" in e.other_value
    assert "(f − y)²" in e.convention and "½" in e.convention


def test_only_errors_in_a_statement_contradict_it():
    statuses = {entry_id: check(QUICK).status for entry_id, check in EXACT.items()}
    assert {k for k, v in statuses.items() if v == "contradicted"} == {"lemma-A.13", "thm-3.2"}
    assert set(statuses.values()) == {"pass", "contradicted", "not reproduced"}
    assert {k for k, v in statuses.items() if v == "not reproduced"} == {"prop-A.2"}  # no witness, see its test


def test_other_seeds_pass_too():
    profile = replace(QUICK, seed=7, population_d=6)
    for entry_id in ("thm-4.1", "thm-5.1", "prop-4.1", "prop-A.1"):
        assert EXACT[entry_id](profile).passed, entry_id


def test_a_planted_wrong_constant_fails(monkeypatch):
    real = exact_tools.min_sharpness
    monkeypatch.setattr(exact_tools, "min_sharpness", lambda *a, **k: replace(real(*a, **k), value=2 * real(*a, **k).value))
    out = exact_mlp.check_thm_4_1(QUICK)
    assert not out.passed and out.worst > 0


def test_a_broken_construction_fails(monkeypatch):
    real = constructions.memorizing

    def broken(arch, X, Y, **kw):  # output layer 10% too large: no longer interpolates
        p = real(arch, X, Y, **kw)
        return Params(W1=p.W1, b1=p.b1, W2=p.W2 * sp.Rational(11, 10), middle=p.middle)

    monkeypatch.setattr(constructions, "memorizing", broken)
    assert not exact_mlp.check_thm_4_1(QUICK).passed
    assert not exact_norm.check_thm_5_1(QUICK).passed


def test_a_wrong_trace_fails(monkeypatch):
    real = exact_mlp.sharpness.trace_from_gradients
    monkeypatch.setattr(exact_mlp.sharpness, "trace_from_gradients",
                        lambda *a, **k: real(*a, **k) + sp.Rational(1, 10 ** 6))
    out = exact_mlp.check_lemma_4_1(QUICK)
    assert not out.passed and out.worst == pytest.approx(1e-6)


def test_the_registry_merges_disjoint_parts():
    parts = (exact_mlp.EXACT, exact_norm.EXACT, concentration.EXACT, {"prop-A.2": prop_a2.check_prop_a_2})
    assert all(not set(a) & set(b) for i, a in enumerate(parts) for b in parts[i + 1:])
    assert exact.EXACT == {k: v for part in parts for k, v in part.items()}
    assert len(exact.EXACT) == sum(map(len, parts))
