"""Command-line arguments shared by several ``sharpgen`` subcommands (one definition each)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROGRESS_CHOICES = ("auto", "bar", "lines", "off")


def add_progress_argument(parser) -> None:
    """``--progress``: how training runs report on stderr (``numerics.progress`` modes, or auto)."""
    parser.add_argument("--progress", choices=PROGRESS_CHOICES, default="auto",
                        help="bar (redrawn in place), lines (one per evaluation), off; auto: bar on a terminal, "
                             "else lines")


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1, else argparse's usage error naming the flag.

    >>> positive_int("3")
    3
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def bounded_int(high: int, why: str):
    """An argparse type: an integer in [1, ``high``] (``why`` says where the limit comes from).

    >>> bounded_int(8, "cores")("3")
    3
    >>> bounded_int(8, "this machine's cores")("9")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an integer in [1, 8] (this machine's cores), got '9'
    """
    def parse(text: str) -> int:
        value = positive_int(text)
        if value > high:
            raise argparse.ArgumentTypeError(f"expected an integer in [1, {high}] ({why}), got {text!r}")
        return value
    parse.__name__ = "integer"  # argparse names the type in its message
    return parse


MAX_SEEDS = 10_000  # training seeds of one command: each is a run (the rates profile trains 10)


def progress_mode(args) -> str | None:
    """The ``numerics.progress`` mode for the parsed ``--progress`` (None: decided by the terminal)."""
    return None if args.progress == "auto" else args.progress


USAGE_ERROR = 2  # exit status of bad input (nothing written), for every subcommand


def usage_error(command: str, err) -> int:
    """Print ``sharpgen COMMAND: error: ERR`` on stderr (one line, no traceback); the exit status 2."""
    print(f"sharpgen {command}: error: {err}", file=sys.stderr)
    return USAGE_ERROR


def out_dir(text: str) -> Path:
    """An output folder (``--out``): an empty path, which would mean the working directory, is refused.

    >>> out_dir("runs/a")
    PosixPath('runs/a')
    >>> out_dir(" ")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a directory path, got ' '
    """
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a directory path, got {text!r}")
    return Path(text)
