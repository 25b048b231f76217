"""`sharpgen verify` stopped by SIGINT / SIGTERM, for real (a subprocess): no traceback, exit 130 / 143, the
command that resumes, nothing written; the rerun finds what an uninterrupted run finds; the training
processes stop with it (their runs checkpointed) and die with their parent even under SIGKILL."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

EXACT = ["verify", "--kind", "exact", "--only", "lemma-4.1", "thm-4.1-d3", "thm-5.1"]  # about 4 s of sympy


def verify(argv, cwd, **kw):
    return subprocess.Popen([sys.executable, "-m", "sharpgen.verify.cli", *argv], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def wait_for_line(stream, prefix: str) -> None:
    for line in stream:
        if line.startswith(prefix):
            return
    pytest.fail(f"no line starting with {prefix!r}")


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except FileNotFoundError:
        return False


def children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return kids


def entries(folder: Path) -> list[dict]:
    report = json.loads((folder / "sharpgen-verify" / "report.json").read_text())
    return [{"id": e["id"], "status": e["status"], "worst": e["worst_discrepancy"],
             "numbers": [v["numbers"] for v in e["evidence"]]} for e in report["entries"]]


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_cleanly_and_the_rerun_finds_the_same(signum, code, tmp_path):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    whole.mkdir(), cut.mkdir()
    proc = verify(EXACT, cut)
    wait_for_line(proc.stdout, "entry")  # the header is out: the checks run
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and "Traceback" not in out
    assert f"interrupted by {signal.Signals(signum).name} while checking" in err
    assert "resume with: sharpgen verify --only lemma-4.1 thm-4.1-d3 thm-5.1 --kind exact" in err
    assert not (cut / "sharpgen-verify" / "report.json").exists()
    for folder in (cut, whole):
        rerun = verify(EXACT, folder)
        out, err = rerun.communicate(timeout=120)
        assert rerun.returncode == 0, err
        assert out.rstrip().splitlines()[-1].startswith("sharpgen verify: 3 pass;")
    assert entries(cut) == entries(whole)


def start_training(tmp_path):
    """``sharpgen verify`` of one trained entry, in a session of its own, once its runs train; the worker pids."""
    proc = verify(["verify", "--kind", "trained", "--only", "table1-sim_ln"], tmp_path, start_new_session=True)
    runs = tmp_path / "sharpgen-verify" / "runs"
    deadline = time.monotonic() + 120
    while not list(runs.glob("*/metrics.csv")) and time.monotonic() < deadline:  # training has begun
        time.sleep(0.2)
    workers = [pid for pid in children(proc.pid) if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]
    assert workers
    return proc, workers


def assert_stopped(proc, workers, started: float) -> str:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err + out, err
    assert time.monotonic() - started < 30
    assert f"finished training runs are kept in {Path('sharpgen-verify') / 'runs'}" in err
    assert "resume with: sharpgen verify --only table1-sim_ln --kind trained" in err
    assert not [pid for pid in workers if alive(pid)]
    return err


def test_sigint_stops_the_training_processes_after_their_checkpoint(tmp_path):
    proc, workers = start_training(tmp_path)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    assert_stopped(proc, workers, started)
    summaries = [json.loads(p.read_text()) for p in (tmp_path / "sharpgen-verify" / "runs").glob("*/summary.json")]
    assert len(summaries) == 3 and {s["status"] for s in summaries} == {"interrupted"}
    assert all("checkpoint saved" in s["message"] for s in summaries)


def test_sigint_to_the_terminal_group_stops_the_training_processes(tmp_path):
    proc, workers = start_training(tmp_path)
    started = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C at a terminal does: the whole foreground group
    assert_stopped(proc, workers, started)


PARENT = textwrap.dedent("""
    import concurrent.futures as cf, multiprocessing, os, time
    from sharpgen.verify.ledger.lifetime import worker_init
    if __name__ == "__main__":
        pool = cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=worker_init)
        pid, pgid = pool.submit(os.getpid).result(), pool.submit(os.getpgrp).result()
        pool.submit(time.sleep, 600)
        print(pid, pgid, os.getpgrp(), flush=True)
        time.sleep(600)
""")


def test_a_worker_leaves_the_terminal_group_and_dies_with_its_parent(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker, worker_group, parent_group = map(int, parent.stdout.readline().split())
    assert worker_group == worker != parent_group  # a Ctrl-C at the terminal reaches the parent alone
    os.kill(worker, signal.SIGINT)  # ignored between runs
    time.sleep(0.5)
    assert alive(worker)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(worker)


def test_kill_9_of_verify_takes_its_training_processes_with_it_and_a_rerun_resumes(tmp_path):
    proc, workers = start_training(tmp_path)
    proc.kill()  # SIGKILL: verify answers nothing, its workers must notice by themselves
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while [pid for pid in workers if alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if alive(pid)]
    rerun = verify(["verify", "--kind", "trained", "--only", "table1-sim_ln"], tmp_path)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert out.rstrip().splitlines()[-1].startswith("sharpgen verify: ")
    statuses = {json.loads(p.read_text())["status"] for p in (tmp_path / "sharpgen-verify" / "runs").glob("*/summary.json")}
    assert statuses == {"done"}
    whole = tmp_path / "whole"
    whole.mkdir()
    fresh = verify(["verify", "--kind", "trained", "--only", "table1-sim_ln"], whole)
    assert fresh.communicate(timeout=300) and fresh.returncode == 0
    assert entries(tmp_path) == entries(whole)  # the resumed runs end as if never killed
