"""The live table and the report of ``sharpgen verify``: ``report.md``, ``report.json`` and figures.

``report.json`` lists every ledger entry (also those not run, as ``not run``) with its status, its
worst discrepancy and, per evidence kind, every number behind the verdict as numbers; the errata
with both values; the shrunk counterexample of a failed property in full; the training runs with
their per-seed numbers and which flattest minimizer each approached. ``report.md`` shows the same
for a reader, with the figures (PNG) embedded; each figure is also written as PDF.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from sharpgen.verify.ledger.entries import ENTRIES
from sharpgen.verify.ledger.outcome import NOT_RUN, jsonable, worst_status

COLUMNS = f"{'entry':<14} {'evidence':<9} {'status':<15} {'worst':>10}  {'time':>7}  detail"


def _num(v: float) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3g}"


def format_row(row) -> str:
    """One line of the live table (entry, evidence, status, worst discrepancy, time, short detail)."""
    status = row.status.upper() if row.status == "fail" else row.status
    detail = row.outcome.detail.splitlines()[0] if row.outcome.detail else ""
    line = (f"{row.entry.id:<14} {row.kind:<9} {status:<15} {_num(row.outcome.worst):>10}  {row.seconds:>6.1f}s  "
            f"{detail[:110]}")
    if row.status == "not reproduced":
        line += f"\n{'':<41}not expected at this profile: {row.outcome.reason}"
    return line


def format_errata(rows) -> list[str]:
    lines = []
    errata = [(r.entry.id, e) for r in rows for e in r.outcome.errata]
    if errata:
        lines.append(f"\nErrata ({len(errata)}): the paper's printed statement vs exact computation or measurement")
        for entry_id, e in errata:
            lines.append(f"- [{entry_id}] {e.claim}\n    paper: {e.paper}\n    {e.basis}: {e.exact}")
    return lines


def format_counterexamples(rows) -> list[str]:
    """Every failed property's shrunk counterexample in full (dataset, parameters, the values computed)."""
    lines = []
    for r in rows:
        if r.outcome.counterexample:
            lines += [f"\nCounterexample [{r.entry.id}, {r.outcome.counterexample.get('property', r.kind)}] (shrunk):",
                      json.dumps(jsonable(r.outcome.counterexample), indent=1)]
    return lines


def summary_counts(rows) -> dict:
    counts = {}
    for r in rows:
        counts[r.status] = counts.get(r.status, 0) + 1
    return counts


def entry_summaries(rows) -> list[dict]:
    """Per ledger entry: status (worst of its rows), worst discrepancy, its evidence rows (JSON-ready)."""
    out = []
    for e in ENTRIES:
        mine = [r for r in rows if r.entry.id == e.id]
        worst = max((r.outcome.worst for r in mine if not math.isnan(r.outcome.worst)), default=math.nan)
        out.append({"id": e.id, "ref": e.ref, "statement": e.statement, "kinds": list(e.kinds), "refs": list(e.refs),
                    "note": e.note, "over_seeds": e.over_seeds, "status": worst_status(r.status for r in mine) if mine else NOT_RUN,
                    "worst_discrepancy": worst,
                    "evidence": [dict(kind=r.kind, seconds=r.seconds, **r.outcome.to_json()) for r in mine]})
    return out


def write_json(path: Path, meta: dict, rows, runs: list[dict], figures: dict) -> None:
    data = {**meta, "summary": summary_counts(rows), "entries": entry_summaries(rows),
            "errata": [dict(entry=r.entry.id, claim=e.claim, paper=e.paper, exact=e.exact, basis=e.basis)
                       for r in rows for e in r.outcome.errata],
            "runs": runs, "figures": {k: [str(p) for p in v] for k, v in figures.items()}}
    _atomic(path, json.dumps(jsonable(data), indent=2, sort_keys=False) + "\n")


def write_markdown(path: Path, meta: dict, rows, figures: dict) -> None:
    lines = [f"# sharpgen verify — {meta['profile']['name']} profile, seed {meta['profile']['seed']}", "",
             f"{meta['started']}; wall time {meta['wall_s']:.0f} s; exit status {meta['exit_status']}; "
             f"{', '.join(f'{v} {k}' for k, v in summary_counts(rows).items())}.", "",
             "| entry | paper | evidence | status | worst discrepancy | what | time (s) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.entry.id} | {_cell(r.entry.ref)} | {r.kind} | **{r.status}** | {_num(r.outcome.worst)} | "
                     f"{_cell(r.outcome.worst_what)} | {r.seconds:.1f} |")
    lines += ["", "## Entries", ""]
    for e in entry_summaries(rows):
        if not e["evidence"]:
            continue
        lines += [f"### {e['id']} ({e['ref']}): {e['status']}", "", e["statement"] + ".", ""]
        if e["note"]:
            lines += [f"*Checked concretely:* {e['note']}.", ""]
        if e["over_seeds"]:
            lines += [f"*Over more seeds (docs/scenarios.md):* {e['over_seeds']}.", ""]
        for ev in e["evidence"]:
            lines += _evidence_md(ev)
        for p in figures.get(e["id"], []):
            if str(p).endswith(".png"):
                lines += [f"![{e['id']}]({Path(p).relative_to(path.parent)})", ""]
    errata = format_errata(rows)
    if errata:
        lines += ["## Errata", ""] + [ln.replace("\n", "  \n") for ln in errata[1:]] + [""]
    _atomic(path, "\n".join(lines) + "\n")


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell (|x| would split the cell)."""
    return text.replace("|", "\\|")


def _evidence_md(ev: dict) -> list[str]:
    lines = [f"- **{ev['kind']}** — {ev['status']}, worst {_num(ev['worst'])} ({ev['worst_what']}): "
             f"{ev['detail'].splitlines()[0] if ev['detail'] else ''}"]
    if ev.get("reason"):
        lines.append(f"  - not expected at this profile: {ev['reason']}")
    for s in ev["numbers"].get("seeds", []):
        a = s.get("approached") or {}
        lines.append(f"  - {s['group']} seed {s['seed']} ({s['status']}): test error {_num(s['test_error'])}, "
                     f"Tr {_num(s['trace'])}, interpolation part {_num(s['trace_gn'])}, theory min "
                     f"{_num(s['theory_min'])}; approached: {a.get('verdict', '-')} (zero fraction "
                     f"{_num(a.get('zero_fraction'))}, one-point neurons {a.get('one_point_neurons', '-')}/"
                     f"{a.get('live_neurons', '-')} live, top-4 cosine to ±x1±x2 "
                     f"{[round(c, 3) for c in a.get('top4_cosine', [])]})")
    if ev.get("counterexample"):
        lines += ["  - counterexample (shrunk):", "", "```json",
                  json.dumps(ev["counterexample"], indent=1)[:20000], "```"]
    lines.append("")
    return lines


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)
