"""Reproducing the paper's figures from runs: which presets make each figure, and running only what is missing.

``reproduce(fig, out)`` plans one run per (preset, seed) of figure ``fig``
(docs/paper.md §6; presets of ``numerics.presets``, plus ``fig3``, the circle
setting of Figure 3 defined here), reuses every finished run in ``out``, resumes
every interrupted one from its checkpoint (a resumed run reproduces the
uninterrupted one exactly, ``numerics.train``), trains the missing ones (the
seeds of a preset together, through the multi-replica engine), and draws
the figure from the run directories alone (``verify.plots``) into
``out/figures`` as PNG and PDF.

Run directories are ``out/<preset>-<profile>-seed<seed>``; the seed fixes the
initialisation, the sample order and the training set (``data_seed`` = seed). A
directory holding another configuration is never touched: the plan stops
before any training, naming the fields that differ.

>>> sorted(FIGURES)[:4], FIGURES["4"].presets
(['1', '10', '11', '2'], ('fig4a', 'fig4b'))
>>> run_dir_name("fig4b", "quick", 2)
'fig4b-quick-seed2'
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from sharpgen.numerics.runs.atomic import atomic_write_text
from sharpgen.numerics.runs.config import TrainConfig, parse_phases
from sharpgen.numerics.runs.presets import SCENARIOS, get_preset
from sharpgen.numerics.runs.state import DIVERGED, METRICS, RunState, read_run
from sharpgen.verify.runs import RunSpec, launch

PROFILES = ("quick", "paper")
DEFAULT_SEEDS = 3
CIRCLE = "fig3"


@dataclass(frozen=True)
class FigureSpec:
    """A figure of the paper: the presets whose runs it needs and the drawings made from them."""

    key: str
    presets: tuple
    drawings: tuple
    title: str


FIGURES = {spec.key: spec for spec in (
    FigureSpec("1", ("fig1a", "fig1b"), ("curves",), "Figure 1: nobias, GD + weight decay vs 1-SAM (Scenario I)"),
    # The reproducing protocol first: Figure 2b is drawn from presets[0] (docs/scenarios.md).
    FigureSpec("2", ("fig2a-repro", "fig2a"), ("curves", "neurons"),
               "Figure 2: sim_bn, 1-SAM (Scenario III): reproducing protocol vs as printed"),
    FigureSpec("3", (CIRCLE,), ("circle",), "Figure 3: memorizing bias nets on unit-circle data"),
    FigureSpec("4", ("fig4a", "fig4b"), ("curves",), "Figure 4: bias, GD + weight decay vs 1-SAM (Scenario II)"),
    FigureSpec("5", ("fig5a", "fig5b"), ("curves",), "Figure 5: bias softplus, SGD + weight decay vs 1-SAM"),
    FigureSpec("6", ("fig6a", "fig6b", "fig6a-n200"), ("curves",),
               "Figure 6: sim_ln, 1-SAM, free vs projected, and with n = 200 (Scenario IV)"),
    FigureSpec("7", ("fig7a", "fig7b"), ("curves",), "Figure 7: 1-SAM on the uniform ball, nobias vs bias"),
    FigureSpec("8", ("fig8a", "fig8b"), ("curves",), "Figure 8: nobias, logistic loss, SGD + weight decay vs 1-SAM"),
    FigureSpec("9", ("fig9a", "fig9b"), ("curves",), "Figure 9: bias, logistic loss, SGD + weight decay vs 1-SAM"),
    FigureSpec("10", ("fig10a", "fig10b"), ("curves",), "Figure 10: logistic loss, 1-SAM, sim_bn and sim_ln"),
    FigureSpec("11", ("fig11a", "fig11b"), ("curves",), "Figure 11: depth-3 bias, SGD + weight decay vs 1-SAM"),
    FigureSpec("summary", tuple(p for s in SCENARIOS.values() for p in s.presets), ("scenarios",),
               "The four scenarios: Tr ∇²L / theory minimum against test error"),
)}


def circle_config(profile: str):
    """Figure 3's trained net: 1-SAM on a width-100 ``bias`` net, 12 points of the unit circle.

    The paper draws Figure 3 as a sketch without a protocol; this setting reaches the
    theory minimum 4√2 within 1% (measured, seed 0) in about 10 s on a 2-core CPU,
    so both profiles use it.
    """
    _check_profile(profile)
    return TrainConfig(arch="bias", d=2, n=12, width=100, data="circle", phases=parse_phases("0.01,0.1,1,0,2e5"),
                       eval_every=10_000).validate()


def _check_profile(profile) -> str:
    if profile not in PROFILES:
        raise ValueError(f"profile: expected one of {PROFILES}, got {profile!r}")
    return profile


def config_for(name: str, profile: str):
    """The configuration of preset ``name`` (or ``fig3``) at ``profile`` ('quick' or 'paper')."""
    _check_profile(profile)
    return circle_config(profile) if name == CIRCLE else get_preset(name, quick=profile == "quick")


def run_dir_name(name: str, profile: str, seed: int) -> str:
    return f"{name}-{profile}-seed{seed}"


def theory_min(config) -> float | None:
    """The theory minimum of Tr ∇²L for the run's training set, as ``verify.runs.launch`` logs it."""
    from sharpgen.verify.theory_min import theory_min_for  # deferred: sympy and torch; --help imports this module

    return theory_min_for(config).value


