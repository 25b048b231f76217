"""The ledger lists every result of the paper the issue names, and every evidence kind it claims is implemented."""
import pytest

from sharpgen.verify.ledger.entries import ENTRIES, KINDS, entry, known_keys, select
from sharpgen.verify.ledger.exact import EXACT
from sharpgen.verify.ledger.properties import PROPERTIES
from sharpgen.verify.ledger.trained import TRAINED

REQUIRED = {"Lemma 3.1", "Lemma 4.1", "Lemma A.1", "Lemma A.3", "Lemma A.12", "Lemma A.13", "Thm 3.1", "Thm 3.2",
            "Thm 4.1 (depth 2)", "Thm 4.1 (depth 3)", "Thm 5.1", "Thm A.2", "Prop 4.1", "Prop 4.2", "Prop 5.1",
            "Prop 5.2", "Prop A.1", "Table 1, row 1", "Table 1, row 2", "Table 1, row 3", "Table 1, row 4"}


def test_every_required_result_has_one_entry():
    refs = [e.ref for e in ENTRIES]
    for name in REQUIRED:
        assert sum(r == name or r.startswith(name + " ") for r in refs) == 1, name
    assert len({e.id for e in ENTRIES}) == len(ENTRIES)


@pytest.mark.parametrize("e", ENTRIES, ids=lambda e: e.id)
def test_each_claimed_kind_is_implemented_and_no_other(e):
    assert set(e.kinds) <= set(KINDS) and e.kinds
    assert ("exact" in e.kinds) == (e.id in EXACT)
    assert ("property" in e.kinds) == (e.id in PROPERTIES)
    assert ("trained" in e.kinds) == (e.id in TRAINED)
    assert e.statement and e.ref


def test_select_by_id_and_by_docs_ref():
    assert [e.id for e in select(["thm-4.1"])] == ["thm-4.1"]
    assert {e.id for e in select(["C1"])} == {"thm-4.1", "thm-4.1-d3", "prop-4.1", "table1-bias"}
    assert select(None) == list(ENTRIES)
    assert "F7" in known_keys() and "lemma-A.12" in known_keys()
    with pytest.raises(ValueError, match="--only: unknown entry 'C9'"):
        select(["C9"])
    with pytest.raises(ValueError, match="entry: unknown id"):
        entry("nope")
