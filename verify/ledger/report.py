"""The live table and the report of ``sharpgen verify``: ``report.md``, ``report.json`` and figures.

``report.json`` lists every ledger entry (also those not run, as ``not run``) with its status, its
worst discrepancy and, per evidence kind, every number behind the verdict as numbers; the errata
with the printed text, the reading taken, the convention, the kind and both values; the shrunk counterexample of a failed property in full; the training runs with
their per-seed numbers and which flattest minimizer each approached. ``report.md`` shows the same
for a reader, with the figures (PNG) embedded; each figure is also written as PDF.

The live table fits the terminal (``table_width``): a cell or line that does not fit is cut and
the cut marked with an ellipsis (…); report.md keeps every cell in full.
"""
from __future__ import annotations

import json
import math
import shutil
import textwrap
from dataclasses import asdict
from pathlib import Path

from sharpgen.numerics.runs.atomic import atomic_write_text
from sharpgen.verify.ledger.entries import ENTRIES
from sharpgen.verify.ledger.outcome import (CONDITION_NOT_MET, CONTRADICTED, FAIL, NOT_REPRODUCED, NOT_RUN, PASS,
                                            jsonable, worst_status)

ELLIPSIS = "…"
MIN_WIDTH = 40  # below this even the fixed columns would be cut
DEFAULT_WIDTH = 100  # stdout is not a terminal and $COLUMNS is unset
SUMMARY_ORDER = (PASS, FAIL, CONTRADICTED, NOT_REPRODUCED, CONDITION_NOT_MET, NOT_RUN)
NAMED = (FAIL, CONTRADICTED)  # statuses whose entries the last line names
COLUMNS = f"{'entry':<13} {'evidence':<8} {'status':<17} {'worst':>8} {'time':>7}  detail"


def _num(v: float) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3g}"


