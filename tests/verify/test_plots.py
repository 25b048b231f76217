"""Figures (verify.plots) drawn from short real runs: the plotted data equal the metrics and the theory.

Each test reads the series back from the figure object (Line2D data, bar heights,
polygon vertices) and compares them with metrics.csv, the checkpoint, or an
independent exact computation (theory.minimum.min_sharpness on the run's training set).
"""
import math
import re

import numpy as np
import pytest
import sympy as sp

from sharpgen.numerics.runs import checkpoint as ckpt
from sharpgen.numerics.runs.config import TrainConfig, parse_phases
from sharpgen.numerics.nets.diagnostics import column_norms, top_neurons
from sharpgen.numerics.runs.train import make_dataset, train
from sharpgen.theory.minimum import min_sharpness
from sharpgen.verify.plots import circle, curves, neurons, rundata, scenarios, style, table1
from sharpgen.verify.plots.runplot import plot_runs
from sharpgen.verify.reproduce import theory_min

TINY = dict(d=6, n=16, n_test=40, width=12, eval_every=4)
SAM = dict(TINY, arch="bias", phases=parse_phases("0.05,0.05,1,0,8; 0.05,0.1,1,0,6"))
GD = dict(TINY, arch="bias", optimizer="sgd", phases=parse_phases("0.05,0,16,0.05,12"))
SIM_LN = dict(TINY, arch="sim_ln", eps=1e-3, init_scale_first_layer=0.01, phases=parse_phases("0.1,0.1,1,0,8"))
SIM_BN = dict(TINY, arch="sim_bn", phases=parse_phases("0.002,0.1,1,0,4"))
CIRCLE = dict(arch="bias", d=2, n=6, n_test=200, width=10, data="circle", eval_every=50,
              phases=parse_phases("0.05,0.1,1,0,200"))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Short real runs (with their theory minimum), trained once for the module."""
    root = tmp_path_factory.mktemp("runs")
    made = {}
    for name, fields, seeds in (("sam", SAM, (0, 1)), ("gd", GD, (0,)), ("sim_ln", SIM_LN, (0,)),
                                ("sim_bn", SIM_BN, (0,)), ("circle", CIRCLE, (0,))):
        made[name] = []
        for seed in seeds:
            cfg = TrainConfig(**fields, seed=seed).validate()
            train(cfg, root / f"{name}-{seed}", theory_min=theory_min(cfg), progress="off")
            made[name].append(rundata.load_run(root / f"{name}-{seed}"))
    return made


def ys(line) -> list:
    return np.asarray(line.get_ydata(), dtype=float).tolist()


def xs(line) -> list:
    return np.asarray(line.get_xdata(), dtype=float).tolist()


def column(run, name):
    return [r[name] for r in run.rows if r.get(name) is not None]


def exact_min(run) -> float:
    """The theory minimum recomputed from the run's own training set, independently of the logged column."""
    data = make_dataset(run.config)
    exact = int if run.config.data == "xor" else (lambda v: sp.Rational(repr(v)))
    X = [[exact(v) for v in row] for row in data.X.tolist()]
    Y = [exact(v) for v in data.Y.tolist()]
    eps = {} if run.config.eps is None else {"eps": sp.Rational(repr(run.config.eps))}
    return float(min_sharpness(run.config.arch, X, Y, **eps).value)


