"""``sharpgen reproduce FIG``: the paper's figures from runs made (or found, or resumed) in --out.

Parses the command line and calls ``sharpgen.verify.reproduce``; torch and
matplotlib are imported only when the command runs.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sharpgen.numerics.runs.interrupt import TrainingInterrupted
from sharpgen.numerics.runs.rundir import os_error
from sharpgen.verify.cli_args import MAX_SEEDS, add_progress_argument, bounded_int, out_dir, progress_mode, usage_error
from sharpgen.verify.reproduce import DEFAULT_SEEDS, FIGURES, PROFILES, reproduce



def add_run_arguments(parser, default_out: str) -> None:
    """Flags shared by ``reproduce`` and ``table1``: profile, seeds, output folder, device, progress."""
    parser.add_argument("--profile", choices=PROFILES, default="quick",
                        help="quick: the presets' few-minute CPU schedules; paper: the paper's protocol (default quick)")
    parser.add_argument("--seeds", type=bounded_int(MAX_SEEDS, "each seed is a training run"), default=DEFAULT_SEEDS, metavar="K",
                        help=f"seeds 0..K-1 of every run (default {DEFAULT_SEEDS}); the seed also draws the training set")
    parser.add_argument("--out", type=out_dir, default=Path(default_out),
                        help=f"folder of the runs; figures go to OUT/figures (default {default_out})")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu)")
    add_progress_argument(parser)


def add_parser(subparsers) -> None:
    epilog = "figures:\n" + "\n".join(f"  {k:8s} {s.title} [{', '.join(s.presets)}]" for k, s in FIGURES.items())
    parser = subparsers.add_parser(
        "reproduce", help="draw a figure of the paper from runs (trains what is missing, resumes what was killed)",
        description="Reproduce a figure of Wen, Li & Ma (2023): run every (preset, seed) it needs in OUT, reusing "
                    "finished runs and resuming interrupted ones, then draw it from the run directories "
                    "as OUT/figures/*.png and *.pdf.",
        epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("figure", metavar="FIG", choices=tuple(FIGURES),
                        help="which figure: " + ", ".join(FIGURES))
    add_run_arguments(parser, "runs/reproduce")
    parser.add_argument("--logx", action="store_true", help="epochs on a symlog axis (shows the early drop)")
    parser.set_defaults(func=run)


def run_guarded(command: str, action) -> tuple[object, int]:
    """``(action(), 0)``; a bad argument or an unusable run directory gives exit code 2, and
    SIGINT / SIGTERM during a run 130 / 143 (its checkpoint saved: running the command again resumes it),
    each with one line on stderr."""
    try:
        return action(), 0
    except ValueError as err:
        return None, usage_error(command, err)
    except OSError as err:
        return None, usage_error(command, os_error(err))
    except TrainingInterrupted as err:
        print(f"sharpgen {command}: {err}; run the same command again to resume", file=sys.stderr)
        return None, err.exit_code


def run(args) -> int:
    result, code = run_guarded("reproduce", lambda: reproduce(
        args.figure, args.out, profile=args.profile, seeds=range(args.seeds), device=args.device, logx=args.logx,
        progress=progress_mode(args)))
    report_files("reproduce", result)
    return code


def report_files(command: str, result) -> None:
    """The written files on stdout; on stderr, which runs diverged (their curves stop where they did)."""
    for path in result.files if result else ():
        print(path)
    if result and result.diverged:
        names = ", ".join(Path(d).name for d in result.diverged)
        print(f"sharpgen {command}: note: {len(result.diverged)} run(s) diverged and are drawn up to their last "
              f"evaluation: {names}", file=sys.stderr)
