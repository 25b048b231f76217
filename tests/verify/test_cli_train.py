"""`sharpgen train` and `sharpgen bench` command lines (verify.cmd_train, verify.cmd_bench)."""
import argparse
import json
import os
import subprocess
import sys

import pytest

from sharpgen.numerics.runs import checkpoint as ckpt
from sharpgen.numerics.runs.metrics_csv import read_csv
from sharpgen.numerics.runs.presets import PRESETS, preset_names
from sharpgen.verify import cmd_bench, cmd_train

TINY = ["--arch", "bias", "--d", "6", "--n", "16", "--n-test", "20", "--width", "12",
        "--phases", "0.05,0.05,1,0,6; 0.05,0.1,1,0,4", "--eval-every", "5", "--progress", "off"]


def parser():
    p = argparse.ArgumentParser(prog="sharpgen")
    sub = p.add_subparsers(dest="command")
    cmd_train.add_parser(sub)
    cmd_bench.add_parser(sub)
    return p


def run(argv):
    args = parser().parse_args(argv)
    return args.func(args)


def test_help_lists_every_preset(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["train", "--help"])
    out = capsys.readouterr().out
    for name in PRESETS:
        assert f"  {name}: " in out
    assert "--quick" in out and "--resume" in out and "--phases" in out
    # natural order (fig2a before fig10a), schedules labelled
    listed = [ln.split(":")[0].strip() for ln in out.splitlines() if ln.startswith("  fig")]
    assert listed == list(preset_names()) and listed.index("fig2a") < listed.index("fig10a")
    assert "    paper: lr=0.01, ρ=0.05, batch=1, wd=0, epochs=200000" in out
    assert "           lr=0.01, ρ=0.1, batch=1, wd=0, epochs=400000" in out