def check_seeds(seeds) -> list[int]:
    """A non-empty list of distinct integers >= 0."""
    seeds = list(seeds)
    if not seeds or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seeds) \
            or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds: expected distinct integers >= 0 (at least one), got {seeds!r}")
    return seeds


def plan(names, out, *, profile: str = "quick", seeds=range(DEFAULT_SEEDS), device: str = "cpu",
         configure=None) -> list[RunSpec]:
    """One validated ``RunSpec`` per (preset, seed), its ``group`` the preset; raises ValueError before
    anything runs, also when a run directory holds another config (:func:`check_run`).

    ``configure(name, config) -> config`` may change a planned config (smaller nets, other
    schedules); the seed and device given here are applied afterwards.
    """
    seeds = check_seeds(seeds)
    specs = []
    for name in names:
        base = config_for(name, profile)
        for seed in seeds:
            cfg = configure(name, base) if configure is not None else base
            cfg = cfg.replace(seed=seed, device=device).validate()
            specs.append(RunSpec(cfg, Path(out) / run_dir_name(name, profile, seed), group=name, preset=name))
    for spec in specs:
        check_run(spec)
    return specs


def check_run(spec: RunSpec) -> RunState:
    """The state of the spec's run directory (``numerics.state``: done, diverged, interrupted, failed or
    missing); ValueError if it holds a run of another config."""
    found = read_run(spec.run_dir)
    found.check_config(spec.config.to_dict(), where="out",
                       advice="choose another --out or move that directory away")
    return found


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def ensure_runs(specs, *, progress=None, log=_stderr) -> dict[str, str]:
    """Train, resume or reuse the run of every spec; returns what was done for each run directory
    ('reused', 'resumed', 'trained', or 'diverged'), in the order of ``specs``.

    ``verify.runs.launch`` does it: the seeds of a preset train together in one ``train_many``
    call, finished runs are reused and interrupted ones resumed from their checkpoints. A run that
    diverges does not stop the others: it is an outcome (e.g. Figure 2a's printed protocol), logged
    with its message, drawn up to its last evaluation and reused as it is on the next call.
    """
    done = launch(specs, progress=progress, log=log, threads=1)
    return {str(d.spec.run_dir): DIVERGED if d.status == DIVERGED else d.action for d in done}


@dataclass
class Reproduced:
    """What ``reproduce`` made: figures by file stem, the files written, the runs by preset, what each run needed."""

    figures: dict = field(default_factory=dict)
    files: list = field(default_factory=list)
    runs: dict = field(default_factory=dict)
    actions: dict = field(default_factory=dict)

    @property
    def diverged(self) -> list[str]:
        """The run directories whose training diverged (drawn up to their last evaluation)."""
        return [d for d, action in self.actions.items() if action == "diverged"]


def _runs_by_name(specs, *, progress, log) -> tuple[dict, dict]:
    from sharpgen.verify.plots.rundata import load_run  # deferred: torch; `sharpgen reproduce --help` imports this

    actions = ensure_runs(specs, progress=progress, log=log)
    runs: dict = {}
    for s in specs:
        mine = runs.setdefault(s.group, [])
        if actions[str(s.run_dir)] == DIVERGED and not (s.run_dir / METRICS).exists():
            continue  # diverged at initialisation: nothing to draw
        mine.append(load_run(s.run_dir))
    return runs, actions


def scenario_panels(runs: dict, constructions: dict) -> list:
    """The summary figure's panels from runs by preset name (``numerics.presets.SCENARIOS``)."""
    # deferred here and in the drawing functions below: matplotlib loads only when a figure is drawn, since
    # `sharpgen reproduce --help` and `sharpgen table1 --help` import this module
    from sharpgen.verify.plots.curves import make_groups
    from sharpgen.verify.plots.scenarios import ScenarioPanel

    panels = []
    for arch, scenario in SCENARIOS.items():
        chosen = [r for name in scenario.presets for r in runs.get(name, [])]
        if chosen:
            panels.append(ScenarioPanel(arch, make_groups(chosen), constructions[arch]))
    return panels


