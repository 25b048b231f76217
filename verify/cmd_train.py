"""``sharpgen train``: run a docs/paper.md §6 experiment (a preset, any field overridable), resumable.

The handler parses; the library does the work: ``TrainConfig`` (validation,
``with_phase_values`` for ``--lr``/``--rho``/``--epochs``), ``verify.theory_min``
(the exact theory minimum for the run's training set, sympy) and
``verify.runs.launch`` (``numerics.train.train_many``: one run, or with ``--seeds``
one per seed, stepped together by the multi-replica engine). Building the parser imports
neither torch nor sympy, so ``sharpgen train --help`` is quick; they load
when a run starts.

Every run directory is locked (``numerics.rundir``) before the data and the
theory minimum are computed, so a second command on any of them is refused
at once. Exit codes: 0 done, 2 bad input or an unusable run directory (one
line, nothing half-written), 3 diverged (with ``--seeds``: any run; the
others finish), 130 / 143 interrupted by SIGINT / SIGTERM (a checkpoint of
every run saved and the resume command printed).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import shlex
import sys
from pathlib import Path

from sharpgen.numerics.runs.config import PHASE_VALUES, TrainConfig, parse_phases
from sharpgen.numerics.runs.interrupt import TrainingInterrupted, raising
from sharpgen.numerics.runs.presets import describe, get_preset, preset_names
from sharpgen.numerics.runs.rundir import os_error
from sharpgen.numerics.runs.state import DIVERGED, read_run
from sharpgen.numerics.validate import check_int
from sharpgen.verify.cli_args import add_progress_argument, out_dir, progress_mode, usage_error
from sharpgen.verify.runs import RunSpec, launch

_FIELD_HELP = {
    "arch": "architecture: nobias, bias, sim_bn, sim_ln",
    "d": "input dimension",
    "n": "training set size",
    "n_test": "test set size",
    "width": "hidden width m",
    "depth": "number of layers (> 2 only for bias)",
    "activation": "relu or softplus (softplus only for bias)",
    "eps": "sim_ln floor of the normaliser (> 0)",
    "loss": "mse or logistic",
    "p": "label smoothing of the logistic loss, in (0, 0.5)",
    "data": "xor, ball, condition1 or circle",
    "data_seed": "seed of the data (default: --seed)",
    "init_scale_first_layer": "factor on the initial W1, b1 (Figure 6: 0.01)",
    "init_gamma": "initial value of sim_bn's gamma (default 1; fig2a-repro: 0.5)",
    "optimizer": "sam, sgd, label_noise_sgd or asam (adaptive SAM)",
    "phases": "'lr,rho,batch,wd,epochs[,label_noise]; ...' (rows of the paper's Appendix B tables)",
    "project_radius": "project [W1|b1] onto this Frobenius radius after each step (Figure 6b)",
    "eval_every": "epochs between evaluations",
    "eval_log_points": "also evaluate at this many epochs spaced evenly in log(epoch) (0: none)",
    "checkpoint_every": "epochs between checkpoints (default: --eval-every)",
    "seed": "seed of the initialisation and the sample order",
    "device": "cpu, cuda or auto",
    "dtype": "float64 (default, verification) or float32",
    "backend": "auto, generic (autograd), torch (fused) or c (fused, CPU)",
}
MAX_SEEDS = 4096  # runs of one --seeds call: far beyond a GPU's replica count, short of exhausting memory
_PHASE_HELP = "{}: one value for every phase, or a comma-separated list with one per phase"


def _none_or(kind):
    def parse(text: str):
        return None if text.lower() == "none" else kind(text)
    parse.__name__ = kind.__name__
    return parse


def _int(text: str) -> int:
    """An integer, also written as 1e5; nan, inf and fractions are refused with argparse's "argument --X:" prefix."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not math.isfinite(value) or value != int(value):
        raise argparse.ArgumentTypeError(f"expected a finite integer, got {text!r}")
    return int(value)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _values(kind):
    """A parser of one value or a comma-separated list of them (a tuple), each read by ``kind``."""
    def parse(text: str):
        parts = [p.strip() for p in text.split(",")]
        return kind(parts[0]) if len(parts) == 1 else tuple(kind(p) for p in parts)
    return parse


