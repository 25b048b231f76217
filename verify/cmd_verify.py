"""``sharpgen verify``: check every result of the paper with exact, property-based and trained evidence.

Parses and validates the arguments (every bad argument, and an output folder that cannot be
written, is refused with exit status 2 before any computation), then calls ``verify.ledger.command``.
The report and the training runs are kept in ``--out``, by default ``./sharpgen-verify``. Exit
status 1 only when a claim that should hold fails; 130 / 143 when interrupted by SIGINT / SIGTERM.
Importing this module loads neither sympy nor torch (``sharpgen --help`` stays fast).
"""
from __future__ import annotations

import os
import shlex
import sys
from dataclasses import replace
from pathlib import Path

from sharpgen.numerics.runs.limits import SEED_MAX
from sharpgen.numerics.validate import DEVICES
from sharpgen.verify.cli_args import out_dir
from sharpgen.verify.ledger.command import Options, run_verify
from sharpgen.verify.ledger.entries import ENTRIES, KINDS, known_keys, select
from sharpgen.verify.ledger.profiles import PROFILES

DEFAULT_OUT = Path("sharpgen-verify")  # in the current directory
DEFAULT_PROFILE, DEFAULT_DEVICE = "quick", "cpu"
EPILOG = ("Statuses: pass; fail (a claim that should hold does not: exit status 1); not reproduced (a "
          "trained claim the ledger declares, before running, cannot be expected at this profile; reported "
          "with its numbers and the reason); condition not met (the case checked lies outside the result's "
          "stated conditions; reported with its numbers, never a failure); not run. Exit status: 0, 1 if "
          "any fail, 2 for bad arguments, 130 / 143 when stopped by SIGINT (Ctrl-C) / SIGTERM: nothing is "
          "written then, the training runs stop after saving a checkpoint, and the same command resumes "
          "(finished runs are reused, interrupted ones resumed).")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "verify", help="check every result of the paper: exact, property-based and trained evidence (the main job)",
        description="Check each ledger entry (a lemma, theorem, proposition or Table 1 row of Wen, Li & Ma 2023) "
                    "with the evidence that applies: exact sympy computation, hypothesis properties run here with "
                    "a seed, and 1-SAM / GD training runs judged against the theory. Prints a table as it goes and "
                    "the errata (the paper's printed value beside the exact one), and keeps the report and the "
                    f"training runs in ./{DEFAULT_OUT} (or --out DIR). Exit status 1 if a claim that should hold "
                    "fails, 2 for bad arguments.",
        epilog=EPILOG)
    p.add_argument("--profile", choices=sorted(PROFILES), default=DEFAULT_PROFILE,
                   help="quick: small exact cases, 200 examples per property, 3 seeds of the presets' quick "
                        "schedules (d=30, n=100, width 500; minutes on a 2-core CPU); rates: as quick with 10 "
                        "evaluation seeds per trained group (1000 + --seed on, never used for tuning), each "
                        "seed-dependent trained claim judged by its success rate's 95%% Wilson interval (about "
                        "5 min on a 2-core CPU for --kind trained, and 17 min more for the figures' entries, "
                        "which run in the rates and paper profiles only, as does the adversary on drawn training sets "
                        "and κ against the 'for all' statements, about 7 min of --kind search); paper: more cases, 1000 examples, 5 seeds of "
                        "the paper's protocol (days on a CPU; rerun to resume)")
    p.add_argument("--only", metavar="ID", nargs="+", action="extend",
                   help=f"run only these entries (ids, or the docs/paper.md refs F1-F7, C1-C6 selecting every entry "
                        f"resting on them): {', '.join(known_keys())}")
    p.add_argument("--kind", metavar="KIND", nargs="+", action="extend", choices=KINDS,
                   help=f"evidence kinds to run: {', '.join(KINDS)} (default: all)")
    p.add_argument("--out", metavar="DIR", type=out_dir,
                   help=f"where the report is kept (default: {DEFAULT_OUT}/ in the current directory): "
                        "DIR/report.md, DIR/report.json, DIR/figures/*.png|pdf; training runs are kept in "
                        "DIR/runs and reused (finished) or resumed (interrupted) by the next invocation")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the exact checks' training sets, of the hypothesis search, and the first "
                        "training seed (default 0; the rates profile trains seeds 1000 + SEED onward)")
    p.add_argument("--examples", type=int, metavar="N",
                   help="hypothesis examples per property (default: the profile's, 200 quick / 1000 paper)")
    p.add_argument("--device", default=DEFAULT_DEVICE,
                   help="device of the training runs: cpu, cuda or auto (default cpu)")
    p.add_argument("--list", action="store_true", help="print the ledger (id, paper reference, evidence, "
                                                      "statement) and exit")
    p.set_defaults(func=run)


