"""``sharpgen train``: run a docs/paper.md §6 experiment (a preset, any field overridable), resumable.

The theory minimum of Tr ∇²L over interpolating networks for the run's own
training set is computed here (``theory.minimum.min_sharpness``, sympy) and
handed to ``numerics.train.train``, which never imports sympy.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

from sharpgen.numerics import checkpoint as ckpt
from sharpgen.numerics.config import TrainConfig, format_phases, parse_phases
from sharpgen.numerics.presets import PRESETS, describe, get_preset
from sharpgen.numerics.engine import TrainingDiverged
from sharpgen.numerics.train import make_dataset, train

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
    "optimizer": "sam, sgd, label_noise_sgd or asam (adaptive SAM)",
    "phases": "'lr,rho,batch,wd,epochs[,label_noise]; ...' (rows of the paper's Appendix B tables)",
    "project_radius": "project [W1|b1] onto this Frobenius radius after each step (Figure 6b)",
    "eval_every": "epochs between evaluations",
    "checkpoint_every": "epochs between checkpoints (default: --eval-every)",
    "seed": "seed of the initialisation and the sample order",
    "device": "cpu, cuda or auto",
    "dtype": "float64 (default, verification) or float32",
    "backend": "auto, generic (autograd), torch (fused) or c (fused, CPU)",
}


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
    epilog = "presets (paper protocol; add --quick for a few-minute CPU version):\n" + "\n".join(
        "  " + describe(name) for name in PRESETS)
    parser = subparsers.add_parser(
        "train", help="train with 1-SAM / GD baselines (presets from the paper's Appendix B), resumable",
        description="Train a network of the paper (Wen, Li & Ma 2023, Appendix B) and log loss, test error, "
                    "exact Tr ∇²L and its theory minimum to OUT/metrics.csv.",
        epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), metavar="NAME", help="one of the presets listed below")
    parser.add_argument("--quick", action="store_true", help="the preset's few-minute CPU schedule")
    parser.add_argument("--out", type=Path, help="run directory (default runs/<preset>[-quick]-seed<seed>)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its last checkpoint (refused when --out has none)")
    parser.add_argument("--no-theory", action="store_true", help="skip the theory minimum (no sympy computation)")
    parser.add_argument("--progress", choices=("auto", "on", "off"), default="auto",
                        help="progress bar on stderr (auto: only on a terminal)")
    parser.add_argument("--threads", type=_int, default=1,
                        help="torch threads (default 1: the steps are tiny; a fixed count keeps runs reproducible)")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config as JSON and exit")
    group = parser.add_argument_group("config fields (override the preset)")
    for f in dataclasses.fields(TrainConfig):
        group.add_argument("--" + f.name.replace("_", "-"), dest=f.name, type=_field_type(f), default=argparse.SUPPRESS,
                           metavar=f.name.upper(), help=_FIELD_HELP.get(f.name, f.name))
    parser.set_defaults(func=run)


def build_config(args) -> TrainConfig:
    """The preset (or the defaults) with every given field flag applied, validated."""
    saved = ckpt.load_config(args.out) if args.resume and args.out is not None else None
    if args.resume and saved is None and args.preset is None:
        raise ValueError(f"resume: no run to resume in {args.out} (no {ckpt.CONFIG}); give --out of an "
                         f"existing run, or drop --resume to start a new one")
    if saved is not None:
        base = TrainConfig.from_dict(saved)
    elif args.preset is not None:
        base = get_preset(args.preset, quick=args.quick)
    else:
        if args.quick:
            raise ValueError("quick: --quick needs --preset")
        base = TrainConfig()
    # Flags default to "absent" (argparse.SUPPRESS), so an explicit "none" can clear an optional field.
    changes = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if hasattr(args, f.name)}
    config = base.replace(**changes).validate()
    if not (isinstance(args.threads, int) and args.threads >= 1):
        raise ValueError(f"threads: expected an integer >= 1, got {args.threads!r}")
    return config


def default_out(args, config: TrainConfig) -> Path:
    name = args.preset or "custom"
    return Path("runs") / f"{name}{'-quick' if args.quick else ''}-seed{config.seed}"


def theory_min_for(config: TrainConfig) -> float | None:
    """Exact infimum of Tr ∇²L over the training-loss minimizers of this run's training set, or None.

    MSE: ``theory.minimum.min_sharpness`` (F3-F6). Logistic loss with label
    smoothing p: the minimizers interpolate the labels γ_p·y, γ_p = ln((1-p)/p)
    (Thm A.2), where ℓ' = 0 and ℓ'' = σ(γ_p)σ(-γ_p) = p(1-p), so
    Tr ∇²L = p(1-p)·(1/n) Σ ||∇f||² = (p(1-p)/2)·(the MSE trace for labels γ_p·y);
    the infimum is that factor times the MSE infimum for the scaled labels.
    """
    try:
        import sympy as sp
        from sharpgen.theory.minimum import min_sharpness
    except ImportError:
        return None
    data = make_dataset(config)
    X, Y = data.X.tolist(), data.Y.tolist()
    if config.data in ("xor", "condition1"):  # exact integers on the cube
        X = [[int(v) for v in row] for row in X]
        Y = [sp.Integer(int(v)) for v in Y]
    else:
        X = [[sp.Rational(repr(v)) for v in row] for row in X]
        Y = [sp.Rational(repr(v)) for v in Y]
    factor = sp.Integer(1)
    if config.loss == "logistic":
        p = sp.Rational(repr(config.p))
        Y = [sp.log((1 - p) / p) * y for y in Y]
        factor = p * (1 - p) / 2
    hyper = {"depth": config.depth, "activation": config.activation}
    if config.eps is not None:
        hyper["eps"] = sp.Rational(repr(config.eps))
    try:
        result = min_sharpness(config.arch, X, Y, **hyper)
    except ValueError as err:
        print(f"sharpgen train: no theory minimum for this setting ({err})", file=sys.stderr)
        return None
    if not result.exact:
        print(f"sharpgen train: theory_min is a lower bound here ({result.source})", file=sys.stderr)
    value = float(factor * result.value)
    return value if math.isfinite(value) else None


def run(args) -> int:
    try:
        config = build_config(args)
    except ValueError as err:
        print(f"sharpgen train: error: {err}", file=sys.stderr)
        return 2
    if args.print_config:
        print(json.dumps(config.to_dict(), indent=2, sort_keys=True))
        return 0
    out = args.out or default_out(args, config)
    if args.resume and ckpt.load_checkpoint(out) is None:
        print(f"sharpgen train: error: out: --resume needs a run with a checkpoint in --out, and {out} has none "
              f"(no {out / ckpt.CHECKPOINT}); drop --resume to start a new run there", file=sys.stderr)
        return 2
    try:
        theory_min = None if args.no_theory else theory_min_for(config)
    except ValueError as err:
        print(f"sharpgen train: error: {err}", file=sys.stderr)
        return 2
    progress = {"auto": None, "on": True, "off": False}[args.progress]
    print(f"sharpgen train: {args.preset or 'custom'}{' (quick)' if args.quick else ''} -> {out}  "
          f"[{config.arch}, {format_phases(config.phases)}]", file=sys.stderr)
    try:
        result = train(config, out, theory_min=theory_min, resume=args.resume, progress=progress,
                       threads=args.threads)
    except ValueError as err:
        print(f"sharpgen train: error: {err}", file=sys.stderr)
        return 2
    except TrainingDiverged as err:
        print(f"sharpgen train: {err}", file=sys.stderr)
        return 3
    r = result.final
    fmt = lambda v: "n/a" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))
    print(f"epoch {r['epoch']}  train_loss {fmt(r['train_loss'])}  test_loss {fmt(r['test_loss'])}  "
          f"test_error {fmt(r['test_error'])}  trace {fmt(r['trace'])}  theory_min {fmt(r.get('theory_min'))}  "
          f"rel_gap {fmt(r.get('rel_gap'))}  backend {result.backend}  wall {result.wall_s:.1f}s  -> {out}")
    return 0
