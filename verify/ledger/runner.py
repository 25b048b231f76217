"""Run ledger entries by evidence kind and yield the rows of the live table.

Order: every exact check, then every property, then every search, then every trained judgment. The training runs
the selected trained entries need are submitted first to background processes (``runs.RunPool``,
two: the machine this was written for has two cores), so they train while the exact and
property checks run; a trained judgment waits for its runs.
A check that crashes is reported as a failing row with the error, never as a traceback.
Infrastructure trouble is never a claim's failure: a damaged or refused run file (``RunDirError``,
``RunFileError``) or a failed file operation (``OSError``: a full disk, permissions) propagates, and
``command.run_verify`` stops with one line naming the file (exit status 2).
An interruption (``lifetime.Interrupted``, a ``KeyboardInterrupt``) is not a crash: it propagates,
and the training processes are stopped (their runs checkpointed) before it leaves ``rows()``.
A trained entry whose evidence runs in other profiles only (``TrainedCheck.skip_reason``: the figures'
claims, rates and paper profiles) is a ``not run`` row naming them, and none of its runs is trained.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from sharpgen.numerics.runs.rundir import RunDirError
from sharpgen.verify.ledger.entries import KINDS, Entry
from sharpgen.verify.ledger.outcome import FAIL, Outcome


@dataclass
class Row:
    """One line of the table: an entry, one evidence kind, what it found, how long it took."""

    entry: Entry
    kind: str
    outcome: Outcome
    seconds: float

    @property
    def status(self) -> str:
        return self.outcome.status


def plan(entries, kinds) -> list[tuple[Entry, str]]:
    """(entry, kind) pairs to run: kinds in ``KINDS`` order, entries in ledger order."""
    return [(e, k) for k in KINDS if k in kinds for e in entries if k in e.kinds]


@dataclass
class Options:
    """Validated options: entries and kinds to run, profile, examples per property, output folder (None:
    no report, training runs in a temporary folder), device, and the command line that reruns them."""

    entries: list
    kinds: tuple
    profile: object
    examples: int
    out: Path | None = None
    device: str = "cpu"
    command_line: str = "sharpgen verify"


@dataclass
class Session:
    """One ``sharpgen verify`` run: its options, where the training runs live; ``rows()`` does the work."""

    opts: Options
    runs_root: Path
    log: object = print
    workers: int = 2  # training processes; the main process meanwhile runs the exact and property checks
    records: dict = field(default_factory=dict)

    def _specs(self):
        # deferred: torch and sympy load only when trained checks are planned; `sharpgen verify --help` imports this
        from sharpgen.verify.ledger.runs import specs_for
        from sharpgen.verify.ledger.trained import TRAINED
        here = [e for e, _ in plan(self.opts.entries, ("trained",)) if not TRAINED[e.id].skip_reason(self.opts.profile.name)]
        groups = [g for e in here for g in TRAINED[e.id].groups]
        return {g: specs_for(g, self.opts.profile, device=self.opts.device) for g in dict.fromkeys(groups)}

    def rows(self):
        """Yield a ``Row`` per (entry, kind) of ``plan`` as it completes."""
        pairs = plan(self.opts.entries, self.opts.kinds)
        specs = self._specs() if any(k == "trained" for _, k in pairs) else {}
        pool = None
        try:
            if specs:
                from sharpgen.verify.ledger.runs import RunPool  # deferred: torch, only when trained checks are planned
                flat = [s for group in specs.values() for s in group]
                self.log(f"  training {len(flat)} runs in {self.workers} background processes under {self.runs_root}")
                pool = RunPool(self.runs_root, flat, workers=self.workers, log=self.log)
            for entry, kind in pairs:
                start = time.perf_counter()
                outcome = self._run(entry, kind, pool, specs)
                yield Row(entry, kind, outcome, time.perf_counter() - start)
        except BaseException:  # interrupted, or the caller stopped early: stop the training, do not wait for it
            if specs:
                self.log("  stopping the training processes (each saves its runs' checkpoints first)")
                if pool is not None:  # none yet when stopped while the pool starts
                    pool.stop()
            raise
        finally:
            if pool is not None:
                pool.close(cancel=True)

    def _run(self, entry, kind, pool, specs) -> Outcome:
        try:
            # deferred on purpose: each kind loads only its own stack (sympy; hypothesis and torch; the runs)
            if kind == "exact":
                from sharpgen.verify.ledger.exact import EXACT
                return EXACT[entry.id](self.opts.profile)
            if kind == "search":
                from sharpgen.verify.ledger.search import SEARCH
                return SEARCH[entry.id](self.opts.profile)
            if kind == "property":
                from sharpgen.verify.ledger.properties import PROPERTIES, run_entry_properties
                return run_entry_properties(PROPERTIES[entry.id], examples=self.opts.examples,
                                            seed=self.opts.profile.seed)
            from sharpgen.verify.ledger.trained import TRAINED
            check = TRAINED[entry.id]
            skipped = check.skip_reason(self.opts.profile.name)  # evidence of other profiles only: no runs here
            if skipped:
                return Outcome(True, skipped, worst_what="not run", not_run=skipped)
            for g in check.groups:
                if g not in self.records:
                    self.records[g] = [pool.record(s) for s in specs[g]]
            return check.judge({g: self.records[g] for g in check.groups})
        except (RunDirError, OSError):
            raise  # the files, not the claim: run_verify stops with one line and exit status 2
        except Exception as err:  # report, do not crash the whole run
            return Outcome(False, f"crashed: {type(err).__name__}: {err}\n{traceback.format_exc(limit=6)}",
                           float("inf"), "crash")


def exit_status(rows) -> int:
    """1 if a claim that should hold failed, else 0 (``contradicted``, ``not reproduced`` and ``condition
    not met`` are reported, never failures)."""
    return 1 if any(r.status == FAIL for r in rows) else 0
