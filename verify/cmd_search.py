"""``sharpgen search``: the flattest interpolator of a training set, or the near-flattest one that violates
a claim most (docs/search.md), certified and saved.

The handler parses and reads the training set; ``verify.search.run.search`` does the work and
``verify.search.store.save`` writes OUT (net.json, report.json, report.md; progress lines also in
OUT/search.log). Building the parser imports neither torch nor sympy. Exit codes: 0 done and
certified, 1 the search went below the theory minimum (``BelowMinimum``: a bug), found nothing
feasible, or the certificate failed, 2 bad input or a file error (one line on stderr, nothing written).
"""
from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from sharpgen.numerics.validate import ACTIVATIONS, ARCHITECTURES, LOSSES
from sharpgen.verify.cli_args import add_progress_argument, out_dir, positive_int, progress_mode, usage_error

KINDS = ("flattest", "adversary")
TARGETS = ("population_error", "population_mse", "sup_error", "off_coordinates", "path_norm", "output_mass")
LOG = "search.log"
FAILED = 1  # BelowMinimum, nothing feasible, or a failed certificate


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "search", description="Search the flattest set of a training set: the least Tr ∇²L over interpolating "
                              "nets (--kind flattest), or, within Tr <= minimum·(1 + κ), the net that maximizes "
                              "a claim's violation (--kind adversary). The best net is re-checked (autograd "
                              "Hessian, exact sympy) and saved to OUT.")
    net = parser.add_argument_group("network")
    net.add_argument("--arch", choices=ARCHITECTURES, default="bias")
    net.add_argument("--width", type=positive_int, default=8, help="hidden width m (default 8)")
    net.add_argument("--depth", type=positive_int, default=2, help="layers (> 2 only for bias)")
    net.add_argument("--activation", choices=ACTIVATIONS, default="relu")
    net.add_argument("--eps", type=float, help="sim_ln floor of the normaliser (> 0)")
    net.add_argument("--loss", choices=LOSSES, default="mse")
    net.add_argument("--p", type=float, help="label smoothing of the logistic loss, in (0, 0.5)")
    data = parser.add_argument_group("training set (one of --train, --data xor, --condition1)")
    data.add_argument("--train", type=Path, metavar="FILE", help="CSV rows x[1..d], y (a header line allowed), "
                                                                  "or .npy of shape (n, d + 1)")
    data.add_argument("--data", choices=("xor",), help="P_xor: n distinct cube points, y = x[1] x[2]")
    data.add_argument("--condition1", action="store_true", help="the complete Condition-1 set of Thm 3.2")
    data.add_argument("--d", type=int, help="input dimension (--data, --condition1)")
    data.add_argument("--n", type=int, help="training set size (--data)")
    data.add_argument("--data-seed", type=int, help="seed of --data (default --seed)")
    how = parser.add_argument_group("search")
    how.add_argument("--kind", choices=KINDS, default="flattest")
    how.add_argument("--target", choices=TARGETS, help="what the adversary maximizes (needed with --kind adversary)")
    how.add_argument("--kappa", type=float, default=0.01, help="bound = minimum·(1 + κ), κ >= 0 (default 0.01)")
    how.add_argument("--starts", type=positive_int, default=16, help="random starts (default 16)")
    how.add_argument("--iterations", type=positive_int, default=400, help="iterations of each descent (default 400)")
    how.add_argument("--seed", type=int, default=0, help="seed of the starts (default 0)")
    how.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu",
                     help="where the search runs (float64 on any device; cuda without a GPU falls back to the "
                          "CPU with a warning; the certificate always re-checks on the CPU; default cpu)")
    parser.add_argument("--out", type=out_dir, required=True, help="folder to write (refused when not empty)")
    parser.add_argument("--force", action="store_true", help="write into a non-empty OUT, replacing its files")
    add_progress_argument(parser)
    parser.set_defaults(func=run)