def parse_seeds(text: str) -> list[int]:
    """The seeds of ``--seeds``: a range ``0-7``, a list ``0,3,5`` (items may be ranges), or a count
    ``4`` (seeds 0-3); distinct integers >= 0, at least one and at most ``MAX_SEEDS``.

    >>> parse_seeds("0-3"), parse_seeds("0,3,5"), parse_seeds("4"), parse_seeds("1-2,7")
    ([0, 1, 2, 3], [0, 3, 5], [0, 1, 2, 3], [1, 2, 7])
    >>> parse_seeds("3-1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a range 0-7, a list 0,3,5 or a count 4 of distinct seeds >= 0, got '3-1'
    """
    wrong = argparse.ArgumentTypeError(f"expected a range 0-7, a list 0,3,5 or a count 4 of distinct seeds >= 0, "
                                       f"got {text!r}")
    items = [part.strip() for part in text.split(",")]
    if not all(p.replace("-", "", 1).isdigit() and p[0] != "-" and p[-1] != "-" for p in items if p) or "" in items:
        raise wrong
    if len(items) == 1 and "-" not in items[0]:
        bounds = [(0, int(items[0]) - 1)]
    else:
        bounds = [(int(p.split("-")[0]), int(p.split("-")[-1])) for p in items]
    count = sum(hi - lo + 1 for lo, hi in bounds)
    if any(lo > hi for lo, hi in bounds) or count > MAX_SEEDS:
        raise argparse.ArgumentTypeError(f"{wrong}; at most {MAX_SEEDS} seeds" if count > MAX_SEEDS else str(wrong))
    seeds = [s for lo, hi in bounds for s in range(lo, hi + 1)]
    if len(set(seeds)) != len(seeds):
        raise wrong
    return seeds


def _phases(text: str):
    """``parse_phases`` with its ValueError shown by argparse (which hides a plain ValueError's message)."""
    try:
        return parse_phases(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _field_type(f: dataclasses.Field):
    if f.name == "phases":
        return _phases
    t = str(f.type)
    base = _int if "int" in t else float if "float" in t else str
    return _none_or(base) if "None" in t else base


def add_parser(subparsers) -> None:
    epilog = "presets (paper protocol; --quick: the few-minute CPU schedule):\n" + "\n".join(
        "  " + line for name in preset_names() for line in describe(name))
    parser = subparsers.add_parser(
        "train", description="Train a network of the paper (Wen, Li & Ma 2023, Appendix B) and log loss, test error,\n"
                             "exact Tr ∇²L and its theory minimum to OUT/metrics.csv (one row per evaluation).",
        epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=preset_names(), metavar="NAME", help="one of the presets listed below")
    parser.add_argument("--quick", action="store_true", help="the preset's few-minute CPU schedule")
    parser.add_argument("--out", type=out_dir, nargs="+", metavar="OUT",
                        help="run directory (default runs/<preset>[-quick]-seed<seed>-<config digest>: distinct "
                             "configs never share one); with --seeds one per seed, or one folder holding "
                             "OUT/seed<k>; with --resume several directories continue together")
    parser.add_argument("--seeds", type=parse_seeds, metavar="SEEDS",
                        help="train several seeds at once through the multi-replica engine, one run directory "
                             "each (as a single run of that seed writes it): a range 0-7, a list 0,3,5, or a "
                             "count 4 (seeds 0-3); not with --seed")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run(s) in --out from the last checkpoint (refused when --out has none, "
                             "or when --preset or other flags describe another config)")
    parser.add_argument("--allow-backend-change", action="store_true",
                        help="with --resume: continue even where the steps would be computed differently "
                             "(another backend, device, --threads or torch); the numbers then differ")
    parser.add_argument("--no-theory", action="store_true", help="skip the theory minimum (no sympy computation)")
    add_progress_argument(parser)
    parser.add_argument("--threads", type=_int, default=1,
                        help="torch threads (default 1: the steps are tiny; a fixed count keeps runs reproducible)")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config as JSON and exit")
    phase = parser.add_argument_group("per-phase overrides (applied after --phases)")
    for name, kind in zip(PHASE_VALUES, (_float, _float, _int)):
        phase.add_argument("--" + name, type=_values(kind), metavar=name.upper(), help=_PHASE_HELP.format(name))
    group = parser.add_argument_group("config fields (override the preset)")
    for f in dataclasses.fields(TrainConfig):
        group.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=_field_type(f), default=argparse.SUPPRESS,
                           metavar=f.name.upper(), help=_FIELD_HELP.get(f.name, f.name))
    parser.set_defaults(func=run)


