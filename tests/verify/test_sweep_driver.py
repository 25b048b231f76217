"""Sweeps on an embedded Dask cluster (verify.sweep.driver): the same numbers as runs made one by one,
failures recorded without stopping the sweep, one row per run, finished runs skipped on a rerun.

One LocalCluster (two single-threaded worker processes) serves the whole module: starting one costs
seconds. Runs are tiny (d = 5, width 8) so the module takes well under a minute.
"""
import json
import math

import distributed
import pandas as pd
import pytest

from sharpgen.numerics.runs import checkpoint as ckpt
from sharpgen.numerics.runs.metrics_csv import read_csv
from sharpgen.numerics.runs.train import train
from sharpgen.verify.theory_min import theory_min_for
from sharpgen.verify.sweep import expand, parse_spec, run_sweep
from sharpgen.verify.sweep.driver import batches
from sharpgen.verify.sweep.runs import execute_batch, execute_run, make_task, run_dir, run_state

GRID = {
    "sweep": {"name": "small"},
    "base": {"d": 5, "width": 8, "n_test": 40, "eval_every": 4},
    "axes": {
        "method": {"sam": {"optimizer": "sam", "phases": "0.05,0.05,1,0,8"},
                   "gd": {"optimizer": "sgd", "phases": "0.05,0,n,0.01,8"},
                   "asam": {"optimizer": "asam", "phases": "0.05,0.3,1,0,4"}},
        "arch": ["nobias", "sim_ln"],
        "n_per_d": [2],
        "seed": [0, 1],
    },
    "override": [{"when": {"arch": "sim_ln"}, "eps": 1e-3, "init_scale_first_layer": 0.01}],
}
BOOM = {"boom": {"optimizer": "sgd", "phases": "1e6,0,n,0,8"}}  # diverges in its first epochs


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as c, \
            distributed.Client(c) as cl:
        yield cl


@pytest.fixture(scope="module")
def swept(client, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    spec = parse_spec(GRID)
    table = run_sweep(spec, out, client=client, progress=False)
    return spec, out, table


def _same(a, b) -> bool:
    return (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)) or a == b


def test_sweep_equals_the_same_runs_one_by_one(swept, tmp_path):
    spec, out, table = swept
    assert (table["status"] == "done").all()
    for point in expand(spec):
        alone = train(point.config, tmp_path / point.run_id, theory_min=theory_min_for(point.config).value,
                      progress="off")
        swept_rows = read_csv(run_dir(out, point.run_id) / "metrics.csv")
        alone_rows = read_csv(tmp_path / point.run_id / "metrics.csv")
        assert len(swept_rows) == len(alone_rows) >= 2
        for r_swept, r_alone in zip(swept_rows, alone_rows):
            assert r_swept.keys() == r_alone.keys()
            assert all(_same(r_swept[k], r_alone[k]) for k in r_alone if k != "wall_s"), point.run_id
        row = table.set_index("run_id").loc[point.run_id]
        assert row["test_error"] == alone.final["test_error"] and row["trace"] == alone.final["trace"]
        assert row["theory_min"] == alone.final["theory_min"] > 0


def test_run_directories_are_those_of_sharpgen_train(swept):
    spec, out, _ = swept
    for point in expand(spec):
        d = run_dir(out, point.run_id)
        assert {p.name for p in d.iterdir()} == {"config.json", "metrics.csv", "checkpoint.pt", "summary.json"}
        assert ckpt.load_config(d) == point.config.to_dict()


def test_table_has_one_row_per_run_with_axes_config_and_metrics(swept):
    spec, out, table = swept
    points = expand(spec)
    assert len(table) == len(points) == 12 and list(table["run_id"]) == [p.run_id for p in points]
    for column in ("method", "arch", "n_per_d", "seed", "d", "n", "width", "optimizer", "phases", "test_error",
                   "trace", "theory_min", "gap", "rel_gap", "diag_zero_fraction", "diag_path_norm", "wall_s"):
        assert column in table.columns, column
    assert set(table["method"]) == {"sam", "gd", "asam"} and set(table["n"]) == {10}
    csv, parquet = pd.read_csv(out / "results.csv"), pd.read_parquet(out / "results.parquet")
    assert len(csv) == len(parquet) == 12
    assert (parquet["trace"] == table["trace"]).all() and (csv["run_id"] == table["run_id"]).all()


