"""The ledger's search evidence: one check per entry that declares it; it fails loudly below an exact
minimum, reports a search that falls short as not reproduced, and finds Thm 3.2's violation at run time."""

from sharpgen.verify.ledger import search as S
from sharpgen.verify.ledger.entries import ENTRIES
from sharpgen.verify.ledger.profiles import PROFILES

QUICK = PROFILES["quick"]


def test_every_entry_with_search_evidence_has_a_check():
    declared = {e.id for e in ENTRIES if "search" in e.kinds}
    assert declared == set(S.SEARCH)


def test_thresholds_are_fixed_constants():
    assert (S.REACH, S.BELOW, S.KAPPA, S.MEMORIZING, S.RATIO) == (0.02, 1e-9, 0.01, 0.3, 0.5)


def test_below_the_exact_minimum_fails_loudly(monkeypatch):
    monkeypatch.setattr(S, "_exact_min", lambda *a, **k: 100.0)
    out = S.SEARCH["lemma-A.12"](QUICK)
    assert out.status == "fail" and "BELOW the exact minimum" in out.detail


def test_a_search_that_falls_short_is_not_a_failure(monkeypatch):
    monkeypatch.setattr(S, "_exact_min", lambda *a, **k: 1.0)
    out = S.SEARCH["lemma-A.12"](QUICK)  # found 2, "minimum" 1: the search, not the claim, fell short
    assert out.status == "not reproduced" and out.numbers["relative_gap"] > S.REACH


def test_sim_ln_minimum_is_met_and_certified():
    out = S.SEARCH["lemma-A.12"](QUICK)
    assert out.status == "pass", out.detail
    assert -S.BELOW <= out.numbers["relative_gap"] <= S.REACH
    assert out.numbers["certificate"]["ok"]


def test_thm32_weights_are_contradicted_by_a_certified_net():
    out = S.SEARCH["thm-3.2"](QUICK)
    assert out.status == "contradicted", out.detail
    assert out.numbers["ratio"] > S.RATIO and out.numbers["trace"] <= 8 * (1 + S.KAPPA)
    assert out.numbers["certificate"]["ok"]
    assert out.errata[0].basis == "search" and "ratio" in out.errata[0].other_value
