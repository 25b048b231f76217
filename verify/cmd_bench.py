"""``sharpgen bench``: 1-SAM replica-steps per second of a plain PyTorch loop, the reference
trainer path and the engine at several replica counts, side by side in one run, for every
architecture (the measurements live in ``sharpgen.verify.bench``)."""
from __future__ import annotations

import json
import os
import sys

from sharpgen.numerics.runs.limits import PARAM_COPIES
from sharpgen.numerics.validate import DEVICES, DTYPES, parameter_count, physical_memory  # torch-free
from sharpgen.verify.cli_args import usage_error

CPU_REPLICAS, GPU_REPLICAS = (1, 2, 8, 64), (1, 2, 8, 64, 128, 256)
CASE_NAMES = ("nobias", "bias", "bias-softplus", "sim_ln", "sim_bn", "bias-depth3")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench", help="1-SAM replica-steps/s: plain PyTorch loop vs reference vs engine, side by side",
        description=__doc__.split("\n\n")[0].replace("``", ""))
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON instead of a table")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu)")
    parser.add_argument("--replicas", default=None,
                        help="comma-separated replica counts of the engine rows (default 1,2,8,64; "
                             "1,2,8,64,128,256 on cuda)")
    parser.add_argument("--cases", default="all", help=f"comma-separated cases among {', '.join(CASE_NAMES)}, "
                                                       "or all (default)")
    parser.add_argument("--d", type=int, default=30, help="input dimension of the xor data (>= 2); default 30")
    parser.add_argument("--n", type=int, default=100, help="training points of the xor data (1 to 2^d - 1); "
                                                           "default 100")
    parser.add_argument("--width", type=int, default=500, help="hidden width m (>= 1); default 500")
    parser.add_argument("--dtype", default="float32", help="float32 (default) or float64")
    parser.add_argument("--threads", type=int, default=None,
                        help="engine threads (replicas stepped at once on CPU); default: every core")
    parser.add_argument("--seconds", type=float, default=0.3,
                        help="each measurement runs until one timed call lasts this long (> 0); default 0.3")
    parser.add_argument("--search", action="store_true",
                        help="instead of the 1-SAM cases, time the flattest-set search (numerics.search, float64, "
                             "cpu): R starts batched vs one call each, and exact Tr vs the autograd Hessian, at "
                             "the ledger's sizes and the paper's; --d/--n/--width other than their defaults "
                             "time that one size instead (bias, P_xor)")
    parser.set_defaults(func=run)


MAX_SECONDS = 600.0
MAX_REPLICAS = 4096  # the engine's replica counts the bench times; beyond it a run is a sweep


def _int_list(name: str, text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if not values or any(v < 1 for v in values):
        raise ValueError(f"{name}: expected comma-separated integers >= 1, got {text!r}")
    return values


def parse_cases(text: str) -> tuple[str, ...]:
    """The cases of ``--cases``: "all" or comma-separated names of ``CASE_NAMES``.

    >>> parse_cases("sim_bn, bias")
    ('sim_bn', 'bias')
    """
    if text == "all":
        return CASE_NAMES
    cases = tuple(c.strip() for c in text.split(","))
    for c in cases:
        if c not in CASE_NAMES:
            raise ValueError(f"cases: expected 'all' or comma-separated names among {CASE_NAMES}, got {c!r}")
    return cases


def check_args(args) -> tuple[tuple[str, ...], tuple[int, ...] | None]:
    """Validate the arguments before anything runs: (cases, replica counts or None for the default)."""
    for name, low in (("d", 2), ("n", 1), ("width", 1)):
        v = getattr(args, name)
        if not (isinstance(v, int) and v >= low):
            raise ValueError(f"{name}: expected an integer >= {low}, got {v!r}")
    if args.n > 2 ** min(args.d, 62) - 1:
        raise ValueError(f"n: expected at most 2^d - 1 = {2 ** args.d - 1} (xor data in d={args.d}), got {args.n}")
    cores = os.cpu_count() or 1  # more engine threads than cores only contend
    if args.threads is not None and not 1 <= args.threads <= cores:
        raise ValueError(f"threads: expected an integer in [1, {cores}] (this machine's cores), got {args.threads}")
    if not 0 < args.seconds <= MAX_SECONDS:
        raise ValueError(f"seconds: expected a number in (0, {MAX_SECONDS}] (the timed call's length; each "
                         f"measurement repeats it), got {args.seconds}")
    if args.device not in DEVICES:
        raise ValueError(f"device: expected one of {DEVICES}, got {args.device!r}")
    if args.dtype not in DTYPES:
        raise ValueError(f"dtype: expected one of {DTYPES}, got {args.dtype!r}")
    replicas = _int_list("replicas", args.replicas) if args.replicas is not None else None
    if replicas is not None and max(replicas) > MAX_REPLICAS:
        raise ValueError(f"replicas: expected counts of at most {MAX_REPLICAS}, got {max(replicas)}")
    need = 8 * parameter_count(args.d, args.width) * max(replicas or (1,)) * PARAM_COPIES
    memory = physical_memory()
    if memory is not None and need > memory:
        raise ValueError(f"width: {max(replicas or (1,))} replicas of a width-{args.width} net in d = {args.d} need "
                         f"about {need / 2 ** 30:.3g} GiB, more than this machine's {memory / 2 ** 30:.3g} GiB; "
                         f"lower --width, --d or --replicas")
    return parse_cases(args.cases), replicas


def run(args) -> int:
    try:
        cases, replicas = check_args(args)
    except ValueError as err:
        return usage_error("bench", err)
    if args.search:
        return run_search(args)
    import torch  # deferred on purpose, with the two below: `sharpgen --help` must not load torch

    from sharpgen.numerics.device import resolve_device
    from sharpgen.verify import bench
    device = resolve_device(args.device)
    replicas = replicas or (GPU_REPLICAS if device.type == "cuda" else CPU_REPLICAS)
    plain_threads = sorted({1, torch.get_num_threads()})
    header = (f"1-SAM (rho {bench.RHO}, batch 1, MSE), P_xor d={args.d}, n={args.n}, width {args.width}, "
              f"{args.dtype}, {device}\n{bench.machine_line(device)}")
    rows, traces = [], {}
    for case in cases:
        got, traces[case] = bench.bench_case(case, d=args.d, n=args.n, width=args.width, dtype=args.dtype,
                                             device=device, replicas=replicas, threads=args.threads,
                                             seconds=args.seconds, plain_threads=plain_threads,
                                             progress=lambda text: print(f"  {text}", file=sys.stderr, flush=True))
        rows += got
    summary = bench.summarize(rows)
    if args.json:
        print(json.dumps({"header": header, "rows": summary, "evaluation": traces}, indent=1))
    else:
        print(header, bench.LEGEND, bench.format_table(summary, traces), sep="\n\n")
    return 0


def run_search(args) -> int:
    """``--search``: the flattest-set search table (``verify.bench_search``) on stdout, or its JSON."""
    if args.device != "cpu":
        return usage_error("bench", ValueError(f"device: --search runs on cpu (float64) only, got {args.device!r}"))
    import torch  # deferred, as in run

    from sharpgen.verify import bench, bench_search
    given = (args.d, args.n, args.width) != (30, 100, 500)  # the parser's defaults: the default sizes
    sizes = (bench_search.Size("custom", "bias", args.d, args.n, args.width),) if given else bench_search.SIZES
    print(bench_search.report(sizes, args.seconds, bench.machine_line(torch.device("cpu")), as_json=args.json,
                              progress=lambda text: print(f"  {text}", file=sys.stderr, flush=True)))
    return 0
