"""The search evidence on hypothesis-drawn training sets (verify.ledger.search_drawn): the entries with an
exact minimum get it beside their own check; a search below an exact minimum is caught on a drawn set and
shrunk; a search that falls short is measured, not judged."""
from dataclasses import replace

from sharpgen.verify.ledger import search, search_drawn as D
from sharpgen.verify.ledger.profiles import PROFILES
from sharpgen.verify.search.run import theory_minimum as real_minimum
from sharpgen.verify.theory_min import TheoryMinimum

QUICK = PROFILES["quick"]


def test_every_drawn_case_is_an_entry_with_search_evidence():
    from sharpgen.verify.ledger.entries import entry
    assert all("search" in entry(k).kinds for k in D.CASES)
    assert set(D.CASES) <= set(search.SEARCH)


def test_flattest_meets_the_exact_minimum_from_above_on_drawn_sets():
    out = D.drawn_minimum("thm-4.1", QUICK)
    assert out.status == "pass", out.detail
    assert out.numbers["sets"] >= 2 and out.numbers["seed"] == QUICK.seed
    assert all(g >= -D.BELOW for g in out.numbers["gaps"])


def test_a_minimum_above_what_the_search_finds_is_caught_and_shrunk(monkeypatch):
    # a theory that claims twice the true minimum: every feasible net the search reports lies "below" it
    doubled = lambda spec: TheoryMinimum(2 * real_minimum(spec).value, True, "doubled")
    monkeypatch.setattr(D, "theory_minimum", doubled)
    out = D.drawn_minimum("thm-4.1", replace(QUICK, seed=3))
    assert out.status == "fail" and "FALSIFIED" in out.detail
    shrunk = out.counterexample["example"]
    assert len(shrunk[0]) == 1  # hypothesis shrinks to a one-point training set


def test_falling_short_is_measured_not_judged(monkeypatch):
    half = lambda spec: TheoryMinimum(0.5 * real_minimum(spec).value, True, "halved")
    monkeypatch.setattr(D, "theory_minimum", half)
    out = D.drawn_minimum("thm-4.1", QUICK)
    assert out.status == "pass" and out.numbers["reached"] == 0
    assert "within 2% of the minimum on 0 of" in out.detail
