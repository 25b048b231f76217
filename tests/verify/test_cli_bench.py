"""`sharpgen bench` (verify.cmd_bench, verify.bench): usage errors exit 2 without a traceback, a tiny
run prints every path of every requested case within 100 columns, and --json carries the same rows.
Speed itself is never asserted (a benchmark, not a timed test)."""
import argparse
import json

import pytest
import torch

from sharpgen.verify import bench, cmd_bench


def parser():
    p = argparse.ArgumentParser(prog="sharpgen")
    sub = p.add_subparsers(dest="command")
    cmd_bench.add_parser(sub)
    return p


def run(argv):
    args = parser().parse_args(argv)
    return args.func(args)


TINY = ["--d", "4", "--n", "6", "--width", "8", "--seconds", "0.002", "--replicas", "1,3"]


@pytest.mark.parametrize("argv,message", [
    (["--width", "-1"], "width: expected an integer >= 1, got -1"),
    (["--width", "0"], "width: expected an integer >= 1, got 0"),
    (["--d", "1"], "d: expected an integer >= 2, got 1"),
    (["--n", "0"], "n: expected an integer >= 1, got 0"),
    (["--d", "3", "--n", "8"], "n: expected at most 2^d - 1 = 7"),
    (["--threads", "0"], "threads: expected an integer in [1, "),
    (["--threads", "1000000"], "threads: expected an integer in [1, "),
    (["--seconds", "0"], "seconds: expected a number in (0, 600.0]"),
    (["--replicas", "1,x"], "replicas: expected comma-separated integers >= 1, got '1,x'"),
    (["--replicas", "0"], "replicas: expected comma-separated integers >= 1, got '0'"),
    (["--seconds", "1e20"], "seconds: expected a number in (0, 600.0]"),
    (["--replicas", "99999999999999999999"], "replicas: expected counts of at most 4096, got 99999999999999999999"),
    (["--width", "99999999999999999999"], "width: 1 replicas of a width-99999999999999999999 net in d = 30 need"),
    (["--cases", "resnet"], "cases: expected 'all' or comma-separated names among"),
    (["--dtype", "float16"], "dtype: expected one of ('float64', 'float32'), got 'float16'"),
    (["--device", "tpu"], "device: expected one of ('cpu', 'cuda', 'auto'), got 'tpu'"),
])
def test_bad_arguments_exit_2_with_a_message(capsys, argv, message):
    assert run(["bench", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("sharpgen bench: error: " + message.split(",")[0]), captured.err
    assert message in captured.err and "Traceback" not in captured.err
    assert captured.out == ""  # nothing was timed


def test_parse_cases():
    assert cmd_bench.parse_cases("all") == cmd_bench.CASE_NAMES == tuple(bench.CASES)
    assert cmd_bench.parse_cases("nobias, sim_bn") == ("nobias", "sim_bn")


def test_tiny_run_prints_every_path_within_100_columns(capsys):
    assert run(["bench", *TINY, "--cases", "sim_ln,bias-depth3"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    for case in ("sim_ln", "bias-depth3"):
        lines = [ln for ln in out.splitlines() if ln.startswith(case + " ")]
        paths = [ln[14:28].strip() for ln in lines]
        plain = len({1, torch.get_num_threads()})  # at one thread and at torch's default
        assert paths[:plain + 1] == ["plain torch"] * plain + ["reference"] and paths[-2:] == ["Tr exact", "evaluation"]
        assert sum(p.startswith("engine") for p in paths) == 2  # replicas 1 and 3
    assert "plain torch  nn.Sequential" in out and "load average" in out


def test_json_rows_and_ratios(capsys):
    assert run(["bench", *TINY, "--cases", "sim_bn", "--json", "--dtype", "float64"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = data["rows"]
    assert rows[0]["path"] == "plain torch" and sum(r["path"] == "reference" for r in rows) == 1
    engine = [r for r in rows if r["path"].startswith("engine")]
    assert [r["replicas"] for r in engine] == [1, 3]
    plain = min(r["us_per_step"] for r in rows if r["path"] == "plain torch")
    for r in rows:
        assert r["us_per_step"] > 0
        assert r["x_plain"] == pytest.approx(plain / r["us_per_step"])
        assert r["steps_per_s"] == pytest.approx(1e6 / r["us_per_step"])
    assert data["evaluation"]["sim_bn"]["trace_ms"] > 0
    assert data["evaluation"]["sim_bn"]["evaluation_ms"] >= data["evaluation"]["sim_bn"]["trace_ms"] * 0.5


def test_plain_models_compute_the_architectures():
    # the plain loop trains the same functions as numerics' networks (so its timing is a fair baseline)
    from sharpgen.numerics.nets.functional import forward
    torch.manual_seed(0)
    X = torch.randn(64, 4)  # enough points that no neuron is dead on all of them (sim_bn's a_j > 0)
    for case, (arch, activation, depth, _) in bench.CASES.items():
        model = bench.plain_model(arch, activation, depth, 4, 6, X)
        lin = [mod for mod in model.modules() if isinstance(mod, torch.nn.Linear)]
        params = {"W1": lin[0].weight, "W2": lin[-1].weight[0]}
        if arch != "nobias":
            params["b1"] = lin[0].bias
        params.update({f"middle.{k}": mod.weight for k, mod in enumerate(lin[1:-1])})
        if arch == "sim_bn":
            params["gamma"] = model.gamma
        want = forward(arch, params, X, activation=activation, eps=bench.EPS_LN, X_train=X)
        assert torch.allclose(model(X).squeeze(-1), want, atol=1e-6), case
