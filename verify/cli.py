"""The ``sharpgen`` command line. Each subcommand lives in its own module with
``add_parser(subparsers)``; a subcommand is listed here only once it works.

Only the requested subcommand's module is imported (the others appear in
``sharpgen --help`` by their one-line summary), so ``sharpgen --help`` and
``sharpgen train --help`` start without importing torch.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import sys

# name -> (module with add_parser, one-line summary for `sharpgen --help`)
COMMANDS = {
    "verify": ("sharpgen.verify.cmd_verify",
               "check every result of the paper: exact, property-based and trained evidence (the main job)"),
    "train": ("sharpgen.verify.cmd_train",
              "train with 1-SAM / GD baselines (presets from the paper's Appendix B), resumable"),
    "bench": ("sharpgen.verify.cmd_bench", "1-SAM replica-steps/s: plain PyTorch loop vs reference vs engine, side by side"),
    "reproduce": ("sharpgen.verify.cmd_reproduce", "run what is missing and draw a figure of the paper (1 to 11, or summary)"),
    "table1": ("sharpgen.verify.cmd_table1", "the paper's Table 1 regenerated from exact constructions and 1-SAM runs"),
    "plot": ("sharpgen.verify.cmd_plot", "the four panels (losses, test error, Tr ∇²L) of any runs made by sharpgen train"),
    "sweep": ("sharpgen.verify.cmd_sweep", "run a grid of training runs on dask.distributed (resumable), one table of results"),
    "search": ("sharpgen.verify.cmd_search", "search the flattest set: least Tr over interpolators, or the near-flattest net that violates a claim most"),
}


def version() -> str:
    try:
        return importlib.metadata.version("sharpgen")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def requested_command(argv: list[str]) -> str | None:
    """The subcommand named in ``argv`` (its first word that is not an option), if it is one.

    >>> requested_command(["--version"]), requested_command(["train", "--help"])
    (None, 'train')
    """
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in COMMANDS else None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with ``command``'s own subparser in full and the others as summaries only."""
    parser = argparse.ArgumentParser(
        prog="sharpgen",
        description="Check, by exact computation and by training, the claims of Wen, Li & Ma (NeurIPS 2023): "
                    "sharpness minimization algorithms do not only minimize sharpness to generalize.")
    parser.add_argument("--version", action="version", version=f"sharpgen {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, summary) in COMMANDS.items():
        if name == command:
            importlib.import_module(module).add_parser(sub)
        else:
            sub.add_parser(name, help=summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(requested_command(argv))
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:  # Ctrl-C before the command set up its own answer (while torch loads, say)
        print(f"\nsharpgen {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
