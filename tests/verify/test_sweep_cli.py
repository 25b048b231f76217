"""`sharpgen sweep` (verify.cmd_sweep): help, bad input (exit 2, nothing written), dry run, exit status."""
import argparse
import json
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import assert_fresh_python_runs

from sharpgen.verify import cmd_sweep
from sharpgen.verify.sweep.catalog import study_names

TINY = """
[sweep]
name = "tiny"
theory = false
[base]
arch = "nobias"
d = 4
n = 8
width = 4
n_test = 16
eval_every = 2
[axes]
method = { ok = { optimizer = "sam", phases = "0.05,0.05,1,0,4" }, boom = { optimizer = "sgd", phases = "1e6,0,n,0,4" } }
seed = [0]
"""


def run(argv):
    parser = argparse.ArgumentParser(prog="sharpgen")
    cmd_sweep.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_help_names_the_studies_and_the_cluster_recipe(capsys):
    with pytest.raises(SystemExit):
        run(["sweep", "--help"])
    out = capsys.readouterr().out
    for name in study_names():
        assert name in out
    assert "dask scheduler" in out and "dask worker tcp://HOST:8786" in out and "--scheduler" in out


def test_the_sweep_parser_loads_neither_torch_nor_dask():
    code = ("import argparse, sys, sharpgen.verify.cmd_sweep as c\n"
            "c.add_parser(argparse.ArgumentParser().add_subparsers())\n"
            "heavy = {'torch', 'dask', 'distributed', 'pandas'} & set(sys.modules)\n"
            "assert not heavy, heavy")
    assert_fresh_python_runs(code)


