"""What ``sharpgen verify`` does once its arguments are valid: print the live table as rows complete
(fitted to the terminal's width), the errata and the counterexamples; with an output folder, write
report.md, report.json and the figures; end with one line saying what the run found.

The training runs go under ``<out>/runs`` (reused by the next invocation), or into a temporary
folder that is removed at the end when there is no output folder. SIGINT and SIGTERM stop the run
cleanly (``lifetime``): the training processes save their checkpoints, nothing is written, and a
message on stderr names what was interrupted and the command that resumes; the exit status is
128 + the signal number (130, 143). The output folder is locked for the whole run: a second
``sharpgen verify`` into it is refused at once (exit status 2, naming the first one's pid, host,
start time and command), never judged on the first one's half-trained runs. A damaged run file or a failed file operation (``RunDirError``,
``OSError``) stops the run with one line on stderr naming the file and what to do, exit status 2;
no report is written.
"""
from __future__ import annotations

import errno
import sys
import tempfile
import time
from contextlib import nullcontext
from dataclasses import asdict, replace
from pathlib import Path

from sharpgen.numerics.runs.rundir import RunDirError, locked
from sharpgen.verify.ledger.lifetime import Interrupted, interrupts
from sharpgen.verify.ledger.report import (COLUMNS, fit, format_counterexamples, format_errata, format_row,
                                           summary_line, table_width, wrap_lines, write_json, write_markdown)
from sharpgen.verify.ledger.runner import Options, Session, exit_status, plan

__all__ = ["Options", "run_verify", "interrupted_message", "infrastructure_message"]


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_verify(opts: Options) -> int:
    """Run, print, report; the exit status (1 if a claim that should hold failed, 2 when a run file or
    the file system failed, 130 / 143 when interrupted by SIGINT / SIGTERM, else 0)."""
    rows: list = []
    try:
        with interrupts(), _own(opts.out):
            return _run_and_report(opts, rows)
    except Interrupted as err:
        print(flush=True)  # the ^C the terminal echoed ends no line
        _log(interrupted_message(err, opts, len(rows)))
        return err.exit_code
    except (RunDirError, OSError) as err:
        _log(infrastructure_message(err, opts))
        return 2


OUT_ROLE = ("out", "sharpgen verify", "another --out")


def _own(out):
    """The output folder's lock for the whole run (``numerics.runs.rundir.locked``): a second verify into
    the same folder is refused at once, naming the first, before it reads or writes anything."""
    return locked(out, OUT_ROLE) if out is not None else nullcontext()


def infrastructure_message(err: Exception, opts: Options) -> str:
    """One stderr line for a damaged run file (``RunDirError``: its message names the file and what to
    do) or a failed file operation (``OSError``): not a claim's failure, so no row and no report.

    >>> opts = Options([], ("exact",), None, 1, command_line="sharpgen verify --kind exact")
    >>> print(infrastructure_message(OSError(28, "No space left on device", "out/report.md"), opts))
    sharpgen verify: out/report.md: No space left on device; free space or fix its permissions, then rerun: sharpgen verify --kind exact (no report written)
    """
    if isinstance(err, OSError) and err.filename is not None:
        advice = "" if err.errno == errno.EISDIR else "; free space or fix its permissions"
        what = f"{err.filename}: {err.strerror or err}{advice}, then rerun: {opts.command_line}"
    else:
        what = " ".join(str(err).split())
    return f"sharpgen verify: {what} (no report written)"


def _run_and_report(opts: Options, rows: list) -> int:
    """The run itself; appends each row to ``rows`` as it completes (so an interruption knows how far it got)."""
    started, t0, width = time.strftime("%Y-%m-%d %H:%M:%S"), time.monotonic(), table_width()
    print("\n".join(wrap_lines([f"sharpgen verify: {len(opts.entries)} entries, evidence {', '.join(opts.kinds)}, "
                                f"profile {opts.profile.name}, seed {opts.profile.seed}, {opts.examples} examples "
                                "per property"], width)))
    print(fit(COLUMNS, width), flush=True)
    with tempfile.TemporaryDirectory(prefix="sharpgen-verify-") as tmp:
        runs_root = (opts.out / "runs") if opts.out is not None else Path(tmp)
        session = Session(opts, runs_root, _log)
        for row in session.rows():
            rows.append(row)
            print(format_row(row, width), flush=True)
        for line in wrap_lines(format_errata(rows), width) + format_counterexamples(rows):
            print(line)
        status = exit_status(rows)
        wall = time.monotonic() - t0
        if opts.out is not None:
            _write(opts, rows, session.records, {"started": started, "wall_s": wall, "exit_status": status})
    report = opts.out / "report.md" if opts.out is not None else None
    print(f"\n{summary_line(rows, wall, status, report)}", flush=True)
    return status


def interrupted_message(err: Interrupted, opts: Options, done: int) -> str:
    """What was interrupted, what is kept, and the command that resumes (stderr lines of ``sharpgen verify``).

    >>> import signal
    >>> from types import SimpleNamespace as NS
    >>> e = NS(id="lemma-4.1", kinds=("exact",))
    >>> opts = Options([e], ("exact",), None, 1, Path("out"), command_line="sharpgen verify --kind exact")
    >>> print(interrupted_message(Interrupted(signal.SIGINT), opts, 0))
    sharpgen verify: interrupted by SIGINT while checking lemma-4.1 (exact), 0 of 1 checks done; no report written
    sharpgen verify: resume with: sharpgen verify --kind exact
    """
    pairs = plan(opts.entries, opts.kinds)
    doing = (f"while checking {pairs[done][0].id} ({pairs[done][1]}), {done} of {len(pairs)} checks done"
             if done < len(pairs) else "while writing the report")
    lines = [f"sharpgen verify: {err} {doing}; no report written"]
    if any(kind == "trained" for _, kind in pairs):
        lines.append(f"sharpgen verify: finished training runs are kept in {opts.out / 'runs'} (interrupted ones "
                     "resume from their last checkpoint)" if opts.out is not None else
                     "sharpgen verify: training runs were not kept (no output folder)")
    lines.append(f"sharpgen verify: resume with: {opts.command_line}")
    return "\n".join(lines)


def _write(opts: Options, rows, records, meta: dict) -> None:
    # deferred: figures load matplotlib, torch and sympy; `sharpgen verify --help` imports this module
    from sharpgen.verify.ledger.figures import run_summaries, trained_figures
    meta = {**meta, "profile": asdict(replace(opts.profile)), "kinds": list(opts.kinds), "examples": opts.examples,
            "device": opts.device}
    opts.out.mkdir(parents=True, exist_ok=True)
    for name in ("report.json", "report.md"):  # checked before either is written: never one report of two
        if (opts.out / name).is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file: move it away", str(opts.out / name))
    figures = trained_figures(rows, records, opts.out / "figures")
    write_json(opts.out / "report.json", meta, rows, run_summaries(records), figures)
    write_markdown(opts.out / "report.md", meta, rows, figures)
    print("\n".join(wrap_lines([f"wrote {opts.out / 'report.md'}, {opts.out / 'report.json'} and "
                                f"{2 * len(figures)} figure files"], table_width())))
