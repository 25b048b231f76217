"""`sharpgen train` and `sharpgen bench` command lines (verify.cmd_train, verify.cmd_bench)."""
import argparse
import json

import pytest

from sharpgen.numerics import checkpoint as ckpt
from sharpgen.numerics.presets import PRESETS
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
    assert "test_error" in capsys.readouterr().out
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
    rows = ckpt.read_csv(out / "metrics.csv")
    # bias on distinct cube points with xor labels: 4 sqrt(d + 1) (F3), d = 6.
    assert rows[-1]["theory_min"] == pytest.approx(4 * 7 ** 0.5, rel=1e-12)


def test_divergence_exit_code(tmp_path, capsys):
    argv = [a if a != "0.05,0.05,1,0,6; 0.05,0.1,1,0,4" else "1e6,0,1,0,3" for a in TINY]
    assert run(["train", *argv, "--out", str(tmp_path / "d"), "--no-theory"]) == 3
    assert "diverged" in capsys.readouterr().err


def test_bench_prints_every_path_side_by_side(capsys):
    assert run(["bench", "--steps", "3", "--d", "5", "--n", "8", "--width", "6",
                "--cases", "nobias:relu:mse,sim_ln:relu:logistic"]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(("nobias", "sim_ln"))]
    assert len(lines) == 2
    for line in lines:
        assert "generic" in line and "fused-torch" in line and "(x" in line


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


@pytest.mark.parametrize("argv,message", [
    (["--device", "foo"], "sharpgen train: error: device: expected one of ('cpu', 'cuda', 'auto'), got 'foo'"),
    (["--threads", "0"], "sharpgen train: error: threads: expected an integer >= 1, got 0"),
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
    assert "sharpgen train: error: out: --resume needs a run with a checkpoint in --out" in err
    assert not out.exists()
    out.mkdir()
    assert run(["train", *TINY, "--resume", "--out", str(out), "--no-theory"]) == 2
    assert "resume: no run to resume" in capsys.readouterr().err
    assert list(out.iterdir()) == []
    with pytest.raises(SystemExit):
        parser().parse_args(["train", "--help"])
    assert "refused when --out has none" in capsys.readouterr().out


def test_init_gamma_flag_reaches_the_config_and_is_validated(capsys):
    assert run(["train", "--preset", "fig2a-repro", "--quick", "--print-config"]) == 0
    cfg = json.loads(capsys.readouterr().out)
    assert (cfg["init_gamma"], cfg["width"], cfg["n_test"]) == (0.5, 64, 2000)
    assert run(["train", "--preset", "fig2a", "--init-gamma", "0", "--print-config"]) == 2
    assert "init_gamma: expected a finite number > 0, got 0.0" in capsys.readouterr().err
    assert run(["train", "--preset", "fig4b", "--init-gamma", "0.5", "--print-config"]) == 2
    assert "init_gamma: expected 1.0 for 'bias'" in capsys.readouterr().err
