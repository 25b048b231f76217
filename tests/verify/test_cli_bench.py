"""`sharpgen bench` argument checking (verify.cmd_bench): usage errors, never tracebacks."""
import argparse

import pytest

from sharpgen.verify import cmd_bench


def parser():
    p = argparse.ArgumentParser(prog="sharpgen")
    sub = p.add_subparsers(dest="command")
    cmd_bench.add_parser(sub)
    return p


def run(argv):
    args = parser().parse_args(argv)
    return args.func(args)


@pytest.mark.parametrize("argv,message", [
    (["--width", "-1"], "width: expected an integer >= 1, got -1"),
    (["--width", "0"], "width: expected an integer >= 1, got 0"),
    (["--d", "1"], "d: expected an integer >= 2, got 1"),
    (["--n", "0"], "n: expected an integer >= 1, got 0"),
    (["--d", "3", "--n", "8"], "n: expected at most 2^d - 1 = 7"),
    (["--steps", "0"], "steps: expected an integer >= 1"),
    (["--threads", "0"], "threads: expected an integer >= 1, got 0"),
    (["--cases", "foo"], "cases: expected 'all' or comma-separated arch:activation:loss, got 'foo'"),
    (["--cases", "bias:tanh:mse"], "cases: expected a case the fused kernels cover"),
    (["--cases", "sim_bn:relu:mse"], "cases: expected a case the fused kernels cover"),
    (["--cases", "nobias:softplus:mse"], "cases: expected a case the fused kernels cover"),
    (["--cases", "bias:relu:hinge"], "cases: expected a case the fused kernels cover"),
    (["--device", "tpu"], "device: expected one of ('cpu', 'cuda', 'auto'), got 'tpu'"),
])
def test_bad_arguments_exit_2_with_a_message(capsys, argv, message):
    assert run(["bench", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("sharpgen bench: error: " + message.split(",")[0]), captured.err
    assert message in captured.err and "Traceback" not in captured.err
    assert captured.out == ""  # nothing was timed


def test_parse_cases():
    assert cmd_bench.parse_cases("all") == cmd_bench.CASES
    assert cmd_bench.parse_cases("nobias:relu:mse, bias:softplus:logistic") == (
        ("nobias", "relu", "mse"), ("bias", "softplus", "logistic"))


def test_help_describes_the_sizes_without_rst_markup(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["bench", "--help"])
    out = capsys.readouterr().out
    assert "``" not in out
    assert "input dimension" in out and "training points" in out and "hidden width" in out