def _changes(args, base: TrainConfig) -> TrainConfig:
    """``base`` with every given field flag, then the per-phase overrides, applied and validated."""
    # Field flags default to "absent" (argparse.SUPPRESS), so an explicit "none" can clear an optional field.
    fields = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if hasattr(args, f.name)}
    per_phase = {name: getattr(args, name) for name in PHASE_VALUES}
    return base.replace(**fields).with_phase_values(**per_phase).validate()


def default_out(preset: str | None, quick: bool, config: TrainConfig) -> Path:
    """runs/<preset>[-quick]-seed<seed>-<first 8 digits of the config's digest>: one directory per config.

    >>> default_out("fig4b", True, TrainConfig(seed=2)).name.startswith("fig4b-quick-seed2-")
    True
    """
    return Path("runs") / f"{preset or 'custom'}{'-quick' if quick else ''}-seed{config.seed}-{config.digest()[:8]}"


def _run_dirs(args, configs: list[TrainConfig]) -> list[Path]:
    """One directory per run: ``--out`` (one per run; with ``--seeds`` also one folder holding
    OUT/seed<k>), else ``default_out`` of each config."""
    outs = args.out
    if outs is None:
        return [default_out(args.preset, args.quick, c) for c in configs]
    if args.seeds is not None and len(outs) == 1 and len(configs) > 1:
        return [outs[0] / f"seed{c.seed}" for c in configs]
    if len(outs) != len(configs):
        raise ValueError(f"out: expected one directory per seed of --seeds ({len(configs)}), or one folder for "
                         f"them all, got {len(outs)} directories")
    return list(outs)


def build_runs(args) -> tuple[list[TrainConfig], list[Path]]:
    """The configs and directories of the runs: the preset (or the defaults) with the flags applied,
    one per seed of ``--seeds``; or, with ``--resume``, ``--out`` and no ``--preset``, the configs
    saved in the run directories with the flags applied (``train_many`` refuses to resume when
    one differs from its run's config)."""
    check_int("threads", args.threads, 1, os.cpu_count() or 1)  # more threads than cores only contend
    if args.quick and args.preset is None:
        raise ValueError("quick: --quick needs --preset")
    if args.allow_backend_change and not args.resume:
        raise ValueError("allow_backend_change: --allow-backend-change is for --resume")
    if args.seeds is not None and hasattr(args, "seed"):
        raise ValueError("seeds: --seeds and --seed exclude each other; give the seeds of every run with --seeds")
    if args.out is not None and len(args.out) > 1 and args.seeds is None and not args.resume:
        raise ValueError(f"out: {len(args.out)} directories need --seeds (one per seed) or --resume (runs to "
                         f"continue together)")
    base = _changes(args, get_preset(args.preset, quick=args.quick) if args.preset else TrainConfig())
    seeded = lambda config, seed: config if seed is None else config.replace(seed=seed).validate()
    configs = [seeded(base, seed) for seed in (args.seeds or [None])]
    if args.resume and args.preset is None and args.out is not None and args.seeds is None:
        configs = [base] * len(args.out)
    outs = _run_dirs(args, configs)
    if args.resume and args.preset is None:
        configs = [seeded(_saved_config(args, out), c.seed if args.seeds else None) for c, out in zip(configs, outs)]
    from sharpgen.numerics.runs.replica_runs import check_shared  # deferred: it loads torch; --help imports this
    check_shared(configs)
    return configs, outs


def _saved_config(args, out: Path) -> TrainConfig:
    from sharpgen.numerics.runs.checkpoint import CONFIG, read_config  # deferred: it loads torch; --help imports this
    saved = read_config(out)
    if saved is None:
        raise ValueError(f"resume: no run to resume in {out} (no {CONFIG}); give --out of an existing run, "
                         f"or drop --resume to start a new one")
    return _changes(args, saved)


