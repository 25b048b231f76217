"""The paper's message in one figure: the four scenarios side by side (docs/paper.md §5, Table 1).

One panel per architecture (I ``nobias``, II ``bias``, III ``sim_bn``, IV ``sim_ln``):
every seed's final Tr ∇²L divided by the theory minimum of its training set (x;
1 is as flat as any interpolator can be, F3-F6) against its final test error (y),
1-SAM (circles, warm) and its baseline (squares, cool). Where Lemma 4.1's residual
term separates Tr ∇²L from its interpolation part ``trace_gn`` (e.g. ``sim_ln``)
the interpolation part is drawn hollow and joined to the full trace. Stars mark
the exact flattest constructions at x = 1 with their exact population zero-one error
(``table1.construction_errors``): in Scenario II a memorizing net (C1) is exactly as
flat as the generalizing one (C2), so flatness alone cannot explain generalization.

Gids: ``runs:ARCH:G`` (group G's seeds), ``runs_gn:ARCH:G``, ``construction:ARCH:KIND``, ``theory:ARCH``.

>>> from sharpgen.numerics.runs.config import TrainConfig, parse_phases
>>> from sharpgen.verify.plots.curves import make_groups
>>> from sharpgen.verify.plots.rundata import Run
>>> cfg = TrainConfig(arch="bias", d=3, n=4, phases=parse_phases("0.1,0.05,1,0,10"))
>>> rows = [{"epoch": 10.0, "test_error": 0.4, "trace": 9.0, "trace_gn": 9.0, "theory_min": 8.0}]
>>> fig = draw_scenarios([ScenarioPanel("bias", make_groups([Run(None, cfg, rows)]))])
>>> line = [l for l in fig.axes[0].lines if l.get_gid() == "runs:bias:0"][0]
>>> line.get_xdata().tolist(), line.get_ydata().tolist()
([1.125], [0.4])
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from matplotlib.lines import Line2D

from sharpgen.verify.plots import style
from sharpgen.verify.plots.rundata import final, residual_matters, theory_minimum
from sharpgen.verify.plots.table1 import PAPER

MARKERS = {"sam": "o", "baseline": "s"}
SUBTITLES = {"nobias": "flattest ⇒ generalizes", "bias": "memorizing net is as flat",
             "sim_bn": "near-flattest ⇒ generalizes", "sim_ln": "flattest may memorize"}


@dataclass
class ScenarioPanel:
    """One scenario: its architecture, the groups of runs (``curves.make_groups``) and its constructions."""

    arch: str
    groups: list
    constructions: dict | None = field(default=None)


def seed_points(runs, column: str = "trace") -> tuple[np.ndarray, np.ndarray]:
    """(final ``column`` / theory minimum, final test error) of each run; runs without a theory minimum skipped."""
    pts = [(final(r, column) / theory_minimum(r), final(r, "test_error")) for r in runs if theory_minimum(r)]
    return np.array([p[0] for p in pts], dtype=float), np.array([p[1] for p in pts], dtype=float)


def _draw_groups(ax, panel: ScenarioPanel) -> tuple[list, bool]:
    xs, gn_any = [], False
    for gi, g in enumerate(panel.groups):
        kind = style.role(g.runs[0].config)
        x, y = seed_points(g.runs)
        ax.plot(x, y, linestyle="none", marker=MARKERS[kind], markersize=3.5, color=g.colour,
                gid=f"runs:{panel.arch}:{gi}")
        xs.append(x)
        if residual_matters(g.runs):
            gx, gy = seed_points(g.runs, "trace_gn")
            ax.plot(gx, gy, linestyle="none", marker=MARKERS[kind], markersize=3.5, markerfacecolor="white",
                    color=g.colour, gid=f"runs_gn:{panel.arch}:{gi}")
            for a, b, y0 in zip(x, gx, y):
                ax.plot([a, b], [y0, y0], color=g.colour, linewidth=0.4)
            xs.append(gx)
            gn_any = True
    return xs, gn_any


def _draw_constructions(ax, panel: ScenarioPanel) -> None:
    for kind, colour in (("memorizing", style.MEMORIZING_COLOUR), ("generalizing", style.GENERALIZING_COLOUR)):
        c = (panel.constructions or {}).get(kind)
        if c is not None:
            ax.plot([1.0], [float(c.zero_one)], linestyle="none", marker="*", markersize=7, color=colour,
                    markeredgecolor="black", markeredgewidth=0.4, gid=f"construction:{panel.arch}:{kind}")
            ax.annotate(c.name, (1.0, float(c.zero_one)), xytext=(4, 2), textcoords="offset points", fontsize=5.5)


def _draw_panel(ax, panel: ScenarioPanel) -> bool:
    ax.axvline(1.0, color=style.THEORY_COLOUR, gid=f"theory:{panel.arch}", **style.THEORY_STYLE)
    xs, gn = _draw_groups(ax, panel)
    _draw_constructions(ax, panel)
    vals = np.concatenate(xs + [np.array([1.0])])
    vals = vals[np.isfinite(vals)]
    if (vals > 0).all() and vals.max() / vals.min() > 20:
        ax.set_xscale("log")
    else:
        span = max(vals.max() - vals.min(), 0.1)
        ax.set_xlim(vals.min() - 0.08 * span, vals.max() + 0.08 * span)
    ax.set_ylim(-0.03, 1.03)
    scenario = PAPER[panel.arch][0]
    ax.set_title(f"{scenario}: {panel.arch}\n{SUBTITLES[panel.arch]}", fontsize=6.5)
    ax.set_xlabel(style.TRACE_RATIO_LABEL)
    return gn


def _legend(fig, gn: bool) -> None:
    handles = [Line2D([], [], linestyle="none", marker="o", color=style.SAM_COLOURS[0], label="1-SAM (one per seed)"),
               Line2D([], [], linestyle="none", marker="s", color=style.BASELINE_COLOURS[0],
                      label="baseline: (S)GD + weight decay"),
               Line2D([], [], linestyle="none", marker="*", markersize=7, color=style.MEMORIZING_COLOUR,
                      markeredgecolor="black", markeredgewidth=0.4, label="memorizing construction (C1, C4)"),
               Line2D([], [], linestyle="none", marker="*", markersize=7, color=style.GENERALIZING_COLOUR,
                      markeredgecolor="black", markeredgewidth=0.4, label="generalizing construction (C2, C3, C5, C6)"),
               Line2D([], [], color=style.THEORY_COLOUR, label="theory minimum (x = 1)", **style.THEORY_STYLE)]
    if gn:
        handles.append(Line2D([], [], linestyle="none", marker="o", markerfacecolor="white", color="#555555",
                              label="interpolation part (Lemma 4.1)"))
    fig.legend(handles=handles, loc="outside upper center", ncol=3)


def draw_scenarios(panels, *, caption: str | None = None) -> "matplotlib.figure.Figure":
    """The scenario panels side by side (shared y: test error)."""
    if not panels:
        raise ValueError("panels: expected at least one scenario panel")
    with style.context():
        fig = style.new_figure(style.FULL_WIDTH, 2.4)
        fig.set_layout_engine("constrained")
        axes = np.atleast_1d(fig.subplots(1, len(panels), sharey=True))
        gn = False
        for ax, panel in zip(axes, panels):
            gn = _draw_panel(ax, panel) or gn
        axes[0].set_ylabel("test error (0-1)")
        _legend(fig, gn)
        if caption:
            style.add_caption(fig, caption)
    return fig
