"""Presets (numerics.presets) against an independent transcription of docs/paper.md §6, and the
quick presets' acceptance claims (``-m paper``: minutes each on a 2-core CPU)."""
import re

import pytest

from sharpgen.numerics.runs.presets import PRESETS, describe, get_preset, preset_names

# docs/paper.md §6, copied by hand: (arch, extra fields, rows (lr, rho, batch, wd, epochs)).
PAPER_TABLE = {
    "fig1a": ("nobias", {}, [(0.01, 0, 100, 0.05, 1e5)]),
    "fig1b": ("nobias", {}, [(0.01, 0.05, 1, 0, 1e5)]),
    "fig2a": ("sim_bn", {}, [(0.005, 0.1, 1, 0, 1e5), (0.003, 1, 1, 0, 1e5)]),
    "fig4a": ("bias", {}, [(0.01, 0, 100, 0.05, 1e5)]),
    "fig4b": ("bias", {}, [(0.01, 0.05, 1, 0, 2e5), (0.01, 0.1, 1, 0, 4e5)]),
    "fig5a": ("bias", {"activation": "softplus"}, [(0.001, 0, 1, 0.05, 1e5)]),
    "fig5b": ("bias", {"activation": "softplus"},
              [(0.0005, 0.05, 1, 0, 1e5), (0.001, 0.1, 1, 0, 1e5), (0.005, 1, 1, 0, 5e3)]),
    "fig6a": ("sim_ln", {"init_scale_first_layer": 0.01}, [(0.1, 0.1, 1, 0, 1e5)]),
    "fig6b": ("sim_ln", {"project_radius": 10.0},
              [(0.01, 0.1, 1, 0, 5e2), (0.01, 0.5, 1, 0, 5e2), (0.01, 1, 1, 0, 5e2)]),
    "fig7a": ("nobias", {"data": "ball", "d": 10}, [(0.01, 0.2, 1, 0, 1e5)]),
    "fig7b": ("bias", {"data": "ball", "d": 10}, [(0.01, 0.2, 1, 0, 1e5)]),
    "fig8a": ("nobias", {"loss": "logistic", "p": 0.2}, [(0.1, 0, 10, 0.01, 1e5)]),
    "fig8b": ("nobias", {"loss": "logistic", "p": 0.2}, [(0.1, 0.2, 1, 0, 1e5)]),
    "fig9a": ("bias", {"loss": "logistic", "p": 0.2}, [(0.01, 0, 1, 0.05, 1e5)]),
    "fig9b": ("bias", {"loss": "logistic", "p": 0.2}, [(0.1, 0.2, 1, 0, 1e5)]),
    "fig10a": ("sim_bn", {"loss": "logistic", "p": 0.2}, [(0.1, 0.2, 1, 0, 4e4)]),
    "fig10b": ("sim_ln", {"loss": "logistic", "p": 0.2, "init_scale_first_layer": 0.01},
               [(1, 0.5, 1, 0, 1e3), (1, 1, 1, 0, 1e5)]),
    "fig11a": ("bias", {"depth": 3}, [(0.01, 0, 1, 0.05, 1e5)]),
    "fig11b": ("bias", {"depth": 3}, [(0.01, 0.05, 1, 0, 1e5)]),
}


# Reproducing presets: (literal preset, changed fields, phase rows, fields the quick config changes too).
# Each change is a deviation named and measured in numerics.presets and docs/scenarios.md.
REPRO_TABLE = {
    "fig2a-repro": ("fig2a", {"init_gamma": 0.5, "n_test": 2000},
                    [(0.005, 0.1, 1, 0, 1e5), (0.003, 0.55, 1, 0, 1e5)], {"width": 64}),
    "fig6a-n200": ("fig6a", {"n": 200, "n_test": 2000}, [(0.1, 0.1, 1, 0, 1e5)], {}),
}


def test_every_spec_row_has_a_preset():
    assert set(preset_names()) == set(PAPER_TABLE) | set(REPRO_TABLE)


@pytest.mark.parametrize("name", sorted(REPRO_TABLE))
def test_repro_preset_differs_from_the_literal_one_only_where_documented(name):
    literal_name, changes, rows, quick_changes = REPRO_TABLE[name]
    literal, repro, quick = get_preset(literal_name), get_preset(name), get_preset(name, quick=True)
    assert repro.replace(phases=literal.phases, eval_every=literal.eval_every) == literal.replace(**changes)
    assert [(p.lr, p.rho, p.batch, p.weight_decay, p.epochs) for p in repro.phases] == \
        [(lr, rho, b, wd, int(ep)) for lr, rho, b, wd, ep in rows]
    assert quick.replace(phases=repro.phases, eval_every=repro.eval_every) == repro.replace(**quick_changes)
    assert [(p.lr, p.rho) for p in quick.phases] == [(p.lr, p.rho) for p in repro.phases]
    assert quick.total_epochs < repro.total_epochs


