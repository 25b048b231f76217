"""A killed sweep resumes: `sharpgen sweep` (embedded cluster, a separate process) is killed with SIGKILL
after some runs finished and others are half-way; rerunning the sweep skips the finished runs, resumes
the interrupted ones from their checkpoints, and every run ends with the numbers of an uninterrupted run.

Runs use the generic engine (about a millisecond per step) so that each takes a few seconds and the kill
lands while some are half-way; the kill waits for that state rather than for a fixed time.
"""
import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from sharpgen.numerics.runs import checkpoint as ckpt
from sharpgen.numerics.runs.train import train
from sharpgen.verify.sweep import expand, load_spec, run_sweep
from sharpgen.verify.sweep.runs import run_dir, run_state

SPEC = """
[sweep]
name = "killme"
theory = false

[base]
arch = "nobias"
d = 6
n = 24
width = 16
n_test = 50
backend = "generic"
phases = "0.05,0.05,1,0,120"
eval_every = 6

[axes]
seed = [0, 1, 2, 3]
"""
TIMEOUT_S = 240


def _checkpoint_epoch(directory) -> int:
    state = ckpt.load_checkpoint(directory)
    return int(state["epoch"]) if state is not None else 0


def _wait_for_half_done(out, points, proc) -> None:
    """Until at least two runs are done and another has a checkpoint past epoch 0 (or fail after TIMEOUT_S)."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        states = [run_state(out, p.run_id) for p in points]
        partial = [p for p, s in zip(points, states)
                   if s == "interrupted" and _checkpoint_epoch(run_dir(out, p.run_id)) > 0]
        if states.count("done") >= 2 and partial:
            return
        assert proc.poll() is None, "the sweep finished before it could be killed: " + proc.stderr.read()
        time.sleep(0.05)
    pytest.fail(f"no run was half-way within {TIMEOUT_S} s")


def test_a_killed_sweep_resumes_and_skips_finished_runs(tmp_path, metrics_text):
    spec_path, out = tmp_path / "killme.toml", tmp_path / "out"
    spec_path.write_text(SPEC)
    points = expand(load_spec(spec_path))
    proc = subprocess.Popen([sys.executable, "-m", "sharpgen.verify.cli", "sweep", str(spec_path), "--out", str(out),
                             "--workers", "2", "--progress", "off"], stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        _wait_for_half_done(out, points, proc)
        workers = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    # The embedded cluster's processes watch their parent and leave with it: no orphan keeps training.
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive, f"worker processes outlived the killed driver: {alive}"

    states = {p.run_id: run_state(out, p.run_id) for p in points}
    finished = [r for r, s in states.items() if s == "done"]
    interrupted = [r for r, s in states.items() if s == "interrupted" and _checkpoint_epoch(run_dir(out, r)) > 0]
    assert len(finished) >= 2 and interrupted
    stamps = {r: (run_dir(out, r) / "summary.json").stat().st_mtime_ns for r in finished}
    resumed_from = {r: _checkpoint_epoch(run_dir(out, r)) for r in interrupted}

    table = run_sweep(spec_path, out, workers=2, progress=False)
    assert (table["status"] == "done").all() and len(table) == len(points)
    assert {r: (run_dir(out, r) / "summary.json").stat().st_mtime_ns for r in finished} == stamps
    for run_id, epoch in resumed_from.items():  # continued from the checkpoint, not restarted
        summary = json.loads((run_dir(out, run_id) / "summary.json").read_text())
        assert summary["steps_this_session"] == (120 - epoch) * 24
    for run_id in interrupted + finished[:1]:  # the same numbers as an uninterrupted run made alone
        point = next(p for p in points if p.run_id == run_id)
        alone = tmp_path / "alone" / run_id
        train(point.config, alone, progress="off")
        assert metrics_text(run_dir(out, run_id)) == metrics_text(alone), run_id
