"""`sharpgen verify`: arguments are validated before any work (exit 2), the table and errata are printed,
the report lists every entry with numbers, and a failing claim fails the run (exit 1)."""
import json

import pytest

from sharpgen.verify import cli, cmd_verify
from sharpgen.verify.ledger import command, exact
from sharpgen.verify.ledger.entries import ENTRIES
from sharpgen.verify.ledger.outcome import Outcome


def test_list_prints_every_entry(capsys):
    assert cli.main(["verify", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(e.id in out and e.ref in out for e in ENTRIES)


def test_exact_kind_passes_prints_errata_and_writes_the_report(tmp_path, capsys):
    assert cli.main(["verify", "--kind", "exact", "--only", "F7", "C2", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "thm-A.2" in out and "lemma-A.13" in out and "prop-4.2" in out
    assert "Errata" in out and "25/4" in out and "4/25" in out
    report = json.loads((tmp_path / "report.json").read_text())
    assert [e["id"] for e in report["entries"]] == [e.id for e in ENTRIES]
    by_id = {e["id"]: e for e in report["entries"]}
    assert by_id["thm-A.2"]["status"] == "pass" and by_id["thm-3.1"]["status"] == "not run"
    assert by_id["prop-4.2"]["worst_discrepancy"] == 0.0
    assert by_id["prop-4.2"]["evidence"][0]["numbers"]["training_sets"] == 2
    assert any(e["claim"] == "C2 (Prop 4.2)" and "14*sqrt(10)/5" in e["paper"] for e in report["errata"])
    md = (tmp_path / "report.md").read_text()
    assert "| thm-A.2 | Thm A.2 | exact | **pass** |" in md and "## Errata" in md
    assert not list(tmp_path.glob(".*tmp"))


def test_property_kind_with_seed_and_examples(capsys):
    assert cli.main(["verify", "--kind", "property", "--only", "thm-A.2", "--examples", "12", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "12 examples per property" in out and "held on 12 examples" in out


def test_a_failing_claim_exits_1(monkeypatch, capsys):
    monkeypatch.setitem(exact.EXACT, "thm-A.2", lambda profile: Outcome(False, "1 != 2", 1.0, "planted"))
    assert cli.main(["verify", "--kind", "exact", "--only", "thm-A.2"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "1 fail" in out


def test_a_falsified_property_prints_its_shrunk_counterexample(monkeypatch, capsys, tmp_path):
    from hypothesis import strategies as st
    from sharpgen.verify.ledger import props_mlp
    from sharpgen.verify.ledger.properties import Measure, Property
    planted = Property("thm-A.2", "planted", "every integer is below 5", lambda: st.integers(0, 100),
                       lambda k: Measure(k < 5, float(max(0, k - 4)), {"k": k}), "k - 4")
    monkeypatch.setitem(props_mlp.PROPERTIES, "thm-A.2", [planted])
    assert cli.main(["verify", "--kind", "property", "--only", "thm-A.2", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "Counterexample [thm-A.2, planted] (shrunk)" in out and '"example": 5' in out
    report = json.loads((tmp_path / "report.json").read_text())
    ev = next(e for e in report["entries"] if e["id"] == "thm-A.2")["evidence"][0]
    assert ev["counterexample"]["example"] == 5 and ev["counterexample"]["values"] == {"k": 5}
    assert "counterexample (shrunk)" in (tmp_path / "report.md").read_text()


def test_a_crashing_check_is_a_failing_row(monkeypatch, capsys):
    def boom(profile):
        raise ZeroDivisionError("planted")
    monkeypatch.setitem(exact.EXACT, "thm-A.2", boom)
    assert cli.main(["verify", "--kind", "exact", "--only", "thm-A.2"]) == 1
    assert "crashed: ZeroDivisionError: planted" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--only", "C9"], "--only: unknown entry 'C9'"),
    (["--seed", "-1"], "--seed: expected an integer >= 0, got -1"),
    (["--examples", "0"], "--examples: expected an integer >= 1, got 0"),
    (["--device", "tpu"], "device: expected one of"),
])
def test_bad_arguments_exit_2_before_any_work(argv, message, monkeypatch, capsys):
    monkeypatch.setattr(command, "run_verify", lambda opts: pytest.fail("ran despite a bad argument"))
    assert cli.main(["verify", *argv]) == 2
    assert message in capsys.readouterr().err


def test_unwritable_out_exits_2_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(command, "run_verify", lambda opts: pytest.fail("ran despite an unwritable --out"))
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli.main(["verify", "--out", str(blocker / "sub")]) == 2
    assert "--out: cannot write to" in capsys.readouterr().err
    assert cli.main(["verify", "--out", str(blocker)]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err
    assert blocker.read_text() == "x" and not (blocker.parent / "sub").exists()


def test_choices_and_no_command(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["verify", "--profile", "huge"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        cli.main(["verify", "--kind", "guess"])
    assert "invalid choice: 'guess'" in capsys.readouterr().err
    assert cli.main([]) == 2


def test_verify_parser_imports_neither_sympy_nor_torch():
    import subprocess
    import sys
    code = ("import argparse, sys; from sharpgen.verify import cmd_verify; "
            "cmd_verify.add_parser(argparse.ArgumentParser().add_subparsers()); "
            "print('torch' in sys.modules, 'sympy' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split() == ["False", "False"]


def test_version(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.startswith("sharpgen ")


def test_cmd_verify_is_thin():
    assert len(cmd_verify.__doc__) > 0 and cmd_verify.run.__code__.co_argcount == 1
