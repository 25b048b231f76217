"""``sharpgen plot RUN_DIR ...``: the four training panels (or Figure 2b / 3) for any runs of ``sharpgen train``.

Parses the command line and calls ``sharpgen.verify.plots.runplot.plot_runs``.
"""
from __future__ import annotations

from pathlib import Path

from sharpgen.verify.cli_args import out_dir, usage_error
from sharpgen.verify.plots.runplot import KINDS

HELP = "plot runs made by `sharpgen train`: loss, test error, Tr ∇²L vs epochs, overlaid"
DESCRIPTION = ("Draw run directories made by `sharpgen train` (config.json + metrics.csv + checkpoint.pt). curves: "
               "training loss, test loss, test error and Tr ∇²L against epochs with the theory minimum; runs that "
               "differ only in the seed are averaged (band: min-max), other settings overlaid. neurons: Figure 2b "
               "(top first-layer neurons, column norms). circle: Figure 3 (one bias run on circle data beside "
               "construction C1); neurons also draws folders saved by `sharpgen search`.")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("plot", help=HELP, description=DESCRIPTION)
    parser.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="run directories")
    parser.add_argument("--out", type=out_dir, default=Path("plot"),
                        help="output path without extension; writes OUT.png and OUT.pdf (default ./plot)")
    parser.add_argument("--kind", choices=KINDS, default="curves", help="figure family (default curves)")
    parser.add_argument("--logx", action="store_true", help="epochs on a symlog axis")
    parser.add_argument("--label", action="append", dest="labels", metavar="TEXT",
                        help="legend label of each setting, in order of first appearance (repeat per setting)")
    parser.add_argument("--title", help="text opening the caption line")
    parser.set_defaults(func=run)


def plot_searched(args) -> list:
    """Figure 2b of folders saved by `sharpgen search` (net.json), saved as OUT.png and OUT.pdf."""
    from sharpgen.verify.plots import neurons, style  # deferred as in run: matplotlib and torch

    if args.labels or args.logx:
        raise ValueError("labels: --label and --logx are for the 'curves' figure")
    return style.save(neurons.draw_search_neurons(args.run_dirs), args.out)


def run(args) -> int:
    from sharpgen.verify.plots.runplot import plot_runs  # deferred on purpose: matplotlib and torch, not for --help

    try:
        if args.kind == "neurons" and all((d / "net.json").is_file() for d in args.run_dirs):
            paths = plot_searched(args)
        else:
            paths = plot_runs(args.run_dirs, args.out, kind=args.kind, logx=args.logx, labels=args.labels,
                              title=args.title)
    except ValueError as err:
        return usage_error("plot", err)
    for path in paths:
        print(path)
    return 0
