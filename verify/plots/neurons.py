"""Figure 2b: what the first layer of a trained net learned (docs/paper.md §5, Thm 3.2).

For the four neurons with the largest ‖W1_j‖ (``numerics.diagnostics.top_neurons``)
the weights on x[1] and x[2] and the norm of the rest ‖W1_j[3:d]‖; for every input
coordinate k the column norm ‖W1[:, k]‖ (``numerics.diagnostics.column_norms``).
Thm 3.2 (``sim_bn``, Condition 1): near-flattest nets put their first layer on
x[1] and x[2], so the top neurons look like ±x[1] ± x[2] and columns 1, 2 dominate.

The same numbers as a markdown table (``neurons_markdown``) and as a bar plot
(``draw_neurons``): the top-4 neurons of the first seed, and the column norms as
the mean over seeds with min–max error bars.

>>> table = NeuronTable(seed=0, arch="sim_bn", top=[dict(rank=1, index=7, w1=2.0, w2=-2.0, rest=0.1, out=0.5)],
...                     columns=[3.0, 2.9, 0.2])
>>> print(neurons_markdown([table]).splitlines()[2])
| 0 | 1 | 7 | 2 | -2 | 0.1 | 0.5 |
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sharpgen.verify.plots import style
from sharpgen.numerics.nets.diagnostics import column_norms, top_neurons
from sharpgen.numerics.nets.params import model_to_params
from sharpgen.verify.plots.rundata import load_model
from sharpgen.verify.search import store

TOP = 4


@dataclass
class NeuronTable:
    """Figure 2b's numbers for one run: top neurons (rank, index, w1, w2, rest, out) and W1's column norms."""

    seed: int
    arch: str
    top: list
    columns: list

# what Figure 2b illustrates, and what the flattest-set search found of it
THM32_NOTE = (". Thm 3.2 as printed: every neuron of a near-flattest sim_bn net loads x[1], x[2] only "
              "(contradicted: docs/search.md).")


def neuron_table(run, k: int = TOP) -> NeuronTable:
    """Figure 2b's numbers from a run's checkpoint; ``out`` is the neuron's output weight (W2_j γ_j for sim_bn)."""

    return model_table(load_model(run), run.seed, run.config.arch, k)


def model_table(model, seed: int, arch: str, k: int = TOP) -> NeuronTable:
    """Figure 2b's numbers of one ``numerics`` ``Net`` (``neuron_table`` without the run directory)."""
    params = model_to_params(model)
    top = top_neurons(model, k=min(k, model.width))
    out = params.W2 if params.gamma is None else params.W2 * params.gamma
    rows = [dict(rank=r + 1, index=int(top["index"][r]), w1=float(top["w1"][r]), w2=float(top["w2"][r]),
                 rest=float(top["rest"][r]), out=float(out[int(top["index"][r])])) for r in range(len(top["index"]))]
    return NeuronTable(seed, arch, rows, [float(v) for v in column_norms(model)])


def search_table(folder) -> NeuronTable:
    """Figure 2b's numbers of a net saved by ``sharpgen search`` (``verify.search.store``); its seed is the
    search's."""
    arch, hyper, X, Y, params = store.load(folder)
    seed = store.load_report(folder).get("seed", 0) if (Path(folder) / store.REPORT).is_file() else 0
    return model_table(store.net_of(arch, hyper, X, params), int(seed or 0), arch)


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def neurons_markdown(tables) -> str:
    """The top neurons of every seed, then the column norms ‖W1[:, 1]‖, ‖W1[:, 2]‖ and the largest other one."""
    lines = ["| seed | rank | neuron j | W1[j,1] | W1[j,2] | ‖W1[j,3:]‖ | output weight |",
             "|---|---|---|---|---|---|---|"]
    for t in tables:
        lines += [f"| {t.seed} | {r['rank']} | {r['index']} | {_fmt(r['w1'])} | {_fmt(r['w2'])} | {_fmt(r['rest'])} "
                  f"| {_fmt(r['out'])} |" for r in t.top]
    lines += ["", "| seed | ‖W1[:,1]‖ | ‖W1[:,2]‖ | max over k ≥ 3 of ‖W1[:,k]‖ |", "|---|---|---|---|"]
    for t in tables:
        rest = max(t.columns[2:]) if len(t.columns) > 2 else float("nan")
        lines.append(f"| {t.seed} | {_fmt(t.columns[0])} | {_fmt(t.columns[1])} | {_fmt(rest)} |")
    return "\n".join(lines) + "\n"


