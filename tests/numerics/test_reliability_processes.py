"""Issue 13 with real processes: two `sharpgen train` racing for one run directory (one refuses, nothing of
the other is lost), and SIGINT / SIGTERM sent to a real `sharpgen train`, then the printed resume command,
compared with an uninterrupted run (bitwise parameters; metrics.csv equal in every column but wall_s)."""
import json
import shlex
import signal
import subprocess
import sys
import time

import pytest

from conftest import run_numbers as numbers
from sharpgen.numerics.runs import checkpoint as ckpt
from sharpgen.numerics.runs.train import train

ARGS = ["--arch", "bias", "--d", "6", "--n", "16", "--n-test", "20", "--width", "12", "--backend", "torch",
        "--phases", "0.05,0.05,1,0,200; 0.05,0.1,4,0,200", "--eval-every", "50", "--eval-log-points", "6",
        "--progress", "lines", "--no-theory"]
CLI = [sys.executable, "-m", "sharpgen.verify.cli"]


def sharpgen(*argv):
    return subprocess.Popen([*CLI, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc, timeout=300):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run of ARGS, made through the CLI's own config (its --print-config)."""
    from sharpgen.numerics.runs.config import TrainConfig
    printed = subprocess.run([*CLI, "train", *ARGS, "--print-config"], capture_output=True, text=True, check=True)
    run_dir = tmp_path_factory.mktemp("ref") / "full"
    train(TrainConfig.from_dict(json.loads(printed.stdout)), run_dir)
    return numbers(run_dir)


def test_two_processes_racing_for_one_directory(tmp_path, reference):
    out = tmp_path / "run"
    procs = [sharpgen("train", *ARGS, "--out", str(out)) for _ in range(2)]
    results = [finish(p) for p in procs]
    assert sorted(rc for rc, _, _ in results) == [0, 2], [err for _, _, err in results]
    (winner, (_, _, refused)) = (procs[0], results[1]) if results[0][0] == 0 else (procs[1], results[0])
    assert refused.count("\n") == 1 and "Traceback" not in refused
    assert (f"sharpgen train: error: run_dir: {out} is in use by another run (pid {winner.pid} on " in refused
            or f"sharpgen train: error: run_dir: {out} already holds a run" in refused)  # a late loser
    # nothing of the winner lost or mixed: one session, one config, and exactly the uninterrupted numbers
    state = ckpt.load_checkpoint(out)
    assert len(state["sessions"]) == 1 and state["config"] == ckpt.load_config(out)
    assert json.loads((out / ckpt.SUMMARY).read_text())["status"] == "done"
    assert numbers(out) == reference
    assert sorted(p.name for p in out.iterdir()) == sorted(ckpt.RUN_FILES)


def wait_for_rows(path, count, proc, timeout=120):
    """Wait until metrics.csv has ``count`` evaluation rows (the run is under way)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if path.exists() and len(path.read_text().splitlines()) > count:
            return
        assert proc.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.02)
    raise AssertionError("no progress")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_real_signal_saves_reports_and_resumes_exactly(tmp_path, reference, signum):
    out = tmp_path / "run"
    proc = sharpgen("train", *ARGS, "--out", str(out))
    wait_for_rows(out / ckpt.METRICS, 2, proc)
    proc.send_signal(signum)
    rc, _, err = finish(proc)
    name = signal.Signals(signum).name
    assert rc == 128 + signum, err
    assert "Traceback" not in err
    epoch = ckpt.load_checkpoint(out)["epoch"]
    assert 0 < epoch < 400
    assert f"\nsharpgen train: interrupted by {name} at epoch {epoch}; checkpoint saved\n" in err
    summary = json.loads((out / ckpt.SUMMARY).read_text())
    assert (summary["status"], summary["epoch"]) == ("interrupted", epoch)
    command = err.split("sharpgen train: resume with: ")[1].strip()
    assert command == f"sharpgen train --resume --out {shlex.quote(str(out))}"
    rc, stdout, err = finish(subprocess.Popen([*CLI, *shlex.split(command)[1:]], stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE, text=True))
    assert rc == 0, err
    assert numbers(out) == reference
    sessions = json.loads((out / ckpt.SUMMARY).read_text())["sessions"]
    assert [s["start_epoch"] for s in sessions] == [0, epoch]
