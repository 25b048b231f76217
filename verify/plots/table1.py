"""Table 1 of the paper regenerated from evidence (docs/paper.md §5): flatness vs generalization per architecture.

For each architecture (``nobias``, ``bias``, ``sim_bn``, ``sim_ln``):

- the exact population errors on P_xor (``theory.generalization.population_errors``:
  MSE and zero-one over all 2^d cube points) of its flattest constructions (docs/paper.md §4):
  memorizing C1 (``bias``) and C4 (``sim_ln``); generalizing C3, C2, C6 (scale k = 1;
  flattest only as k → ∞) and C5. ``nobias`` and ``sim_bn`` have no memorizing flattest
  net (Thms 3.1, 3.2). They are computed on one exact instance: an xor training set with
  d = ``EXACT_D``, n = ``EXACT_N`` (C6: the Condition-1 set of that d), where C1 and C4
  have population error 1 − n/2^d;
- 1-SAM's final test error on every seed and its Tr ∇²L relative to the theory minimum
  of that seed's training set (and the interpolation part ``trace_gn`` where Lemma 4.1's
  residual term separates them);
- whether 1-SAM generalized here, judged by a threshold fixed before any run:
  final test error ≤ ``GENERALIZES`` = 0.1 on every seed.

>>> row = TrainedSummary("bias", [0, 1], [0.28, 0.30], [1.02, 1.03], [1.02, 1.03])
>>> row.verdict()
'no (0 of 2 seeds ≤ 0.1)'
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass

import sympy as sp

from sharpgen.numerics.nets.data import xor_dataset
from sharpgen.numerics.runs.presets import EPS_LN
from sharpgen.theory.constructions import generalizing, memorizing
from sharpgen.theory.data import condition1_set
from sharpgen.theory.generalization import population_errors
from sharpgen.verify.plots import style
from sharpgen.verify.plots.rundata import final, theory_minimum

ARCHS = ("nobias", "bias", "sim_bn", "sim_ln")
EXACT_D, EXACT_N, EXACT_SEED = 10, 100, 0
GENERALIZES = 0.1  # test error at or below which a trained net counts as generalizing (fixed a priori)

PAPER = {  # docs/paper.md §5: (scenario, paper name, every flattest generalizes?, 1-SAM generalizes in the paper?)
    "nobias": ("I", "2-MLP-No-Bias", "yes (Thm 3.1)", "yes (Fig. 1)"),
    "bias": ("II", "2-MLP-Bias", "no (Thm 4.1: C1 as flat as C2)", "no (Fig. 4)"),
    "sim_bn": ("III", "2-MLP-Sim-BN", "yes, near-flattest (Thm 3.2)", "yes (Fig. 2)"),
    "sim_ln": ("IV", "2-MLP-Sim-LN", "no (Thm 5.1: C4 as flat as C5)", "yes (Fig. 6)"),
}
MEMORIZING = {"bias": "C1", "sim_ln": "C4"}
NO_MEMORIZING = {"nobias": "none: every flattest net generalizes (Thm 3.1)",
                 "sim_bn": "none: near-flattest nets generalize (Thm 3.2)"}
GENERALIZING = {"nobias": "C3", "bias": "C2", "sim_bn": "C6", "sim_ln": "C5"}


@dataclass
class ConstructionErrors:
    """Exact population (MSE, zero-one) of one construction on P_xor (sympy numbers)."""

    name: str
    mse: object
    zero_one: object

    def text(self) -> str:
        return f"{self.name}: 0-1 {_exact(self.zero_one)}, MSE {_exact(self.mse)}"


def _exact(v) -> str:
    f = float(v)
    return f"{v}" if f in (0.0, 1.0) else f"{v} ≈ {f:.3f}"


def construction_errors(d: int = EXACT_D, n: int = EXACT_N, seed: int = EXACT_SEED) -> dict:
    """arch -> {"memorizing": ConstructionErrors | None, "generalizing": ConstructionErrors}, exact.

    ε of ``sim_ln`` is the presets' ``EPS_LN``; C6 uses scale k = 1 on the Condition-1 set of d.
    """
    data = xor_dataset(d, n, n_test=1, seed=seed)
    X = [[int(v) for v in row] for row in data.X.tolist()]
    Y = [int(v) for v in data.Y.tolist()]
    eps = sp.Rational(repr(EPS_LN))
    hyper = {"sim_ln": {"eps": eps}}
    out = {}
    for arch in ARCHS:
        kw = hyper.get(arch, {})
        mem = None
        if arch in MEMORIZING:
            mem = ConstructionErrors(MEMORIZING[arch], *population_errors(arch, memorizing(arch, X, Y, **kw), d, **kw))
        if arch == "sim_bn":
            gen = population_errors(arch, generalizing(arch, d, scale=1), d, X_train=condition1_set(d)[0])
        else:
            gen = population_errors(arch, generalizing(arch, d, **kw), d, **kw)
        out[arch] = {"memorizing": mem, "generalizing": ConstructionErrors(GENERALIZING[arch], *gen)}
    return out


@dataclass
class TrainedSummary:
    """1-SAM's final numbers per seed: test error, Tr ∇²L / theory minimum, interpolation part / minimum."""

    arch: str
    seeds: list
    test_errors: list
    rel_trace: list
    rel_gn: list

    def verdict(self) -> str:
        ok = sum(e <= GENERALIZES for e in self.test_errors)
        word = "yes" if ok == len(self.test_errors) else "no"
        return f"{word} ({ok} of {len(self.test_errors)} seeds ≤ {GENERALIZES:g})"