def scenario_caption(runs: dict) -> str:
    """Which presets and seeds the summary figure shows."""
    from sharpgen.verify.plots.style import seeds_text  # deferred: matplotlib (see scenario_panels)

    return "; ".join(f"{name}: {seeds_text([r.seed for r in rs])}" for name, rs in runs.items() if rs)


def draw(spec: FigureSpec, runs: dict, *, profile: str, logx: bool = False) -> dict:
    """The figures of ``spec`` from its runs, by file stem (e.g. 'fig2a', 'fig2b', 'fig3-seed0', 'summary')."""
    from sharpgen.verify.plots import circle, curves, neurons, scenarios, table1  # deferred: see scenario_panels

    every = [r for name in spec.presets for r in runs[name]]
    out = {}
    for kind in spec.drawings:
        if kind == "curves":
            stem = f"fig{spec.key}" if len(spec.presets) > 1 else f"{spec.presets[0]}"
            out[stem] = curves.draw_curves(curves.make_groups(every), logx=logx, title=f"{spec.title} ({profile})")
        elif kind == "neurons":
            out["fig2b"] = neurons.draw_neurons(runs[spec.presets[0]])
        elif kind == "circle":
            out.update({f"fig3-seed{r.seed}": circle.draw_circle_figure(r) for r in runs[CIRCLE]})
        elif kind == "scenarios":
            panels = scenario_panels(runs, table1.construction_errors())
            caption = (f"{spec.title} ({profile}). Every point is one seed's final metrics row "
                       f"({scenario_caption(runs)}). {table1.constructions_note()}")
            out["summary"] = scenarios.draw_scenarios(panels, caption=caption)
    return out


def reproduce(fig: str, out, *, profile: str = "quick", seeds=range(DEFAULT_SEEDS), device: str = "cpu",
              logx: bool = False, configure=None, progress=None, log=_stderr) -> Reproduced:
    """Make figure ``fig`` (a key of ``FIGURES``) in ``out``: plan, run what is missing, draw, save PNG + PDF."""
    from sharpgen.verify.plots import neurons, style  # deferred: matplotlib (see scenario_panels)

    if fig not in FIGURES:
        raise ValueError(f"fig: expected one of {', '.join(FIGURES)}, got {fig!r}")
    spec = FIGURES[fig]
    specs = plan(spec.presets, out, profile=profile, seeds=seeds, device=device, configure=configure)
    runs, actions = _runs_by_name(specs, progress=progress, log=log)
    result = Reproduced(runs=runs, actions=actions)
    result.figures = draw(spec, runs, profile=profile, logx=logx)
    folder = Path(out) / "figures"
    for stem, figure in result.figures.items():
        result.files += style.save(figure, folder / stem)
    if "neurons" in spec.drawings:
        tables = [neurons.neuron_table(r) for r in runs[spec.presets[0]]]
        atomic_write_text(folder / "fig2b.md", neurons.neurons_markdown(tables))
        result.files.append(folder / "fig2b.md")
    return result


def table1(out, *, profile: str = "quick", seeds=range(DEFAULT_SEEDS), device: str = "cpu", configure=None,
           progress=None, log=_stderr) -> Reproduced:
    """Table 1 (docs/paper.md §5) in ``out/figures``: table1.md, table1.png, table1.pdf, from 1-SAM runs."""
    # deferred: matplotlib (see scenario_panels)
    from sharpgen.verify.plots import style
    from sharpgen.verify.plots import table1 as T

    sam = {arch: scenario.sam for arch, scenario in SCENARIOS.items()}
    specs = plan(sam.values(), out, profile=profile, seeds=seeds, device=device, configure=configure)
    runs, actions = _runs_by_name(specs, progress=progress, log=log)
    trained = {arch: T.trained_summary(runs[name]) for arch, name in sam.items()}
    caption = T.caption_text(trained, {arch: runs[name][0].config for arch, name in sam.items()})
    rows = T.table_rows(T.construction_errors(), trained)
    folder = Path(out) / "figures"
    result = Reproduced(runs=runs, actions=actions, figures={"table1": T.draw_table(rows, caption)})
    atomic_write_text(folder / "table1.md", T.table_markdown(rows, caption))
    result.files = [folder / "table1.md", *style.save(result.figures["table1"], folder / "table1")]
    return result
