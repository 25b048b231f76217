"""The one run-directory reader (numerics.state), the one launcher (verify.runs) and strict-JSON summaries:
every status is read from the files alone, damaged files are errors naming the file, summary.json
never holds a bare NaN, and finished runs are reused, started ones resumed."""
import json
import math
import threading

import pytest

from sharpgen.numerics.runs import state as S
from sharpgen.numerics.runs.config import TrainConfig, parse_phases
from sharpgen.numerics.runs.presets import SCENARIOS
from sharpgen.numerics.runs.rundir import RunDirError, locked
from sharpgen.numerics.runs.train import train
from sharpgen.verify.ledger import runs as ledger_runs
from sharpgen.verify.plots import rundata
from sharpgen.verify import reproduce as R
from sharpgen.verify.runs import RunSpec, launch

TINY = TrainConfig(d=4, n=8, n_test=8, width=6, phases=parse_phases("0.05,0.05,1,0,4"), eval_every=2,
                   eval_log_points=0)


def refuse_constants(name):
    raise AssertionError(f"bare {name} in a JSON file")


@pytest.fixture(scope="module")
def done_run(tmp_path_factory):
    """A finished run whose theory minimum is 0, so its rel_gap columns are NaN."""
    run_dir = tmp_path_factory.mktemp("runs") / "done"
    train(TINY, run_dir, theory_min=0.0, progress="off")
    return run_dir


def copy_run(src, dst):
    dst.mkdir()
    for name in S.RUN_FILES:
        (dst / name).write_bytes((src / name).read_bytes())
    return dst


def test_every_status_is_read_from_the_files(done_run, tmp_path):
    assert S.read_run(tmp_path / "nothing").status == S.MISSING
    found = S.read_run(done_run)
    assert (found.status, found.started, found.config) == (S.DONE, True, TINY.to_dict())
    cut = copy_run(done_run, tmp_path / "cut")
    (cut / S.SUMMARY).unlink()
    assert S.read_run(cut).status == S.INTERRUPTED
    for status in (S.DIVERGED, S.FAILED, S.INTERRUPTED):
        (cut / S.SUMMARY).write_text(json.dumps({"status": status, "message": f"why {status}"}))
        assert (S.read_run(cut).status, S.read_run(cut).message) == (status, f"why {status}")


def test_summary_json_is_strict_json_with_null_for_nan(done_run):
    text = (done_run / S.SUMMARY).read_text()
    summary = json.loads(text, parse_constant=refuse_constants)
    assert summary["final"]["rel_gap"] is None and "NaN" not in text
    assert math.isnan(S.number(summary["final"]["rel_gap"])) and summary["final"]["theory_min"] == 0.0
    assert math.isnan(S.read_metrics(done_run)[-1]["rel_gap"])  # metrics.csv keeps the NaN cell


@pytest.mark.parametrize("name,content,match", [
    (S.SUMMARY, '{"status": "do', r"summary\.json: .*summary\.json is damaged"),
    (S.SUMMARY, '{"status": "done", "final": {"loss": NaN}}', r"summary\.json: .*damaged .*bare NaN"),
    (S.SUMMARY, '{"status": "finished"}', r"summary\.json: .*has no run status \(got 'finished'"),
    (S.SUMMARY, "\x00\xff junk", r"summary\.json: .*summary\.json is damaged"),
    (S.CONFIG, "{", r"config\.json: .*config\.json is not a run's config"),
])
def test_a_damaged_file_is_an_error_naming_it(done_run, tmp_path, name, content, match):
    run_dir = copy_run(done_run, tmp_path / "r")
    (run_dir / name).write_text(content)
    with pytest.raises(S.RunFileError, match=match) as err:
        S.read_run(run_dir)
    assert str(err.value).startswith(f"{name}: {run_dir / name} ")
    with pytest.raises(ValueError, match=match):
        rundata.load_run(run_dir)


