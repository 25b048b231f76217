"""Presets (numerics.presets) against an independent transcription of docs/paper.md §6, and the
quick presets' acceptance claims (``-m paper``: minutes each on a 2-core CPU)."""
import pytest

from sharpgen.numerics.presets import PRESETS, describe, get_preset, preset_names

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


def test_every_spec_row_has_a_preset():
    assert set(preset_names()) == set(PAPER_TABLE)


def test_presets_are_in_natural_order():
    names = preset_names()
    assert names == tuple(PRESETS)
    assert names.index("fig2a") < names.index("fig10a") < names.index("fig11b")
    assert names[:4] == ("fig1a", "fig1b", "fig2a", "fig4a") and names[-1] == "fig11b"
    numbers = [int("".join(c for c in name if c.isdigit())) for name in names]
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
    # Only fig2a changes step sizes (documented in numerics.presets: the paper's diverge from our init).
    scale = 0.2 if name == "fig2a" else 1.0
    assert [q.lr for q in quick.phases] == pytest.approx([scale * p.lr for p in paper.phases], rel=1e-12)
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
    from sharpgen.numerics.train import train
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
def test_fig6a_quick_sim_ln_generalizes(tmp_path):
    assert _quick("fig6a", tmp_path)["test_error"] <= 0.08