def read_table(path: Path):
    """The training set of ``--train``: (X (n, d), Y (n,)) float64 tensors from a CSV or a .npy."""
    import numpy as np  # deferred with torch below: `sharpgen search --help` imports this module
    import torch

    if path.suffix == ".npy":
        table = np.load(path, allow_pickle=False)
    else:
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
        try:
            float(lines[0].split(",")[0]) if lines else None
        except ValueError:
            lines = lines[1:]  # a header
        try:
            table = np.array([[float(v) for v in ln.split(",")] for ln in lines], dtype=np.float64)
        except ValueError as err:
            raise ValueError(f"train: {path} is not a CSV of numbers ({err})") from None
    if table.ndim != 2 or table.shape[0] < 1 or table.shape[1] < 2 or not np.isfinite(table).all():
        raise ValueError(f"train: {path}: expected finite rows x[1..d], y (n >= 1, d >= 1), got shape {table.shape}")
    table = torch.as_tensor(table, dtype=torch.float64)
    return table[:, :-1].contiguous(), table[:, -1].contiguous()


def training_set(args):
    """(X, Y) from exactly one of --train, --data xor, --condition1; ValueError naming the flag otherwise."""
    given = [name for name, on in (("--train", args.train is not None), ("--data", args.data is not None),
                                   ("--condition1", args.condition1)) if on]
    if len(given) != 1:
        raise ValueError(f"train: expected exactly one of --train, --data xor, --condition1, got {given or 'none'}")
    if args.train is not None:
        if args.d is not None or args.n is not None:
            raise ValueError("d: --d and --n are for --data and --condition1 (--train has its own)")
        return read_table(args.train)
    from sharpgen.numerics.nets.data import condition1_dataset, xor_dataset  # deferred: torch

    if args.d is None:
        raise ValueError(f"d: {given[0]} needs --d, an integer >= 2")
    if args.condition1:
        data = condition1_dataset(args.d, n_test=1)
    else:
        if args.n is None:
            raise ValueError("n: --data xor needs --n, an integer in [1, 2^d)")
        data = xor_dataset(args.d, args.n, n_test=1, seed=args.seed if args.data_seed is None else args.data_seed)
    return data.X, data.Y


def build_spec(args):
    """The ``SearchSpec`` of the flags (validated, with its ``Problem`` built once to check the network)."""
    from sharpgen.verify.search.run import SearchSpec  # deferred: torch and sympy

    X, Y = training_set(args)
    spec = SearchSpec(args.arch, args.width, X, Y, depth=args.depth, activation=args.activation, eps=args.eps,
                      loss=args.loss, p=args.p, kind=args.kind, target=args.target, kappa=args.kappa,
                      starts=args.starts, seed=args.seed, iterations=args.iterations, device=args.device)
    spec.problem()
    return spec


