"""Training curves of the paper's experiments (docs/paper.md §6; Figs 1, 2a, 4-11 of Wen, Li & Ma 2023).

Four panels against epochs: training loss L, test loss, test zero-one error
(y·f ≤ 0 is an error, docs/paper.md §1) and the exact Tr ∇²L, with

- Tr ∇²L divided by the theory minimum over interpolating nets of each run's training set
  (``theory_min`` in metrics.csv: F3-F6 of docs/paper.md §3), the minimum a dashed line at 1,
  when every run of the figure logs a positive minimum: on Tr's own scale (0-250 for the
  paper's runs) a 1-SAM curve within a few percent of the minimum hides the theory line. The
  ratio axis is linear within 1 ± ``GAP_WIDTH`` and logarithmic in the gap beyond, so a 2% gap
  and a 300% one are both readable. Otherwise Tr ∇²L itself, on a log axis (symlog where it takes values
  <= 0), with the theory minima of the runs that have one as dashed lines;
- the interpolation part ``trace_gn`` = (1/n) Σ ℓ''(f_i) ‖∇θ f(x_i)‖² (Lemma 4.1, F1), divided
  likewise, dotted, where the residual term makes it differ from Tr ∇²L (``sim_ln``, ``sim_bn``, softplus);
- phase boundaries as vertical dotted lines;
- 1-SAM in warm and baselines in cool colours (``style``); several seeds of one
  setting as their mean with a min–max band.

Every plotted series carries a gid (``"trace:0"`` is group 0's Tr ∇²L, as plotted: divided by
the minimum in the ratio panel; ``"theory_min:0"`` group 0's theory line, or ``"theory_min:ratio"``
the line at 1; ``"trace_gn:0"``, ``"phase:200"``), so callers and tests can read the plotted data back.

>>> from sharpgen.numerics.runs.config import TrainConfig, parse_phases
>>> from sharpgen.verify.plots.rundata import Run
>>> cfg = TrainConfig(arch="bias", d=3, n=4, phases=parse_phases("0.1,0.05,1,0,10; 0.1,0.1,1,0,10"))
>>> rows = [{"epoch": float(e), "train_loss": 1.0 / (1 + e), "test_loss": 0.5, "test_error": 0.25,
...          "trace": 10.0 - e / 5, "trace_gn": 10.0 - e / 5, "theory_min": 8.0} for e in (0, 10, 20)]
>>> fig = draw_curves(make_groups([Run(None, cfg, rows)]))
>>> lines = series_by_gid(fig)
>>> lines["trace:0"].get_ydata().tolist(), [float(v) for v in lines["theory_min:ratio"].get_ydata()]
([1.25, 1.0, 0.75], [1.0, 1.0])
>>> sorted(gid for gid in lines if gid.startswith("phase"))
['phase:10']
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

from sharpgen.verify.plots import style
from sharpgen.verify.plots.rundata import aggregate, group_seeds, load_run, phase_boundaries, residual_matters, \
    theory_minimum

PANELS = ("train_loss", "test_loss", "test_error", "trace")
LOG_SPAN = 20.0  # a positive quantity spanning more than this factor is drawn on a log axis
GAP_WIDTH = 0.01  # the ratio axis is linear within 1 ± 1% of the theory minimum and logarithmic beyond


@dataclass
class Group:
    """The seeds of one setting, drawn as one line (mean) and band (min–max), with its legend label and colour."""

    runs: list
    label: str
    colour: str


def make_groups(runs, labels=None) -> list[Group]:
    """Group ``runs`` by setting (``rundata.group_seeds``) and give each its legend label and role colour."""
    groups = group_seeds(runs)
    if labels is not None and len(labels) != len(groups):
        raise ValueError(f"labels: expected {len(groups)} labels (one per setting), got {len(labels)}")
    used = {"sam": 0, "baseline": 0}
    varying = style.varying_sizes(g[0].config for g in groups)  # left out of the caption: named per entry
    out = []
    for k, group in enumerate(groups):
        kind = style.role(group[0].config)
        label = labels[k] if labels is not None else style.setting_label(group[0].config)
        if labels is None:
            label += style.size_text(group[0].config, varying)
        if labels is None and len(group) > 1:
            label += f" ({len(group)} seeds)"
        diverged = [r for r in group if r.diverged]
        if diverged:  # its curves stop there; say so where a reader looks first
            label += f"; {len(diverged)} diverged after epoch {max(r.rows[-1]['epoch'] for r in diverged):g}"
        out.append(Group(group, label, style.colour(kind, used[kind])))
        used[kind] += 1
    return out


def _ylabels() -> dict:
    return {"train_loss": "training loss L", "test_loss": "test loss", "test_error": "test error (0-1: y·f ≤ 0)",
            "trace": style.TRACE_LABEL + " (exact)"}


def _set_yscale(ax, arrays, *, log: bool = False) -> None:
    """Log axis for a positive quantity spanning decades (any positive one when ``log``); symlog (linear
    within the median magnitude) when it also takes values <= 0 (Tr ∇²L off interpolation, e.g. sim_ln early on)."""
    vals = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays]) if arrays else np.array([])
    vals = vals[np.isfinite(vals)]
    if not len(vals):
        return
    if (vals > 0).all():
        if log or vals.max() / vals.min() > LOG_SPAN:
            ax.set_yscale("log")
        return
    nonzero = np.abs(vals[vals != 0])
    scale = float(np.median(nonzero)) if len(nonzero) else 1.0
    if np.abs(vals).max() / scale > LOG_SPAN:
        ax.set_yscale("symlog", linthresh=scale, linscale=1.5)
        ax.yaxis.set_major_locator(FixedLocator(_symlog_ticks(vals, scale)))
        ax.yaxis.set_minor_locator(NullLocator())


def _set_ratio_scale(ax, arrays) -> None:
    """Tr ∇²L / theory minimum on y ↦ asinh((y - 1) / GAP_WIDTH): a gap of 2% stays visible beside one of 300%
    (or an early transient of 10x), and values below the minimum (off interpolation) keep their sign."""
    vals = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays])
    vals = vals[np.isfinite(vals)]
    forward, inverse = (lambda y: np.arcsinh((np.asarray(y) - 1) / GAP_WIDTH),
                        lambda u: 1 + GAP_WIDTH * np.sinh(np.asarray(u)))
    ax.set_yscale("function", functions=(forward, inverse))
    low, high = float(forward(vals.min())), float(forward(vals.max()))
    pad = 0.05 * (high - low)  # matplotlib's default margin, taken on the transformed axis
    ax.set_ylim(float(inverse(low - pad)), float(inverse(high + pad)))
    gaps = np.abs(vals - 1)
    top = math.floor(math.log10(gaps.max())) if gaps.max() > GAP_WIDTH else -2
    powers = list(range(-2, top + 1))
    powers = powers[::2] if len(powers) > 4 else powers
    ticks = [1.0] + [1 + s * 10.0 ** k for k in powers for s in (1, -1) if vals.min() <= 1 + s * 10.0 ** k <= vals.max()]
    ax.yaxis.set_major_locator(FixedLocator(sorted(ticks)))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def _symlog_ticks(vals: np.ndarray, scale: float) -> list:
    """0 and signed powers of ten beyond the linear part (every other one when there are many)."""
    low, high = math.ceil(math.log10(scale)) + 1, math.floor(math.log10(np.abs(vals).max()))
    powers = list(range(low, high + 1))
    powers = powers[::2] if len(powers) > 2 else powers
    return [0.0] + [s * 10.0 ** k for k in powers for s in (1, -1) if vals.min() <= s * 10.0 ** k <= vals.max()]


def _draw_series(ax, group: Group, gi: int, column: str, line_style=None) -> list:
    s = aggregate(group.runs, column)
    if not len(s.epochs):
        return []
    extra = line_style or {}
    ax.plot(s.epochs, s.mean, color=group.colour, gid=f"{column}:{gi}", **extra)
    if s.count > 1:
        ax.fill_between(s.epochs, s.lo, s.hi, color=group.colour, alpha=style.BAND_ALPHA, linewidth=0,
                        gid=f"band:{column}:{gi}")
    return [s.lo, s.hi]


def _theory_lines(ax, groups) -> list:
    """Dashed theory minimum per group (black when every group shares one value); one line per seed if they differ."""
    minima = [[theory_minimum(r) for r in g.runs] for g in groups]
    distinct = {v for ms in minima for v in ms if v is not None}
    drawn = []
    for gi, (g, ms) in enumerate(zip(groups, minima)):
        colour = style.THEORY_COLOUR if len(distinct) == 1 else g.colour
        values = sorted({v for v in ms if v is not None})
        for k, v in enumerate(values):
            gid = f"theory_min:{gi}" if len(values) == 1 else f"theory_min:{gi}:{k}"
            ax.axhline(v, color=colour, gid=gid, **style.THEORY_STYLE)
            drawn.append([v])
    return drawn


def relative_to_minimum(run):
    """``run`` with ``trace`` and ``trace_gn`` divided by its theory minimum (a copy), or None when it has
    no positive minimum.

    >>> from sharpgen.verify.plots.rundata import Run
    >>> relative_to_minimum(Run(None, None, [{"epoch": 0.0, "trace": 6.0, "theory_min": 4.0}])).rows
    [{'epoch': 0.0, 'trace': 1.5, 'theory_min': 4.0}]
    """
    m = theory_minimum(run)
    if m is None or not m > 0:
        return None
    scaled = lambda r: {k: v / m if k in ("trace", "trace_gn") and v is not None else v for k, v in r.items()}
    return replace(run, rows=[scaled(r) for r in run.rows])


def _trace_panel(ax, groups) -> tuple[list, bool, bool]:
    """Draw Tr ∇²L (over the theory minimum where every run has one); (arrays, interpolation part drawn, ratio)."""
    scaled = [[relative_to_minimum(r) for r in g.runs] for g in groups]
    ratio = all(r is not None for runs in scaled for r in runs)
    shown = [replace(g, runs=runs) for g, runs in zip(groups, scaled)] if ratio else groups
    arrays, gn = [], False
    for gi, g in enumerate(shown):
        arrays += _draw_series(ax, g, gi, "trace")
        if residual_matters(g.runs):
            arrays += _draw_series(ax, g, gi, "trace_gn", style.INTERPOLATION_STYLE)
            gn = True
    if ratio:
        ax.axhline(1.0, color=style.THEORY_COLOUR, gid="theory_min:ratio", **style.THEORY_STYLE)
        arrays.append([1.0])
    else:
        arrays += _theory_lines(ax, groups)
    return arrays, gn, ratio


def _phase_lines(axes, groups) -> list[int]:
    epochs = sorted({e for g in groups for r in g.runs for e in phase_boundaries(r.config)})
    for ax in axes:
        for e in epochs:
            ax.axvline(e, gid=f"phase:{e}", **style.PHASE_STYLE)
    return epochs


def _legend(fig, groups, gn: bool, theory: bool) -> None:
    handles = [Line2D([], [], color=g.colour, label=g.label) for g in groups]
    if theory:
        handles.append(Line2D([], [], color=style.THEORY_COLOUR, label="theory: least " + style.TRACE_LABEL
                              + " over interpolators (1 in the ratio panel)", **style.THEORY_STYLE))
    if gn:
        handles.append(Line2D([], [], color="#555555", label="interpolation part (Lemma 4.1)",
                              **style.INTERPOLATION_STYLE))
    fig.legend(handles=handles, loc="outside upper center", ncol=1, handlelength=2.2)


def caption_for(groups, *, phases: bool, gn: bool, ratio: bool = False) -> str:
    """The caption line: shared config, seeds, and what the dashed / dotted lines are (``ratio``: the
    Tr ∇²L panel shows Tr ∇²L over the theory minimum)."""
    runs = [r for g in groups for r in g.runs]
    text = style.config_caption([r.config for r in runs], [r.seed for r in runs])
    text += "; Tr∇²L divided by" if ratio else "; dashed:"
    text += (" the theory's least Tr∇²L over interpolating nets of each training set "
             "(exact, or a lower bound where none is attained; docs/paper.md §3")
    if any(r.config.loss == "logistic" for r in runs):
        text += "; logistic loss: over its minimizers, Thm A.2"
    text += (f"), dashed at 1 (axis linear within 1 ± {GAP_WIDTH:.0%}, logarithmic in the gap beyond)" if ratio
             else ")")
    if gn:
        text += "; dotted: its interpolation part (1/n)Σℓ''‖∇f‖²"
    if phases:
        text += "; vertical dotted: phase boundaries"
    return text + "."


def draw_curves(groups, *, logx: bool = False, title: str | None = None) -> "matplotlib.figure.Figure":
    """The four panels for ``groups`` (from ``make_groups``); ``logx`` puts epochs on a symlog axis (0 kept).

    ``title`` opens the caption line (a paper puts titles in its own caption).
    """
    if not groups:
        raise ValueError("groups: expected at least one group of runs to draw")
    with style.context():
        fig = style.new_figure(style.COLUMN_WIDTH, 3.1 + 0.12 * len(groups))
        fig.set_layout_engine("constrained")
        axes = fig.subplots(2, 2, sharex=True).ravel()
        labels = _ylabels()
        gn = theory = ratio = False
        for ax, column in zip(axes, PANELS):
            if column == "trace":
                arrays, gn, ratio = _trace_panel(ax, groups)
                theory = any(line.get_gid().startswith("theory_min") for line in ax.lines)
                if ratio:
                    labels["trace"] = style.TRACE_RATIO_LABEL
            else:
                arrays = [a for gi, g in enumerate(groups) for a in _draw_series(ax, g, gi, column)]
            if column == "trace" and ratio:
                _set_ratio_scale(ax, arrays)
            elif column != "test_error":
                _set_yscale(ax, arrays, log=column == "trace")
            ax.set_ylabel(labels[column])
            if logx:
                ax.set_xscale("symlog", linthresh=1.0)
            else:
                ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        for ax in axes[2:]:
            ax.set_xlabel("epoch" + (" (symlog)" if logx else ""))
        phases = _phase_lines(axes, groups)
        _legend(fig, groups, gn, theory)
        caption = caption_for(groups, phases=bool(phases), gn=gn, ratio=ratio)
        style.add_caption(fig, f"{title}. {caption}" if title else caption)
    return fig


def series_by_gid(fig) -> dict:
    """Every line of ``fig`` that carries a gid, by gid (the data each series plots)."""
    return {line.get_gid(): line for ax in fig.axes for line in ax.lines if line.get_gid()}


def load_groups(run_dirs, labels=None) -> list[Group]:
    """``make_groups`` of the runs in ``run_dirs`` (``rundata.load_run`` each)."""
    return make_groups([load_run(p) for p in run_dirs], labels)
