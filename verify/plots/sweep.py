"""Figures and tables of the two sweep studies (``verify.sweep``; studies ``sample_complexity`` and
``minimizers``), drawn from a sweep's results table (one row per run).

* :func:`sample_complexity_figure` — test zero-one error (docs/paper.md §1) against n/d, one panel
  per architecture (docs/paper.md §2), one colour per d, one line style per optimizer; the line is
  the mean over seeds, the band their min–max spread.
* :func:`thresholds` — per architecture, optimizer and d, the smallest n/d of the grid from which
  on the mean test error stays ≤ ``GENERALIZES`` (0.1, fixed before the runs), and the n/d where
  the mean error, interpolated linearly between grid points, falls to it.
* :func:`minimizers_figure` / :func:`minimizers_summary` — per scenario and optimizer: test error,
  the interpolation part of the sharpness relative to the theory minimum (``trace_gn / theory_min``:
  Tr ∇²L at interpolation, Lemma 4.1; for ``sim_ln`` the full trace sits below it because of the
  residual term, README), and which kind of flattest network the run approached, read from the
  diagnostics with thresholds fixed before the runs (:func:`approached`).
* :func:`markdown` — a small table as GitHub markdown.

Figures are ``matplotlib.figure.Figure`` objects drawn without pyplot (headless; no global state).
Every plotted series carries a gid (``"error:bias:sam1:30"`` = mean line of architecture bias,
optimizer sam1, d = 30), so tests can read the data back.

>>> import pandas as pd
>>> t = pd.DataFrame({"status": "done", "arch": "nobias", "method": "sam1", "d": 10, "seed": [0, 1, 0, 1],
...                   "n_per_d": [1, 1, 2, 2], "test_error": [0.5, 0.4, 0.05, 0.0]})
>>> thresholds(t, method="method").round(3).to_dict("records")   # 1 + (0.45 - 0.1)/(0.45 - 0.025)
[{'arch': 'nobias', 'method': 'sam1', 'd': 10, 'threshold_n_per_d': 2.0, 'crossing_n_per_d': 1.824}]
>>> fig = sample_complexity_figure(t, method="method")
>>> [round(float(v), 3) for v in series(fig)["error:nobias:sam1:10"].get_ydata()]
[0.45, 0.025]
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

ARCH_ORDER = ("nobias", "bias", "sim_ln", "sim_bn")
GENERALIZES = 0.1          # mean test error at or below which a setting counts as generalizing
NEAR_FLAT = 1.10           # trace_gn / theory_min at or below which a run counts as (near-)flattest
MEMORIZES = 0.5            # share of unseen cube points with output exactly 0 (every neuron off): C1/C4
FEATURES = 0.5             # largest other column norm of W1 over min(‖W1[:,1]‖, ‖W1[:,2]‖): x1, x2 features
LINESTYLES = ("-", "--", ":", "-.")


def _done(table: pd.DataFrame) -> pd.DataFrame:
    out = table[table["status"] == "done"].copy()
    if "n_per_d" not in out.columns and {"n", "d"} <= set(out.columns):
        out["n_per_d"] = out["n"] / out["d"]
    return out


def _archs(table: pd.DataFrame) -> list:
    present = list(dict.fromkeys(table["arch"]))
    return [a for a in ARCH_ORDER if a in present] + [a for a in present if a not in ARCH_ORDER]


def series(fig: Figure) -> dict:
    """The figure's plotted lines by gid."""
    return {line.get_gid(): line for ax in fig.axes for line in ax.get_lines() if line.get_gid()}


