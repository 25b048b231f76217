"""Training presets: one per row of docs/paper.md §6 (Appendix B of Wen, Li & Ma 2023).

``get_preset(name)`` gives the paper's protocol (width 500, P_xor with
d = 30, n = 100, the phases of the table); ``get_preset(name, quick=True)``
a reduced schedule (fewer epochs, otherwise the same network, data and
step sizes unless noted) that finishes in a few minutes on a 2-core CPU.
What each quick preset reaches is recorded in the project's report; some do
not reproduce the paper at that scale, and their descriptions say what to
expect.

Presets named after a figure follow the paper's table literally (quick: the
same run, fewer epochs). Where the literal protocol does not reproduce the
figure, a ``-repro`` preset names every deviation and the measurement behind
it (docs/scenarios.md has the tables):

``fig2a`` as printed fails twice with our initialisation. (1) γ starts at 1
(PyTorch's BatchNorm default; the paper does not say): the per-sample
curvature of ``sim_bn`` grows like 2 Σ_j γ_j² (h_j/a_j)² ≈ m γ², and lr 0.005
at width 500 diverges in the first epoch (seeds 0, 1; γ = 0.7 and 0.5 do
not). (2) Phase 2's ρ = 1 collapses the net to f ≈ 0 (mean |f| ≤ 0.001,
training loss ≈ 1) within 100 epochs on every seed measured at d = 30
(width 500 from γ = 0.5: 1/1, within 20 epochs; width 64: 4/4) and at
d = 16, width 32 (4/4); ρ = 0.7 leaves 2 of 4 seeds half-collapsed.
``fig2a-repro`` therefore starts γ at 0.5 and runs phase 2 at ρ = 0.55: at
width 64 every tuning seed (0-9) reaches test error 0.000 after 500 + 1000
epochs, and 1000 + 3000 epochs give the Figure-2b picture (top-4 neurons
with |W1[1]|, |W1[2]| ≥ 9× the rest, seeds 0-3). Its quick schedule uses
width 64 (chosen when sim_bn still trained on the generic autograd path) and
500 + 1000 epochs; on evaluation seeds 100-102 it reaches test
error 0.000 with that picture (≥ 6×), and so does width 500 (the paper
protocol's width) after 1000 + 2000 epochs. The paper's length at width 500
is not verified here.

``fig6a`` as printed generalizes on some seeds only (test error 0.000-0.072
over seeds 0-9 at the quick length, 0.000-0.062 over seeds 0-4 at 1e5
epochs), and the
training set decides: crossing 5 training sets with 5 initialisations, the
error follows the training set. No change of init scale, ε, lr, ρ or width
made every tuning seed reach 0.02; more data does: ``fig6a-n200`` doubles n
(test error 0.000 on tuning seeds 0-4 and evaluation seeds 100-104).

Choices the paper leaves open (recorded here, overridable per run): ε = 1e-3
for ``sim_ln``; 1000 fresh test points (2000 for the reproducing presets);
PyTorch-default init with γ = 1 (``init_gamma``); evaluation about 100 times
per paper run (20 per quick run) on an even grid, plus ``LOG_POINTS`` epochs
spaced evenly in log(epoch), so the first epochs, where the loss and test
error drop, show on a log axis.

>>> cfg = get_preset("fig4b")
>>> cfg.arch, [(p.lr, p.rho, p.batch, p.epochs) for p in cfg.phases]
('bias', [(0.01, 0.05, 1, 200000), (0.01, 0.1, 1, 400000)])
>>> get_preset("fig4b", quick=True).total_epochs < cfg.total_epochs
True
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sharpgen.numerics.runs.config import TrainConfig, parse_phases

EPS_LN = 1e-3
LOG_POINTS = 30  # log-spaced evaluations per run: about 6 per decade over the paper's 1e5 epochs


@dataclass(frozen=True)
class Preset:
    """A named experiment: one-line description, paper config, quick config."""

    name: str
    description: str
    paper: TrainConfig
    quick: TrainConfig


def _cfg(rows: str, net: dict, eval_every: int | None, evaluations: int) -> TrainConfig:
    """The validated config of ``net`` with phases ``rows``, evaluated every ``eval_every``
    epochs (None: about ``evaluations`` times over the run)."""
    cfg = TrainConfig(phases=parse_phases(rows), eval_log_points=LOG_POINTS, **net)
    return cfg.replace(eval_every=eval_every or max(1, cfg.total_epochs // evaluations)).validate()


def _preset(name, description, net: dict, paper_rows: str, quick_rows: str, *, paper_eval=None,
            quick_eval=None, quick_net: dict | None = None) -> Preset:
    """``quick_net``: fields the quick config changes beyond the schedule (a documented deviation)."""
    return Preset(name, description, _cfg(paper_rows, net, paper_eval, 100),
                  _cfg(quick_rows, dict(net, **(quick_net or {})), quick_eval, 20))


NOBIAS = dict(arch="nobias")
BIAS = dict(arch="bias")
SOFTPLUS = dict(arch="bias", activation="softplus")
SIM_BN = dict(arch="sim_bn")
SIM_BN_REPRO = dict(SIM_BN, init_gamma=0.5, n_test=2000)  # 2000 fresh test points: the acceptance of docs/scenarios.md
RHO_BN = 0.55  # fig2a-repro's phase-2 rho: 1 collapses, 0.7 half-collapses 2 of 4 seeds (module docstring)
SIM_LN = dict(arch="sim_ln", eps=EPS_LN, init_scale_first_layer=0.01)
BALL = dict(data="ball", d=10)
LOGIT = dict(loss="logistic", p=0.2)
DEPTH3 = dict(arch="bias", depth=3)

_PRESETS = [
    _preset("fig1a", "nobias, GD + weight decay (baseline): generalizes, Scenario I",
            dict(NOBIAS, optimizer="sgd"), "0.01,0,100,0.05,1e5", "0.01,0,100,0.05,2e4"),
    _preset("fig1b", "nobias, 1-SAM: generalizes (test error -> 0), Scenario I",
            NOBIAS, "0.01,0.05,1,0,1e5", "0.01,0.05,1,0,1e4"),
    _preset("fig2a", "sim_bn, 1-SAM (two phases) as printed: diverges in epoch 1 from gamma = 1 at width 500; "
            "with --init-gamma 0.5 the rho = 1 phase collapses f to 0. See fig2a-repro",
            SIM_BN, "0.005,0.1,1,0,1e5; 0.003,1,1,0,1e5", "0.005,0.1,1,0,300; 0.003,1,1,0,100"),
    _preset("fig2a-repro", f"sim_bn, 1-SAM reproducing Scenario III: gamma starts at 0.5, phase 2 at rho {RHO_BN} "
            "instead of 1 (quick: width 64); generalizes, top-4 neurons on x1, x2",
            SIM_BN_REPRO, f"0.005,0.1,1,0,1e5; 0.003,{RHO_BN},1,0,1e5",
            f"0.005,0.1,1,0,500; 0.003,{RHO_BN},1,0,1000", quick_net=dict(width=64)),
    _preset("fig4a", "bias, GD + weight decay (baseline): sharper than 1-SAM yet generalizes",
            dict(BIAS, optimizer="sgd"), "0.01,0,100,0.05,1e5", "0.01,0,100,0.05,2e4"),
    _preset("fig4b", "bias, 1-SAM: reaches the minimum sharpness yet memorizes, Scenario II",
            BIAS, "0.01,0.05,1,0,2e5; 0.01,0.1,1,0,4e5", "0.01,0.05,1,0,1e4; 0.01,0.1,1,0,1e4"),
    _preset("fig5a", "bias softplus, SGD (batch 1) + weight decay (baseline)",
            dict(SOFTPLUS, optimizer="sgd"), "0.001,0,1,0.05,1e5", "0.001,0,1,0.05,5e3"),
    _preset("fig5b", "bias softplus, 1-SAM (three phases): does not generalize",
            SOFTPLUS, "0.0005,0.05,1,0,1e5; 0.001,0.1,1,0,1e5; 0.005,1,1,0,5e3",
            "0.0005,0.05,1,0,3e3; 0.001,0.1,1,0,3e3; 0.005,1,1,0,100"),
    _preset("fig6a", "sim_ln, 1-SAM (first layer init x1/100): generalizes, Scenario IV",
            SIM_LN, "0.1,0.1,1,0,1e5", "0.1,0.1,1,0,5e3"),
    _preset("fig6a-n200", "sim_ln, 1-SAM as fig6a with n = 200 training points: generalizes on every seed measured "
            "(at n = 100 the outcome depends on the training set drawn)",
            dict(SIM_LN, n=200, n_test=2000), "0.1,0.1,1,0,1e5", "0.1,0.1,1,0,5e3"),
    _preset("fig6b", "sim_ln, 1-SAM with [W1|b1] projected to norm 10 (three phases)",
            dict(SIM_LN, project_radius=10.0), "0.01,0.1,1,0,5e2; 0.01,0.5,1,0,5e2; 0.01,1,1,0,5e2",
            "0.01,0.1,1,0,5e2; 0.01,0.5,1,0,5e2; 0.01,1,1,0,5e2", paper_eval=25, quick_eval=50),
    _preset("fig7a", "nobias, 1-SAM on the uniform ball (d = 10, y = |x1| - |x2|)",
            dict(NOBIAS, **BALL), "0.01,0.2,1,0,1e5", "0.01,0.2,1,0,2e4"),
    _preset("fig7b", "bias, 1-SAM on the uniform ball (d = 10, y = |x1| - |x2|)",
            dict(BIAS, **BALL), "0.01,0.2,1,0,1e5", "0.01,0.2,1,0,2e4"),
    _preset("fig8a", "nobias, logistic loss with label smoothing 0.2, SGD (batch 10) + weight decay",
            dict(NOBIAS, optimizer="sgd", **LOGIT), "0.1,0,10,0.01,1e5", "0.1,0,10,0.01,1e4"),
    _preset("fig8b", "nobias, logistic loss with label smoothing 0.2, 1-SAM",
            dict(NOBIAS, **LOGIT), "0.1,0.2,1,0,1e5", "0.1,0.2,1,0,1e4"),
    _preset("fig9a", "bias, logistic loss with label smoothing 0.2, SGD (batch 1) + weight decay",
            dict(BIAS, optimizer="sgd", **LOGIT), "0.01,0,1,0.05,1e5", "0.01,0,1,0.05,1e4"),
    _preset("fig9b", "bias, logistic loss with label smoothing 0.2, 1-SAM: does not generalize",
            dict(BIAS, **LOGIT), "0.1,0.2,1,0,1e5", "0.1,0.2,1,0,1e4"),
    _preset("fig10a", "sim_bn, logistic loss with label smoothing 0.2, 1-SAM",
            dict(SIM_BN, **LOGIT), "0.1,0.2,1,0,4e4", "0.1,0.2,1,0,300"),
    _preset("fig10b", "sim_ln, logistic loss with label smoothing 0.2, 1-SAM (init x1/100, two phases)",
            dict(SIM_LN, **LOGIT), "1,0.5,1,0,1e3; 1,1,1,0,1e5", "1,0.5,1,0,1e3; 1,1,1,0,1e4"),
    _preset("fig11a", "depth-3 bias, SGD (batch 1) + weight decay",
            dict(DEPTH3, optimizer="sgd"), "0.01,0,1,0.05,1e5", "0.01,0,1,0.05,300"),
    _preset("fig11b", "depth-3 bias, 1-SAM: does not generalize",
            DEPTH3, "0.01,0.05,1,0,1e5", "0.01,0.05,1,0,300"),
]

def natural_key(name: str) -> tuple:
    """Sort key that orders the numbers inside names by value: fig2a before fig10a.

    >>> sorted(["fig10a", "fig2a", "fig1b", "fig11b"], key=natural_key)
    ['fig1b', 'fig2a', 'fig10a', 'fig11b']
    """
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


PRESETS = {p.name: p for p in sorted(_PRESETS, key=lambda p: natural_key(p.name))}


def preset_names() -> tuple[str, ...]:
    """Names of the presets in natural order (docs/paper.md §6: fig1a, fig1b, fig2a, ..., fig10a, fig11b).

    >>> preset_names()[:3], preset_names()[-3:]
    (('fig1a', 'fig1b', 'fig2a'), ('fig10b', 'fig11a', 'fig11b'))
    """
    return tuple(PRESETS)


def get_preset(name: str, *, quick: bool = False) -> TrainConfig:
    """The paper (or quick) configuration of preset ``name``."""
    if name not in PRESETS:
        raise ValueError(f"preset: expected one of {', '.join(PRESETS)}, got {name!r}")
    return PRESETS[name].quick if quick else PRESETS[name].paper


def describe(name: str) -> list[str]:
    """Lines for a listing: the name and description, then the paper and quick schedules with
    every number labelled, one phase a line.

    >>> print("\\n".join(describe("fig4b")))
    fig4b: bias, 1-SAM: reaches the minimum sharpness yet memorizes, Scenario II
        paper: lr=0.01, ρ=0.05, batch=1, wd=0, epochs=200000
               lr=0.01, ρ=0.1, batch=1, wd=0, epochs=400000
        quick: lr=0.01, ρ=0.05, batch=1, wd=0, epochs=10000
               lr=0.01, ρ=0.1, batch=1, wd=0, epochs=10000
    """
    get_preset(name)
    p = PRESETS[name]
    lines = [f"{p.name}: {p.description}"]
    for label, cfg in (("paper", p.paper), ("quick", p.quick)):
        for k, ph in enumerate(cfg.phases):
            lines.append(f"    {label + ':' if k == 0 else ' ' * (len(label) + 1)} {ph.describe()}")
    return lines


@dataclass(frozen=True)
class Scenario:
    """One of the paper's four scenarios (docs/paper.md §5, Table 1): the architecture, the 1-SAM preset
    judged, the baseline presets drawn beside it, and the preset as printed where the judged one deviates
    from it (``fig2a-repro`` for ``fig2a``, module docstring)."""

    number: str
    arch: str
    sam: str
    baselines: tuple = ()
    printed: str | None = None

    @property
    def presets(self) -> tuple:
        """Its presets as figures draw them: the baselines, then 1-SAM."""
        return (*self.baselines, self.sam)


# The one scenario -> preset table: Table 1, the summary figure and the ledger's run groups read it.
SCENARIOS = {s.arch: s for s in (
    Scenario("I", "nobias", "fig1b", ("fig1a",)),
    Scenario("II", "bias", "fig4b", ("fig4a",)),
    Scenario("III", "sim_bn", "fig2a-repro", printed="fig2a"),
    Scenario("IV", "sim_ln", "fig6a"),
)}
