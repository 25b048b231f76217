"""Sizes no machine can serve are refused up front, on every command line, within seconds: exit 2, one
line naming the argument and the limit, no traceback, nothing written (the red team's huge-value cases,
experiments/redteam)."""
import os
import time

import pytest

from sharpgen.verify.cli import main

HUGE = "99999999999999999999"
TRAIN = ["train", "--arch", "bias", "--d", "3", "--n", "6", "--n-test", "8", "--width", "4", "--data", "xor",
         "--phases", "0.01,0.05,1,0,20", "--eval-every", "10", "--no-theory", "--progress", "off"]
SEARCH = ["search", "--data", "xor", "--d", "3", "--n", "4", "--width", "4", "--starts", "1", "--iterations", "5",
          "--progress", "off"]
CORES = os.cpu_count() or 1


@pytest.mark.parametrize("argv, message", [
    ([*TRAIN, "--epochs", "1e300"], "epochs: expected at most 1e+09 epochs in all phases"),
    ([*TRAIN, "--d", "1e300"], "d: the data would hold (n + n_test)·d = 14·1e+300 numbers, more than 134217728"),
    ([*TRAIN, "--eval-log-points", "1e300"], "eval_log_points: expected at most 1000000 evaluations"),
    ([*TRAIN, "--eval-every", "1", "--epochs", "1e8"], "eval_every: expected at most 1000000 evaluations"),
    ([*TRAIN, "--depth", "1e300"], "depth: a run of this size needs about"),
    ([*TRAIN, "--width", "1e300"], "width: a run of this size needs about"),
    ([*SEARCH, f"--d={HUGE}"], "d: the data would hold (n + n_test)·d = 5·1e+20 numbers"),
    ([*SEARCH, f"--starts={HUGE}"], f"starts: expected an integer in [1, 4096], got {HUGE}"),
    ([*SEARCH, f"--iterations={HUGE}"], f"iterations: expected an integer in [1, 1000000], got {HUGE}"),
    ([*SEARCH, "--width", "100000", "--starts", "4000"], "starts: the search holds starts × n × parameters"),
    (["verify", "--kind", "exact", f"--seed={HUGE}"], "--seed: expected an integer in [0, 18446744073709551615]"),
    (["verify", "--kind", "exact", f"--examples={HUGE}"], "--examples: expected an integer in [1, 100000]"),
    (["verify", "--kind", "exact", "--device", "tpu9"], "--device: expected one of ('cpu', 'cuda', 'auto')"),
    (["reproduce", "1", f"--seeds={HUGE}"], "argument --seeds: expected an integer in [1, 10000]"),
    (["table1", f"--seeds={HUGE}"], "argument --seeds: expected an integer in [1, 10000]"),
    (["sweep", "sample_complexity", f"--workers={HUGE}"], f"argument --workers: expected an integer in [1, {CORES}]"),
    (["sweep", "sample_complexity", f"--replicas={HUGE}"], "argument --replicas: expected an integer in [1, 20000]"),
])
def test_huge_values_are_refused_up_front(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    start = time.monotonic()
    try:
        code = main([*argv, "--out", "out"])
    except SystemExit as stop:  # argparse refuses the value itself
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and time.monotonic() - start < 10
    assert message in err.strip().splitlines()[-1] and "Traceback" not in err  # argparse's usage lines above
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