def table_width() -> int:
    """Columns of the live table: $COLUMNS if set, else the terminal's width when stdout is one, else
    ``DEFAULT_WIDTH`` (``shutil.get_terminal_size``); never below ``MIN_WIDTH``.

    >>> table_width() >= MIN_WIDTH
    True
    """
    return max(MIN_WIDTH, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def fit(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` characters, a cut marked by an ellipsis as its last character.

    >>> fit("nobias: Tr = 16.197", 10), fit("pass", 10)
    ('nobias: T…', 'pass')
    """
    if len(text) <= width:
        return text
    return text[:width - 1] + ELLIPSIS if width > 0 else ""


def format_row(row, width: int = DEFAULT_WIDTH) -> str:
    """One line of the live table (entry, evidence, status, worst discrepancy, time, short detail), each
    line at most ``width`` characters; a row not reproduced, contradicted or outside its conditions gets
    a second line saying why."""
    status = row.status.upper() if row.status == FAIL else row.status
    detail = row.outcome.detail.splitlines()[0] if row.outcome.detail else ""
    line = (f"{fit(row.entry.id, 13):<13} {fit(row.kind, 8):<8} {status:<17} {fit(_num(row.outcome.worst), 8):>8} "
            f"{row.seconds:>6.1f}s  {detail}")
    lines = [fit(line, width)]
    if row.status == NOT_REPRODUCED:
        lines.append(fit(f"    not expected at this profile: {row.outcome.reason}", width))
    if row.status == CONDITION_NOT_MET:
        lines.append(fit(f"    outside its stated conditions: {row.outcome.unmet_condition}", width))
    if row.status == CONTRADICTED:
        lines.append(fit(f"    statement as printed contradicted: {contradiction_text(row.outcome)}", width))
    return "\n".join(lines)


def contradiction_text(outcome) -> str:
    """The errata that contradict the statement as printed: claim, printed value against the other one.

    >>> from types import SimpleNamespace as NS
    >>> e = NS(claim="Lemma A.13", printed_value="25/4", other_value="4/25")
    >>> contradiction_text(NS(contradictions=[e]))
    'Lemma A.13: 25/4, not 4/25'
    """
    return "; ".join(f"{e.claim}: {e.printed_value}, not {e.other_value}" for e in outcome.contradictions)


def wrap_lines(lines, width: int) -> list[str]:
    """Each line of ``lines`` (which may hold newlines) wrapped at spaces to ``width`` characters, the
    continuation indented two spaces past the line's own indent; no word is cut.

    >>> wrap_lines(["- [x] a b c d", "  e"], 8)
    ['- [x] a', '  b c d', '  e']
    """
    out = []
    for text in lines:
        for line in text.split("\n"):
            indent = " " * (len(line) - len(line.lstrip(" ")) + 2)
            out += textwrap.wrap(line, width, subsequent_indent=indent, break_long_words=False,
                                 break_on_hyphens=False) or [line]
    return out


ERRATUM_LINES = (("printed", "quote"), ("reading", "reading"), ("convention", "convention"),
                 ("printed reading", "printed_value"), ("other", "other_value"))


def format_errata(rows) -> list[str]:
    """The errata list: per erratum its entry, claim and kind, then the printed text read, the reading
    taken, the convention, the value under each reading, and both values in full (``paper``, ``exact``)."""
    lines = []
    errata = [(r.entry.id, e) for r in rows for e in r.outcome.errata]
    if errata:
        lines.append(f"\nErrata ({len(errata)}): the paper's printed statement vs exact computation or measurement")
        for entry_id, e in errata:
            where = "" if e.kind == "measured" else f", in the {e.where}"
            detail = "".join(f"\n    {label}: {getattr(e, name)}" for label, name in ERRATUM_LINES)
            lines.append(f"- [{entry_id}] {e.claim} ({e.kind}{where}){detail}\n    paper: {e.paper}\n"
                         f"    {e.basis}: {e.exact}")
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
    """How many rows have each status, in the order pass, fail, contradicted, not reproduced, condition
    not met, not run (evidence of other profiles only); statuses no row has are left out."""
    return {s: n for s in SUMMARY_ORDER if (n := sum(r.status == s for r in rows))}


def summary_line(rows, wall_s: float, status: int, report: Path | None = None) -> str:
    """The last line of ``sharpgen verify``: the counts (failing and contradicted entries named), the
    errata, the wall time, where the report is and the exit status.

    >>> from types import SimpleNamespace as NS
    >>> row = lambda i, s: NS(status=s, entry=NS(id=i), outcome=NS(errata=[1]))
    >>> summary_line([row("thm-3.1", "pass"), row("lemma-3.1", "fail")], 2.4, 1, Path("out/report.md"))
    'sharpgen verify: 1 pass, 1 fail (lemma-3.1); 2 errata; 2 s; report in out/report.md; exit 1'
    >>> summary_line([row("thm-A.2", "contradicted")], 1.0, 0)
    'sharpgen verify: 1 contradicted (thm-A.2); 1 errata; 1 s; exit 0'
    """
    named = {s: list(dict.fromkeys(r.entry.id for r in rows if r.status == s)) for s in NAMED}
    counts = [f"{n} {s}" + (f" ({', '.join(named[s])})" if s in named else "") for s, n in summary_counts(rows).items()]
    parts = [", ".join(counts) or "nothing run", f"{sum(len(r.outcome.errata) for r in rows)} errata",
             f"{wall_s:.0f} s"]
    if report is not None:
        parts.append(f"report in {report}")
    return f"sharpgen verify: {'; '.join(parts)}; exit {status}"


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
            "errata": [dict(entry=r.entry.id, **asdict(e)) for r in rows for e in r.outcome.errata],
            "runs": runs, "figures": {k: [str(p) for p in v] for k, v in figures.items()}}
    atomic_write_text(path, json.dumps(jsonable(data), indent=2, sort_keys=False) + "\n")


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
    atomic_write_text(path, "\n".join(lines) + "\n")


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell (|x| would split the cell)."""
    return text.replace("|", "\\|")


def _evidence_md(ev: dict) -> list[str]:
    lines = [f"- **{ev['kind']}** — {ev['status']}, worst {_num(ev['worst'])} ({ev['worst_what']}): "
             f"{ev['detail'].splitlines()[0] if ev['detail'] else ''}"]
    if ev.get("reason"):
        lines.append(f"  - not expected at this profile: {ev['reason']}")
    if ev.get("unmet_condition"):
        lines.append(f"  - outside its stated conditions: {ev['unmet_condition']}")
    for e in ev["errata"]:
        if e["kind"] == "error" and e["where"] == "statement":
            lines.append(f"  - statement as printed contradicted: {e['claim']}: {e['printed_value']}, "
                         f"not {e['other_value']}")
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