def test_a_rerun_skips_finished_runs(swept, client):
    spec, out, table = swept
    stamps = {p.run_id: (run_dir(out, p.run_id) / "summary.json").stat().st_mtime_ns for p in expand(spec)}
    again = run_sweep(spec, out, client=client, progress=False)
    assert {p.run_id: (run_dir(out, p.run_id) / "summary.json").stat().st_mtime_ns for p in expand(spec)} == stamps
    pd.testing.assert_frame_equal(again, table)


def test_a_failing_point_is_recorded_and_the_rest_completes(client, tmp_path):
    grid = json.loads(json.dumps(GRID))
    grid["axes"]["method"] = dict(BOOM, **grid["axes"]["method"])
    grid["axes"]["arch"] = ["nobias"]
    del grid["override"]
    spec = parse_spec(grid)
    table = run_sweep(spec, tmp_path, client=client, progress=False).set_index("run_id")
    assert len(table) == 8
    boom = table[table["method"] == "boom"]
    assert list(boom["status"]) == ["diverged", "diverged"]
    assert boom["error"].str.contains("training diverged").all() and boom["test_error"].isna().all()
    rest = table[table["method"] != "boom"]
    assert (rest["status"] == "done").all() and rest["test_error"].notna().all()
    for run_id in boom.index:
        record = json.loads((tmp_path / "errors" / f"{run_id}.json").read_text())
        assert record["status"] == "diverged"
    # Failed runs are not retried by default (training is deterministic); --retry-failed reruns them.
    assert run_sweep(spec, tmp_path, client=client, progress=False)["status"].value_counts()["diverged"] == 2


def test_an_exception_in_a_run_is_recorded_with_its_traceback(tmp_path, monkeypatch):
    from sharpgen.verify.sweep import runs
    (point,) = expand(parse_spec({"sweep": {"name": "e"}, "base": {"d": 4, "n": 6, "width": 4},
                                  "axes": {"seed": [3]}}))

    def broken(tasks):
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs, "_train_together", broken)
    result = execute_run(make_task(tmp_path, point, theory=False, retry_failed=False))
    assert result["status"] == "failed" and run_state(tmp_path, point.run_id) == "failed"
    record = json.loads((tmp_path / "errors" / f"{point.run_id}.json").read_text())
    assert record["error"] == "RuntimeError: disk full" and "broken" in record["traceback"]
    monkeypatch.undo()
    again = execute_run(make_task(tmp_path, point, theory=False, retry_failed=True))
    assert again["status"] == "done" and not (tmp_path / "errors" / f"{point.run_id}.json").exists()


def _files(folder) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_changed_sweep_file_is_refused_before_anything_runs(swept, client):
    spec, out, _ = swept
    grid = json.loads(json.dumps(GRID))
    grid["base"]["width"] = 9
    before = _files(out)
    with pytest.raises(ValueError, match=r"run method=sam__arch=nobias__n_per_d=2__seed=0 in the sweep folder is "
                                         r"bound to another config by .*grid.json \(differs in \['width'\]\)"):
        run_sweep(parse_spec(grid), out, client=client, progress=False)
    assert _files(out) == before
    (out / "grid.json").rename(out / "grid.json.away")  # the run directories bind their ids too
    try:
        with pytest.raises(ValueError, match=r"by its run directory \(.*config.json\) \(differs in \['width'\]"):
            run_sweep(parse_spec(grid), out, client=client, progress=False)
    finally:
        (out / "grid.json.away").rename(out / "grid.json")


def test_a_sweep_registered_first_binds_its_run_ids_before_any_run_starts(client, tmp_path):
    """Two different sweeps into one folder at once: the later is refused before it writes, though the
    first one has not trained anything yet (its registration alone binds the ids)."""
    from sharpgen.verify.sweep.identity import register
    first = parse_spec({"sweep": {"name": "a"}, "base": {"d": 4, "n": 6, "width": 4}, "axes": {"seed": [0, 1]}})
    second = parse_spec({"sweep": {"name": "b"}, "base": {"d": 4, "n": 6, "width": 5}, "axes": {"seed": [1, 2]}})
    register(first, expand(first), tmp_path)
    before = _files(tmp_path)
    with pytest.raises(ValueError, match=r"run seed=1 .* bound to another config .*differs in \['width'\]"):
        run_sweep(second, tmp_path, client=client, progress=False)
    assert _files(tmp_path) == before and not (tmp_path / "runs").exists()


