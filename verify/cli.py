"""The ``sharpgen`` command line. Each subcommand lives in its own module with
``add_parser(subparsers)``; a subcommand is listed here only once it works."""
from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import sys

COMMANDS = ("sharpgen.verify.cmd_verify", "sharpgen.verify.cmd_train", "sharpgen.verify.cmd_bench", "sharpgen.verify.cmd_sweep")


def version() -> str:
    try:
        return importlib.metadata.version("sharpgen")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sharpgen",
        description="Check, by exact computation and by training, the claims of Wen, Li & Ma (NeurIPS 2023): "
                    "sharpness minimization algorithms do not only minimize sharpness to generalize.")
    parser.add_argument("--version", action="version", version=f"sharpgen {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
