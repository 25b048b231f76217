"""Issue 13, classes 2, 3, 5, 7 and 8 through the API: a checkpoint bound to its config and checked before
use, resume that never changes the computation, no stuck directories, a full disk mid-run, signals, and
the API refusing what the CLI refuses."""
import errno
import json
import os
import signal

import pytest
import torch

from conftest import run_numbers as numbers
from sharpgen.numerics.runs import checkpoint as ckpt
from sharpgen.numerics.nets import data as D
from sharpgen.numerics.runs import train as T
from sharpgen.numerics.runs.config import Phase, TrainConfig
from sharpgen.numerics.engine.diverged import TrainingDiverged
from sharpgen.numerics.engine.c import loops as c_kernel
from sharpgen.numerics.engine.replicas import ReplicaEngine
from sharpgen.numerics.runs.interrupt import TrainingInterrupted
from sharpgen.numerics.runs.rundir import RunDirError
from sharpgen.numerics.runs.train import train

SMALL = dict(arch="bias", d=6, n=16, n_test=20, width=12, eval_every=5, eval_log_points=4, seed=3,
             phases=(Phase(0.05, 0.05, 1, 0.0, 10), Phase(0.05, 0.1, 1, 0.0, 10)), backend="torch")
CFG = TrainConfig(**SMALL)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run of CFG."""
    run_dir = tmp_path_factory.mktemp("ref") / "full"
    train(CFG, run_dir)
    return numbers(run_dir)


@pytest.fixture
def finished(tmp_path):
    train(CFG, tmp_path / "r")
    return tmp_path / "r"


def edit_state(run_dir, **changes):
    state = torch.load(run_dir / ckpt.CHECKPOINT, weights_only=True)
    state.update(changes)
    torch.save(state, run_dir / ckpt.CHECKPOINT)


# ------------------------------------------------------------------ class 2: bound and checked


@pytest.mark.parametrize("field,value", [("data_seed", 5), ("phases", [
    {"lr": 0.05, "rho": 0.05, "batch": 1, "weight_decay": 0.0, "epochs": 10, "label_noise": 0.0},
    {"lr": 0.05, "rho": 0.1, "batch": 1, "weight_decay": 0.0, "epochs": 30, "label_noise": 0.0}])])
def test_an_edited_config_json_is_refused_naming_the_field(finished, field, value):
    saved = json.loads((finished / ckpt.CONFIG).read_text())
    saved["config"][field] = value
    (finished / ckpt.CONFIG).write_text(json.dumps(saved))
    edited = ckpt.read_config(finished)  # what `sharpgen train --resume` would continue
    with pytest.raises(RunDirError, match=f"^checkpoint: .* was written by a run with another config "
                                          f"\\(differs in \\['{field}'\\]\\); config.json was edited"):
        train(edited, finished, resume=True)


CORRUPT = [
    ("epoch beyond the schedule", dict(epoch=21), "checkpoint: epoch 21 in .* lies beyond the schedule's 20 epochs"),
    ("nan weights", dict(params={"W1": torch.full((12, 6), float("nan")), "b1": torch.zeros(12),
                                 "W2": torch.zeros(1, 12)}),
     "checkpoint: .* is not a valid checkpoint \\(non-finite parameters in \\['W1'\\]\\)"),
    ("shapes", dict(params={"W1": torch.zeros(12, 7), "b1": torch.zeros(12), "W2": torch.zeros(1, 12)}),
     "checkpoint: .* holds parameters .*'W1': \\(12, 7\\).* where the config's network has .*'W1': \\(12, 6\\)"),
    ("negative epoch", dict(epoch=-1), "checkpoint: .* is not a valid checkpoint \\(epoch -1\\)"),
    ("digest changed", dict(config_digest="0" * 16), "checkpoint: .* was written by a run with another config"),
]


@pytest.mark.parametrize("what,changes,message", CORRUPT, ids=[c[0] for c in CORRUPT])
def test_a_loaded_checkpoint_is_checked_before_use(finished, what, changes, message):
    edit_state(finished, **changes)
    before = (finished / ckpt.METRICS).read_bytes()
    with pytest.raises(RunDirError, match="^" + message):
        train(CFG, finished, resume=True)
    assert (finished / ckpt.METRICS).read_bytes() == before


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04trunc", os.urandom(300), b"\x80\x02}q\x00."])
def test_an_unreadable_checkpoint_is_named_with_what_to_do(finished, content):
    whole = (finished / ckpt.CHECKPOINT).read_bytes()
    (finished / ckpt.CHECKPOINT).write_bytes(content or b"")
    with pytest.raises(RunDirError, match="^checkpoint: .*checkpoint.pt (cannot be read, it is damaged|is not a "
                                          "valid checkpoint|format None).*"):
        train(CFG, finished, resume=True)
    (finished / ckpt.CHECKPOINT).write_bytes(whole[: len(whole) // 2])  # truncated
    with pytest.raises(RunDirError, match="^checkpoint: .* cannot be read, it is damaged .*; move it away and "
                                          "resume to restart the run from epoch 0"):
        ckpt.load_checkpoint(finished)


@pytest.mark.parametrize("text,message", [
    ("{not json", "config.json: .* is not a run's config \\(JSONDecodeError"),
    ("[]", "config.json: .* is not a run's config \\(TypeError"),
    ('{"config": {"width": 12}}', "config.json: .* is incomplete or foreign \\(missing \\['activation'"),
    (None, "config.json: .*: width: expected an integer >= 1, got -1; restore the file"),
])
def test_an_invalid_or_incomplete_config_json_is_named(finished, text, message):
    if text is None:
        saved = json.loads((finished / ckpt.CONFIG).read_text())
        saved["config"]["width"] = -1
        text = json.dumps(saved)
    (finished / ckpt.CONFIG).write_text(text)
    with pytest.raises(RunDirError, match="^" + message):
        ckpt.read_config(finished)


def test_metric_rows_must_match_the_schedule(finished):
    lines = (finished / ckpt.METRICS).read_text().splitlines(keepends=True)
    (finished / ckpt.METRICS).write_text("".join(lines[:2] + lines[3:]))  # one evaluation row lost
    with pytest.raises(RunDirError, match="^metrics.csv: .* has rows for epochs \\[0, 3, 5, 7, 10, 15, 20\\] where "
                                          "the run evaluated \\[0, 1, 3, 5, 7, 10, 15, 20\\]"):
        train(CFG, finished, resume=True)
    (finished / ckpt.METRICS).unlink()
    with pytest.raises(RunDirError, match="^metrics.csv: missing in"):
        train(CFG, finished, resume=True)


def test_the_theory_minimum_is_part_of_the_run(finished):
    with pytest.raises(ValueError, match="^theory_min: this run logged None so far, got 8.0"):
        train(CFG, finished, resume=True, theory_min=8.0)
    assert ckpt.load_checkpoint(finished)["config_digest"] == CFG.digest()


# ------------------------------------------------------------------ class 3: the computation never changes


def test_resume_with_other_threads_is_refused_or_recorded(finished, capsys):
    with pytest.raises(ValueError, match="^resume: the steps would be computed differently \\(threads 1 before, 2 "
                                         "here\\).*--allow-backend-change"):
        train(CFG, finished, resume=True, threads=2)
    train(CFG, finished, resume=True, threads=2, allow_backend_change=True)
    assert "WARNING: resuming with different computation (threads 1 before, 2 here)" in capsys.readouterr().err
    sessions = result_sessions(finished)
    assert sessions[-1]["changed"] == {"threads": [1, 2]} and "changed" not in sessions[0]


@pytest.mark.skipif(not c_kernel.c_available(), reason="no C compiler here")
@pytest.mark.filterwarnings("ignore:no working C compiler:RuntimeWarning")  # the engine's own announcement
def test_a_resume_without_the_c_loop_refuses_and_says_why(tmp_path, request):
    cfg = CFG.replace(backend="auto")
    train(cfg, tmp_path / "r")
    assert ckpt.load_checkpoint(tmp_path / "r")["sessions"][0]["backends"] == ["c", "c"]
    request.getfixturevalue("no_c_compiler")  # the second machine has no C compiler (and no compiled library)
    with pytest.raises(ValueError, match="^resume: the steps would be computed differently \\(backends \\['c', "
                                         "'c'\\] before, \\['torch', 'torch'\\] here\\) \\(the C step loop is "
                                         "unavailable: no C compiler found"):
        train(cfg, tmp_path / "r", resume=True)
    assert ckpt.load_checkpoint(tmp_path / "r")["sessions"][-1]["backends"] == ["c", "c"]  # untouched


# ------------------------------------------------------------------ class 5: never stuck


def test_a_run_killed_before_its_first_checkpoint_resumes_from_epoch_0(tmp_path, reference):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    # what a kill -9 between config.json and checkpoint.pt leaves (plus its stale lock file)
    (run_dir / ckpt.CONFIG).write_text(json.dumps({"config": CFG.to_dict(), "resolved": {}}))
    (run_dir / ckpt.METRICS).write_text("epoch,step\n0,0\n")
    (run_dir / ".lock").write_text('{"pid": 1}')
    with pytest.raises(ValueError, match="^run_dir: .* already holds a run; resume it"):
        train(CFG, run_dir)
    result = train(CFG, run_dir, resume=True)
    assert [s["start_epoch"] for s in result_sessions(run_dir)] == [0] and result.rows[-1]["epoch"] == 20
    assert numbers(run_dir) == reference


def result_sessions(run_dir):
    return json.loads((run_dir / ckpt.SUMMARY).read_text())["sessions"]


# ------------------------------------------------------------------ a full disk mid-run; signals


def test_a_full_disk_mid_run_keeps_the_checkpoint_and_resumes_exactly(tmp_path, monkeypatch, reference):
    real, calls = T.append_csv_row, {"n": 0}

    def filling(path, columns, row):
        calls["n"] += 1
        if calls["n"] == 5:  # the row of epoch 10: the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, columns, row)

    monkeypatch.setattr(T, "append_csv_row", filling)
    with pytest.raises(RunDirError, match="^run_dir: cannot write .*: No space left on device; the checkpoint of "
                                          "epoch 5 is kept; free space and resume$"):
        train(CFG, tmp_path / "r")
    summary = json.loads((tmp_path / "r" / ckpt.SUMMARY).read_text())
    assert (summary["status"], summary["epoch"]) == ("failed", 5)
    monkeypatch.undo()
    train(CFG, tmp_path / "r", resume=True)
    assert numbers(tmp_path / "r") == reference


@pytest.mark.parametrize("signum,second", [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)])
def test_a_signal_saves_a_checkpoint_and_the_resume_is_exact(tmp_path, monkeypatch, reference, signum, second):
    real, calls = ReplicaEngine.run, {"n": 0}

    def signalled(self, orders, targets, phases):
        calls["n"] += 1
        out = real(self, orders, targets, phases)
        if calls["n"] == 4:  # during the chunk [5, 7): a signal, and maybe a second one
            os.kill(os.getpid(), signum)
            if second:
                os.kill(os.getpid(), signum)
        return out

    monkeypatch.setattr(ReplicaEngine, "run", signalled)
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when the suite runs as a background job
    with pytest.raises(TrainingInterrupted) as err:
        train(CFG, tmp_path / "r")
    # the first signal: a checkpoint at the end of the chunk (epoch 7, off the checkpoint grid of every 5);
    # a second one stops at once, and the last regular checkpoint (epoch 5) stays
    expected = 5 if second else 7
    assert (err.value.signum, err.value.exit_code, err.value.epoch) == (signum, 128 + signum, expected)
    summary = json.loads((tmp_path / "r" / ckpt.SUMMARY).read_text())
    assert (summary["status"], summary["epoch"]) == ("interrupted", expected)
    assert ckpt.load_checkpoint(tmp_path / "r")["epoch"] == expected
    assert signal.getsignal(signal.SIGINT) is before  # handlers restored
    monkeypatch.undo()
    train(CFG, tmp_path / "r", resume=True)
    assert numbers(tmp_path / "r") == reference


# ------------------------------------------------------------------ class 8: the API refuses what the CLI refuses


def test_resume_of_a_fresh_directory_is_refused(tmp_path):
    with pytest.raises(ValueError, match="^resume: no run to resume in .* \\(no config.json\\)"):
        train(CFG, tmp_path / "fresh", resume=True)
    assert not (tmp_path / "fresh").exists()


@pytest.mark.parametrize("make", [
    lambda: D.xor_dataset(6, 8, seed=-1), lambda: D.ball_dataset(3, 4, seed=-1), lambda: D.circle_dataset(4, seed=-1),
    lambda: D.condition1_dataset(4, seed=-1), lambda: D.xor_dataset(6, 8, seed=2 ** 64),
    lambda: CFG.replace(seed=-1).validate(), lambda: CFG.replace(data_seed=2 ** 64).validate()])
def test_seeds_outside_the_clis_range_are_refused(make):
    with pytest.raises(ValueError, match="^(data_)?seed: expected an integer in \\[0, 18446744073709551615\\]"):
        make()


@pytest.mark.parametrize("run_dir", ["", "  ", None])
def test_an_empty_run_directory_is_refused(run_dir):
    with pytest.raises(ValueError, match="^run_dir: expected a directory path"):
        train(CFG, run_dir)


def test_a_network_non_finite_from_the_start_is_not_called_last_good(tmp_path):
    with pytest.raises(TrainingDiverged, match="^the initial network \\(epoch 0\\) is already non-finite .*nothing "
                                               "was written") as err:
        train(CFG.replace(init_scale_first_layer=1e308), tmp_path / "r")
    assert "last good" not in str(err.value)
    assert not (tmp_path / "r").exists()

