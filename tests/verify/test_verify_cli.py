"""`sharpgen verify`: arguments are validated before any work (exit 2), the table and errata are printed,
the report lists every entry with numbers, and a failing claim fails the run (exit 1)."""
import json

import pytest

from sharpgen.verify import cli, cmd_verify
from sharpgen.verify.ledger import command, exact
from sharpgen.verify.ledger.entries import ENTRIES
from sharpgen.verify.ledger.outcome import Outcome
from sharpgen.verify.ledger.report import ELLIPSIS


@pytest.fixture(autouse=True)
def in_tmp_dir(tmp_path, monkeypatch):
    """Plain `sharpgen verify` keeps its report in ./sharpgen-verify: run each test in a folder of its own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")


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
    # Def A.2 and Thm A.2 disagree (an inconsistency: the theorem holds as meant); Lemma A.13's factor is wrong
    assert by_id["thm-A.2"]["status"] == "pass" and by_id["lemma-A.13"]["status"] == "contradicted"
    assert by_id["thm-3.1"]["status"] == "not run"
    assert by_id["prop-4.2"]["status"] == "pass"  # an error in a proof's constant leaves the result standing
    assert by_id["prop-4.2"]["worst_discrepancy"] == 0.0
    assert by_id["prop-4.2"]["evidence"][0]["numbers"]["training_sets"] == 2
    assert any(e["claim"] == "C2 (Prop 4.2)" and "14*sqrt(10)/5" in e["paper"] for e in report["errata"])
    for e in report["errata"]:
        assert all(e[k] for k in ("kind", "where", "quote", "reading", "convention", "printed_value", "other_value"))
    assert report["summary"] == {"pass": 3, "contradicted": 1}
    assert {e["kind"] for e in report["errata"] if e["claim"].startswith("Thm A.2")} == {"inconsistency"}
    md = (tmp_path / "report.md").read_text()
    assert "| lemma-A.13 | Lemma A.13 | exact | **contradicted** |" in md and "## Errata" in md
    assert "statement as printed contradicted: Lemma A.13 (p=1/5): 25/4 = 1/(p(1-p))" in md
    assert not list(tmp_path.glob(".*tmp"))


def test_property_kind_with_seed_and_examples(capsys, tmp_path):
    assert cli.main(["verify", "--kind", "property", "--only", "thm-A.2", "--examples", "12", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "12 examples per property" in out
    assert "held on 12 examples" in (tmp_path / "sharpgen-verify" / "report.md").read_text()  # the table cuts it


def test_a_failing_claim_exits_1(monkeypatch, capsys):
    monkeypatch.setitem(exact.EXACT, "thm-A.2", lambda profile: Outcome(False, "1 != 2", 1.0, "planted"))
    assert cli.main(["verify", "--kind", "exact", "--only", "thm-A.2", "lemma-A.13"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "1 fail" in out
    assert out.rstrip().splitlines()[-1].startswith("sharpgen verify: 1 fail (thm-A.2), 1 contradicted (lemma-A.13); ")
    assert out.rstrip().endswith(f"; report in {cmd_verify.DEFAULT_OUT / 'report.md'}; exit 1")


def test_plain_verify_keeps_its_report_in_the_default_folder(tmp_path, capsys):
    assert cli.main(["verify", "--kind", "exact", "--only", "lemma-A.13"]) == 0
    last = capsys.readouterr().out.rstrip().splitlines()[-1]
    report = tmp_path / "sharpgen-verify" / "report.md"
    assert "| lemma-A.13 | Lemma A.13 | exact | **contradicted** |" in report.read_text()
    assert last.startswith("sharpgen verify: 1 contradicted (lemma-A.13); 1 errata; ")
    assert "report in sharpgen-verify/report.md" in last and last.endswith("exit 0")
    assert (tmp_path / "sharpgen-verify" / "report.json").exists()


def test_a_result_outside_its_conditions_is_reported_never_failed(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(exact.EXACT, "thm-A.2", lambda profile: Outcome(
        False, "error 0.4 at n = 30", 0.4, "test error", numbers={"n": 30}, unmet_condition="needs n >= d log d"))
    assert cli.main(["verify", "--kind", "exact", "--only", "thm-A.2"]) == 0
    out = capsys.readouterr().out
    assert "condition not met" in out and "outside its stated conditions: needs n >= d log d" in out
    assert "sharpgen verify: 1 condition not met; " in out and out.rstrip().endswith("exit 0")
    report = json.loads((tmp_path / "sharpgen-verify" / "report.json").read_text())
    entry = next(e for e in report["entries"] if e["id"] == "thm-A.2")
    assert entry["status"] == "condition not met" and entry["evidence"][0]["numbers"] == {"n": 30}
    assert report["summary"] == {"condition not met": 1}
    md = (tmp_path / "sharpgen-verify" / "report.md").read_text()
    assert "outside its stated conditions: needs n >= d log d" in md


@pytest.mark.parametrize("columns", [60, 80])
def test_the_live_table_fits_the_width_and_marks_each_cut(columns, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("COLUMNS", str(columns))
    assert cli.main(["verify", "--kind", "exact", "--only", "F7", "C2"]) == 0
    out = capsys.readouterr().out
    lines = out.split("\n\n")[0].splitlines()
    table = lines[next(k for k, line in enumerate(lines) if line.startswith("entry")):]
    assert len(table) == 6 and all(len(line) <= columns for line in lines)  # header, 4 rows, 1 "contradicted" line
    assert sum(line.startswith("    statement as printed contradicted: ") for line in table) == 1
    assert all(len(line) <= columns for line in table)
    cut = [line for line in table if line.endswith(ELLIPSIS)]
    assert cut and all(len(line) == columns for line in cut)
    errata = out.split("\n\n")[1].splitlines()
    assert errata[0].startswith("Errata (4)") and len(errata) > 4 * 3 and max(map(len, errata)) <= columns
    md = (tmp_path / "sharpgen-verify" / "report.md").read_text()
    detail = next(line for line in table if line.startswith("prop-4.2")).split("  ")[-1].rstrip(ELLIPSIS)
    assert ELLIPSIS not in md and detail in md


def test_a_falsified_property_prints_its_shrunk_counterexample(monkeypatch, capsys, tmp_path):
    from hypothesis import strategies as st
    from sharpgen.verify.ledger import properties
    from sharpgen.verify.ledger.checks import Measure, Property
    planted = Property("thm-A.2", "planted", "every integer is below 5", lambda: st.integers(0, 100),
                       lambda k: Measure(k < 5, float(max(0, k - 4)), {"k": k}), "k - 4")
    monkeypatch.setitem(properties.PROPERTIES, "thm-A.2", [planted])
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


def test_a_contradicted_statement_exits_0_and_is_counted(monkeypatch, capsys, tmp_path):
    from sharpgen.verify.ledger.outcome import Erratum
    wrong = Erratum("planted", "2 + 2 = 5", "2 + 2 = 4", kind="error", where="statement", quote="2 + 2 = 5",
                    reading="as printed", convention="none", printed_value="5", other_value="4")
    monkeypatch.setitem(exact.EXACT, "lemma-4.1", lambda profile: Outcome(True, "checked", 0.0, "gap", errata=[wrong]))
    assert cli.main(["verify", "--kind", "exact", "--only", "lemma-4.1", "thm-3.1"]) == 0
    out = capsys.readouterr().out
    assert "statement as printed contradicted: planted: 5, not 4" in out
    last = out.rstrip().splitlines()[-1]
    assert last.startswith("sharpgen verify: 1 pass, 1 contradicted (lemma-4.1); 1 errata; ") and last.endswith("exit 0")
    report = json.loads((tmp_path / "sharpgen-verify" / "report.json").read_text())
    assert report["summary"] == {"pass": 1, "contradicted": 1} and report["exit_status"] == 0


def test_a_damaged_run_file_exits_2_naming_it_without_a_crashed_row(monkeypatch, capsys, tmp_path):
    from sharpgen.numerics.runs.state import read_run
    run_dir = tmp_path / "out" / "runs" / "some-run"
    run_dir.mkdir(parents=True)
    (run_dir / "summary.json").write_text("{not json")
    monkeypatch.setitem(exact.EXACT, "thm-A.2", lambda profile: read_run(run_dir))
    assert cli.main(["verify", "--kind", "exact", "--only", "lemma-A.13", "thm-A.2", "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    err_lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(err_lines) == 1 and str(run_dir / "summary.json") in err_lines[0] and "damaged" in err_lines[0]
    assert "crashed" not in captured.out + captured.err and "Traceback" not in captured.err
    assert not (tmp_path / "out" / "report.json").exists() and not (tmp_path / "out" / "report.md").exists()


def test_a_full_disk_exits_2_naming_the_file(monkeypatch, capsys):
    def full(profile):
        raise OSError(28, "No space left on device", "runs/x/metrics.csv")
    monkeypatch.setitem(exact.EXACT, "thm-A.2", full)
    assert cli.main(["verify", "--kind", "exact", "--only", "thm-A.2"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == ("sharpgen verify: runs/x/metrics.csv: No space left on device; free space or fix "
                                    "its permissions, then rerun: sharpgen verify --only thm-A.2 --kind exact "
                                    "(no report written)")
    assert "crashed" not in captured.out


def test_a_second_verify_into_a_busy_folder_is_refused_naming_the_first(tmp_path, capsys):
    """Another process holds the output folder (a verify still running): refused at once, exit 2, the
    holder named, no header, no row and no report; the first one's folder is left as it was."""
    import subprocess
    import sys
    out = tmp_path / "out"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from sharpgen.numerics.runs.rundir import locked; "
         "from sharpgen.verify.ledger.command import OUT_ROLE\n"
         f"with locked({str(out)!r}, OUT_ROLE):\n    print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        before = sorted(p.name for p in out.iterdir())
        assert cli.main(["verify", "--kind", "exact", "--only", "lemma-4.1", "--out", str(out)]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and "Traceback" not in captured.err
        assert captured.err.strip() == (f"sharpgen verify: out: {out} is in use by another sharpgen verify (pid "
                                        f"{holder.pid} on " + captured.err.split(f"{holder.pid} on ", 1)[1].strip())
        assert "wait for it to finish or choose another --out (no report written)" in captured.err
        assert sorted(p.name for p in out.iterdir()) == before == [".lock"]
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("argv, message", [
    (["--only", "C9"], "--only: unknown entry 'C9'"),
    (["--seed", "-1"], "--seed: expected an integer in [0, 18446744073709551615], got -1"),
    (["--examples", "0"], "--examples: expected an integer in [1, 100000]"),
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


def test_an_unwritable_default_folder_exits_2_before_any_work(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(command, "run_verify", lambda opts: pytest.fail("ran despite an unwritable folder"))
    (tmp_path / "sharpgen-verify").write_text("x")
    assert cli.main(["verify", "--kind", "exact"]) == 2
    assert capsys.readouterr().err == ("sharpgen verify: error: --out (default sharpgen-verify): sharpgen-verify "
                                       "exists and is not a directory\n")


def test_the_resume_command_repeats_the_options_given():
    import argparse
    sub = argparse.ArgumentParser().add_subparsers()
    cmd_verify.add_parser(sub)
    parse = sub.choices["verify"].parse_args
    assert cmd_verify.command_line(parse([])) == "sharpgen verify"
    argv = ["--profile", "paper", "--only", "C2", "thm-3.1", "--kind", "trained", "--out", "a b", "--seed", "3",
            "--examples", "9", "--device", "cuda"]
    assert cmd_verify.command_line(parse(argv)) == "sharpgen verify " + " ".join(argv).replace("a b", "'a b'")


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


@pytest.mark.parametrize("name, folder", [("runs", False), ("report.md", True), ("figures", False)])
def test_a_file_or_folder_in_the_reports_place_is_refused_before_any_work(name, folder, tmp_path, monkeypatch,
                                                                          capsys):
    monkeypatch.setattr(command, "run_verify", lambda opts: pytest.fail("ran despite a blocked --out"))
    out = tmp_path / "out"
    out.mkdir()
    (out / name).mkdir() if folder else (out / name).write_text("")
    assert cli.main(["verify", "--kind", "trained", "--only", "thm-3.2", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"--out: {out / name} is a {'folder' if folder else 'file'} where the report keeps its "
                        f"{name}; move it away")
    assert sorted(p.name for p in out.iterdir()) == [name]