def _report(row: dict, result, out: Path) -> str:
    fmt = lambda v: "n/a" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))
    cells = [f"{k} {fmt(row.get(k))}" for k in ("epoch", "train_loss", "test_loss", "test_error", "trace",
                                                 "theory_min", "rel_gap")]
    return "  ".join(cells + [f"backends {','.join(result.backends)}", f"wall {result.wall_s:.1f}s", f"-> {out}"])


def resume_command(args, outs) -> str:
    """The command that continues these runs together (their configs are read from the run directories).

    >>> args = argparse.Namespace(threads=2, allow_backend_change=False)
    >>> resume_command(args, [Path("runs/my run")])
    "sharpgen train --resume --out 'runs/my run' --threads 2"
    """
    words = ["sharpgen", "train", "--resume", "--out", *(shlex.quote(str(out)) for out in outs)]
    if args.threads != 1:
        words += ["--threads", str(args.threads)]
    if args.allow_backend_change:
        words.append("--allow-backend-change")
    return " ".join(words)


def _banner(args, configs: list[TrainConfig], outs: list[Path], theory_mins: list) -> str:
    fmt = lambda v: "n/a" if v is None else f"{v:.6g}"
    name = f"{args.preset or 'custom'}{' (quick)' if args.quick else ''}"
    if len(configs) == 1:
        return "\n  ".join([f"sharpgen train: {name} -> {outs[0]}", *configs[0].describe(),
                            f"theory_min={fmt(theory_mins[0])}"])
    c = configs[0]
    runs = [f"seed {c.seed}: theory_min={fmt(t)} -> {out}" for c, t, out in zip(configs, theory_mins, outs)]
    return "\n  ".join([f"sharpgen train: {name}, {len(configs)} runs through the multi-replica engine",
                        *c.describe()[:-1], f"device={c.device} dtype={c.dtype} backend={c.backend}", *runs])


def _start_and_train(args, configs: list[TrainConfig], outs: list[Path]):
    """The runs through ``verify.runs.launch``: holding every run directory's lock, whether each run may
    start or resume, the data, the theory minima (on resume: the ones the runs logged), the header,
    and the runs."""
    def announce(specs, theory_mins, notes):
        for note in filter(None, notes):
            print(f"sharpgen train: {note}", file=sys.stderr)
        print(_banner(args, configs, outs, theory_mins), file=sys.stderr)

    specs = [RunSpec(c, out, group=args.preset or "custom", preset=args.preset or "", theory=not args.no_theory)
             for c, out in zip(configs, outs)]
    done = launch(specs, reuse=False, resume=args.resume, progress=progress_mode(args), threads=args.threads,
                  allow_backend_change=args.allow_backend_change, announce=announce)
    return [d.result for d in done]


def _resumable(out: Path) -> bool:
    """Whether the run in ``out`` started and can go on (``numerics.state``: interrupted or failed)."""
    try:
        found = read_run(out)
    except ValueError:  # a damaged file: resuming would be refused, so the command is not offered
        return False
    return found.started and found.status != DIVERGED


def _interrupted(err, args, outs: list[Path]) -> int:
    """Report the interruption and the command that resumes every run that started (diverged ones aside)."""
    print(f"sharpgen train: {err}", file=sys.stderr)
    started = [out for out in outs if _resumable(out)]
    if started:
        print(f"sharpgen train: resume with: {resume_command(args, started)}", file=sys.stderr)
    return err.exit_code


def run(args) -> int:
    try:
        configs, outs = build_runs(args)
    except ValueError as err:
        return usage_error("train", err)
    if args.print_config:
        dicts = [c.to_dict() for c in configs]
        print(json.dumps(dicts[0] if len(dicts) == 1 else dicts, indent=2, sort_keys=True))
        return 0
    try:
        with raising():
            results = _start_and_train(args, configs, outs)
    except ValueError as err:
        return usage_error("train", err)
    except OSError as err:
        return usage_error("train", os_error(err))
    except TrainingInterrupted as err:
        return _interrupted(err, args, outs)
    for result, out in zip(results, outs):
        if result.status == "diverged":
            print(f"sharpgen train: {result.message}", file=sys.stderr)
        else:
            print(_report(result.final, result, out))
    return 3 if any(r.status == "diverged" for r in results) else 0