@pytest.mark.parametrize("text,message", [
    ("[sweep]\nname = 'x'\n[axes]\nwidth = [0]\n", "grid point width=0: width: expected an integer >= 1, got 0"),
    ("[sweep]\nname = 'x'\n[axes]\nwidht = [1]\n", "axes.widht: a list axis must name a config field"),
    ("[sweep\n", "not valid TOML"),
])
def test_bad_sweep_files_exit_2_and_write_nothing(tmp_path, capsys, text, message):
    spec = tmp_path / "bad.toml"
    spec.write_text(text)
    assert run(["sweep", str(spec), "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_workers_and_scheduler_together_exit_2(tmp_path, capsys):
    assert run(["sweep", "minimizers", "--scheduler", "tcp://127.0.0.1:1", "--workers", "2",
                "--out", str(tmp_path / "o")]) == 2
    assert "--workers sizes the embedded cluster" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_bad_worker_count_is_refused_by_argparse(capsys):
    with pytest.raises(SystemExit) as info:
        run(["sweep", "minimizers", "--workers", "0"])
    assert info.value.code == 2 and "expected an integer >= 1" in capsys.readouterr().err


def test_dry_run_lists_every_run_of_a_shipped_study(tmp_path, capsys):
    assert run(["sweep", "minimizers", "--dry-run", "--out", str(tmp_path / "o")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 96 and lines[0].split() == ["missing", "arch=nobias__method=sam1__seed=0"]
    assert not (tmp_path / "o").exists()


def test_a_sweep_with_a_failed_run_exits_1_and_writes_the_table(tmp_path, capsys):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    out = tmp_path / "out"
    assert run(["sweep", str(spec), "--out", str(out), "--workers", "1", "--progress", "off"]) == 1
    printed = capsys.readouterr().out
    assert "1/2 runs done" in printed and "'diverged': 1" in printed
    table = pd.read_csv(out / "results.csv")
    assert list(table["status"]) == ["done", "diverged"]
    assert run(["sweep", str(spec), "--out", str(out), "--collect"]) == 1  # the same table, nothing rerun
    assert pd.read_csv(out / "results.csv").equals(table)


def _wait_for(path, proc, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None and time.monotonic() < deadline, f"no {path.name} from {proc.args}"
        time.sleep(0.1)


def _wait_for_progress(run_dir, proc, timeout=60.0):
    """Until the run's checkpoint lies past epoch 0 (the first one is written at epoch 0)."""
    from sharpgen.numerics.runs.checkpoint import load_checkpoint
    deadline = time.monotonic() + timeout
    while True:
        state = load_checkpoint(run_dir) if (run_dir / "checkpoint.pt").exists() else None
        if state is not None and state["epoch"] > 0:
            return
        assert proc.poll() is None and time.monotonic() < deadline, f"no progress in {run_dir} from {proc.args}"
        time.sleep(0.1)


def test_a_sweep_runs_on_a_separate_dask_cluster(tmp_path, capsys):
    # What docs/sweeps.md tells users to do on other machines: `dask scheduler`, then `dask worker ADDRESS`.
    bindir = __import__("pathlib").Path(sys.executable).parent
    info = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen([bindir / "dask", "scheduler", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(info)], stderr=subprocess.DEVNULL)
    worker = None
    try:
        _wait_for(info, scheduler)
        address = json.loads(info.read_text())["address"]
        worker = subprocess.Popen([bindir / "dask", "worker", address, "--nthreads", "1", "--no-dashboard"],
                                  stderr=subprocess.DEVNULL)
        spec = tmp_path / "tiny.toml"
        spec.write_text(TINY)
        out = tmp_path / "out"
        assert run(["sweep", str(spec), "--out", str(out), "--scheduler", address, "--progress", "off"]) == 1
        assert list(pd.read_csv(out / "results.csv")["status"]) == ["done", "diverged"]
        assert worker.poll() is None and scheduler.poll() is None  # the sweep leaves an existing cluster running
    finally:
        for proc in (worker, scheduler):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)


def test_an_unreachable_scheduler_exits_2(tmp_path, capsys):
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    assert run(["sweep", str(spec), "--out", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9"]) == 2
    assert "scheduler: cannot connect to tcp://127.0.0.1:9" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.fixture
def silent_peer():
    """A TCP listener that accepts connections and never answers (what hung the handshake)."""
    import socket
    import threading
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held, stop = [], threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_a_peer_that_never_answers_fails_within_the_connect_deadline(tmp_path, capsys, silent_peer, monkeypatch):
    from sharpgen.verify.sweep import driver
    monkeypatch.setattr(driver, "CONNECT_S", 2)
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    start = time.monotonic()
    assert run(["sweep", str(spec), "--out", str(tmp_path / "out"), "--scheduler", silent_peer]) == 2
    assert time.monotonic() - start < 15
    err = capsys.readouterr().err
    assert f"scheduler: {silent_peer} accepted the connection but sent no Dask handshake within 2 s" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_a_scheduler_without_workers_is_reported_after_the_wait(tmp_path, capsys, monkeypatch):
    from sharpgen.verify.sweep import driver
    monkeypatch.setattr(driver, "WORKERS_WAIT_S", 2)
    bindir = __import__("pathlib").Path(sys.executable).parent
    info = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen([bindir / "dask", "scheduler", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(info)], stderr=subprocess.DEVNULL)
    try:
        _wait_for(info, scheduler)
        address = json.loads(info.read_text())["address"]
        spec = tmp_path / "tiny.toml"
        spec.write_text(TINY)
        assert run(["sweep", str(spec), "--out", str(tmp_path / "out"), "--scheduler", address]) == 2
        assert f"scheduler: {address} has had no worker for 2 s; start one with `dask worker {address}`" in \
            capsys.readouterr().err
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=30)


@pytest.mark.parametrize("out, message", [("", "argument --out: expected a directory path, got ''"),
                                          ("afile/sub", "out: {tmp}/afile is a file, so {tmp}/afile/sub cannot be created")])
def test_an_out_that_cannot_be_a_folder_exits_2_and_writes_nothing(tmp_path, capsys, monkeypatch, out, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("")
    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    before = sorted(p.name for p in tmp_path.iterdir())
    target = str(tmp_path / out) if out else out
    try:
        code = run(["sweep", str(spec), "--out", target])
    except SystemExit as exit_:  # argparse refuses the argument itself
        code = exit_.code
    assert code == 2
    assert message.format(tmp=tmp_path) in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


SLOW = """
[sweep]
name = "slow"
theory = false
[base]
arch = "sim_bn"
d = 4
n = 8
width = 8
n_test = 16
eval_every = 20000
phases = "0.01,0.05,1,0,200000"
[axes]
seed = [0, 1]
"""


def test_a_scheduler_lost_mid_sweep_stops_with_its_state_and_the_resume_command(tmp_path):
    """kill -9 of the scheduler while its worker trains: one error line and the resume command, exit 2, no
    traceback; the rerun on this machine resumes the runs from their checkpoints and finishes them."""
    bindir = __import__("pathlib").Path(sys.executable).parent
    info, spec, out = tmp_path / "scheduler.json", tmp_path / "slow.toml", tmp_path / "out"
    spec.write_text(SLOW)
    scheduler = subprocess.Popen([bindir / "dask", "scheduler", "--port", "0", "--no-dashboard",
                                  "--scheduler-file", str(info)], stderr=subprocess.DEVNULL)
    worker = sweep = None
    try:
        _wait_for(info, scheduler)
        address = json.loads(info.read_text())["address"]
        worker = subprocess.Popen([bindir / "dask", "worker", address, "--nthreads", "1", "--no-dashboard"],
                                  stderr=subprocess.DEVNULL)
        sweep = subprocess.Popen([bindir / "sharpgen", "sweep", str(spec), "--out", str(out), "--scheduler", address,
                                  "--progress", "off"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for_progress(out / "runs" / "seed=0", sweep)
        scheduler.kill()
        worker.kill()  # the machine goes with its scheduler: an orphaned worker could otherwise finish the runs
        stdout, stderr = sweep.communicate(timeout=120)
    finally:
        for proc in (sweep, worker, scheduler):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    assert sweep.returncode == 2 and "Traceback" not in stdout + stderr
    assert stderr.splitlines() == [
        f"sharpgen sweep: error: scheduler: lost the connection to {address} during the sweep; 0 of 2 runs are "
        "done and kept, unfinished ones resume from their checkpoints (once the scheduler is back, or on this "
        f"machine without --scheduler); resume with: sharpgen sweep {spec} --out {out} --scheduler {address}"]
    assert run(["sweep", str(spec), "--out", str(out), "--workers", "2", "--progress", "off"]) == 0
    table = pd.read_csv(out / "results.csv")
    assert list(table["status"]) == ["done", "done"] and list(table["epoch"]) == [200000, 200000]
    summary = json.loads((out / "runs" / "seed=0" / "summary.json").read_text())
    assert summary["status"] == "done" and len(summary["sessions"]) == 2  # resumed, not started again
    assert summary["sessions"][1]["start_epoch"] > 0


def test_ctrl_c_at_the_terminal_stops_the_sweep_without_a_worker_traceback(tmp_path):
    """SIGINT to the whole foreground process group (what a terminal's Ctrl-C does) while the embedded
    cluster's workers train: exit 130, the resume command, and not one traceback from a worker."""
    import os
    import signal
    spec, out = tmp_path / "slow.toml", tmp_path / "out"
    spec.write_text(SLOW)
    bindir = __import__("pathlib").Path(sys.executable).parent
    sweep = subprocess.Popen([bindir / "sharpgen", "sweep", str(spec), "--out", str(out), "--workers", "2"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        _wait_for(out / "runs" / "seed=0" / "checkpoint.pt", sweep)
        os.killpg(sweep.pid, signal.SIGINT)
        stdout, stderr = sweep.communicate(timeout=60)
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
            sweep.wait()
    assert sweep.returncode == 130 and "Traceback" not in stdout + stderr and "Error" not in stderr
    assert stderr.rstrip().endswith(f"sharpgen sweep: interrupted by SIGINT; finished runs are kept; resume with: sharpgen "
                                    f"sweep {spec} --out {out} --workers 2")


def test_sigterm_stops_the_sweep_like_ctrl_c(tmp_path):
    """What SLURM sends before its kill: exit 143, the resume command, no traceback."""
    import signal
    spec, out = tmp_path / "slow.toml", tmp_path / "out"
    spec.write_text(SLOW)
    bindir = __import__("pathlib").Path(sys.executable).parent
    sweep = subprocess.Popen([bindir / "sharpgen", "sweep", str(spec), "--out", str(out), "--workers", "1",
                              "--progress", "off"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(out / "runs" / "seed=0" / "checkpoint.pt", sweep)
        sweep.send_signal(signal.SIGTERM)
        stdout, stderr = sweep.communicate(timeout=60)
    finally:
        if sweep.poll() is None:
            sweep.kill()
            sweep.wait()
    assert sweep.returncode == 143 and "Traceback" not in stdout + stderr
    assert stderr.strip() == (f"sharpgen sweep: interrupted by SIGTERM; finished runs are kept; resume with: "
                              f"sharpgen sweep {spec} --out {out} --workers 1")


def test_a_file_where_the_runs_folder_goes_is_refused_before_anything(tmp_path, capsys):
    spec, out = tmp_path / "tiny.toml", tmp_path / "out"
    spec.write_text(TINY)
    out.mkdir()
    (out / "runs").write_text("")
    assert run(["sweep", str(spec), "--out", str(out), "--workers", "1"]) == 2
    assert capsys.readouterr().err.strip() == (f"sharpgen sweep: error: out: {out / 'runs'} is a file where the sweep "
                                               "keeps its runs folder; move it away or choose another --out")
    assert sorted(p.name for p in out.iterdir()) == ["runs"]
