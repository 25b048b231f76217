"""What ``sharpgen verify`` does once its arguments are valid: print the live table as rows complete,
the errata and a summary; with an output folder, write report.md, report.json and the figures.

The training runs go under ``<out>/runs`` (reused by the next invocation), or into a temporary
folder that is removed at the end when there is no output folder.
"""
from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

from sharpgen.verify.ledger.report import (COLUMNS, format_counterexamples, format_errata, format_row,
                                           summary_counts)
from sharpgen.verify.ledger.runner import Options, Session, exit_status

__all__ = ["Options", "run_verify"]


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_verify(opts: Options) -> int:
    """Run, print, report; the exit status (1 if a claim that should hold failed, else 0)."""
    started, t0 = time.strftime("%Y-%m-%d %H:%M:%S"), time.monotonic()
    print(f"sharpgen verify: {len(opts.entries)} entries, evidence {', '.join(opts.kinds)}, profile "
          f"{opts.profile.name}, seed {opts.profile.seed}, {opts.examples} examples per property", flush=True)
    print(COLUMNS, flush=True)
    with tempfile.TemporaryDirectory(prefix="sharpgen-verify-") as tmp:
        runs_root = (opts.out / "runs") if opts.out is not None else Path(tmp)
        session = Session(opts, runs_root, _log)
        rows = []
        for row in session.rows():
            rows.append(row)
            print(format_row(row), flush=True)
        for line in format_errata(rows) + format_counterexamples(rows):
            print(line)
        status = exit_status(rows)
        wall = time.monotonic() - t0
        counts = summary_counts(rows)
        print(f"\n{', '.join(f'{v} {k}' for k, v in counts.items())}; {wall:.0f} s; exit status {status}")
        if opts.out is not None:
            _write(opts, rows, session.records, {"started": started, "wall_s": wall, "exit_status": status})
    return status


def _write(opts: Options, rows, records, meta: dict) -> None:
    from sharpgen.verify.ledger.figures import run_summaries, trained_figures
    from sharpgen.verify.ledger.report import write_json, write_markdown
    meta = {**meta, "profile": asdict(replace(opts.profile)), "kinds": list(opts.kinds), "examples": opts.examples,
            "device": opts.device}
    opts.out.mkdir(parents=True, exist_ok=True)
    figures = trained_figures(rows, records, opts.out / "figures")
    write_json(opts.out / "report.json", meta, rows, run_summaries(records), figures)
    write_markdown(opts.out / "report.md", meta, rows, figures)
    print(f"wrote {opts.out / 'report.md'}, {opts.out / 'report.json'} and {2 * len(figures)} figure files")
