"""`sharpgen verify` and its ledger: every claim passes, errata carry both values, failures fail."""
import json
from dataclasses import replace

import pytest
from hypothesis import given, settings, strategies as st

from sharpgen.verify import cli, cmd_verify
from sharpgen.verify.ledger import LEDGER, PROFILES, Claim, Outcome, check_c1, check_c4


def test_quick_profile_passes_every_claim_and_lists_errata(tmp_path, capsys):
    assert cli.main(["verify", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"{len(LEDGER)} passed, 0 failed" in out
    report = json.loads((tmp_path / "verify.json").read_text())
    assert [c["key"] for c in report["claims"]] == [c.key for c in LEDGER]
    assert all(c["passed"] is True for c in report["claims"])
    errata = {e["claim"]: e for c in report["claims"] for e in c["errata"]}
    # Prop 4.2's printed r is not flattest at d = 3: 14 sqrt(10)/5 > 8 = 4 sqrt(d + 1).
    assert "14*sqrt(10)/5" in errata["C2 (Prop 4.2)"]["paper"] and "8" in errata["C2 (Prop 4.2)"]["exact"]
    assert "25/4" in errata["Lemma A.13 (p=1/5)"]["paper"] and "4/25" in errata["Lemma A.13 (p=1/5)"]["exact"]
    assert "inf Tr = 8" in errata["C6 / Lemma A.1 (sim_bn)"]["exact"]
    assert not list(tmp_path.glob("*.tmp"))


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10 ** 6))
def test_constructions_claims_hold_for_any_training_sets(seed):
    profile = replace(PROFILES["quick"], seed=seed, population_d=6)
    assert check_c1(profile).passed
    assert check_c4(profile).passed


def test_a_failing_claim_fails_the_run(monkeypatch, capsys):
    broken = Claim("X1", "none", "a claim that does not hold", lambda profile: Outcome(False, "1 != 2"))
    monkeypatch.setattr(cmd_verify, "LEDGER", (broken,))
    assert cli.main(["verify"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  X1" in out and "0 passed, 1 failed" in out


def test_only_selects_claims_and_rejects_unknown_keys(capsys):
    assert cli.main(["verify", "--only", "F7"]) == 0
    assert "1 passed, 0 failed" in capsys.readouterr().out
    assert cli.main(["verify", "--only", "C9"]) == 2
    assert "--only: unknown claim 'C9'" in capsys.readouterr().err


def test_bad_profile_and_no_command(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["verify", "--profile", "huge"])
    assert exc.value.code == 2
    assert "invalid choice: 'huge'" in capsys.readouterr().err
    assert cli.main([]) == 2
    assert "verify" in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.startswith("sharpgen ")
