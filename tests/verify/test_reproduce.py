"""`sharpgen reproduce` / `table1` / `plot` (verify.reproduce and the CLI handlers) on tiny runs.

Every preset is shrunk through ``reproduce(configure=...)`` (d = 6, n = 16, width 12,
a few epochs), so real runs are trained, reused and resumed in seconds.
"""
import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from sharpgen.numerics.runs import checkpoint as ckpt
from sharpgen.numerics.runs.config import parse_phases
from sharpgen.numerics.runs.presets import PRESETS
from sharpgen.numerics.runs.train import train
from sharpgen.verify import cli
from sharpgen.verify import reproduce as R
from sharpgen.verify.plots import curves

EPOCHS = 6


def tiny(name, cfg, epochs=EPOCHS):
    """Any planned config at toy size, same architecture, loss, data kind and optimizer."""
    if cfg.data == "circle":
        return cfg.replace(n=6, width=10, phases=parse_phases("0.05,0.1,1,0,60"), eval_every=20)
    phases = tuple(dataclasses.replace(ph, epochs=epochs, batch=1 if ph.batch == 1 else 16) for ph in cfg.phases)
    size = {} if cfg.data == "condition1" else dict(d=6, n=16)
    return cfg.replace(n_test=40, width=12, phases=phases, eval_every=3, **size)


def quiet(message):
    pass


def figure_data(result) -> dict:
    """Every plotted line with a gid, by (figure, gid): (x, y) as float lists."""
    out = {}
    for stem, fig in result.figures.items():
        for gid, line in curves.series_by_gid(fig).items():
            out[(stem, gid)] = (np.asarray(line.get_xdata(), float).tolist(), np.asarray(line.get_ydata(), float).tolist())
    return out


def test_every_preset_belongs_to_a_figure():
    planned = {name for spec in R.FIGURES.values() for name in spec.presets}
    assert set(PRESETS) <= planned
    assert {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "summary"} == set(R.FIGURES)


@pytest.mark.parametrize("fig", ["1", "2", "3", "6", "7", "10", "11", "summary"])
def test_each_figure_is_drawn_from_its_runs(fig, tmp_path):
    result = R.reproduce(fig, tmp_path, seeds=[0], configure=tiny, progress="off", log=quiet)
    for path in result.files:
        assert path.stat().st_size > (1000 if path.suffix in (".png", ".pdf") else 100), path
    assert {p.suffix for p in result.files} >= {".png", ".pdf"}
    for stem, figure in result.figures.items():
        lines = curves.series_by_gid(figure)
        if stem.startswith("fig") and not stem.startswith(("fig2b", "fig3")):
            groups = curves.make_groups([r for name in R.FIGURES[fig].presets for r in result.runs[name]])
            ratio = "theory_min:ratio" in lines  # Tr ∇²L over the minimum when every run has a positive one
            for gi, group in enumerate(groups):
                first = group.runs[0]
                plotted = (curves.relative_to_minimum(first) if ratio else first).rows
                trace = [row["trace"] for row in plotted]
                assert np.asarray(lines[f"trace:{gi}"].get_ydata(), float).tolist() == pytest.approx(trace)
                line = lines["theory_min:ratio" if ratio else f"theory_min:{gi}"].get_ydata()[0]
                assert line == (1.0 if ratio else first.rows[0]["theory_min"])


def test_interrupted_reproduce_resumes_to_the_same_figure(tmp_path, monkeypatch, metrics_text):
    def configure(name, cfg):
        return tiny(name, cfg, epochs=12)

    whole = R.reproduce("4", tmp_path / "whole", seeds=[0, 1], configure=configure, progress="off", log=quiet)
    assert set(whole.actions.values()) == {"trained"}

    calls = {"n": 0}
    real_save = ckpt.save_checkpoint

    def killed_on_fourth_save(run_dir, state):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("simulated kill")
        return real_save(run_dir, state)

    # fig4a's two seeds train together: each saves at epoch 0, then seed 0 at epoch 3 and the kill comes
    # as seed 1 saves its epoch 3, so the resume starts them at different epochs
    monkeypatch.setattr(ckpt, "save_checkpoint", killed_on_fourth_save)
    with pytest.raises(KeyboardInterrupt):
        R.reproduce("4", tmp_path / "cut", seeds=[0, 1], configure=configure, progress="off", log=quiet)
    monkeypatch.setattr(ckpt, "save_checkpoint", real_save)
    specs = R.plan(("fig4a", "fig4b"), tmp_path / "cut", seeds=[0, 1], configure=configure)
    assert [R.check_run(s).status for s in specs] == ["interrupted", "interrupted", "missing", "missing"]
    assert [ckpt.load_checkpoint(s.run_dir)["epoch"] for s in specs[:2]] == [3, 0]

    resumed = R.reproduce("4", tmp_path / "cut", seeds=[0, 1], configure=configure, progress="off", log=quiet)
    assert list(resumed.actions.values()) == ["resumed", "resumed", "trained", "trained"]
    assert figure_data(resumed) == figure_data(whole)
    for spec in specs:  # every column but the wall clock
        assert metrics_text(spec.run_dir) == metrics_text(tmp_path / "whole" / spec.run_dir.name)

    again = R.reproduce("4", tmp_path / "cut", seeds=[0, 1], configure=configure, progress="off", log=quiet)
    assert set(again.actions.values()) == {"reused"}
    assert figure_data(again) == figure_data(whole)