def trained_summary(runs) -> TrainedSummary:
    """The final metric row of each run (seeds of one 1-SAM setting)."""
    runs = sorted(runs, key=lambda r: r.seed)
    rel = lambda r, col: final(r, col) / theory_minimum(r) if theory_minimum(r) else float("nan")
    return TrainedSummary(runs[0].config.arch, [r.seed for r in runs], [final(r, "test_error") for r in runs],
                          [rel(r, "trace") for r in runs], [rel(r, "trace_gn") for r in runs])


def _per_seed(values, fmt: str = "{:.3f}") -> str:
    return ", ".join(fmt.format(v) for v in values)


def table_rows(constructions: dict, trained: dict) -> list[dict]:
    """One row of strings per architecture; ``trained`` maps arch -> TrainedSummary (missing: '—')."""
    rows = []
    for arch in ARCHS:
        scenario, name, theory, paper = PAPER[arch]
        cons = constructions[arch]
        t = trained.get(arch)
        rel = "—"
        if t is not None:
            rel = _per_seed(t.rel_trace, "{:.3f}")
            if any(abs(a - b) > 1e-6 * max(abs(a), 1e-12) for a, b in zip(t.rel_trace, t.rel_gn)):
                rel += f" (interpolation part {_per_seed(t.rel_gn, '{:.3f}')})"
        rows.append({
            "scenario": scenario, "architecture": f"`{arch}` ({name})",
            "memorizing flattest": cons["memorizing"].text() if cons["memorizing"] else NO_MEMORIZING[arch],
            "generalizing flattest": cons["generalizing"].text(),
            "every flattest generalizes? (theory)": theory,
            "1-SAM test error per seed": "—" if t is None else _per_seed(t.test_errors),
            "1-SAM Tr∇²L / min per seed": rel,
            "1-SAM generalizes? here": "—" if t is None else t.verdict(),
            "paper": paper,
        })
    return rows


def table_markdown(rows: list[dict], caption: str) -> str:
    """A markdown table of ``rows`` (keys as the header) followed by its caption."""
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    return "\n".join(lines) + "\n\n" + caption + "\n"


def constructions_note(d: int = EXACT_D, n: int = EXACT_N) -> str:
    """Where the constructions' numbers come from (shared by the table and the summary figure)."""
    return (f"Constructions: exact population errors over all 2^{d} cube points, built on an xor training set "
            f"with d={d}, n={n} (C6: the Condition-1 set of that d, k=1; C1/C4 give 1 − n/2^d).")


def caption_text(trained: dict, configs: dict) -> str:
    """What the numbers are: instance of the constructions, runs, seeds and the threshold."""
    parts = [constructions_note()]
    for arch, cfg in configs.items():
        seeds = trained[arch].seeds if arch in trained else []
        parts.append(f"{arch}: {style.setting_label(cfg)}, d={cfg.d}, n={cfg.n}, width={cfg.width}, "
                     f"{cfg.total_epochs:g} epochs, {style.seeds_text(seeds) if seeds else 'no runs'}.")
    parts.append(f"'Generalizes here': final test error ≤ {GENERALIZES:g} on every seed (threshold fixed a priori).")
    return " ".join(parts)


def draw_table(rows: list[dict], caption: str) -> "matplotlib.figure.Figure":
    """The table as a figure (full text width), cells wrapped."""
    keys = list(rows[0])
    wrap = lambda s, w: "\n".join(textwrap.wrap(str(s).replace("`", ""), w)) or " "
    widths = [8, 14, 20, 16, 16, 14, 16, 12, 10]
    cells = [[wrap(r[k], w) for k, w in zip(keys, widths)] for r in rows]
    with style.context():
        fig = style.new_figure(style.FULL_WIDTH, 0.45 + 0.5 * len(rows))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.axis("off")
        table = ax.table(cellText=cells, colLabels=[wrap(k, w) for k, w in zip(keys, widths)], cellLoc="left",
                         colWidths=[w / sum(widths) for w in widths], bbox=(0, 0, 1, 1))
        table.auto_set_font_size(False)
        table.set_fontsize(5.2)
        for (r, _), cell in table.get_celld().items():
            cell.set_linewidth(0.3)
            if r == 0:
                cell.set_facecolor("#EEEEEE")
        style.add_caption(fig, "Table 1. " + caption, width_chars=190)
    return fig