def test_curves_series_equal_the_metrics_and_the_theory_line_the_exact_minimum(runs, tmp_path):
    run = runs["gd"][0]
    fig = curves.draw_curves(curves.make_groups([run]))
    lines = curves.series_by_gid(fig)
    for name in curves.PANELS:
        assert xs(lines[f"{name}:0"]) == column(run, "epoch")
        if name != "trace":
            assert ys(lines[f"{name}:0"]) == column(run, name)
    # F3 on cube data: (4/n) Σ sqrt(d+1) |y_i| = 4 sqrt(7) at d = 6.
    assert exact_min(run) == pytest.approx(4 * math.sqrt(7), rel=1e-12)
    # The Tr panel shows the gap to theory: Tr ∇²L over the exact minimum, the minimum a line at 1.
    assert ys(lines["trace:0"]) == pytest.approx([v / exact_min(run) for v in column(run, "trace")], rel=1e-12)
    assert ys(lines["theory_min:ratio"]) == [1.0, 1.0]
    trace_ax = [ax for ax in fig.axes if lines["trace:0"] in ax.lines][0]
    assert trace_ax.get_ylabel() == style.TRACE_RATIO_LABEL
    low, high = trace_ax.get_ylim()
    assert low < 1.0 < high and high - low < 0.5 * max(column(run, "trace"))  # a ratio axis, not Tr's own
    # linear within 1 ± GAP_WIDTH, logarithmic beyond: a 2% gap takes a visible share of a 10x axis
    to_axis = trace_ax.transData.transform
    height = to_axis((0, 11.0))[1] - to_axis((0, 1.0))[1]
    assert to_axis((0, 1.02))[1] - to_axis((0, 1.0))[1] > 0.15 * height
    caption = " ".join([t.get_text() for t in fig.texts if t.get_gid() == "caption"][0].split())
    assert "divided by the theory's least" in caption and "linear within 1 ± 1%" in caption
    assert "trace_gn:0" not in lines  # relu bias: Tr ∇²L is its interpolation part (F1)
    assert not [g for g in lines if g.startswith("phase:")]  # one phase: no boundary
    paths = style.save(fig, tmp_path / "gd")
    assert [p.name for p in paths] == ["gd.png", "gd.pdf"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[1].read_bytes()[:5] == b"%PDF-"


def test_seeds_are_averaged_with_a_min_max_band_and_phases_marked(runs):
    sam, gd = runs["sam"], runs["gd"]
    groups = curves.make_groups([gd[0], *sam])
    assert [len(g.runs) for g in groups] == [1, 2]
    assert (groups[0].colour, groups[1].colour) == (style.BASELINE_COLOURS[0], style.SAM_COLOURS[0])
    assert "(2 seeds)" in groups[1].label and "ρ 0.05→0.1" in groups[1].label and "lr 0.05" in groups[1].label
    fig = curves.draw_curves(groups)
    lines = curves.series_by_gid(fig)
    traces = np.array([[v / exact_min(r) for v in column(r, "trace")] for r in sam])  # each seed over its own minimum
    assert lines["trace:1"].get_ydata() == pytest.approx(traces.mean(axis=0), rel=1e-12)
    assert lines["trace:1"].get_color() == style.SAM_COLOURS[0]
    band = [c for ax in fig.axes for c in ax.collections if c.get_gid() == "band:trace:1"][0]
    ys = band.get_paths()[0].vertices[:, 1]
    assert ys.min() == pytest.approx(traces.min()) and ys.max() == pytest.approx(traces.max())
    assert sorted(g for g in lines if g.startswith("phase:")) == ["phase:8"]
    caption = " ".join([t.get_text() for t in fig.texts if t.get_gid() == "caption"][0].split())
    assert "seeds 0, 1" in caption and "band: min–max" in caption


def test_interpolation_part_is_drawn_where_the_residual_term_matters(runs):
    run = runs["sim_ln"][0]
    lines = curves.series_by_gid(curves.draw_curves(curves.make_groups([run])))
    assert rundata.residual_matters([run])
    assert exact_min(run) == 2.0
    assert ys(lines["trace_gn:0"]) == pytest.approx([v / 2.0 for v in column(run, "trace_gn")], rel=1e-15)
    assert ys(lines["trace:0"]) == pytest.approx([v / 2.0 for v in column(run, "trace")], rel=1e-15)
    assert ys(lines["trace_gn:0"]) != ys(lines["trace:0"])
    assert ys(lines["theory_min:ratio"])[0] == 1.0


def test_uneven_epochs_unknown_columns_log_scales():
    cfg = TrainConfig(arch="bias", d=3, n=4, phases=parse_phases("0.1,0.05,1,0,1000"))
    epochs = [0, 1, 2, 4, 10, 30, 100, 1000]
    rows = [{"epoch": float(e), "train_loss": 10.0 ** -k, "test_loss": 0.5, "test_error": 0.1,
             "trace": -5e4 if k == 1 else 9.0, "trace_gn": 9.0, "theory_min": 8.0, "wall_s": 0.1 * k, "gamma_w2_l1": 1.0} for k, e in enumerate(epochs)]
    fig = curves.draw_curves(curves.make_groups([rundata.Run(None, cfg, rows)]), logx=True)
    lines = curves.series_by_gid(fig)
    assert xs(lines["train_loss:0"]) == epochs
    by_label = {ax.get_ylabel(): ax for ax in fig.axes}
    assert by_label["training loss L"].get_yscale() == "log"
    assert by_label["test error (0-1: y·f ≤ 0)"].get_yscale() == "linear"
    ratio_ax = by_label[style.TRACE_RATIO_LABEL]  # -5e4 / 8 and 9 / 8: below and above the minimum
    assert ratio_ax.get_yscale() == "function" and 1.0 in ratio_ax.get_yticks()
    low, high = ratio_ax.get_ylim()
    assert low < -5e4 / 8 and 9 / 8 < high
    assert all(ax.get_xscale() == "symlog" for ax in fig.axes)


def test_without_a_theory_minimum_for_every_run_tr_is_drawn_on_a_log_axis():
    cfg = TrainConfig(arch="bias", d=3, n=4, phases=parse_phases("0.1,0.05,1,0,10"))
    rows = [{"epoch": float(e), "test_error": 0.1, "trace": 9.0 - e / 5, "trace_gn": 9.0 - e / 5} for e in (0, 5, 10)]
    with_min = [dict(r, theory_min=8.0) for r in rows]
    fig = curves.draw_curves(curves.make_groups([rundata.Run(None, cfg, rows),
                                                 rundata.Run(None, cfg.replace(seed=1), with_min)]))
    lines = curves.series_by_gid(fig)
    by_label = {ax.get_ylabel(): ax for ax in fig.axes}
    trace_ax = by_label[style.TRACE_LABEL + " (exact)"]
    assert trace_ax.get_yscale() == "log"  # spans a factor < LOG_SPAN, log all the same
    assert ys(lines["trace:0"]) == [9.0, 8.0, 7.0]  # Tr itself: one seed has no minimum to divide by
    assert ys(lines["theory_min:0"])[0] == 8.0 and "theory_min:ratio" not in lines
    ratio = curves.draw_curves(curves.make_groups([rundata.Run(None, cfg, with_min)]))
    assert {ax.get_ylabel(): ax for ax in ratio.axes}[style.TRACE_RATIO_LABEL].get_yscale() == "function"


def test_settings_that_differ_in_size_say_so_in_the_legend_not_the_caption():
    rows = [{"epoch": 0.0, "test_error": 0.5, "trace": 9.0}, {"epoch": 10.0, "test_error": 0.0, "trace": 8.0}]
    small = TrainConfig(arch="sim_ln", d=3, n=4, eps=1e-3, phases=parse_phases("0.1,0.1,1,0,10"))
    runs = [rundata.Run(None, small, rows), rundata.Run(None, small.replace(n=8), rows)]
    labels = [g.label for g in curves.make_groups(runs)]
    assert [label.endswith(f" · n={n}") for label, n in zip(labels, (4, 8))] == [True, True]
    caption = style.config_caption([r.config for r in runs], [0, 0])
    assert "d=3" in caption and "n=" not in caption.replace("n_test", "")
    assert all(" · n=" not in g.label for g in curves.make_groups(runs[:1]))


def test_run_loading_errors_name_the_directory(tmp_path):
    with pytest.raises(ValueError, match="^run_dir: .* is not a directory"):
        rundata.load_run(tmp_path / "nope")
    with pytest.raises(ValueError, match="has no config.json"):
        rundata.load_run(tmp_path)


def test_neurons_figure_shows_the_checkpoint_neurons(runs):
    run = runs["sim_bn"][0]
    fig = neurons.draw_neurons([run])
    bars = {p.get_gid(): p.get_height() for ax in fig.axes for p in ax.patches if p.get_gid()}
    model = rundata.load_model(run)
    params = ckpt.load_checkpoint(run.path)["params"]
    assert model.W1.detach().tolist() == params["W1"].tolist()
    top = top_neurons(model, k=4)
    for r in range(4):
        assert bars[f"top{r + 1}:w1"] == float(top["w1"][r]) and bars[f"top{r + 1}:rest"] == float(top["rest"][r])
    assert [bars[f"col:{k + 1}"] for k in range(6)] == column_norms(model).tolist()
    table = neurons.neuron_table(run)
    assert table.top[0]["out"] == pytest.approx(float(params["W2"][top["index"][0]] * params["gamma"][top["index"][0]]))
    assert f"| 0 | 1 | {int(top['index'][0])} |" in neurons.neurons_markdown([table])


def test_polygon_clipping_is_exact():
    half = circle.clip_polygon(circle.box_polygon(1.0), np.array([1.0, 1.0]), 0.0)  # x + y >= 0: half the square
    area = 0.5 * abs(np.dot(half[:, 0], np.roll(half[:, 1], 1)) - np.dot(half[:, 1], np.roll(half[:, 0], 1)))
    assert area == pytest.approx(2.0)
    assert len(circle.zero_region(np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([0.5, 0.5]), 1.0)) == 0


def test_circle_figure_regions_match_the_networks(runs):
    run = runs["circle"][0]
    fig = circle.draw_circle_figure(run)
    left, right = fig.axes[:2]
    data = make_dataset(run.config)
    X = data.X.numpy()
    mem = circle.construction_params(X, data.Y.numpy())
    patches = {p.get_gid(): p for p in left.patches if p.get_gid()}
    for j in range(run.config.n):  # C1: neuron j fires on training point j only (Thm 4.1)
        z = X @ mem["W1"][j] + mem["b1"][j]
        assert z[j] > 0 and (np.delete(z, j) <= 0).all()
        assert patches[f"neuron:{j}"].get_path().contains_point(X[j])
    trained = ckpt.load_checkpoint(run.path)["params"]
    zero = [p for p in right.patches if p.get_gid() == "zero_region"]
    for poly in zero:
        pts = poly.get_xy()
        assert (pts @ trained["W1"].numpy().T + trained["b1"].numpy() <= 1e-9).all()
    points = [ln for ln in right.lines if ln.get_gid() == "train_points:+1"][0]
    assert sorted(points.get_xdata().tolist()) == sorted(X[data.Y.numpy() == 1, 0].tolist())
    assert f"{exact_min(run):.4g}" in left.get_title()  # C1 attains the minimum 4√2 (F3)
    angle = np.linspace(0, 2 * np.pi, 100_000, endpoint=False)
    ring = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    silent = (ring @ mem["W1"].T + mem["b1"] <= 0).all(axis=1).mean()  # f = 0 there: no neuron fires
    shown = float(re.search(r"f = 0 on (\d+)% of the circle", left.get_title()).group(1))
    assert abs(shown - 100 * silent) <= 0.6  # rounded to a percent, sampled on 2880 angles
    assert exact_min(run) == pytest.approx(4 * math.sqrt(2), rel=1e-12)


def test_table1_numbers_come_from_constructions_and_runs(runs):
    cons = table1.construction_errors(d=5, n=12)
    assert cons["bias"]["memorizing"].zero_one == 1 - sp.Rational(12, 2 ** 5)  # C1: 1 - n/2^d (Prop 4.1)
    assert cons["sim_ln"]["memorizing"].mse == 1 - sp.Rational(12, 2 ** 5)
    assert all(cons[a]["generalizing"].zero_one == 0 for a in table1.ARCHS)
    assert cons["nobias"]["memorizing"] is None and cons["sim_bn"]["memorizing"] is None
    summary = table1.trained_summary(runs["sam"])
    for k, run in enumerate(runs["sam"]):
        assert summary.test_errors[k] == run.rows[-1]["test_error"]
        assert summary.rel_trace[k] == pytest.approx(run.rows[-1]["trace"] / exact_min(run), rel=1e-12)
    rows = table1.table_rows(cons, {"bias": summary})
    bias = [r for r in rows if r["scenario"] == "II"][0]
    assert bias["1-SAM test error per seed"] == ", ".join(f"{e:.3f}" for e in summary.test_errors)
    assert [r for r in rows if r["scenario"] == "I"][0]["1-SAM test error per seed"] == "—"
    text = table1.table_markdown(rows, "caption")
    assert text.count("\n| ") == 4 and "C1: 0-1 5/8 ≈ 0.625" in text


def test_scenario_points_are_final_rows_over_the_theory_minimum(runs):
    groups = curves.make_groups([runs["gd"][0], *runs["sam"]])
    fig = scenarios.draw_scenarios([scenarios.ScenarioPanel("bias", groups, table1.construction_errors(d=4, n=6)["bias"])])
    lines = {ln.get_gid(): ln for ln in fig.axes[0].lines if ln.get_gid()}
    for gi, group in enumerate(groups):
        expected = [r.rows[-1]["trace"] / exact_min(r) for r in group.runs]
        assert lines[f"runs:bias:{gi}"].get_xdata() == pytest.approx(expected, rel=1e-12)
        assert ys(lines[f"runs:bias:{gi}"]) == [r.rows[-1]["test_error"] for r in group.runs]
    assert lines["runs:bias:0"].get_marker() == "s" and lines["runs:bias:1"].get_marker() == "o"
    assert ys(lines["construction:bias:memorizing"]) == [float(1 - sp.Rational(6, 16))]


def test_plot_runs_overlays_any_run_directories(runs, tmp_path):
    dirs = [runs["gd"][0].path, runs["sam"][0].path, runs["sam"][1].path]
    paths = plot_runs(dirs, tmp_path / "overlay", labels=["baseline", "SAM"], logx=True)
    assert [p.exists() for p in paths] == [True, True]
    with pytest.raises(ValueError, match="^labels: expected 2 labels"):
        plot_runs(dirs, tmp_path / "bad", labels=["one"])
    with pytest.raises(ValueError, match="^run_dirs: the 'circle' figure draws one run"):
        plot_runs(dirs, tmp_path / "bad", kind="circle")
    assert not list(tmp_path.glob("bad*"))