def test_a_truncated_metrics_csv_loses_only_its_cut_last_row(done_run, tmp_path):
    run_dir = copy_run(done_run, tmp_path / "r")
    whole = (run_dir / S.METRICS).read_text()
    (run_dir / S.METRICS).write_text(whole[:-7])  # the last append cut short
    with pytest.raises(ValueError, match=r"metrics\.csv: .* ends at epoch 2, before the schedule's end \(4\), in a "
                                         r"run marked done"):  # a finished run's final row is never cut
        rundata.load_run(run_dir)
    (run_dir / S.SUMMARY).unlink()  # as a run killed mid-append leaves it: interrupted, readable
    rows = rundata.load_run(run_dir).rows
    assert [r["epoch"] for r in rows] == [0, 2]
    assert rundata.final(rundata.load_run(run_dir), "test_error") == rows[-1]["test_error"]
    lines = whole.split("\n")
    (run_dir / S.METRICS).write_text("\n".join([lines[0], lines[1][:5], *lines[2:]]))  # a damaged middle row
    with pytest.raises(ValueError, match=r"metrics\.csv: .*metrics\.csv line 2 has \d+ cells for \d+ columns"):
        rundata.load_run(run_dir)


def test_nan_final_rows_read_as_nan_not_as_type_errors(done_run):
    run = rundata.load_run(done_run)
    assert math.isnan(rundata.final(run, "rel_gap")) and rundata.final(run, "trace") > 0
    record = ledger_runs.read_record(RunSpec(TINY, done_run), {})
    assert record.status == S.DONE and math.isnan(record.final["rel_gap"])


@pytest.mark.parametrize("column", S.FINITE_AT_END)
def test_a_done_run_ending_on_nan_is_damaged_for_every_reader(done_run, tmp_path, column):
    """NaN where every evaluation computes a number, in a run marked done: the plot, the ledger and the
    sweep table (``read_run(...).rows()``) refuse it naming the file, never draw or judge it."""
    run_dir = copy_run(done_run, tmp_path / "r")
    lines = (run_dir / S.METRICS).read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[-1].split(",")
    cells[header.index(column)] = "nan"
    (run_dir / S.METRICS).write_text("\n".join([*lines[:-1], ",".join(cells)]) + "\n")
    message = rf"metrics\.csv: {run_dir / S.METRICS} ends on non-finite \['{column}'\] \(epoch 4\) in a run marked done"
    for read in (lambda: rundata.load_run(run_dir), lambda: ledger_runs.read_record(RunSpec(TINY, run_dir), {}),
                 lambda: S.read_run(run_dir).rows()):
        with pytest.raises(S.RunFileError, match=message):
            read()


def test_launch_trains_reuses_and_resumes(tmp_path):
    specs = [RunSpec(TINY.replace(seed=s), tmp_path / f"s{s}", theory=False) for s in (0, 1)]
    first = launch(specs)
    assert [(d.action, d.status, d.steps) for d in first] == [("trained", S.DONE, 4 * 8)] * 2
    assert [d.action for d in launch(specs)] == ["reused", "reused"]
    (specs[1].run_dir / S.SUMMARY).unlink()  # as if killed after its last checkpoint
    lines = []
    again = launch(specs, log=lines.append)
    assert [d.action for d in again] == ["reused", "resumed"] and again[1].steps == 0
    assert lines[:2] == [f"reuse  {specs[0].run_dir}", f"resume {specs[1].run_dir}"]
    with pytest.raises(RunDirError, match=r"holds a run with another config \(differs in \['width'\]\)"):
        launch([RunSpec(TINY.replace(width=7), specs[0].run_dir)])


def test_isolate_fails_only_the_busy_run(tmp_path):
    specs = [RunSpec(TINY.replace(seed=s), tmp_path / f"s{s}", theory=False) for s in (0, 1)]
    out = []
    with locked(specs[1].run_dir):  # held by this thread; launch runs in another
        worker = threading.Thread(target=lambda: out.extend(launch(specs, isolate=True)))
        worker.start()
        worker.join()
    assert [d.status for d in out] == [S.DONE, S.FAILED] and "in use by another thread" in out[1].message
    with locked(specs[1].run_dir):
        worker = threading.Thread(target=lambda: out.append(pytest.raises(RunDirError, launch, specs[1:])))
        worker.start()
        worker.join()
    assert "in use" in str(out[-1].value)


def test_one_scenario_table_feeds_table1_the_summary_figure_and_the_ledger():
    assert R.FIGURES["summary"].presets == tuple(p for s in SCENARIOS.values() for p in s.presets)
    groups = {g: preset for g, (preset, _) in ledger_runs.GROUPS.items()}
    assert groups["bias-sam"] == SCENARIOS["bias"].sam and groups["bias-gd"] in SCENARIOS["bias"].baselines
    assert (groups["sim_bn-sam"], groups["sim_bn-printed"]) == (SCENARIOS["sim_bn"].sam, SCENARIOS["sim_bn"].printed)
    assert [s.number for s in SCENARIOS.values()] == ["I", "II", "III", "IV"]
