"""``sharpgen table1``: the paper's Table 1 from exact constructions and 1-SAM runs (markdown, PNG, PDF).

Parses the command line and calls ``sharpgen.verify.reproduce.table1``.
"""
from __future__ import annotations

import sys
from pathlib import Path

from sharpgen.verify.cli_args import progress_mode
from sharpgen.verify.cmd_reproduce import add_run_arguments, run_guarded
from sharpgen.verify.reproduce import table1

HELP = "the paper's Table 1 regenerated from constructions and 1-SAM runs (markdown + PNG)"
DESCRIPTION = ("Regenerate Table 1 of Wen, Li & Ma (2023): per architecture, the exact population error of its "
               "flattest constructions and 1-SAM's test error and Tr ∇²L / theory minimum on every seed. Runs what "
               "is missing in OUT (reusing finished runs, resuming interrupted ones) and writes "
               "OUT/figures/table1.md, .png and .pdf.")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("table1", help=HELP, description=DESCRIPTION)
    add_run_arguments(parser, "runs/reproduce")
    parser.set_defaults(func=run)


def run(args) -> int:
    result, code = run_guarded("table1", lambda: table1(
        args.out, profile=args.profile, seeds=range(args.seeds), device=args.device, progress=progress_mode(args)))
    if result is not None:
        print(result.files[0].read_text(), end="")
        for path in result.files:
            print(path, file=sys.stderr)
        if result.diverged:
            print(f"sharpgen table1: note: {len(result.diverged)} run(s) diverged: "
                  f"{', '.join(Path(d).name for d in result.diverged)}", file=sys.stderr)
    return code
