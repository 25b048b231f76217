"""The figures of ``sharpgen verify``'s report: for each trained claim, a quantity against epochs with
its theory value as a horizontal line (Tr ∇²L and the exact minimum over interpolators, docs/paper.md
§3; or the interpolation part of Tr for sim_ln, or the path norm), and the test zero-one error against
epochs with the claim's threshold, every seed of every run group overlaid.

``trained_claim_figure`` writes ``<stem>.png`` and ``<stem>.pdf`` (matplotlib, Agg backend) and
returns their paths.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sharpgen.verify.plots.style import new_figure, save

COLORS = ("tab:blue", "tab:red", "tab:green", "tab:purple", "tab:orange", "tab:brown")


@dataclass
class Series:
    """One run: its group (colour), seed (label), epochs, the plotted quantity and the test error."""

    group: str
    seed: int
    epochs: list
    values: list
    test_error: list


@dataclass
class Panel:
    """What the left panel shows: y label, and named horizontal reference lines."""

    ylabel: str
    references: dict = field(default_factory=dict)
    error_lines: dict = field(default_factory=dict)


def trained_claim_figure(series: list[Series], panel: Panel, title: str, stem) -> list[Path]:
    """Draw and save the two-panel figure as ``<stem>.png`` and ``<stem>.pdf``; returns both paths.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     runs = [Series("1-SAM", 0, [0, 10, 20], [30.0, 24.0, 22.5], [0.5, 0.1, 0.0])]
    ...     paths = trained_claim_figure(runs, Panel("Tr", {"theory min": 21.9}), "thm-3.1", pathlib.Path(tmp) / "thm-3.1")
    ...     [p.name for p in paths], all(p.stat().st_size > 1000 for p in paths)
    (['thm-3.1.png', 'thm-3.1.pdf'], True)
    """
    fig = new_figure(10, 3.8)
    fig.set_layout_engine("constrained")
    left, right = fig.subplots(1, 2)
    groups = list(dict.fromkeys(s.group for s in series))
    for s in series:
        color = COLORS[groups.index(s.group) % len(COLORS)]
        first = s is next(t for t in series if t.group == s.group)
        left.plot(s.epochs, s.values, color=color, alpha=0.8, lw=1.2, label=s.group if first else None)
        right.plot(s.epochs, s.test_error, color=color, alpha=0.8, lw=1.2, label=s.group if first else None)
    for k, (name, value) in enumerate(panel.references.items()):
        left.axhline(value, color="black", ls=("--", ":", "-.")[k % 3], lw=1, label=name)
    for k, (name, value) in enumerate(panel.error_lines.items()):
        right.axhline(value, color="gray", ls=("--", ":", "-.")[k % 3], lw=1, label=name)
    left.set(xlabel="epoch", ylabel=panel.ylabel, yscale="log")
    right.set(xlabel="epoch", ylabel="test zero-one error", ylim=(-0.02, 1.02))
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    return save(fig, stem)
