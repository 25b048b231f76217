"""Command-line arguments shared by several ``sharpgen`` subcommands (one definition each)."""
from __future__ import annotations

PROGRESS_CHOICES = ("auto", "bar", "lines", "off")


def add_progress_argument(parser) -> None:
    """``--progress``: how training runs report on stderr (``numerics.progress`` modes, or auto)."""
    parser.add_argument("--progress", choices=PROGRESS_CHOICES, default="auto",
                        help="bar (redrawn in place), lines (one per evaluation), off; auto: bar on a terminal, "
                             "else lines")


def progress_mode(args) -> str | None:
    """The ``numerics.progress`` mode for the parsed ``--progress`` (None: decided by the terminal)."""
    return None if args.progress == "auto" else args.progress
