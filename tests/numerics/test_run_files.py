"""Files of a run directory: atomic writes with the umask's mode (numerics.atomic), metrics.csv
append / read / truncate (numerics.metrics_csv), and the start-or-resume decision (numerics.checkpoint)."""
import os
import stat

import pytest
import torch

from sharpgen.numerics.runs import checkpoint as ckpt
from sharpgen.numerics.runs.config import TrainConfig
from sharpgen.numerics.runs.atomic import atomic_write_json, atomic_write_text, default_file_mode
from sharpgen.numerics.runs.metrics_csv import append_csv_row, read_csv, read_header, truncate_csv, write_csv


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600), (0o027, 0o640)])
def test_atomic_files_get_the_mode_a_plain_open_would(tmp_path, umask, mask, mode):
    umask(mask)
    atomic_write_text(tmp_path / "a.txt", "x")
    atomic_write_json(tmp_path / "b.json", {"k": 1})
    with open(tmp_path / "plain.txt", "w") as fh:
        fh.write("x")
    for name in ("a.txt", "b.json", "plain.txt"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == mode, name
    assert default_file_mode() == mode
    assert os.umask(mask) == mask  # reading the mode left the umask as it was


def test_a_checkpoint_is_readable_by_the_group_under_umask_022(tmp_path, umask):
    umask(0o022)
    ckpt.save_checkpoint(tmp_path, {"epoch": 0, "params": {"W1": torch.ones(2)}})
    assert stat.S_IMODE(os.stat(tmp_path / ckpt.CHECKPOINT).st_mode) == 0o644


def test_csv_append_read_and_types(tmp_path):
    path = tmp_path / "m.csv"
    write_csv(path, ["epoch", "loss", "note"], [{"epoch": 0, "loss": 0.1, "note": "a"}])
    append_csv_row(path, ["epoch", "loss", "note"], {"epoch": 5, "loss": float("nan")})
    rows = read_csv(path)
    assert rows[0] == {"epoch": 0, "loss": 0.1, "note": "a"} and type(rows[0]["epoch"]) is int
    assert rows[1]["epoch"] == 5 and rows[1]["loss"] != rows[1]["loss"] and rows[1]["note"] is None
    assert read_header(path) == ["epoch", "loss", "note"]
    with pytest.raises(ValueError, match="^row: columns \\['extra'\\] are not in the header"):
        append_csv_row(path, ["epoch", "loss", "note"], {"epoch": 6, "extra": 1})
    assert len(read_csv(path)) == 2  # nothing written by the refused append


def test_truncate_keeps_rows_up_to_the_checkpoint_and_drops_a_partial_line(tmp_path):
    path = tmp_path / "m.csv"
    write_csv(path, ["epoch", "x"], [{"epoch": e, "x": e / 2} for e in (0, 1, 5, 10, 13)])
    before = path.read_text()
    assert [r["epoch"] for r in truncate_csv(path, 13)] == [0, 1, 5, 10, 13]
    assert path.read_text() == before  # nothing to drop: untouched
    with open(path, "a") as fh:
        fh.write("1")  # the start of row "15,7.5", cut by a kill; "1" would pass for epoch 1
    assert [r["epoch"] for r in truncate_csv(path, 13)] == [0, 1, 5, 10, 13]
    assert [r["epoch"] for r in truncate_csv(path, 10)] == [0, 1, 5, 10]
    assert path.read_text() == "epoch,x\n0,0.0\n1,0.5\n5,2.5\n10,5.0\n"


def checkpoint_state(config: TrainConfig, **changes) -> dict:
    """A valid checkpoint state of ``config`` at epoch 4 (changes applied)."""
    state = {"epoch": 4, "wall_s": 1.0, "sessions": [], "params": {"W1": torch.ones(2)}, "config": config.to_dict(),
             "config_digest": config.digest(), "theory_min": None}
    state.update(changes)
    return state


def test_open_run_is_the_one_decision_to_start_or_resume(tmp_path):
    cfg = TrainConfig(width=3)
    config = cfg.to_dict()
    assert ckpt.open_run(tmp_path / "new", config, resume=False) is None
    with pytest.raises(ValueError, match="^resume: no run to resume in .* \\(no config.json\\)"):
        ckpt.open_run(tmp_path / "new", config, resume=True)
    atomic_write_json(tmp_path / "old" / ckpt.CONFIG, {"config": config})
    with pytest.raises(ValueError, match="^run_dir: .* already holds a run"):
        ckpt.open_run(tmp_path / "old", config, resume=False)
    # stopped between config.json and its first checkpoint: resuming restarts it from epoch 0
    assert ckpt.open_run(tmp_path / "old", config, resume=True) is None
    ckpt.save_checkpoint(tmp_path / "old", checkpoint_state(cfg))
    assert ckpt.open_run(tmp_path / "old", config, resume=True)["epoch"] == 4
    with pytest.raises(ValueError, match="^config: differs from .* in \\['width'\\]"):
        ckpt.open_run(tmp_path / "old", TrainConfig(width=4).to_dict(), resume=True)


def test_checkpoints_of_another_format_are_refused(tmp_path):
    torch.save({"format": 2, "epoch": 3, "params": {}}, tmp_path / ckpt.CHECKPOINT)
    with pytest.raises(ValueError, match="^checkpoint: format 2 .* is not this version's 3"):
        ckpt.load_checkpoint(tmp_path)