def sample_complexity_figure(table: pd.DataFrame, *, method: str = "method", y: str = "test_error") -> Figure:
    """Error against n/d: a panel per architecture, a colour per d, a line style per ``method`` value."""
    data = _done(table)
    archs, methods, ds = _archs(data), list(dict.fromkeys(data[method])), sorted(set(data["d"]))
    colours = dict(zip(ds, ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")))
    fig = Figure(figsize=(3.3 * len(archs), 3.2), layout="constrained")
    axes = fig.subplots(1, len(archs), sharex=True, sharey=True, squeeze=False)[0]
    for ax, arch in zip(axes, archs):
        for k, m in enumerate(methods):
            for d in ds:
                sel = data[(data["arch"] == arch) & (data[method] == m) & (data["d"] == d)]
                if sel.empty:
                    continue
                g = sel.groupby("n_per_d")[y].agg(["mean", "min", "max"]).sort_index()
                ax.fill_between(g.index, g["min"], g["max"], color=colours.get(d, "grey"), alpha=0.15, lw=0)
                ax.plot(g.index, g["mean"], LINESTYLES[k % len(LINESTYLES)], marker="o", ms=3,
                        color=colours.get(d, "grey"), label=f"{m}, d={d}", gid=f"error:{arch}:{m}:{d}")
        ax.axhline(GENERALIZES, color="black", lw=0.5, ls=":")
        ax.set_title(arch)
        ax.set_xlabel("n / d")
    axes[0].set_ylabel(y.replace("_", " "))
    handles = [Line2D([], [], color=colours.get(d, "grey"), label=f"d = {d}") for d in ds] + \
        [Line2D([], [], color="black", ls=LINESTYLES[k % len(LINESTYLES)], label=m) for k, m in enumerate(methods)]
    axes[0].legend(handles=handles, fontsize=7, frameon=False, loc="upper right")
    return fig


def _crossing(mean: pd.Series, level: float) -> float:
    """n/d where the mean error, linearly interpolated between grid points, last falls to ``level``."""
    above = [k for k, v in enumerate(mean.to_numpy()) if v > level]
    if not above:
        return float(mean.index[0])
    k = above[-1]
    if k + 1 == len(mean):
        return math.nan
    (x0, x1), (y0, y1) = mean.index[k:k + 2], mean.to_numpy()[k:k + 2]
    return float(x0 + (y0 - level) / (y0 - y1) * (x1 - x0))


def thresholds(table: pd.DataFrame, *, method: str = "method", y: str = "test_error",
               level: float = GENERALIZES) -> pd.DataFrame:
    """Per architecture, ``method`` and d: ``threshold_n_per_d``, the smallest n/d of the grid from which
    on the mean ``y`` over seeds stays ≤ ``level``, and ``crossing_n_per_d``, where the mean, linearly
    interpolated between grid points, last falls to ``level`` (NaN: never)."""
    data = _done(table)
    rows = []
    for (arch, m, d), sel in data.groupby(["arch", method, "d"], sort=False):
        mean = sel.groupby("n_per_d")[y].mean().sort_index()
        above = mean.index[mean > level]
        after = mean.index[mean.index > above.max()] if len(above) else mean.index
        rows.append({"arch": arch, method: m, "d": d, "threshold_n_per_d": float(after.min()) if len(after)
                     else math.nan, "crossing_n_per_d": _crossing(mean, level)})
    return pd.DataFrame(rows)


def approached(row) -> str:
    """Which kind of flattest network a run approached, from its diagnostics (thresholds fixed beforehand).

    near-flattest: trace_gn / theory_min ≤ NEAR_FLAT; then "memorizing (C1/C4)" when the net outputs 0
    on at least MEMORIZES of the unseen cube points, "x1·x2 features (C2/C3/C5/C6)" when every other
    input column of W1 is at most FEATURES times the smaller of columns 1, 2, else "flattest, dense".

    >>> approached({"trace_gn": 9.0, "theory_min": 8.0, "diag_zero_fraction": 0.9})
    'not flattest'
    >>> approached({"trace_gn": 8.1, "theory_min": 8.0, "diag_zero_fraction": 0.9})
    'memorizing (C1/C4)'
    """
    if not row.get("theory_min") or not np.isfinite(row.get("trace_gn", np.nan)):
        return "unknown"
    if row["trace_gn"] / row["theory_min"] > NEAR_FLAT:
        return "not flattest"
    if row.get("diag_zero_fraction", 0.0) >= MEMORIZES:
        return "memorizing (C1/C4)"
    cols = min(row.get("diag_col_norm_1", 0.0), row.get("diag_col_norm_2", 0.0))
    if cols > 0 and row.get("diag_col_norm_rest_max", np.inf) <= FEATURES * cols:
        return "x1·x2 features (C2/C3/C5/C6)"
    return "flattest, dense"


def minimizers_summary(table: pd.DataFrame, *, method: str = "method") -> pd.DataFrame:
    """Per architecture and ``method``: seeds done/total, test error (mean, min, max), trace_gn/theory_min
    (mean), training loss (mean), zero fraction (mean) and the most common :func:`approached` label."""
    data = table.copy()
    data["flatness"] = data["trace_gn"] / data["theory_min"]
    data["approached"] = [approached(r) for r in data.to_dict("records")]
    rows = []
    for (arch, m), sel in data.groupby(["arch", method], sort=False):
        ok = sel[sel["status"] == "done"]
        rows.append({"arch": arch, method: m, "runs done": f"{len(ok)}/{len(sel)}",
                     "test error": ok["test_error"].mean(), "min": ok["test_error"].min(),
                     "max": ok["test_error"].max(), "Tr_gn / min": ok["flatness"].mean(),
                     "train loss": ok["train_loss"].mean(), "zero fraction": ok["diag_zero_fraction"].mean(),
                     "approached": ok["approached"].mode().iloc[0] if len(ok) else "-"})
    order = {a: k for k, a in enumerate(ARCH_ORDER)}
    return pd.DataFrame(rows).sort_values("arch", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)


def minimizers_figure(table: pd.DataFrame, *, method: str = "method") -> Figure:
    """Two rows per scenario: test error and trace_gn / theory_min per optimizer; one dot per seed, bar = mean."""
    data = _done(table)
    data["flatness"] = data["trace_gn"] / data["theory_min"]
    archs, methods = _archs(data), list(dict.fromkeys(table[method]))
    fig = Figure(figsize=(3.4 * len(archs), 5.4), layout="constrained")
    axes = fig.subplots(2, len(archs), sharex=True, squeeze=False)
    for col, arch in enumerate(archs):
        for row, (key, label) in enumerate((("test_error", "test error"), ("flatness", "Tr_gn ∇²L / theory min"))):
            ax = axes[row][col]
            for k, m in enumerate(methods):
                vals = data[(data["arch"] == arch) & (data[method] == m)][key].to_numpy(dtype=float)
                if len(vals):
                    ax.bar(k, vals.mean(), color="#bbbbbb", width=0.7)
                    ax.plot(np.full(len(vals), k), vals, "o", ms=3, color="black", gid=f"{key}:{arch}:{m}")
            if key == "flatness":
                ax.axhline(1.0, color="black", lw=0.5, ls=":")
                ax.set_yscale("log")
            ax.set_ylabel(label if col == 0 else "")
            ax.set_title(arch if row == 0 else "")
            ax.set_xticks(range(len(methods)), methods, rotation=60, fontsize=7)
    return fig


def _cell(v) -> str:
    if isinstance(v, float):
        return "–" if math.isnan(v) else f"{v:.3g}"
    return str(v)


def markdown(table: pd.DataFrame) -> str:
    """``table`` as a GitHub markdown table (floats to 3 significant digits, NaN as –).

    >>> print(markdown(pd.DataFrame({"a": ["x"], "b": [0.12345]})))
    | a | b |
    |---|---|
    | x | 0.123 |
    """
    head = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "---|" * len(table.columns)
    body = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([head, rule] + body)
