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
    own = out.numbers["sets"][0]  # the entry's own set; the second is the hypothesis-drawn sets' (search_drawn)
    assert out.status == "not reproduced" and own["relative_gap"] > S.REACH


def test_sim_ln_minimum_is_met_and_certified():
    out = S.SEARCH["lemma-A.12"](QUICK)
    assert out.status == "pass", out.detail
    own, drawn = out.numbers["sets"]
    assert -S.BELOW <= own["relative_gap"] <= S.REACH
    assert own["certificate"]["ok"] and drawn["examples"] == 2


def test_thm32_weights_are_contradicted_by_a_certified_net():
    out = S.SEARCH["thm-3.2"](QUICK)
    assert out.status == "contradicted", out.detail
    assert out.numbers["ratio"] > S.RATIO and out.numbers["trace"] <= 8 * (1 + S.KAPPA)
    assert out.numbers["certificate"]["ok"]
    assert out.errata[0].basis == "search" and "ratio" in out.errata[0].other_value


def _fake_worst(errors, ok=True):
    """A stand-in for the adversary's worst population error per architecture (no search is run)."""
    return lambda arch, d, n, width, profile: {"arch": arch, "n": n, "minimum": 8.0, "error": errors[arch],
                                                "certificate": {"ok": ok}}


def test_table1_nobias_judges_the_contrast_with_bias_on_the_same_set(monkeypatch):
    check = S.SEARCH["table1-nobias"]
    monkeypatch.setattr(S, "_worst_population_error", _fake_worst({"nobias": 0.0, "bias": 0.125}))
    out = check(QUICK)
    assert out.status == "pass", out.detail
    assert out.numbers["worst"]["bias"]["error"] == 0.125 and len(out.numbers["X"]) == out.numbers["n"] == 12
    monkeypatch.setattr(S, "_worst_population_error", _fake_worst({"nobias": 0.125, "bias": 0.125}))
    out = check(QUICK)  # no constant is stated: short of the contrast is not reproduced, never a contradiction
    assert out.status == "not reproduced" and "not below" in out.reason
    monkeypatch.setattr(S, "_worst_population_error", _fake_worst({"nobias": None, "bias": 0.125}))
    assert "limit of the search" in check(QUICK).reason
    monkeypatch.setattr(S, "_worst_population_error", _fake_worst({"nobias": 0.0, "bias": 0.125}, ok=False))
    assert check(QUICK).status == "fail"  # a net its independent certificate rejects: a bug, never a verdict
