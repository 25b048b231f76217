"""Issue 11, replicas: ``train_many`` (and ``sharpgen train --seeds``) step several runs through one
multi-replica engine and write each run directory exactly as a single ``train`` of its config
does: bitwise equal parameters, metrics.csv in every column but wall_s, the same config.json and
the same final summary row; a diverging run does not disturb the others; signals save every run
and the printed resume command continues them to the numbers of uninterrupted single runs."""
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch

from conftest import run_numbers as numbers
from sharpgen.numerics.runs import checkpoint as ckpt
from sharpgen.numerics.runs.config import Phase, TrainConfig
from sharpgen.numerics.engine.diverged import TrainingDiverged
from sharpgen.numerics.engine.c import loops as c_kernel
from sharpgen.numerics.engine.replicas import ReplicaEngine
from sharpgen.numerics.runs.interrupt import TrainingInterrupted
from sharpgen.numerics.runs.rundir import RunDirBusy
from sharpgen.numerics.runs.train import train, train_many

# evaluations at 0, 1, 2, 4, 5, 6, 8, 10, 13, 15, 20; checkpoints every 5
BASE = TrainConfig(arch="bias", d=6, n=16, n_test=20, width=16, eval_every=5, eval_log_points=8, checkpoint_every=5,
                   phases=(Phase(0.05, 0.05, 1, 0.0, 10), Phase(0.05, 0.1, 1, 0.01, 10)))
BACKENDS = ["generic", "torch"] + (["c"] if c_kernel.c_available() else [])
SEEDS = (0, 1, 2)


def final_row(run_dir):
    """summary.json's status and final row without the wall clock."""
    summary = json.loads((run_dir / ckpt.SUMMARY).read_text())
    return summary["status"], {k: v for k, v in summary["final"].items() if k != "wall_s"}


def same_as_single(multi_dir, single_dir):
    """The run directory ``multi_dir`` holds exactly what the single run in ``single_dir`` wrote."""
    assert numbers(multi_dir) == numbers(single_dir)  # metrics.csv but wall_s; parameters bitwise (as lists)
    got, want = ckpt.load_checkpoint(multi_dir)["params"], ckpt.load_checkpoint(single_dir)["params"]
    assert all(torch.equal(got[k], want[k]) for k in want)
    assert final_row(multi_dir) == final_row(single_dir)
    assert (multi_dir / ckpt.CONFIG).read_text() == (single_dir / ckpt.CONFIG).read_text()


@pytest.fixture
def engine_calls(monkeypatch):
    """How many replicas each engine call stepped."""
    real, sizes = ReplicaEngine.run, []

    def counted(self, orders, targets, phases):
        sizes.append(len(orders))
        return real(self, orders, targets, phases)

    monkeypatch.setattr(ReplicaEngine, "run", counted)
    return sizes


@pytest.mark.parametrize("backend", BACKENDS)
def test_many_seeds_in_one_call_equal_their_single_runs(tmp_path, backend, engine_calls):
    configs = [BASE.replace(seed=s, backend=backend) for s in SEEDS]
    results = train_many(configs, [tmp_path / f"many{s}" for s in SEEDS], replica_threads=3, progress="off")
    assert engine_calls and set(engine_calls) == {3}  # every chunk stepped the three replicas together
    assert [r.status for r in results] == ["done"] * 3
    for s, config, result in zip(SEEDS, configs, results):
        single = train(config, tmp_path / f"one{s}", progress="off")
        same_as_single(tmp_path / f"many{s}", tmp_path / f"one{s}")
        assert [{k: v for k, v in r.items() if k != "wall_s"} for r in result.rows] == \
               [{k: v for k, v in r.items() if k != "wall_s"} for r in single.rows]
    assert numbers(tmp_path / "many0") != numbers(tmp_path / "many1")  # the seeds really differ


@pytest.mark.parametrize("arch,extra", [("nobias", {}), ("sim_ln", dict(eps=1e-3, project_radius=3.0)),
                                        ("sim_bn", {}), ("bias", dict(depth=3)),
                                        ("bias", dict(loss="logistic", p=0.2))])