def _error(msg: str) -> int:
    print(f"sharpgen verify: error: {msg}", file=sys.stderr)
    return 2


def print_ledger() -> None:
    for e in ENTRIES:
        print(f"{e.id:<14} {e.ref:<30} [{', '.join(e.kinds)}]\n    {e.statement}")


def _check_out(out: Path, flag: str = "--out") -> str | None:
    """Create ``out`` if needed and prove it writable (a probe file); an error message or None."""
    if out.exists() and not out.is_dir():
        return f"{flag}: {out} exists and is not a directory"
    for name, folder in (("runs", True), ("figures", True), ("report.md", False), ("report.json", False)):
        path = out / name
        if path.exists() and path.is_dir() != folder:
            return f"{flag}: {path} is a {'file' if folder else 'folder'} where the report keeps its {name}; move it away"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".sharpgen-probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        return f"{flag}: cannot write to {out} ({err.strerror or err})"
    return None


def command_line(args) -> str:
    """The ``sharpgen verify`` command line that reruns ``args`` (options at their default left out).

    >>> import argparse
    >>> sub = argparse.ArgumentParser().add_subparsers()
    >>> add_parser(sub)
    >>> command_line(sub.choices["verify"].parse_args(["--kind", "exact", "--only", "C2", "--out", "my dir"]))
    "sharpgen verify --only C2 --kind exact --out 'my dir'"
    """
    words = ["sharpgen", "verify"]
    if args.profile != DEFAULT_PROFILE:
        words += ["--profile", args.profile]
    words += ["--only", *args.only] if args.only else []
    words += ["--kind", *args.kind] if args.kind else []
    words += ["--out", str(args.out)] if args.out is not None else []
    words += ["--seed", str(args.seed)] if args.seed else []
    words += ["--examples", str(args.examples)] if args.examples is not None else []
    if args.device != DEFAULT_DEVICE:
        words += ["--device", args.device]
    return shlex.join(words)


MAX_EXAMPLES = 100_000  # hypothesis examples per property: 100 times the paper profile's, hours per entry


def _check_device(device: str) -> str | None:
    return None if device in DEVICES else f"--device: expected one of {DEVICES}, got {device!r}"


def run(args) -> int:
    if args.list:
        print_ledger()
        return 0
    try:
        entries = select(args.only)
    except ValueError as err:
        return _error(str(err))
    if not 0 <= args.seed <= SEED_MAX:
        return _error(f"--seed: expected an integer in [0, {SEED_MAX}], got {args.seed}")
    if args.examples is not None and not 1 <= args.examples <= MAX_EXAMPLES:
        return _error(f"--examples: expected an integer in [1, {MAX_EXAMPLES}] (the paper profile runs 1000 per "
                      f"property), got {args.examples}")
    kinds = tuple(k for k in KINDS if k in (args.kind or KINDS))
    out = args.out if args.out is not None else DEFAULT_OUT
    message = _check_device(args.device)  # bad input even where no evidence trains
    if message is None:
        message = _check_out(out, "--out" if args.out is not None else f"--out (default {DEFAULT_OUT})")
    if message is not None:
        return _error(message)
    profile = replace(PROFILES[args.profile], seed=args.seed)
    return run_verify(Options(entries, kinds, profile, args.examples or profile.examples, out, args.device,
                              command_line(args)))
