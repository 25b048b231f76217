"""``metrics.csv`` of a training run: one row per evaluation, appended as the run goes.

The header and the first row are written atomically (``numerics.atomic``);
every later row is appended and fsynced, so the file is never rewritten
during a run. A run killed after appending a row but before its next
checkpoint has rows the checkpoint does not cover: :func:`truncate_csv`
drops them (and a partly written last line) when the run resumes, so the
resumed file has each evaluation exactly once. Floats are written with
``repr`` (round-trip exact), missing values as empty cells. Nothing here
imports torch.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = pathlib.Path(tmp) / "metrics.csv"
...     write_csv(path, ["epoch", "loss"], [{"epoch": 0, "loss": 0.5}])
...     append_csv_row(path, ["epoch", "loss"], {"epoch": 10, "loss": None})
...     path.read_text().splitlines(), read_csv(path)
(['epoch,loss', '0,0.5', '10,'], [{'epoch': 0, 'loss': 0.5}, {'epoch': 10, 'loss': None}])
"""
from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

from sharpgen.numerics.runs.atomic import atomic_write_text


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


def _lines(columns: list[str], rows: list[dict]) -> str:
    unknown = sorted({k for r in rows for k in r} - set(columns))
    if unknown:
        raise ValueError(f"row: columns {unknown} are not in the header {columns}")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def write_csv(path, columns: list[str], rows: list[dict]) -> None:
    """A new CSV (header, then ``rows``), written atomically."""
    atomic_write_text(path, ",".join(columns) + "\n" + _lines(columns, rows))


def append_csv_row(path, columns: list[str], row: dict) -> None:
    """Append one row (cells in the order of ``columns``, the file's header) and fsync; an OSError names ``path``.

    A failed append may leave a partial last line: :func:`truncate_csv` drops it on resume.
    """
    text = _lines(columns, [row])
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from None


def _parse(value: str):
    if value == "":
        return None
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def read_csv(path) -> list[dict]:
    """The rows of a CSV written here: integers as int, other numbers as float, empty cells as None.

    A last line without its newline is a row whose append was cut short (a killed or running run)
    and is left out. Any other damage (no header, a complete row with the wrong number of cells, bytes
    that are not UTF-8) raises ValueError naming the file and the line.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "metrics.csv"
    ...     _ = path.write_text("epoch,loss\\n0,0.5\\n10,0.2")   # the last append was cut short
    ...     read_csv(path)
    [{'epoch': 0, 'loss': 0.5}]
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"metrics.csv: {path} is damaged (not UTF-8 text: {err.reason}); "
                         f"restore it, or start a new run in another directory") from None
    lines = text.split("\n")[:-1]  # the last piece is "" after a final newline, else a partial line
    if not lines or not lines[0]:
        raise ValueError(f"metrics.csv: {path} has no header line (damaged); restore it, or start a new run "
                         f"in another directory")
    header = next(csv.reader([lines[0]]))
    rows = []
    for number, line in enumerate(lines[1:], 2):
        cells = next(csv.reader([line]), [])
        if len(cells) != len(header):
            raise ValueError(f"metrics.csv: {path} line {number} has {len(cells)} cells for {len(header)} columns "
                             f"(damaged); restore it, or start a new run in another directory")
        rows.append({k: _parse(v) for k, v in zip(header, cells)})
    return rows


def read_header(path) -> list[str]:
    """The column names of a CSV written here."""
    with open(path, newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def truncate_csv(path, last_epoch: int) -> list[dict]:
    """Keep the header and the complete rows up to the first with ``epoch`` > ``last_epoch``; return them.

    The file is rewritten (atomically) only when something is dropped.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")[:-1]  # the last piece is "" after a final newline, else a partial line
    header = lines[0].split(",") if lines else []
    if "epoch" not in header:
        raise ValueError(f"metrics.csv: {path} has no header with an epoch column (damaged); "
                         f"start a new run in another directory")
    at = header.index("epoch")
    keep = 1
    while keep < len(lines):
        cells = next(csv.reader([lines[keep]]))
        if len(cells) != len(header) or not cells[at].isdigit() or int(cells[at]) > last_epoch:
            break
        keep += 1
    kept = "\n".join(lines[:keep]) + "\n"
    if kept != text:
        atomic_write_text(path, kept)
    return read_csv(path)