def test_every_architecture_through_the_engine_equals_single_runs(tmp_path, arch, extra):
    configs = [BASE.replace(arch=arch, seed=s, **extra) for s in SEEDS]
    train_many(configs, [tmp_path / f"many{s}" for s in SEEDS], progress="off")
    for s, config in zip(SEEDS, configs):
        train(config, tmp_path / f"one{s}", progress="off")
        same_as_single(tmp_path / f"many{s}", tmp_path / f"one{s}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_different_lr_rho_and_weight_decay_in_one_call_equal_their_single_runs(tmp_path, engine_calls, backend):
    grid = [((0.05, 0.05, 0.0), (0.05, 0.1, 0.01)), ((0.02, 0.2, 0.0), (0.03, 0.0, 0.05)),
            ((0.08, 0.0, 0.02), (0.01, 0.3, 0.0))]
    configs = [BASE.replace(seed=k, backend=backend, phases=tuple(Phase(lr, rho, 1, wd, 10) for lr, rho, wd in values))
               for k, values in enumerate(grid)]
    results = train_many(configs, [tmp_path / f"many{k}" for k in range(3)], progress="off")
    assert set(engine_calls) == {3}
    for k, config in enumerate(configs):
        train(config, tmp_path / f"one{k}", progress="off")
        same_as_single(tmp_path / f"many{k}", tmp_path / f"one{k}")
        assert [(r["lr"], r["rho"], r["weight_decay"]) for r in results[k].rows][-1] == grid[k][1]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_diverging_run_is_recorded_and_the_others_finish_as_alone(tmp_path, backend):
    base = BASE.replace(backend=backend)
    bad = base.replace(seed=1, phases=(Phase(0.05, 0.05, 1, 0.0, 10), Phase(1e6, 0.0, 1, 0.0, 10)))
    configs = [base.replace(seed=0), bad, base.replace(seed=2)]
    results = train_many(configs, [tmp_path / f"many{k}" for k in range(3)], progress="off")
    assert [r.status for r in results] == ["done", "diverged", "done"]
    for k in (0, 2):
        train(configs[k], tmp_path / f"one{k}", progress="off")
        same_as_single(tmp_path / f"many{k}", tmp_path / f"one{k}")
    with pytest.raises(TrainingDiverged) as alone:
        train(bad, tmp_path / "one1", progress="off")
    assert results[1].message == str(alone.value).replace("one1", "many1")
    assert "last good checkpoint (epoch 10)" in results[1].message
    # the engine's own words, told where in the run: the same on every backend but for what it saw
    assert re.fullmatch(r"training diverged in epochs \[10, \d+\) \(phase 1: lr=1000000\.0, rho=0\.0\): non-finite "
                        r"(output at step \d+ of this chunk|parameters)\. The last good checkpoint \(epoch 10\) is "
                        r"kept in .*many1.*", results[1].message), results[1].message
    summaries = [json.loads((tmp_path / d / ckpt.SUMMARY).read_text()) for d in ("many1", "one1")]
    assert summaries[0]["status"] == summaries[1]["status"] == "diverged"
    assert summaries[0]["message"] == summaries[1]["message"].replace("one1", "many1")
    assert numbers(tmp_path / "many1") == numbers(tmp_path / "one1")  # rows and last good checkpoint alike


def test_runs_resumed_from_different_epochs_meet_and_equal_uninterrupted_runs(tmp_path, monkeypatch, engine_calls):
    configs = [BASE.replace(seed=s) for s in SEEDS]
    real, calls = ReplicaEngine.run, {"n": 0}

    def killed(self, orders, targets, phases):
        calls["n"] += 1
        if calls["n"] == 5:  # in the chunk [5, 6), after the checkpoint of epoch 5
            raise KeyboardInterrupt("killed")
        return real(self, orders, targets, phases)

    monkeypatch.setattr(ReplicaEngine, "run", killed)
    with pytest.raises(KeyboardInterrupt):
        train(configs[0], tmp_path / "many0", progress="off")
    monkeypatch.setattr(ReplicaEngine, "run", real)
    assert ckpt.load_checkpoint(tmp_path / "many0")["epoch"] == 5
    engine_calls.clear()
    results = train_many(configs, [tmp_path / f"many{s}" for s in SEEDS], resume=[True, False, False],
                         progress="off")
    assert engine_calls[0] == 2 and engine_calls[-1] == 3  # seeds 1 and 2 catch up with seed 0, then all three
    assert [len(r.rows) for r in results] == [11, 11, 11]
    for s, config in zip(SEEDS, configs):
        train(config, tmp_path / f"one{s}", progress="off")
        same_as_single(tmp_path / f"many{s}", tmp_path / f"one{s}")


def test_a_signal_saves_every_run_and_any_resume_matches_single_runs(tmp_path, monkeypatch):
    configs = [BASE.replace(seed=s) for s in SEEDS]
    dirs = [tmp_path / f"many{s}" for s in SEEDS]
    real, calls = ReplicaEngine.run, {"n": 0}

    def signalled(self, orders, targets, phases):
        calls["n"] += 1
        out = real(self, orders, targets, phases)
        if calls["n"] == 4:  # in the chunk [4, 5)
            os.kill(os.getpid(), signal.SIGTERM)
        return out

    monkeypatch.setattr(ReplicaEngine, "run", signalled)
    with pytest.raises(TrainingInterrupted) as err:
        train_many(configs, dirs, progress="off")
    assert (err.value.exit_code, err.value.epoch) == (143, 5)
    for run_dir in dirs:
        assert json.loads((run_dir / ckpt.SUMMARY).read_text())["status"] == "interrupted"
        assert ckpt.load_checkpoint(run_dir)["epoch"] == 5
    monkeypatch.undo()
    train(configs[0], dirs[0], resume=True, progress="off")  # a run of a multi-run resumes alone, too
    train_many(configs[1:], dirs[1:], resume=True, progress="off")
    for s, config, run_dir in zip(SEEDS, configs, dirs):
        train(config, tmp_path / f"one{s}", progress="off")
        same_as_single(run_dir, tmp_path / f"one{s}")


def test_progress_is_a_line_per_run_and_evaluation_or_one_bar(tmp_path, capsys):
    configs = [BASE.replace(seed=s) for s in (0, 1)]
    train_many(configs, [tmp_path / "a", tmp_path / "b"], progress="lines")
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["a", "b"] * 10  # evaluations after epoch 0, in step
    assert lines[-1].startswith("b epoch 20/20 (100.0%)  phase 2/2 (")
    train_many(configs, [tmp_path / "c", tmp_path / "d"], progress="bar")
    err = capsys.readouterr().err
    assert "20/20" in err and " epoch " not in err  # one bar for both runs, no lines


def test_what_cannot_train_together_is_refused_before_anything(tmp_path):
    with pytest.raises(ValueError, match=r"^configs\[1\]: differs from configs\[0\] in \['width'\]; runs trained "
                                         r"together may differ only in seed, data_seed and the phases' lr"):
        train_many([BASE, BASE.replace(seed=1, width=8)], [tmp_path / "a", tmp_path / "b"])
    with pytest.raises(ValueError, match=r"^configs\[1\]: differs from configs\[0\] in \['phases'\]"):
        train_many([BASE, BASE.replace(phases=(Phase(0.05, 0.05, 1, 0.0, 20),))], [tmp_path / "a", tmp_path / "b"])
    with pytest.raises(ValueError, match=r"^run_dirs: runs 0 and 1 both name"):
        train_many([BASE, BASE.replace(seed=1)], [tmp_path / "a", tmp_path / "x" / ".." / "a"])
    with pytest.raises(ValueError, match=r"^run_dirs: expected one directory per config"):
        train_many([BASE, BASE.replace(seed=1)], [tmp_path / "a"])
    with pytest.raises(ValueError, match=r"^resume: expected one entry per run \(2\), got 1"):
        train_many([BASE, BASE.replace(seed=1)], [tmp_path / "a", tmp_path / "b"], resume=[True])
    with pytest.raises(ValueError, match=r"^replica_threads: expected an integer >= 1"):
        train_many([BASE], [tmp_path / "a"], replica_threads=0)
    assert list(tmp_path.iterdir()) == []


def test_a_busy_directory_refuses_the_whole_call_and_touches_nothing(tmp_path):
    from sharpgen.numerics.runs.rundir import locked
    train(BASE, tmp_path / "done", progress="off")
    before = {p.name: p.read_bytes() for p in (tmp_path / "done").iterdir()}
    with locked(tmp_path / "zbusy"):  # locked last (the directories are locked in sorted order)
        errors = []
        worker = threading.Thread(target=lambda: _catch(errors, lambda: train_many(
            [BASE.replace(seed=s) for s in SEEDS], [tmp_path / "new0", tmp_path / "zbusy", tmp_path / "new2"])))
        worker.start()
        worker.join()
    assert isinstance(errors[0], RunDirBusy) and "is in use by another thread" in str(errors[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["done"]  # the folders it created are gone again
    assert {p.name: p.read_bytes() for p in (tmp_path / "done").iterdir()} == before


def _catch(errors, action):
    try:
        action()
    except Exception as err:  # noqa: BLE001  (handed to the test's thread)
        errors.append(err)


# ------------------------------------------------------------------ real processes (sharpgen train --seeds)

ARGS = ["--arch", "bias", "--d", "6", "--n", "16", "--n-test", "20", "--width", "12", "--backend", "torch",
        "--phases", "0.05,0.05,1,0,200; 0.05,0.1,4,0,200", "--eval-every", "50", "--eval-log-points", "6",
        "--progress", "lines", "--no-theory"]
CLI = [sys.executable, "-m", "sharpgen.verify.cli"]


def sharpgen(*argv, cwd=None):
    return subprocess.Popen([*CLI, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """Uninterrupted single runs of ARGS for seeds 0-4, through the CLI's own configs (--print-config)."""
    printed = subprocess.run([*CLI, "train", *ARGS, "--seeds", "5", "--print-config"], capture_output=True,
                             text=True, check=True)
    root = tmp_path_factory.mktemp("refs")
    out = {}
    for config in json.loads(printed.stdout):
        train(TrainConfig.from_dict(config), root / str(config["seed"]), progress="off")
        out[config["seed"]] = numbers(root / str(config["seed"]))
    return out


def test_sigterm_to_a_multi_run_then_the_printed_resume_command(tmp_path, references):
    proc = sharpgen("train", *ARGS, "--seeds", "0-2", "--out", str(tmp_path / "runs"))
    dirs = [tmp_path / "runs" / f"seed{s}" for s in range(3)]
    start = time.monotonic()
    while not all((d / ckpt.METRICS).exists() and len((d / ckpt.METRICS).read_text().splitlines()) > 2
                  for d in dirs):
        assert proc.poll() is None, "the runs ended before they could be interrupted"
        assert time.monotonic() - start < 120, "no progress"
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    command = err.strip().splitlines()[-1]
    quoted = " ".join(shlex.quote(str(d)) for d in dirs)
    assert command == f"sharpgen train: resume with: sharpgen train --resume --out {quoted}"
    for d in dirs:
        assert json.loads((d / ckpt.SUMMARY).read_text())["status"] == "interrupted"
    argv = shlex.split(command.split("resume with: ", 1)[1])[2:]  # after "sharpgen train"
    resumed = sharpgen("train", *argv, "--progress", "off")
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    assert len(out.strip().splitlines()) == 3  # one report line per run
    for seed, d in enumerate(dirs):
        assert numbers(d) == references[seed]
        assert len(ckpt.load_checkpoint(d)["sessions"]) == 2


def test_two_multi_runs_racing_for_an_overlapping_directory(tmp_path, references):
    procs = [sharpgen("train", *ARGS, "--seeds", seeds, cwd=tmp_path) for seeds in ("0-2", "2-4")]
    results = [(p, *p.communicate(timeout=300)) for p in procs]
    assert sorted(p.returncode for p, _, _ in results) == [0, 2], [err for _, _, err in results]
    (winner, won), (loser, lost) = sorted(((p, seeds) for p, seeds in zip(procs, ((0, 1, 2), (2, 3, 4)))),
                                          key=lambda pair: pair[0].returncode)
    refused = next(err for p, _, err in results if p is loser).strip().splitlines()
    assert len(refused) == 1 and refused[0].startswith("sharpgen train: error: run_dir: "), refused
    assert "is in use by another run (pid" in refused[0] or "already holds a run" in refused[0]
    names = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert [int(n.split("-seed")[1].split("-")[0]) for n in names] == list(won)  # nothing of the loser
    for name, seed in zip(names, won):  # nothing of the winner lost or mixed
        run_dir = tmp_path / "runs" / name
        assert numbers(run_dir) == references[seed]
        assert len(ckpt.load_checkpoint(run_dir)["sessions"]) == 1
        assert sorted(p.name for p in run_dir.iterdir()) == sorted(ckpt.RUN_FILES)
