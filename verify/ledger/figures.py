"""Build the report's figures for the trained rows from their runs (``plots.ledger`` draws them)."""
from __future__ import annotations

from pathlib import Path

from sharpgen.verify.ledger.trained import C3_PATH_NORM, PATH_NORM_FACTOR, TRAINED
from sharpgen.verify.plots.ledger import Panel, Series, trained_claim_figure

YLABELS = {"trace": "Tr ∇²L", "trace_gn": "interpolation part of Tr ∇²L", "diag_path_norm": "path norm"}


def _series(records, column) -> list[Series]:
    out = []
    for rec in records:
        rows = [r for r in rec.rows if r.get(column) is not None]
        out.append(Series(rec.spec.group, rec.spec.config.seed, [r["epoch"] for r in rows], [r[column] for r in rows],
                          [r["test_error"] for r in rows]))
    return out


def _references(check, records, thresholds) -> dict:
    if check.reference == "c3_path_norm":
        return {"C3: 2 sqrt(2)": C3_PATH_NORM, f"bound {PATH_NORM_FACTOR} x C3": PATH_NORM_FACTOR * C3_PATH_NORM}
    if check.reference == "none":  # no theory minimum to draw (softplus: only the trivial bound 0)
        return {}
    by_value = {}
    for rec in records:
        best = rec.final.get("theory_min")
        if best is not None:
            by_value.setdefault(round(best, 9), []).append(rec.spec.group)
    return {f"theory min ({', '.join(dict.fromkeys(groups))})": value for value, groups in by_value.items()}


def trained_figures(rows, records: dict, fig_dir: Path) -> dict:
    """entry id -> [png, pdf] for every trained row that ran and whose runs exist."""
    out = {}
    for row in rows:
        if row.kind != "trained" or row.entry.id not in TRAINED or row.outcome.not_run:
            continue  # a row not run in this profile has no figure, even where its groups' runs exist
        check = TRAINED[row.entry.id]
        recs = [rec for g in check.groups for rec in records.get(g, [])]
        if not any(rec.rows for rec in recs):
            continue
        thresholds = row.outcome.numbers.get("thresholds", {})
        errors = {f"{k} = {v}": v for k, v in thresholds.items() if "test_error" in k}
        panel = Panel(YLABELS.get(check.column, check.column), _references(check, recs, thresholds), errors)
        numbers = row.outcome.numbers
        rate = f", {numbers['k']}/{numbers['n']} seeds meet the criterion" if "k" in numbers else ""
        title = f"{row.entry.id} ({row.entry.ref}): {row.status}{rate}"
        out[row.entry.id] = trained_claim_figure(_series(recs, check.column), panel, title, fig_dir / row.entry.id)
    return out


def run_summaries(records: dict) -> list[dict]:
    """Every training run: name, group, preset, seed, status, wall time, reused?, config, final metrics."""
    return [{"run": rec.run_dir.name, "group": g, "preset": rec.spec.preset, "seed": rec.spec.config.seed,
             "status": rec.status, "wall_s": rec.wall_s, "reused": rec.reused, "expected": rec.spec.expected,
             "config": rec.spec.config.to_dict(), "final": rec.final}
            for g, recs in records.items() for rec in recs]
