"""`sharpgen search` (verify.cmd_search) and its pipeline (verify.search.run)."""
import json

import pytest
import torch

from sharpgen.numerics.nets.data import cube, xor_labels
from sharpgen.verify import cmd_search
from sharpgen.verify.cli import main
from sharpgen.verify.search import run as pipeline
from sharpgen.verify.theory_min import TheoryMinimum

TINY = ["search", "--arch", "bias", "--width", "6", "--starts", "3", "--iterations", "30", "--progress", "off"]
XOR = ["--data", "xor", "--d", "3", "--n", "5"]


def test_a_tiny_flattest_search_writes_its_folder(tmp_path, capsys):
    out = tmp_path / "flat"
    assert main([*TINY, *XOR, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["net.json", "report.json", "report.md", "search.log"]
    report = json.loads((out / "report.json").read_text())
    assert report["kind"] == "flattest" and report["certificate"]["ok"]
    assert report["trace"] >= report["theory_min"] * (1 - 1e-9) and report["residual"] <= 1e-10
    assert "flattest 30/30 (100%)" in (out / "search.log").read_text()
    printed = capsys.readouterr().out
    assert "certificate ok" in printed and str(out) in printed


def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "bad"
    assert main([*TINY, *XOR, "--kappa", "-1", "--out", str(out)]) == 2
    assert "kappa: expected a finite number >= 0" in capsys.readouterr().err
    assert main([*TINY, *XOR, "--condition1", "--out", str(out)]) == 2
    assert "train: expected exactly one of" in capsys.readouterr().err
    assert main([*TINY, *XOR, "--kind", "adversary", "--out", str(out)]) == 2
    assert "target: expected one of" in capsys.readouterr().err
    assert main([*TINY, "--train", str(tmp_path / "missing.csv"), "--out", str(out)]) == 2
    with pytest.raises(SystemExit) as stop:
        main([*TINY, *XOR, "--device", "tpu", "--out", str(out)])
    assert stop.value.code == 2 and "--device: invalid choice: 'tpu'" in capsys.readouterr().err
    assert not out.exists()


def test_a_non_empty_out_is_refused(tmp_path, capsys):
    (tmp_path / "keep.txt").write_text("mine")
    assert main([*TINY, *XOR, "--out", str(tmp_path)]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_a_train_csv_is_the_training_set(tmp_path, capsys):
    X = cube(3)[[0, 3, 5, 6]]
    csv = tmp_path / "train.csv"
    csv.write_text("x1,x2,x3,y\n" + "".join(",".join(f"{v:g}" for v in [*x, y]) + "\n"
                                           for x, y in zip(X.tolist(), xor_labels(X).tolist())))
    out = tmp_path / "csv"
    assert main([*TINY, "--train", str(csv), "--out", str(out)]) == 0
    net = json.loads((out / "net.json").read_text())
    assert net["X"] == X.tolist() and net["Y"] == xor_labels(X).tolist()


def test_below_the_theory_minimum_raises_and_exits_1(tmp_path, monkeypatch, capsys):
    fake = TheoryMinimum(100.0, True, "a wrong theory")
    monkeypatch.setattr(pipeline, "theory_minimum", lambda spec: fake)
    X = cube(3)[:5]
    spec = pipeline.SearchSpec("bias", 6, X, xor_labels(X), starts=2, iterations=10)
    with pytest.raises(pipeline.BelowMinimum, match="below the theory minimum 100 .a wrong theory."):
        pipeline.search(spec)
    assert main([*TINY, *XOR, "--out", str(tmp_path / "below")]) == 1
    assert "below the theory minimum 100" in capsys.readouterr().err
    assert not (tmp_path / "below" / "report.json").exists()


def test_an_adversary_search_reports_its_target_within_the_bound(tmp_path, capsys):
    out = tmp_path / "adv"
    assert main([*TINY, *XOR, "--kind", "adversary", "--target", "population_error", "--kappa", "0.05",
                 "--out", str(out)]) in (0, 1)
    report = json.loads((out / "report.json").read_text())
    target = report["target"]
    assert target["name"] == "population_error" and target["bound"] == pytest.approx(8 * 1.05)
    assert report["trace"] <= target["bound"] and 0 <= target["value"] <= 1


def test_the_device_reaches_the_problem_and_the_repeat_line(tmp_path):
    parser = __import__("argparse").ArgumentParser()
    cmd_search.add_parser(parser.add_subparsers())
    args = parser.parse_args([*TINY, *XOR, "--device", "auto", "--out", str(tmp_path / "o")])
    spec = cmd_search.build_spec(args)
    assert spec.device == "auto" and spec.problem().device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert "--device auto" in cmd_search.command_line(args)
    with pytest.raises(ValueError, match="device: expected one of"):
        pipeline.SearchSpec("bias", 4, cube(2), xor_labels(cube(2)), device="gpu")


def test_the_parser_choices_match_the_pipeline():
    assert cmd_search.KINDS == pipeline.KINDS and cmd_search.TARGETS == pipeline.TARGETS


def test_error_targets_are_measured_on_the_cube_or_on_samples():
    X, Y = pipeline.evaluation_points(13, seed=3)
    assert X.shape == (pipeline.SAMPLES, 13) and set(X.unique().tolist()) == {-1.0, 1.0}
    assert torch.equal(Y, X[:, 0] * X[:, 1]) and torch.equal(X, pipeline.evaluation_points(13, seed=3)[0])
    assert pipeline.evaluation_points(4)[0].shape == (16, 4)