def test_flags_override_the_preset(capsys):
    assert run(["train", "--preset", "fig4b", "--quick", "--seed", "7", "--width", "50",
                "--phases", "0.02,0.1,1,0,3", "--project-radius", "none", "--print-config"]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert (cfg["seed"], cfg["width"], cfg["arch"], cfg["project_radius"]) == (7, 50, "bias", None)
    assert cfg["phases"] == [{"lr": 0.02, "rho": 0.1, "batch": 1, "weight_decay": 0.0, "epochs": 3,
                              "label_noise": 0.0}]


def test_invalid_flag_value_names_the_field(capsys):
    assert run(["train", "--preset", "fig1b", "--width", "0", "--print-config"]) == 2
    assert "width: expected an integer >= 1" in capsys.readouterr().err
    assert run(["train", "--quick", "--print-config"]) == 2
    assert run(["train", "--preset", "fig6a", "--eps", "none", "--print-config"]) == 2
    assert "eps: expected a finite number > 0 for 'sim_ln'" in capsys.readouterr().err


def test_train_then_resume_through_the_cli(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(["train", *TINY, "--out", str(out), "--no-theory"]) == 0
    captured = capsys.readouterr()
    assert "test_error" in captured.out and ("backends c,c" in captured.out or "backends torch,torch" in captured.out)
    # the header names its numbers
    assert "\n  arch=bias d=6 width=12 | data=xor n=16 n_test=20 | loss=mse | optimizer=sam\n" in captured.err
    assert "\n  phase 1: lr=0.05, ρ=0.05, batch=1, wd=0, epochs=6\n  phase 2: lr=0.05, ρ=0.1," in captured.err
    assert "\n  theory_min=n/a\n" in captured.err
    first = (out / "metrics.csv").read_text()
    assert json.loads((out / "config.json").read_text())["config"]["width"] == 12
    assert run(["train", *TINY, "--out", str(out), "--no-theory"]) == 2  # exists, no --resume
    assert "run_dir" in capsys.readouterr().err
    assert run(["train", "--resume", "--out", str(tmp_path / "nothing"), "--progress", "off"]) == 2
    assert "resume: no run to resume" in capsys.readouterr().err
    assert run(["train", "--resume", "--out", str(out), "--no-theory", "--progress", "off"]) == 0
    assert (out / "metrics.csv").read_text() == first
    assert ckpt.load_checkpoint(out)["epoch"] == 10


def test_theory_minimum_is_logged(tmp_path, capsys):
    out = tmp_path / "t"
    assert run(["train", *TINY, "--out", str(out)]) == 0
    rows = read_csv(out / "metrics.csv")
    # bias on distinct cube points with xor labels: 4 sqrt(d + 1) (F3), d = 6.
    assert rows[-1]["theory_min"] == pytest.approx(4 * 7 ** 0.5, rel=1e-12)


def test_divergence_exit_code(tmp_path, capsys):
    argv = [a if a != "0.05,0.05,1,0,6; 0.05,0.1,1,0,4" else "1e6,0,1,0,3" for a in TINY]
    assert run(["train", *argv, "--out", str(tmp_path / "d"), "--no-theory"]) == 3
    assert "diverged" in capsys.readouterr().err


def test_registered_in_the_sharpgen_cli(capsys):
    from sharpgen.verify.cli import main
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "fig4b" in capsys.readouterr().out


# ------------------------------------------------------------------ review fixes

def test_logistic_on_real_labels_is_refused_and_leaves_nothing(tmp_path, capsys):
    out = tmp_path / "D"
    argv = ["train", "--preset", "fig7a", "--loss", "logistic", "--p", "0.2", "--no-theory", "--out", str(out),
            "--progress", "off"]
    assert run(argv) == 2
    err = capsys.readouterr().err
    assert "sharpgen train: error: loss: 'logistic' needs labels in {-1, +1}" in err and "Traceback" not in err
    assert not out.exists()
    assert run(argv) == 2  # the same error again, not "already holds a run"
    assert "run_dir" not in capsys.readouterr().err


@pytest.mark.parametrize("extra", [[], ["--print-config"]])
def test_condition1_size_is_checked_up_front(tmp_path, capsys, extra):
    out = tmp_path / "c1"
    assert run(["train", "--arch", "sim_bn", "--data", "condition1", "--d", "4", "--out", str(out), *extra]) == 2
    assert "sharpgen train: error: n: expected 4*(d-1) = 12 for data 'condition1'" in capsys.readouterr().err
    assert not out.exists()
    assert run(["train", "--arch", "sim_bn", "--data", "condition1", "--d", "4", "--n", "12",
                "--print-config"]) == 0


def test_eps_only_for_sim_ln(capsys):
    assert run(["train", "--arch", "bias", "--eps", "0.1", "--print-config"]) == 2
    assert "sharpgen train: error: eps: only sim_ln uses eps, got 0.1 for arch 'bias'" in capsys.readouterr().err


@pytest.mark.parametrize("flag,value,message", [
    ("--width", "inf", "argument --width: expected a finite integer, got 'inf'"),
    ("--width", "1e400", "argument --width: expected a finite integer, got '1e400'"),
    ("--width", "nan", "argument --width: expected a finite integer, got 'nan'"),
    ("--width", "2.5", "argument --width: expected a finite integer, got '2.5'"),
    ("--width", "x", "argument --width: expected an integer, got 'x'"),
    ("--phases", "1,2", "argument --phases: phases[0]: expected 'lr,rho,batch,wd,epochs[,label_noise]'"),
    ("--phases", "a,b,c,d,e", "argument --phases: phases[0]: expected numbers"),
    ("--threads", "inf", "argument --threads: expected a finite integer"),
])
def test_bad_flag_values_are_usage_errors(capsys, flag, value, message):
    with pytest.raises(SystemExit) as stop:
        parser().parse_args(["train", flag, value, "--print-config"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


CORES = os.cpu_count() or 1


@pytest.mark.parametrize("argv,message", [
    (["--device", "foo"], "sharpgen train: error: device: expected one of ('cpu', 'cuda', 'auto'), got 'foo'"),
    (["--threads", "0"], f"sharpgen train: error: threads: expected an integer in [1, {CORES}], got 0"),
    (["--threads", "1000000"], f"sharpgen train: error: threads: expected an integer in [1, {CORES}], got 1000000"),
])
def test_device_and_threads_checked_before_anything(tmp_path, capsys, argv, message):
    out = tmp_path / "x"
    assert run(["train", *argv, "--print-config"]) == 2
    assert message in capsys.readouterr().err
    assert run(["train", *TINY, *argv, "--out", str(out), "--no-theory"]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and "->" not in captured.err  # no banner: nothing started
    assert not out.exists()


def test_resume_without_a_checkpoint_is_refused(tmp_path, capsys):
    out = tmp_path / "fresh"
    assert run(["train", "--preset", "fig4b", "--quick", "--resume", "--out", str(out), "--no-theory",
                "--progress", "off"]) == 2
    err = capsys.readouterr().err
    assert f"sharpgen train: error: resume: no run to resume in {out} (no config.json)" in err
    assert not out.exists()
    out.mkdir()
    assert run(["train", *TINY, "--resume", "--out", str(out), "--no-theory"]) == 2
    assert "resume: no run to resume" in capsys.readouterr().err
    assert list(out.iterdir()) == []
    with pytest.raises(SystemExit):
        parser().parse_args(["train", "--help"])
    assert "refused when --out has none" in capsys.readouterr().out


# ------------------------------------------------------------------ issue 8

def _phases(capsys):
    return [(p["lr"], p["rho"], p["epochs"]) for p in json.loads(capsys.readouterr().out)["phases"]]


def test_lr_rho_epochs_override_every_phase_or_each(capsys):
    base = ["train", "--preset", "fig4b", "--quick", "--print-config"]
    assert run([*base, "--lr", "0.02"]) == 0
    assert _phases(capsys) == [(0.02, 0.05, 10000), (0.02, 0.1, 10000)]
    assert run([*base, "--rho", "0.2,0.3", "--epochs", "1e3,2000"]) == 0
    assert _phases(capsys) == [(0.01, 0.2, 1000), (0.01, 0.3, 2000)]
    # after --phases, and on top of a preset's other fields
    assert run([*base, "--phases", "0.1,0.5,1,0,5", "--epochs", "7"]) == 0
    assert _phases(capsys) == [(0.1, 0.5, 7)]


@pytest.mark.parametrize("argv,message", [
    (["--lr", "0.1,0.2,0.3"], "sharpgen train: error: lr: expected 1 value (for every phase) or 2 (one per phase), "
                              "got 3: [0.1, 0.2, 0.3]"),
    (["--epochs", "5,6,7"], "sharpgen train: error: epochs: expected 1 value (for every phase) or 2"),
    (["--rho", "-1"], "sharpgen train: error: phases[0].rho: expected a finite number >= 0, got -1.0"),
    (["--lr", "0"], "sharpgen train: error: phases[0].lr: expected a finite number > 0, got 0.0"),
])
def test_phase_overrides_name_what_is_wrong(capsys, argv, message):
    assert run(["train", "--preset", "fig4b", "--quick", "--print-config", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("flag,value,message", [
    ("--lr", "fast", "argument --lr: expected a number, got 'fast'"),
    ("--epochs", "1.5", "argument --epochs: expected a finite integer, got '1.5'"),
    ("--rho", "0.1,x", "argument --rho: expected a number, got 'x'"),
])
def test_phase_override_values_are_parsed_as_numbers(capsys, flag, value, message):
    with pytest.raises(SystemExit) as stop:
        parser().parse_args(["train", flag, value])
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_progress_lines_in_a_log(tmp_path, capsys):
    assert run(["train", *TINY[:-2], "--progress", "lines", "--out", str(tmp_path / "l"), "--no-theory"]) == 0
    err = capsys.readouterr().err.splitlines()
    logged = [ln for ln in err if ln.startswith("l epoch ")]
    assert len(logged) == len(read_csv(tmp_path / "l" / "metrics.csv")) - 1
    assert logged[-1].startswith("l epoch 10/10 (100.0%)  phase 2/2 (")


HELP_IMPORTS = """
import sys
from sharpgen.verify.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted(m for m in ("torch", "sympy") if m in sys.modules)
print("HEAVY", heavy, file=sys.stderr)
"""


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], []])
def test_help_does_not_import_torch(argv):
    result = subprocess.run([sys.executable, "-c", HELP_IMPORTS, *argv], capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in result.stderr, result.stderr
    expected = ("--preset", "fig11b") if argv[:1] == ["train"] else ("train", "bench", "verify")
    assert all(word in result.stdout for word in expected)


def test_only_the_requested_subcommand_is_built(capsys):
    from sharpgen.verify.cli import build_parser, requested_command
    assert requested_command(["train", "--preset", "fig1a"]) == "train"
    assert requested_command(["--help"]) is None and requested_command(["nonsense"]) is None
    with pytest.raises(SystemExit):
        build_parser("train").parse_args(["train", "--help"])
    assert "--preset" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        build_parser(None).parse_args(["--help"])
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps at the terminal's width
    assert "train with 1-SAM / GD baselines" in out and "check every result of the paper" in out


# ------------------------------------------------------------------ issue 13: faults and bad input, exit 2

def one_error_line(capsys, start: str, *, banner: bool = False) -> str:
    """The one error line of a refused command, checked to start with ``start``: no traceback, and nothing
    else on stderr unless ``banner`` (the run's header, printed once the run started)."""
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "Traceback" not in err and [ln for ln in lines if "error" in ln] == lines[-1:], err
    assert len(lines) == 1 or banner, err
    assert lines[-1].startswith("sharpgen train: error: " + start), err
    return err


def test_out_naming_a_file_or_a_path_below_one(tmp_path, capsys):
    (tmp_path / "f").write_text("keep")
    for out in (tmp_path / "f", tmp_path / "f" / "run"):
        assert run(["train", *TINY, "--out", str(out), "--no-theory"]) == 2
        one_error_line(capsys, f"run_dir: {tmp_path / 'f'} is a file, not a directory; give a directory")
    assert (tmp_path / "f").read_text() == "keep"


def test_empty_out_is_refused(capsys):
    with pytest.raises(SystemExit) as stop:
        parser().parse_args(["train", "--out", ""])
    assert stop.value.code == 2
    assert "argument --out: expected a directory path, got ''" in capsys.readouterr().err


def test_a_read_only_directory(tmp_path, capsys, monkeypatch):
    from sharpgen.numerics.runs import rundir
    real = rundir.os.open

    def refusing(path, *a, **k):  # root ignores permissions: the OS's answer for a read-only place
        if str(path).startswith(str(tmp_path / "ro")):
            raise OSError(30, "Read-only file system", str(path))
        return real(path, *a, **k)

    monkeypatch.setattr(rundir.os, "open", refusing)
    assert run(["train", *TINY, "--out", str(tmp_path / "ro"), "--no-theory"]) == 2
    one_error_line(capsys, f"run_dir: cannot write {tmp_path / 'ro'}: Read-only file system; choose a directory you "
                           f"can write to")
    assert not (tmp_path / "ro").exists()


def test_a_full_disk_at_the_start_leaves_nothing(tmp_path, capsys, monkeypatch):
    import errno
    import os

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    assert run(["train", *TINY, "--out", str(tmp_path / "full"), "--no-theory"]) == 2
    one_error_line(capsys, f"run_dir: cannot write {tmp_path / 'full' / 'metrics.csv'}: No space left on device; "
                           f"free space or choose another directory", banner=True)
    assert not (tmp_path / "full").exists()


@pytest.fixture
def finished_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert run(["train", *TINY, "--out", str(out), "--no-theory"]) == 0
    capsys.readouterr()
    return out


@pytest.mark.parametrize("damage", ["empty", "truncated", "random"])
def test_a_damaged_checkpoint_is_one_line(finished_run, capsys, damage):
    import os
    path = finished_run / "checkpoint.pt"
    whole = path.read_bytes()
    path.write_bytes({"empty": b"", "truncated": whole[: len(whole) // 3], "random": os.urandom(500)}[damage])
    files = {p.name: p.read_bytes() for p in finished_run.iterdir()}
    assert run(["train", "--resume", "--out", str(finished_run), "--progress", "off"]) == 2
    one_error_line(capsys, f"checkpoint: {path} ")
    assert {p.name: p.read_bytes() for p in finished_run.iterdir()} == files


@pytest.mark.parametrize("edit,start", [
    (lambda c: "{", "config.json: "),
    (lambda c: json.dumps({"config": {k: v for k, v in c["config"].items() if k != "width"}}),
     "config.json: {config} is incomplete or foreign (missing ['width']"),
    (lambda c: json.dumps({"config": dict(c["config"], phases=[dict(c["config"]["phases"][0], epochs=float("inf"))])}),
     "config.json: {config}: phases[0].epochs: expected an integer >= 1, got inf"),
    (lambda c: json.dumps({"config": dict(c["config"], phases=[dict(c["config"]["phases"][0], batch=float("inf"))])}),
     "config.json: {config}: phases[0].batch: expected an integer in [1, n=16] dividing n, got inf"),
])
def test_an_invalid_config_json_is_one_line(finished_run, capsys, edit, start):
    path = finished_run / "config.json"
    path.write_text(edit(json.loads(path.read_text())))
    assert run(["train", "--resume", "--out", str(finished_run), "--progress", "off"]) == 2
    one_error_line(capsys, start.format(config=path))


@pytest.mark.parametrize("value", ["0.05,0.05,1,0,inf", "0.05,0.05,inf,0,5", "0.05,0.05,nan,0,5", "0.05,0.05,1,0,-inf"])
def test_inf_in_a_phase_is_a_usage_error(capsys, value):
    with pytest.raises(SystemExit) as stop:
        parser().parse_args(["train", "--phases", value])
    assert stop.value.code == 2
    assert "argument --phases: phases[0]: batch and epochs must be finite integers" in capsys.readouterr().err


def test_resume_with_another_preset_is_refused(tmp_path, capsys):
    out = tmp_path / "y"
    quick = ["--phases", "0.01,0.05,1,0,2", "--n-test", "10", "--eval-every", "1", "--no-theory", "--progress", "off"]
    assert run(["train", "--preset", "fig4b", "--quick", *quick, "--out", str(out)]) == 0
    capsys.readouterr()
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert run(["train", "--preset", "fig1b", "--quick", *quick, "--out", str(out), "--resume"]) == 2
    one_error_line(capsys, f"config: differs from {out / 'config.json'} in ['arch']; a resumed run needs the same config")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert run(["train", "--preset", "fig4b", "--quick", *quick, "--out", str(out), "--resume"]) == 0


def test_default_directories_encode_the_whole_config(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for width in ("12", "13"):
        assert run(["train", *[w if w != "12" else width for w in TINY], "--no-theory"]) == 0
    names = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert len(names) == 2 and all(n.startswith("custom-seed0-") for n in names)
    for name in names:
        cfg = cmd_train.TrainConfig.from_dict(json.loads((tmp_path / "runs" / name / "config.json").read_text())["config"])
        assert name == f"custom-seed0-{cfg.digest()[:8]}"
    # --resume without --out finds the directory of the same flags
    assert run(["train", *TINY, "--no-theory", "--resume"]) == 0


@pytest.mark.parametrize("argv,start", [
    (["--width", "100000000"], "width: a run of this size needs about "),
    (["--d", "21", "--n", "1048570"], "n: expected n + n_test <= 2^(d-1) = 1048576 for cube data with d = 21 > 20"),
    (["--allow-backend-change"], "allow_backend_change: --allow-backend-change is for --resume"),
    (["--seed", "18446744073709551616"], "seed: expected an integer in [0, 18446744073709551615]"),
])
def test_resource_limits_and_flag_combinations_up_front(tmp_path, capsys, argv, start):
    assert run(["train", *TINY, *argv, "--out", str(tmp_path / "x"), "--no-theory"]) == 2
    one_error_line(capsys, start)
    assert not (tmp_path / "x").exists()


def test_ctrl_c_before_the_run_started_writes_nothing(tmp_path, capsys, monkeypatch):
    import os
    import signal

    from sharpgen.verify import theory_min

    def interrupted(config, data):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the theory minimum is computed
        return theory_min.TheoryMinimum(1.0, True, "stand-in")

    monkeypatch.setattr(theory_min, "theory_min_for", interrupted)
    assert run(["train", *TINY, "--out", str(tmp_path / "x")]) == 130
    err = capsys.readouterr().err
    assert err == "sharpgen train: interrupted by SIGINT\n"
    assert not (tmp_path / "x").exists()


def test_init_gamma_flag_reaches_the_config_and_is_validated(capsys):
    assert run(["train", "--preset", "fig2a-repro", "--quick", "--print-config"]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert (cfg["init_gamma"], cfg["width"], cfg["n_test"]) == (0.5, 64, 2000)
    assert run(["train", "--preset", "fig2a", "--init-gamma", "0", "--print-config"]) == 2
    assert "init_gamma: expected a finite number > 0, got 0.0" in capsys.readouterr().err
    assert run(["train", "--preset", "fig4b", "--init-gamma", "0.5", "--print-config"]) == 2
    assert "init_gamma: expected 1.0 for 'bias'" in capsys.readouterr().err


# ------------------------------------------------------------------ issue 11: --seeds

@pytest.mark.parametrize("value", ["0", "3-1", "-1", "a", "0,0", "1-2-3", "", "1,", "0-1,1", "0-5000"])
def test_bad_seeds_are_usage_errors_naming_the_flag(capsys, value):
    with pytest.raises(SystemExit) as stop:
        parser().parse_args(["train", "--seeds", value, "--print-config"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --seeds: expected a range 0-7, a list 0,3,5 or a count 4 of distinct seeds >= 0, got " \
           f"{value!r}" in err and "Traceback" not in err


@pytest.mark.parametrize("text,seeds", [("0-3", [0, 1, 2, 3]), ("4", [0, 1, 2, 3]), ("0,3,5", [0, 3, 5]),
                                        ("2-3,7", [2, 3, 7])])
def test_seeds_make_one_config_per_seed(capsys, text, seeds):
    assert run(["train", "--preset", "fig4b", "--quick", "--seeds", text, "--width", "50", "--print-config"]) == 0
    configs = json.loads(capsys.readouterr().out)
    assert [c["seed"] for c in configs] == seeds and {c["width"] for c in configs} == {50}


@pytest.mark.parametrize("argv,message", [
    (["--seeds", "0-2", "--seed", "1"], "seeds: --seeds and --seed exclude each other"),
    (["--seeds", "0-2", "--out", "a", "b"], "out: expected one directory per seed of --seeds (3), or one folder "
                                            "for them all, got 2 directories"),
    (["--out", "a", "b"], "out: 2 directories need --seeds (one per seed) or --resume"),
    (["--seeds", "0-1", "--seed", "18446744073709551616"], "seeds: --seeds and --seed exclude each other"),
])
def test_seeds_flag_combinations_are_refused_up_front(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert run(["train", *TINY, *argv, "--no-theory"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"sharpgen train: error: {message}") and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []


def test_seeds_write_one_default_directory_per_seed_as_single_runs_do(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run(["train", *TINY, "--seeds", "0-2", "--no-theory"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 3
    names = sorted(p.name for p in (tmp_path / "runs").iterdir())
    configs = [cmd_train.TrainConfig.from_dict(json.loads((tmp_path / "runs" / n / "config.json").read_text())
                                               ["config"]) for n in names]
    assert [c.seed for c in configs] == [0, 1, 2]
    assert names == [cmd_train.default_out(None, False, c).name for c in configs]
    for seed, name in zip((0, 1, 2), names):
        assert out[seed].endswith(f"-> runs/{name}")
        # the single run of that seed goes to the same directory: it is there, finished
        assert run(["train", *TINY, "--seed", str(seed), "--no-theory"]) == 2
        assert "already holds a run" in capsys.readouterr().err
        assert run(["train", *TINY, "--seed", str(seed), "--no-theory", "--resume"]) == 0
        capsys.readouterr()
    assert run(["train", *TINY, "--seeds", "0-2", "--no-theory", "--resume"]) == 0  # same flags + --resume
    rows = [read_csv(tmp_path / "runs" / n / "metrics.csv") for n in names]
    assert all(r[-1]["epoch"] == 10 for r in rows) and rows[0][-1]["train_loss"] != rows[1][-1]["train_loss"]


def test_one_out_folder_holds_a_directory_per_seed_and_resumes_by_directories(tmp_path, capsys):
    assert run(["train", *TINY, "--seeds", "3,5", "--out", str(tmp_path / "sweep"), "--no-theory"]) == 0
    assert sorted(p.name for p in (tmp_path / "sweep").iterdir()) == ["seed3", "seed5"]
    capsys.readouterr()
    dirs = [str(tmp_path / "sweep" / f"seed{s}") for s in (3, 5)]
    assert run(["train", "--resume", "--out", *dirs, "--progress", "off"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2


def test_a_diverging_seed_exits_3_after_the_others_finish(tmp_path, capsys):
    # lr 0.15 diverges for seed 3 of this tiny net (measured), not for the others
    argv = [a if a != "0.05,0.05,1,0,6; 0.05,0.1,1,0,4" else "0.15,0,1,0,3" for a in TINY]
    assert run(["train", *argv, "--seeds", "0-5", "--out", str(tmp_path / "d"), "--no-theory"]) == 3
    captured = capsys.readouterr()
    statuses = [json.loads((tmp_path / "d" / f"seed{s}" / "summary.json").read_text())["status"] for s in range(6)]
    assert "diverged" in statuses and "done" in statuses, statuses
    assert captured.err.count("training diverged") == statuses.count("diverged")
    assert len(captured.out.strip().splitlines()) == statuses.count("done")
