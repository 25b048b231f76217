"""``sharpgen sweep``: run a grid of training runs on dask.distributed (``verify.sweep``), resumable.

Parses the arguments and calls ``verify.sweep.run_sweep``; torch and dask load
only when the command runs, so ``sharpgen --help`` stays light.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys

from sharpgen.numerics.runs.rundir import os_error
from sharpgen.verify.cli_args import bounded_int, out_dir, usage_error
from sharpgen.verify.ledger.lifetime import Interrupted, interrupts
from sharpgen.verify.sweep.grid import MAX_GRID_POINTS
from sharpgen.verify.sweep.catalog import study_names
from sharpgen.verify.sweep.spec import load_spec

EPILOG = """\
sweep file (TOML): [sweep] name, record; [base] config fields (or preset = "fig1b", quick = true);
[axes] one list of values per config field (or n_per_d), or tables of named variants;
[[override]] when = {axis = value} plus fields; [[exclude]] {axis = value}.
A phases batch written `n` is the run's own n (full batch).

shipped studies (give the name as SPEC): %s

Output: OUT/runs/<run id>/ as `sharpgen train` writes it, OUT/errors/<run id>.json for failed runs,
OUT/results.csv and OUT/results.parquet (one row per run). Rerun the same command to resume a killed
sweep: finished runs are skipped, interrupted ones resume from their checkpoints.

On a cluster: `dask scheduler` on one machine (it prints tcp://HOST:8786), `dask worker tcp://HOST:8786`
on each of the others (sharpgen installed, OUT on a shared filesystem at the same path), then
`sharpgen sweep SPEC --scheduler tcp://HOST:8786 --out /shared/path`.

Exit status: 0 every run done, 1 some runs failed (see OUT/errors/), 2 bad input (nothing written) or
trouble with the files (a full or read-only disk, a damaged run file, a run id of OUT bound to another
config: the message names the file; rerun to resume once fixed), 130 interrupted (Ctrl-C; rerun to resume)."""


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "sweep", help="run a grid of training runs on dask.distributed (resumable), one table of results",
        description="Run every point of a sweep file as a training run (the run directories of `sharpgen train`) "
                    "on an embedded Dask cluster (one worker process per core) or an existing one, and gather "
                    "the final metrics into one table.",
        epilog=EPILOG % ", ".join(study_names()), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec", metavar="SPEC", help="sweep file (TOML) or the name of a shipped study")
    parser.add_argument("--out", type=out_dir, help="sweep folder (default sweeps/<name>)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="address of a running dask scheduler, e.g. tcp://host:8786 (default: embedded cluster)")
    parser.add_argument("--workers", type=bounded_int(os.cpu_count() or 1, "this machine's cores: one worker "
                                                      "process each"), metavar="N",
                        help="worker processes of the embedded cluster (default: one per core)")
    parser.add_argument("--replicas", type=bounded_int(MAX_GRID_POINTS, "a sweep's largest grid"), default=1,
                        metavar="N",
                        help="grid points per Dask task: up to N seeds of one config, trained together through "
                             "the multi-replica engine (default 1)")
    parser.add_argument("--retry-failed", action="store_true", help="rerun runs that diverged or raised")
    parser.add_argument("--dry-run", action="store_true", help="list the grid's run ids and their state, run nothing")
    parser.add_argument("--collect", action="store_true", help="only gather OUT/results.* from the runs there")
    parser.add_argument("--progress", choices=("on", "off"), default="on", help="status line on stderr")
    parser.set_defaults(func=run)


def _dry_run(spec, out) -> int:
    # deferred on purpose here and in run(): dask, pandas and torch load only when a sweep is asked for
    from sharpgen.verify.sweep.driver import check_out, default_out
    from sharpgen.verify.sweep.grid import expand
    from sharpgen.verify.sweep.runs import run_state
    points = expand(spec)
    out = out if out is not None else default_out(spec)
    check_out(points, out)
    for p in points:
        print(f"{run_state(out, p.run_id):12s} {p.run_id}")
    print(f"{len(points)} runs in {out}", file=sys.stderr)
    return 0


def resume_command(args) -> str:
    """The command that resumes this sweep: the same spec and options (``--dry-run``/``--collect`` left out).

    >>> p = argparse.ArgumentParser(); add_parser(p.add_subparsers())
    >>> resume_command(p.parse_args(["sweep", "my grid.toml", "--out", "o", "--scheduler", "tcp://h:8786"]))
    "sharpgen sweep 'my grid.toml' --out o --scheduler tcp://h:8786"
    """
    words = ["sharpgen", "sweep", args.spec]
    for flag, value in (("--out", args.out), ("--scheduler", args.scheduler), ("--workers", args.workers)):
        words += [flag, str(value)] if value is not None else []
    words += ["--replicas", str(args.replicas)] if args.replicas != 1 else []
    words += ["--retry-failed"] if args.retry_failed else []
    return shlex.join(words)


def run(args) -> int:
    if args.scheduler is not None and args.workers is not None:
        print("sharpgen sweep: error: --workers sizes the embedded cluster; with --scheduler the cluster's own "
              "workers run the sweep", file=sys.stderr)
        return 2
    # deferred: the driver loads torch, dask and pandas; the sweep parser must not
    from sharpgen.verify.sweep.driver import SweepStopped, collect_table, default_out, run_sweep
    try:
        spec = load_spec(args.spec)
        with interrupts():  # SIGTERM (SLURM's stop) as SIGINT: the same clean stop, exit 143
            if args.dry_run:
                return _dry_run(spec, args.out)
            table = collect_table(spec, args.out) if args.collect else run_sweep(
                spec, args.out, scheduler=args.scheduler, workers=args.workers, retry_failed=args.retry_failed,
                replicas=args.replicas, progress=args.progress == "on")
    except SweepStopped as err:  # mid-sweep: the runs' files are kept as they stand, a rerun resumes
        return usage_error("sweep", f"{err}; resume with: {resume_command(args)}")
    except ValueError as err:
        return usage_error("sweep", err)
    except OSError as err:  # a file operation outside the run directories (the table, the folder itself)
        return usage_error("sweep", os_error(err, advice="free space or fix its permissions, then rerun", name="out"))
    except KeyboardInterrupt as err:
        how = f"interrupted by {err.name}" if isinstance(err, Interrupted) else "interrupted"
        print(f"\nsharpgen sweep: {how}; finished runs are kept; resume with: {resume_command(args)}",
              file=sys.stderr)
        return err.exit_code if isinstance(err, Interrupted) else 130
    counts = table["status"].value_counts().to_dict()
    failed = {k: v for k, v in counts.items() if k != "done"}
    out = args.out if args.out is not None else default_out(spec)
    print(f"sharpgen sweep: {spec.name}: {counts.get('done', 0)}/{len(table)} runs done"
          + (f", {failed} (see {out / 'errors'})" if failed else "") + f"; table: {out / 'results.csv'}, .parquet")
    return 0 if not failed else 1
