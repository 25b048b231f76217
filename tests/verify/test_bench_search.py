"""`sharpgen bench --search` (verify.cmd_bench, verify.bench_search): usage errors exit 2 without a traceback,
a tiny run prints both paths and the trace line within 100 columns, --json carries the same rows with
consistent ratios, and the pieces (starts, one-at-a-time loop, table) do what the table says they do.
Speed itself is never asserted (a benchmark, not a timed test)."""
import json

import pytest
import torch

from sharpgen.numerics.search import FEASIBLE
from sharpgen.verify import bench_search
from sharpgen.verify.cli import main as run


TINY = ["--search", "--d", "3", "--n", "4", "--width", "4", "--seconds", "0.001"]


@pytest.mark.parametrize("argv,message", [
    (["--seconds", "0"], "seconds: expected a number in (0, 600.0]"),
    (["--seconds", "-1"], "seconds: expected a number in (0, 600.0]"),
    (["--width", "0"], "width: expected an integer >= 1, got 0"),
    (["--device", "cuda"], "device: --search runs on cpu (float64) only, got 'cuda'"),
])
def test_bad_arguments_exit_2_with_a_message(capsys, argv, message):
    assert run(["bench", "--search", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("sharpgen bench: error: ") and message in captured.err, captured.err
    assert "Traceback" not in captured.err and captured.out == ""  # nothing was timed


def test_tiny_run_prints_both_paths_within_100_columns(capsys):
    assert run(["bench", *TINY]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert max(len(line) for line in lines) <= 100
    mine = [ln for ln in lines if ln.startswith("custom ")]
    assert [ln[42:55].strip() for ln in mine[:2]] == ["batched x8", "one at a time"]
    assert "Tr exact+grad" in mine[2] and "autograd" in mine[2] and "values agree" in mine[2]
    assert "EXTRAPOLATED" in captured.out and "load average" in captured.out
    assert "custom: batched x8" in captured.err  # progress goes to stderr, not into the table


def test_json_rows_and_ratios(capsys):
    assert run(["bench", *TINY, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    batched, one = data["rows"]
    assert (batched["path"], one["path"]) == ("batched x8", "one at a time")
    assert batched["iterations"] == one["iterations"] >= 1 and batched["starts"] == one["starts"] == 8
    for r in (batched, one):
        assert r["ms_per_iteration"] > 0 and (r["d"], r["n"], r["width"], r["params"]) == (3, 4, 4, 20)
        assert r["start_iterations_per_s"] == pytest.approx(1e3 * r["starts"] / r["ms_per_iteration"])
        assert r["starts_per_s"] == pytest.approx(r["start_iterations_per_s"] / 400)
    assert one["x_one"] == 1.0
    assert batched["x_one"] == pytest.approx(one["ms_per_iteration"] / batched["ms_per_iteration"])
    trace, = data["traces"]
    assert trace["exact_ms"] > 0 and trace["autograd_ms"] > 0
    assert trace["exact_value"] == pytest.approx(trace["autograd_value"], rel=1e-9)


def test_default_sizes_are_the_ledger_and_paper_sizes():
    got = {(s.arch, s.data, s.d, s.n, s.width) for s in bench_search.SIZES}
    assert got == {("bias", "xor", 4, 6, 8), ("sim_bn", "condition1", 4, 12, 6), ("bias", "xor", 30, 100, 500)}
    bn = next(s for s in bench_search.SIZES if s.arch == "sim_bn").problem()
    assert tuple(bn.X.shape) == (12, 4) and bench_search.default_starts(bn) == 8
    with pytest.raises(ValueError, match="n: the condition1 size is d = 4, n = 12"):
        bench_search.Size("x", "sim_bn", 4, 8, 6, "condition1")


def test_header_of_the_default_sizes_within_100_columns():
    lines = bench_search.header(bench_search.SIZES, "machine").splitlines()
    assert max(len(line) for line in lines) <= 100 and lines[-1] == "machine"
    assert all(s.name in lines[1] for s in bench_search.SIZES) and "EXTRAPOLATED" in lines[2]


def test_output_layer_solve_moves_only_w2_and_interpolates():
    problem = bench_search.Size("t", "bias", 3, 5, 7).problem()
    theta = problem.starts(3, seed=4)
    solved = torch.stack([bench_search.solve_output_layer(problem, t) for t in theta])
    before, after = problem.unflatten(theta[0]), problem.unflatten(solved[0])
    assert torch.equal(before["W1"], after["W1"]) and torch.equal(before["b1"], after["b1"])
    assert not torch.equal(before["W2"], after["W2"])
    assert float(problem.residuals(solved).abs().max()) <= FEASIBLE
    forced = bench_search.start_points(problem, 3, seed=4, project_max=0)  # the solve path
    assert forced.shape[0] >= 1 and float(problem.residuals(forced).abs().max()) <= FEASIBLE


def test_one_at_a_time_is_one_call_per_start(monkeypatch):
    problem = bench_search.Size("t", "bias", 3, 4, 4).problem()
    theta = bench_search.start_points(problem, 3)
    seen = []
    real = bench_search.flattest

    def spy(prob, *, theta0, schedule):
        seen.append((tuple(theta0.shape), schedule.iterations))
        return real(prob, theta0=theta0, schedule=schedule)
    monkeypatch.setattr(bench_search, "flattest", spy)
    assert bench_search.time_one_at_a_time(problem, theta, 2) > 0
    assert seen == [((1, problem.size), 2)] * theta.shape[0]
    with pytest.raises(ValueError, match=r"theta: expected starts of shape \(R >= 1, 20\)"):
        bench_search.time_one_at_a_time(problem, theta[0], 2)


def test_table_of_wide_values_stays_within_100_columns():
    rows = [bench_search.SearchRow("ledger-bias", "sim_bn", 30, 100, 500, 16000, path, 8, 64, ms)
            for path, ms in (("batched x8", 0.01), ("one at a time", 123456.7))]
    traces = [dict(size="ledger-bias", params=16000, exact_ms=12345.6, exact_value=8.0, autograd_ms=None,
                   autograd_value=None)]
    summary = bench_search.summarize(rows)
    table = bench_search.format_table(summary, traces)
    assert max(len(line) for line in table.splitlines()) <= 100
    assert "skipped (P = 16000 > 4000)" in table and len(table.splitlines()) == 5
    small = dict(traces[0], params=48, autograd_ms=1e4, autograd_value=8.0 + 1e-12)
    assert len(bench_search.format_trace(small)) <= 100
    with pytest.raises(ValueError, match="has no 'one at a time' row"):
        bench_search.summarize(rows[:1])


def test_a_failing_size_is_reported_and_the_others_kept(monkeypatch):
    ok, bad = bench_search.Size("ok", "bias", 3, 4, 4), bench_search.Size("bad", "bias", 3, 4, 4)

    def fake(size, seconds, *, progress=None):
        if size is bad:
            raise RuntimeError("can't allocate memory: you tried to allocate 40000000000 bytes\nmore")
        rows = [bench_search.SearchRow("ok", "bias", 3, 4, 4, 20, p, 8, 5, ms)
                for p, ms in (("batched x8", 1.0), ("one at a time", 3.0))]
        return rows, bench_search.TraceRow("ok", 20, 1.0, 8.0, 2.0, 8.0)
    monkeypatch.setattr(bench_search, "bench_size", fake)
    text = bench_search.report([ok, bad], 0.01, "machine")
    assert "bad         FAILED: can't allocate memory" in text and "more" not in text
    assert any(line.startswith("ok ") and "batched x8" in line for line in text.splitlines())
    data = json.loads(bench_search.report([ok, bad], 0.01, "machine", as_json=True))
    assert [r["size"] for r in data["rows"]] == ["ok", "ok"] and list(data["failed"]) == ["bad"]
