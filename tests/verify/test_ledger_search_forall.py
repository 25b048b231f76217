"""The adversary against the "for all" statements on drawn (set, width, κ) (verify.ledger.search_forall):
every claim is an entry with search evidence; a violation means what the statement's quantifier says
(an erratum, a finite-κ report, or a bug); the call budget bounds shrinking; quick leaves it to rates."""
from dataclasses import replace

import pytest
from hypothesis import strategies as st

from sharpgen.verify.ledger import search, search_budget, search_forall as F
from sharpgen.verify.ledger.checks import Measure, Property
from sharpgen.verify.ledger.outcome import Outcome
from sharpgen.verify.ledger.profiles import PROFILES
from sharpgen.verify.ledger.properties import run_property

RATES = PROFILES["rates"]


def test_every_claim_is_an_entry_with_search_evidence_and_a_known_quantifier():
    from sharpgen.verify.ledger.entries import entry
    assert all("search" in entry(k).kinds for k in F.CLAIMS) and set(F.CLAIMS) <= set(search.SEARCH)
    assert {c.quantifier for c in F.CLAIMS.values()} <= set(F.QUANTIFIERS)
    assert (F.RATIO, F.SUP_EPS, F.KAPPAS[0]) == (0.5, 0.5, min(F.KAPPAS))  # shrinking goes to the smallest κ


def test_budget_quick_draws_none_rates_and_paper_do():
    assert [search_budget.forall_examples(PROFILES[p]) for p in ("quick", "rates", "paper")] == [0, 3, 12]
    assert search_budget.forall_calls(RATES) > search_budget.forall_examples(RATES)


def test_in_quick_the_entry_keeps_its_own_check_and_says_where_the_drawn_ones_run():
    own = search.with_forall("lemma-A.1", lambda profile: Outcome(True, "own check"))
    out = own(PROFILES["quick"])
    assert out.status == "pass" and out.detail.startswith("own check") and "--profile rates" in out.detail


def test_the_call_budget_bounds_shrinking_and_the_kept_failure_replays():
    calls = []

    def check(n):
        calls.append(n)
        return Measure(n < 10, float(n), {"n": n})

    prop = Property("x", "small", "n < 10", lambda: st.integers(0, 10 ** 6), check, "n")
    out = run_property(prop, examples=20, seed=0, max_calls=5)
    assert not out.passed and len(calls) <= 5 and out.numbers["calls"] == len(calls)
    assert out.counterexample["values"]["n"] >= 10  # the smallest failure found within the budget


def _one_draw(monkeypatch):
    monkeypatch.setattr(F, "forall_examples", lambda profile: 1)
    monkeypatch.setattr(F, "forall_calls", lambda profile: 1)


def test_the_adversary_holds_lemma_31s_proof_bound_on_a_drawn_set(monkeypatch):
    _one_draw(monkeypatch)
    out = F.drawn_forall("lemma-3.1", RATES)
    assert out.status == "pass", out.detail
    assert out.numbers["sets"] == 1 and out.numbers["quantifier"] == "proof bound"
    assert all(v <= 1 + 1e-9 for v in out.numbers["values"])


def _always(value):
    return lambda problem, res: {"violates": True, "value": value, "margin": 1.0, "convention": "none: test"}


@pytest.mark.parametrize("quantifier,status", [("every interpolator", "contradicted"), ("some kappa", "pass"),
                                               ("proof bound", "fail")])
def test_a_violation_means_what_the_quantifier_says(monkeypatch, quantifier, status):
    _one_draw(monkeypatch)
    claim = replace(F.CLAIMS["lemma-3.1"], witness=_always(7.0), quantifier=quantifier)
    monkeypatch.setitem(F.CLAIMS, "lemma-3.1", claim)
    out = F.drawn_forall("lemma-3.1", RATES)
    assert out.status == status, out.detail
    found = out.counterexample["values"]
    assert found["violation"] and found["certificate_ok"] and found["X"] and found["params"]["W1"]
    assert "shrunk case" in out.detail and f"value {7.0:.6g}" in out.detail
    if quantifier == "every interpolator":
        (err,) = out.errata
        assert err.contradicts_statement and err.basis == "search" and "7" in err.other_value
    if quantifier == "some kappa":
        assert not out.errata and "κ is existential" in out.detail