def check_out(out: Path, force: bool) -> None:
    """Refuse an OUT that is a file, or a non-empty folder without --force."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"out: {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ValueError(f"out: {out} is not empty; choose a new folder or pass --force")


def command_line(args) -> str:
    """The command that repeats this search (flags resolved, training set as given)."""
    words = ["sharpgen", "search", "--arch", args.arch, "--width", str(args.width), "--depth", str(args.depth),
             "--activation", args.activation, "--loss", args.loss]
    words += [w for flag, v in (("--eps", args.eps), ("--p", args.p)) if v is not None for w in (flag, str(v))]
    if args.train is not None:
        words += ["--train", str(args.train)]
    else:
        words += ["--condition1"] if args.condition1 else ["--data", args.data, "--n", str(args.n)]
        words += ["--d", str(args.d)] + (["--data-seed", str(args.data_seed)] if args.data_seed is not None else [])
    words += ["--kind", args.kind] + (["--target", args.target] if args.target else [])
    words += ["--kappa", str(args.kappa), "--starts", str(args.starts), "--iterations", str(args.iterations),
              "--seed", str(args.seed), "--device", args.device, "--out", str(args.out)]
    return shlex.join(words)


class Reporter:
    """Progress of the descents: a line per ~10% of iterations on stderr (a tqdm bar with --progress bar)
    and in OUT/search.log; ``note`` writes one line to both."""

    def __init__(self, log, mode: str | None):
        self.log, self.t0, self.bars = log, time.monotonic(), {}
        self.mode = mode or ("bar" if sys.stderr.isatty() else "lines")

    def note(self, text: str, *, screen: bool = True) -> None:
        print(text, file=self.log, flush=True)
        if screen and self.mode != "off":
            print(text, file=sys.stderr, flush=True)

    def __call__(self, stage: str, k: int, total: int) -> None:
        from sharpgen.numerics.runs.progress import Progress, hms  # deferred: tqdm

        if self.mode == "bar":
            bar = self.bars.setdefault(stage, Progress(total, mode="bar", label=stage))
            bar.phase(0, 1, stage)
            bar.update(k)
            if k == total:
                bar.close()
        if k == total or k % max(1, total // 10) == 0:
            line = f"sharpgen search: {stage} {k}/{total} ({100 * k / total:.0f}%) elapsed {hms(time.monotonic() - self.t0)}"
            self.note(line, screen=self.mode == "lines")


def summary(outcome, out: Path) -> str:
    """The closing lines: Tr, theory minimum and gap, target value, certificate, the folder."""
    g = lambda v: "n/a" if v is None else f"{v:.10g}"
    theory = outcome.theory
    lines = [f"sharpgen search: {outcome.spec.kind} {outcome.spec.arch} width {outcome.spec.width}: "
             f"Tr {g(outcome.result.best_trace)}  theory min {g(theory.value)} ({theory.source})  "
             f"gap {g(outcome.gap)}"]
    if outcome.spec.kind == "adversary":
        lines.append(f"  target {outcome.spec.target} = {g(outcome.target_value)} within Tr <= {g(outcome.bound)}")
    cert = outcome.certificate
    lines.append(f"  certificate {'ok' if cert.ok else 'NOT ok'} (float64 {cert.numeric.method} "
                 f"rel {g(cert.numeric.rel_diff)}; exact {cert.exact.method} rel {g(cert.exact.rel_diff)})")
    lines.append(f"  -> {out}")
    return "\n".join(lines)


def save_outcome(outcome, args) -> None:
    """``store.save`` of the outcome into OUT, with the run's settings and timing in report.json."""
    from sharpgen.verify.search.store import save  # deferred: torch and sympy

    spec = outcome.spec
    extra = {"timing": outcome.timing, "theory_source": outcome.theory.source, "theory_exact": outcome.theory.exact,
             "kappa": spec.kappa, "starts": spec.starts, "seed": spec.seed, "iterations": spec.iterations,
             "flattest_trace": outcome.flat.best_trace}
    save(args.out, outcome.result, kind=spec.kind, target=spec.target, bound=outcome.bound,
         theory_min=outcome.theory.value, certificate=outcome.certificate, command_line=command_line(args),
         extra=extra)


def run(args) -> int:
    try:
        spec = build_spec(args)
        check_out(args.out, args.force)
    except ValueError as err:
        return usage_error("search", err)
    except OSError as err:
        return usage_error("search", f"train: {err}")
    from sharpgen.verify.search.run import BelowMinimum, SearchFailed, search  # deferred: torch and sympy

    try:
        args.out.mkdir(parents=True, exist_ok=True)
        with open(args.out / LOG, "a", encoding="utf-8") as log:
            reporter = Reporter(log, progress_mode(args))
            reporter.note(f"sharpgen search: {command_line(args)}", screen=False)
            try:
                outcome = search(spec, reporter)
            except (BelowMinimum, SearchFailed) as err:
                reporter.note(f"sharpgen search: {err}", screen=False)
                print(f"sharpgen search: {err}", file=sys.stderr)
                return FAILED
            save_outcome(outcome, args)
            reporter.note(summary(outcome, args.out), screen=False)
    except OSError as err:
        return usage_error("search", f"out: {err}")
    print(summary(outcome, args.out))
    return 0 if outcome.certificate.ok else FAILED