def test_presets_are_in_natural_order():
    names = preset_names()
    assert names == tuple(PRESETS)
    assert names.index("fig2a") < names.index("fig10a") < names.index("fig11b")
    assert names[:5] == ("fig1a", "fig1b", "fig2a", "fig2a-repro", "fig4a") and names[-1] == "fig11b"
    numbers = [int(re.match(r"fig(\d+)", name).group(1)) for name in names]  # the figure number
    assert numbers == sorted(numbers)


@pytest.mark.parametrize("name", sorted(PAPER_TABLE))
def test_paper_preset_matches_spec(name):
    arch, extra, rows = PAPER_TABLE[name]
    cfg = get_preset(name)
    assert cfg.arch == arch
    for key, value in extra.items():
        assert getattr(cfg, key) == value
    if extra.get("data") != "ball":
        assert (cfg.data, cfg.d, cfg.n) == ("xor", 30, 100)
    assert cfg.width == 500
    assert [(p.lr, p.rho, p.batch, p.weight_decay, p.epochs) for p in cfg.phases] == \
        [(lr, rho, b, wd, int(ep)) for lr, rho, b, wd, ep in rows]
    if arch == "sim_ln":
        assert cfg.eps is not None and cfg.eps > 0
    cfg.validate()


@pytest.mark.parametrize("name", sorted(PAPER_TABLE))
def test_quick_preset_is_the_same_experiment_shorter(name):
    paper, quick = get_preset(name), get_preset(name, quick=True)
    same = ("arch", "d", "n", "width", "depth", "activation", "eps", "loss", "p", "data",
            "init_scale_first_layer", "optimizer", "project_radius")
    assert all(getattr(paper, f) == getattr(quick, f) for f in same)
    assert quick.total_epochs <= paper.total_epochs
    assert [(p.rho, p.batch, p.weight_decay) for p in quick.phases] == \
        [(p.rho, p.batch, p.weight_decay) for p in paper.phases]
    assert [q.lr for q in quick.phases] == [p.lr for p in paper.phases]
    lines = describe(name)
    assert lines[0].startswith(name + ": ")
    # every phase of both schedules, every number labelled, in order
    labelled = [ln.split(": ", 1)[-1].strip() for ln in lines[1:]]
    assert labelled == [ph.describe() for ph in paper.phases + quick.phases]
    assert all(ln.startswith(("    paper: ", "    quick: ", "           ")) for ln in lines[1:])
    assert quick.eval_log_points > 0 and paper.eval_log_points > 0


def test_unknown_preset():
    with pytest.raises(ValueError, match="^preset"):
        get_preset("fig3")


# ------------------------------------------------------------------ acceptance (minutes each)

def _quick(name, tmp_path):
    from sharpgen.numerics.runs.train import train
    from sharpgen.verify.theory_min import theory_min_for
    cfg = get_preset(name, quick=True)
    return train(cfg, tmp_path / name, theory_min=theory_min_for(cfg).value).rows[-1]


@pytest.mark.paper
def test_fig1b_quick_generalizes(tmp_path):
    assert _quick("fig1b", tmp_path)["test_error"] <= 0.02


@pytest.mark.paper
def test_fig4b_quick_flattest_yet_memorizes(tmp_path):
    row = _quick("fig4b", tmp_path)
    assert row["test_error"] >= 0.15
    assert abs(row["trace"] - row["theory_min"]) <= 0.05 * row["theory_min"]


@pytest.mark.paper
def test_fig4a_quick_baseline_generalizes(tmp_path):
    assert _quick("fig4a", tmp_path)["test_error"] <= 0.02


@pytest.mark.paper
@pytest.mark.parametrize("name, bound", [("fig6a", 0.08), ("fig6a-n200", 0.02)])
def test_fig6a_quick_sim_ln_generalizes(tmp_path, name, bound):
    assert _quick(name, tmp_path)["test_error"] <= bound


@pytest.mark.paper
def test_fig2a_repro_quick_reproduces_scenario_three(tmp_path):
    """docs/scenarios.md acceptance: test error <= 0.02, top-4 neurons with |W1[1]|, |W1[2]| >= 5x the rest."""
    row = _quick("fig2a-repro", tmp_path)
    assert row["test_error"] <= 0.02
    for r in range(1, 5):
        w1, w2, rest = (abs(row[f"diag_top{r}_{k}"]) for k in ("w1", "w2", "rest"))
        assert min(w1, w2) >= 5 * rest