def test_the_same_sweep_twice_at_once_cooperates(client, tmp_path):
    import threading
    spec = parse_spec({"sweep": {"name": "twice"}, "base": {"d": 4, "n": 6, "width": 4, "phases": "0.05,0.05,1,0,6"},
                       "axes": {"seed": [0, 1, 2]}})
    tables = []
    threads = [threading.Thread(target=lambda: tables.append(run_sweep(spec, tmp_path, client=client,
                                                                       progress=False))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(tables) == 2 and all((t["status"] == "done").all() for t in tables)
    pd.testing.assert_frame_equal(tables[0].drop(columns="wall_s"), tables[1].drop(columns="wall_s"))
    for point in expand(spec):
        assert ckpt.load_config(run_dir(tmp_path, point.run_id)) == point.config.to_dict()


def test_a_worker_never_trains_or_skips_a_run_folder_of_another_config(tmp_path):
    """The check under the run's lock: a run directory edited by hand to another config (grid.json says
    nothing) stops the task before it reads the run's state; the files stay as they were."""
    from sharpgen.verify.sweep.identity import RunIdentityError
    spec = parse_spec({"sweep": {"name": "w"}, "base": {"d": 4, "n": 6, "width": 4, "phases": "0.05,0.05,1,0,2"},
                       "axes": {"seed": [0]}})
    (point,) = expand(spec)
    assert execute_run(make_task(tmp_path, point, theory=False, retry_failed=False))["status"] == "done"
    before = _files(tmp_path)
    other = point.__class__(point.run_id, point.labels, point.values, point.config.replace(width=5))
    for call in (lambda t: execute_run(t), lambda t: execute_batch([t])):
        with pytest.raises(RunIdentityError, match=r"by its run directory .*differs in \['width'\]"):
            call(make_task(tmp_path, other, theory=False, retry_failed=False))
    assert {k: v for k, v in _files(tmp_path).items() if not k.startswith("locks/")} == \
        {k: v for k, v in before.items() if not k.startswith("locks/")}


def test_replica_batches_run_as_one_task_each(swept, client, tmp_path, metrics_text):
    _, alone_out, _ = swept
    grid = json.loads(json.dumps(GRID))
    grid["axes"]["method"] = {"sam": GRID["axes"]["method"]["sam"]}
    spec = parse_spec(grid)
    assert [len(b) for b in batches(expand(spec), 2)] == [2, 2]
    table = run_sweep(spec, tmp_path, client=client, replicas=2, progress=False)
    assert (table["status"] == "done").all() and len(table) == 4
    for point in expand(spec):  # trained together through one engine, each run as the sweep of single runs
        assert metrics_text(run_dir(tmp_path, point.run_id)) == metrics_text(run_dir(alone_out, point.run_id))


def _seed_tasks(tmp_path, seeds, boom=False):
    base = {"d": 4, "n": 6, "width": 4, "n_test": 10, "eval_every": 2}
    method = BOOM["boom"] if boom else {"optimizer": "sam", "phases": "0.05,0.05,1,0,4"}
    points = expand(parse_spec({"sweep": {"name": "b"}, "base": {**base, **method}, "axes": {"seed": seeds}}))
    return points, [make_task(tmp_path, p, theory=False, retry_failed=False) for p in points]


def test_a_batch_skips_its_finished_runs_and_trains_the_rest_together(tmp_path, metrics_text):
    points, tasks = _seed_tasks(tmp_path, [0, 1, 2])
    assert execute_run(tasks[1])["status"] == "done"
    first = metrics_text(run_dir(tmp_path, points[1].run_id))
    results = execute_batch(tasks)
    assert [(r["status"], r["skipped"]) for r in results] == [("done", False), ("done", True), ("done", False)]
    assert metrics_text(run_dir(tmp_path, points[1].run_id)) == first
    assert all(r["steps"] == 4 * 6 for r in results if not r["skipped"])


def test_diverged_members_of_a_batch_are_each_recorded(tmp_path):
    points, tasks = _seed_tasks(tmp_path, [0, 1], boom=True)
    results = execute_batch(tasks)
    assert [r["status"] for r in results] == ["diverged", "diverged"]
    assert all(run_state(tmp_path, p.run_id) == "diverged" for p in points)


def test_a_failing_joint_call_falls_back_to_one_run_at_a_time(tmp_path, monkeypatch):
    from sharpgen.verify.sweep import runs
    points, tasks = _seed_tasks(tmp_path, [0, 1])
    together = runs._train_together

    def only_alone(batch):
        if len(batch) > 1:
            raise RuntimeError("engine refused the group")
        return together(batch)

    monkeypatch.setattr(runs, "_train_together", only_alone)
    assert [r["status"] for r in execute_batch(tasks)] == ["done", "done"]
    assert not (tmp_path / "errors").exists() or not list((tmp_path / "errors").iterdir())


@pytest.mark.parametrize("batch", [False, True])
def test_a_stop_request_is_not_recorded_as_a_failure(tmp_path, monkeypatch, batch):
    from sharpgen.numerics.runs.interrupt import TrainingInterrupted
    from sharpgen.verify.sweep import runs
    points, tasks = _seed_tasks(tmp_path, [0, 1])

    def stopped(batch_tasks):
        raise TrainingInterrupted(15, "interrupted by SIGTERM at epoch 2; checkpoint saved", epoch=2)

    monkeypatch.setattr(runs, "_train_together", stopped)
    with pytest.raises(TrainingInterrupted):
        execute_batch(tasks) if batch else execute_run(tasks[0])
    assert not (tmp_path / "errors").exists() or not list((tmp_path / "errors").iterdir())


@pytest.mark.parametrize("kwargs,message", [
    ({"workers": 0}, r"workers: expected an integer >= 1"),
    ({"workers": 2, "scheduler": "tcp://x:1"}, r"scheduler, workers, client: give at most one"),
    ({"replicas": 0}, r"replicas: expected an integer >= 1"),
    ({"scheduler": ""}, r"scheduler: expected an address"),
])
def test_bad_arguments_are_refused(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        run_sweep(parse_spec(GRID), tmp_path / "never", progress=False, **kwargs)
    assert not (tmp_path / "never").exists()


def test_a_damaged_run_file_stops_the_sweep_naming_it_and_is_no_outcome_of_the_run(client, tmp_path):
    """Infrastructure, not a result: a random checkpoint.pt beside its config.json stops the sweep with one
    error naming the file (SweepStopped); nothing is recorded in errors/, and once the file is gone the
    rerun trains the run."""
    from sharpgen.numerics.runs.atomic import atomic_write_json
    from sharpgen.verify.sweep.driver import SweepStopped
    spec = parse_spec({"sweep": {"name": "dmg"}, "base": {"d": 4, "n": 6, "width": 4, "phases": "0.05,0.05,1,0,4"},
                       "axes": {"seed": [0]}})
    (point,) = expand(spec)
    d = run_dir(tmp_path, point.run_id)
    d.mkdir(parents=True)
    atomic_write_json(d / "config.json", {"config": point.config.to_dict()})
    (d / "checkpoint.pt").write_bytes(b"\x00not a checkpoint" * 10)
    with pytest.raises(SweepStopped, match=rf"{d / 'checkpoint.pt'}.*the sweep stopped \(finished runs are kept\)"):
        run_sweep(spec, tmp_path, client=client, progress=False)
    assert not (tmp_path / "errors" / f"{point.run_id}.json").exists()
    (d / "checkpoint.pt").unlink()
    assert list(run_sweep(spec, tmp_path, client=client, progress=False)["status"]) == ["done"]


def test_a_run_stopped_by_its_disk_is_resumed_not_counted_failed(tmp_path, monkeypatch):
    """A full disk inside a run: execute_run raises (naming the file) and records nothing; the summary.json
    'failed' that training wrote reads as interrupted, so the next sweep resumes it."""
    from sharpgen.numerics.runs.atomic import atomic_write_json
    from sharpgen.numerics.runs.rundir import RunDirError
    from sharpgen.verify.sweep import runs
    (point,) = expand(parse_spec({"sweep": {"name": "f"}, "base": {"d": 4, "n": 6, "width": 4}, "axes": {"seed": [3]}}))
    d = run_dir(tmp_path, point.run_id)

    def full(tasks):
        d.mkdir(parents=True, exist_ok=True)
        atomic_write_json(d / "config.json", {"config": point.config.to_dict()})
        atomic_write_json(d / "summary.json", {"status": "failed", "message": "disk full", "epoch": 0})
        raise RunDirError(f"run_dir: cannot write {d / 'metrics.csv'}: No space left on device")

    monkeypatch.setattr(runs, "_train_together", full)
    with pytest.raises(RunDirError, match="No space left on device"):
        execute_run(make_task(tmp_path, point, theory=False, retry_failed=False))
    assert not (tmp_path / "errors").exists() and run_state(tmp_path, point.run_id) == "interrupted"
    monkeypatch.undo()
    (d / "summary.json").unlink()  # as training leaves it for a resume after a kill before the first checkpoint
    assert execute_run(make_task(tmp_path, point, theory=False, retry_failed=False))["status"] == "done"