def test_a_diverging_preset_is_drawn_as_far_as_it_got_and_reused(tmp_path, capsys):
    def blow_up_fig2a(name, cfg):  # Figure 2a's printed protocol diverges at the paper's width
        cfg = tiny(name, cfg)
        return cfg.replace(phases=parse_phases("1e6,0.1,1,0,6")) if name == "fig2a" else cfg

    logged = []
    result = R.reproduce("2", tmp_path, seeds=[0, 1], configure=blow_up_fig2a, progress="off", log=logged.append)
    assert sorted(result.diverged) == sorted(str(tmp_path / f"fig2a-quick-seed{s}") for s in (0, 1))
    assert sum("diverged: fig2a-quick-seed" in line for line in logged) == 2
    assert {p.name for p in result.files} >= {"fig2.png", "fig2b.png", "fig2b.md"}
    drawn = {r.path.name for runs in result.runs.values() for r in runs}
    assert {"fig2a-repro-quick-seed0", "fig2a-repro-quick-seed1"} <= drawn
    labels = [t.get_text() for t in result.figures["fig2"].legends[0].get_texts()]
    assert any(label.endswith("(2 seeds); 2 diverged after epoch 0") for label in labels), labels
    again = R.reproduce("2", tmp_path, seeds=[0, 1], configure=blow_up_fig2a, progress="off", log=logged.append)
    assert set(again.actions.values()) == {"reused", "diverged"} and again.diverged == result.diverged
    from sharpgen.verify.cmd_reproduce import report_files
    report_files("reproduce", again)
    err = capsys.readouterr().err
    assert "note: 2 run(s) diverged and are drawn up to their last evaluation: fig2a-quick-seed0" in err


def test_a_directory_holding_another_run_stops_the_plan_before_any_training(tmp_path):
    other = tiny("fig4a", R.config_for("fig4a", "quick")).replace(width=7, seed=0)
    train(other, tmp_path / R.run_dir_name("fig4a", "quick", 0), progress="off")
    with pytest.raises(ValueError, match=r"^out: .*fig4a-quick-seed0 holds a run with another config "
                                         r"\(differs in \['width'\]\)"):
        R.reproduce("4", tmp_path, seeds=[0], configure=tiny, log=quiet)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig4a-quick-seed0"]


@pytest.mark.parametrize("kwargs,match", [
    (dict(fig="12"), "^fig: expected one of"), (dict(profile="slow"), "^profile: expected one of"),
    (dict(seeds=[]), "^seeds: expected"), (dict(seeds=[1, 1]), "^seeds: expected"),
    (dict(seeds=[-1]), "^seeds: expected"), (dict(device="tpu"), "^device: expected one of"),
])
def test_bad_arguments_name_the_argument(kwargs, match, tmp_path):
    kwargs = {"fig": "1", **kwargs}
    with pytest.raises(ValueError, match=match):
        R.reproduce(kwargs.pop("fig"), tmp_path / "out", configure=tiny, log=quiet, **kwargs)
    assert not (tmp_path / "out").exists()


def test_table1_writes_markdown_and_figures(tmp_path):
    result = R.table1(tmp_path, seeds=[0, 1], configure=tiny, progress="off", log=quiet)
    assert [p.name for p in result.files] == ["table1.md", "table1.png", "table1.pdf"]
    text = result.files[0].read_text()
    bias = [line for line in text.splitlines() if line.startswith("| II |")][0]
    errors = ", ".join(f"{r.rows[-1]['test_error']:.3f}" for r in result.runs["fig4b"])
    assert errors in bias and "C1: 0-1 231/256 ≈ 0.902" in bias
    assert "seeds 0, 1" in text


def test_cli_errors_exit_2_and_write_nothing(tmp_path, capsys):
    with pytest.raises(SystemExit) as err:
        cli.main(["reproduce", "4", "--seeds", "0"])
    assert err.value.code == 2
    assert cli.main(["reproduce", "4", "--device", "tpu", "--out", str(tmp_path / "r")]) == 2
    assert "sharpgen reproduce: error: device: expected one of" in capsys.readouterr().err
    assert cli.main(["table1", "--device", "tpu", "--out", str(tmp_path / "r")]) == 2
    assert cli.main(["plot", str(tmp_path / "missing"), "--out", str(tmp_path / "p")]) == 2
    assert "sharpgen plot: error: run_dir:" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_cli_plot_draws_a_run_of_sharpgen_train(tmp_path, capsys):
    cfg = tiny("fig4b", R.config_for("fig4b", "quick"))
    train(cfg, tmp_path / "run", theory_min=R.theory_min(cfg), progress="off")
    assert cli.main(["plot", str(tmp_path / "run"), "--out", str(tmp_path / "fig"), "--logx",
                     "--title", "my run"]) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "fig.png"), str(tmp_path / "fig.pdf")]
    assert cli.main(["plot", str(tmp_path / "run"), "--kind", "neurons", "--out", str(tmp_path / "nb")]) == 0


def test_the_commands_import_neither_torch_nor_matplotlib_for_help():
    code = ("import sys; from sharpgen.verify import cmd_reproduce, cmd_table1, cmd_plot; import argparse; "
            "p = argparse.ArgumentParser(); s = p.add_subparsers(); "
            "[m.add_parser(s) for m in (cmd_reproduce, cmd_table1, cmd_plot)]; "
            "print(sorted(m for m in ('torch', 'matplotlib', 'sympy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