def _top_panel(ax, table: NeuronTable) -> None:
    width = 0.26
    keys = (("w1", "W1[j,1]", style.SAM_COLOURS[0]), ("w2", "W1[j,2]", style.SAM_COLOURS[1]),
            ("rest", "‖W1[j,3:]‖", style.ZERO_REGION_COLOUR))
    for k, (key, label, colour) in enumerate(keys):
        x = np.arange(len(table.top)) + (k - 1) * width
        bars = ax.bar(x, [r[key] for r in table.top], width, color=colour, label=label)
        for rect, r in zip(bars.patches, table.top):
            rect.set_gid(f"top{r['rank']}:{key}")
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_xticks(np.arange(len(table.top)), [f"j={r['index']}" for r in table.top], fontsize=5.5)
    ax.set_xlabel(f"largest neurons by ‖W1_j‖, largest first\n(seed {table.seed})")
    ax.set_ylabel("first-layer weight")
    ax.legend(loc="best", handlelength=1.0)


def _column_panel(ax, tables) -> None:
    cols = np.array([t.columns for t in tables], dtype=float)
    mean, lo, hi = cols.mean(axis=0), cols.min(axis=0), cols.max(axis=0)
    k = np.arange(1, cols.shape[1] + 1)
    colours = [style.SAM_COLOURS[0] if i < 2 else style.ZERO_REGION_COLOUR for i in range(len(k))]
    bars = ax.bar(k, mean, 0.8, color=colours,
                  yerr=np.vstack([mean - lo, hi - mean]) if len(tables) > 1 else None,
                  error_kw=dict(linewidth=0.5, capsize=0))
    for rect, i in zip(bars.patches, k):
        rect.set_gid(f"col:{i}")
    ax.set_xlabel("input coordinate k")
    ax.set_ylabel("column norm ‖W1[:, k]‖")
    ax.set_xticks([1, *range(5, len(k) + 1, 5)] if len(k) >= 10 else list(k))


def draw_neurons(runs) -> "matplotlib.figure.Figure":
    """Figure 2b for ``runs`` (seeds of one setting): top-4 neurons of the first seed, column norms over seeds."""
    if not runs:
        raise ValueError("runs: expected at least one run")
    tables = [neuron_table(r) for r in sorted(runs, key=lambda r: r.seed)]
    cfg = runs[0].config
    caption = (f"Figure 2b. {style.setting_label(cfg)}; "
               f"{style.config_caption([r.config for r in runs], [r.seed for r in runs], spread=False)}"
               + ("; bars: mean over seeds, whiskers: min–max" if len(runs) > 1 else "")
               + THM32_NOTE)
    return neuron_figure(tables, caption)


def draw_search_neurons(folders) -> "matplotlib.figure.Figure":
    """Figure 2b for nets saved by ``sharpgen search`` (``store.is_saved`` folders): the top-4 neurons of the
    first, the column norms over all of them."""
    if not folders:
        raise ValueError("folders: expected at least one saved search folder")
    for f in folders:
        if not store.is_saved(f):
            raise ValueError(f"run_dirs: {f} is not a folder saved by `sharpgen search` (no {store.NET})")
    tables = [search_table(f) for f in folders]
    arch, hyper, X, _, params = store.load(folders[0])
    caption = (f"Figure 2b of searched nets. {arch}, d={X.shape[1]}, n={X.shape[0]}, width={params['W1'].shape[0]}, "
               f"{hyper['loss']} loss; {len(folders)} net(s)"
               + ("; bars: mean over nets, whiskers: min–max" if len(folders) > 1 else "")
               + THM32_NOTE)
    return neuron_figure(tables, caption)


def neuron_figure(tables, caption: str) -> "matplotlib.figure.Figure":
    """The two panels of Figure 2b for ``tables`` (``NeuronTable``) with ``caption`` under them."""
    if not tables:
        raise ValueError("tables: expected at least one NeuronTable")
    with style.context():
        fig = style.new_figure(style.COLUMN_WIDTH, 1.9)
        fig.set_layout_engine("constrained")
        left, right = fig.subplots(1, 2)
        _top_panel(left, tables[0])
        _column_panel(right, tables)
        style.add_caption(fig, caption)
    return fig
