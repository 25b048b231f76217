"""Issue 13, class 1: one run per directory. The OS-level lock (numerics.rundir), stale locks of killed
processes, and cleanup that removes only what this process wrote (never another run's files)."""
import errno
import os
import signal
import socket
import subprocess
import sys
import threading

import pytest

from sharpgen.numerics.runs import checkpoint as ckpt
from sharpgen.numerics.runs import rundir
from sharpgen.numerics.runs import train as T
from sharpgen.numerics.runs.config import Phase, TrainConfig
from sharpgen.numerics.runs.rundir import RunDirBusy, RunDirError, locked
from sharpgen.numerics.runs.train import train

SMALL = dict(arch="bias", d=6, n=16, n_test=20, width=12, eval_every=5, eval_log_points=0, seed=3,
             phases=(Phase(0.05, 0.05, 1, 0.0, 10),))

HOLD = """
import sys, time
from sharpgen.numerics.runs.rundir import locked
with locked(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(600)
"""


def holder(run_dir):
    """A separate process holding run_dir's lock (it says "locked" once it has it)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_process_is_refused_naming_the_holder(tmp_path):
    proc = holder(tmp_path / "run")
    try:
        with pytest.raises(RunDirBusy) as err:
            with locked(tmp_path / "run"):
                pass
        message = str(err.value)
        assert message.startswith(f"run_dir: {tmp_path / 'run'} is in use by another run (pid {proc.pid} on "
                                  f"{socket.gethostname()}, started ")
        assert message.endswith("; wait for it to finish or choose another directory")
        # the API refuses the same way, before touching anything
        with pytest.raises(RunDirBusy, match=f"pid {proc.pid}"):
            train(TrainConfig(**SMALL), tmp_path / "run")
        assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [rundir.LOCK]
    finally:
        proc.terminate()
        proc.wait()


def test_the_lock_of_a_killed_process_is_stale_and_taken_over(tmp_path):
    proc = holder(tmp_path / "run")
    proc.send_signal(signal.SIGKILL)  # no cleanup: the lock file stays behind
    proc.wait()
    assert (tmp_path / "run" / rundir.LOCK).exists()
    with locked(tmp_path / "run"):
        assert str(os.getpid()) in (tmp_path / "run" / rundir.LOCK).read_text()
    assert not (tmp_path / "run" / rundir.LOCK).exists()
    assert train(TrainConfig(**SMALL), tmp_path / "run").rows[-1]["epoch"] == 10


def test_reentrant_in_one_thread_refused_in_another(tmp_path):
    errors = []

    def other():
        try:
            with locked(tmp_path / "run"):
                pass
        except RunDirBusy as err:
            errors.append(str(err))

    with locked(tmp_path / "run"):
        with locked(tmp_path / "run"):
            thread = threading.Thread(target=other)
            thread.start()
            thread.join()
        assert (tmp_path / "run" / rundir.LOCK).exists()  # the inner release kept the outer lock
    assert errors == [f"run_dir: {tmp_path / 'run'} is in use by another thread of this process; "
                      f"choose another directory"]
    assert not (tmp_path / "run").exists()


def test_release_removes_created_folders_only_when_empty(tmp_path):
    with locked(tmp_path / "a" / "b" / "run"):
        (tmp_path / "a" / "theirs.txt").write_text("another process's file")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["theirs.txt"]  # b and run were empty
    (tmp_path / "kept").mkdir()
    with locked(tmp_path / "kept"):
        pass
    assert (tmp_path / "kept").is_dir()  # it existed before: never removed


@pytest.mark.parametrize("where", ["file", "below_a_file"])
def test_a_file_where_the_run_directory_should_be(tmp_path, where):
    (tmp_path / "f").write_text("x")
    target = tmp_path / "f" if where == "file" else tmp_path / "f" / "run"
    with pytest.raises(RunDirError, match=f"^run_dir: {tmp_path / 'f'} is a file, not a directory; give a directory"):
        train(TrainConfig(**SMALL), target)
    assert (tmp_path / "f").read_text() == "x"


@pytest.mark.parametrize("name,error,message", [
    ("open", PermissionError(errno.EACCES, "Permission denied"),
     "cannot write {dir}: Permission denied; choose a directory you can write to"),
    ("flock", OSError(errno.ENOLCK, "No locks available"),
     "{dir} is on a file system without working locks \\(No locks available\\); choose a directory on a local disk"),
])
def test_a_directory_the_os_refuses_is_a_clear_error(tmp_path, monkeypatch, name, error, message):
    # the tests run as root, for whom permissions do not bite: the OS's refusal is simulated
    module = rundir.os if name == "open" else rundir.fcntl
    real = getattr(module, name)

    def refusing(target, *a, **k):
        if name == "flock" or str(target).endswith(rundir.LOCK):
            raise error
        return real(target, *a, **k)

    monkeypatch.setattr(module, name, refusing)
    with pytest.raises(RunDirError, match="^run_dir: " + message.format(dir=tmp_path / "r") + "$"):
        train(TrainConfig(**SMALL), tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_a_failed_or_interrupted_start_removes_only_its_own_files(tmp_path, monkeypatch):
    """The defect of issue 13: cleanup used rmtree on a folder another process was writing into."""
    run = tmp_path / "shared"
    real_save = T._save

    def interrupted(r):
        (run / "results-of-another-run.csv").write_text("precious")  # someone else writes here meanwhile
        real_save(r)
        raise KeyboardInterrupt  # and this run is interrupted while writing its first files

    monkeypatch.setattr(T, "_save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(TrainConfig(**SMALL), run)
    assert sorted(p.name for p in run.iterdir()) == ["results-of-another-run.csv"]
    assert (run / "results-of-another-run.csv").read_text() == "precious"


def test_a_finished_run_is_never_touched_by_a_later_start(tmp_path):
    cfg = TrainConfig(**SMALL)
    train(cfg, tmp_path / "r")
    before = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}
    for attempt in (cfg, cfg.replace(width=20)):
        with pytest.raises(ValueError, match="^run_dir: .* already holds a run"):
            train(attempt, tmp_path / "r")
    with pytest.raises(ValueError, match="^config: differs from .* in \\['width'\\]"):
        train(cfg.replace(width=20), tmp_path / "r", resume=True)
    assert {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()} == before


def test_orphan_temporary_files_of_a_killed_run_are_cleaned_on_the_next_start(tmp_path):
    cfg = TrainConfig(**SMALL)
    train(cfg, tmp_path / "r")
    for name in (".checkpoint.pt.k1l2.tmp", ".metrics.csv.x9.tmp"):
        (tmp_path / "r" / name).write_bytes(b"half written")
    (tmp_path / "r" / ".notes.tmp").write_text("not ours")
    train(cfg, tmp_path / "r", resume=True)
    names = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert names == [".notes.tmp", *sorted(ckpt.RUN_FILES)]

