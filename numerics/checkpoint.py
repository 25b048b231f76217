"""Crash-safe files for training runs: atomic writes, resumable checkpoints and the saved config.

Every file is written to a temporary file in the same directory, flushed,
fsynced and then moved over the target with ``os.replace`` (atomic on POSIX),
so a run killed at any moment leaves either the old or the new version of a
file, never a half-written one.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = pathlib.Path(tmp) / "a.txt"
...     atomic_write_text(path, "one"); atomic_write_text(path, "two")
...     path.read_text(), sorted(p.name for p in pathlib.Path(tmp).iterdir())
('two', ['a.txt'])
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path

import torch

CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"
FORMAT = 1


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text: str) -> None:
    """UTF-8 text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj) -> None:
    """Pretty, key-sorted JSON (reproducible bytes for the same object)."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


def atomic_write_csv(path, columns: list[str], rows: list[dict]) -> None:
    """CSV with a header; floats written with ``repr`` (round-trip exact), missing cells empty.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = pathlib.Path(tmp) / "m.csv"
    ...     atomic_write_csv(p, ["a", "b"], [{"a": 0.1, "b": None}])
    ...     p.read_text().splitlines()
    ['a,b', '0.1,']
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    atomic_write_text(path, buf.getvalue())


def read_csv(path) -> list[dict]:
    """Rows of a CSV written by :func:`atomic_write_csv`, numbers parsed as float (empty -> None)."""
    with open(path, newline="") as fh:
        out = []
        for row in csv.DictReader(fh):
            parsed = {}
            for k, v in row.items():
                try:
                    parsed[k] = None if v == "" else float(v)
                except ValueError:
                    parsed[k] = v
            out.append(parsed)
        return out


def load_config(run_dir) -> dict | None:
    """The ``config`` entry of run_dir/config.json (the run's ``TrainConfig.to_dict()``), or None when absent."""
    path = Path(run_dir) / CONFIG
    if not path.exists():
        return None
    return json.loads(path.read_text())["config"]


def save_checkpoint(run_dir, state: dict) -> Path:
    """Atomically store ``state`` (tensors, numbers, lists; moved to CPU) as run_dir/checkpoint.pt."""
    payload = {"format": FORMAT, **state}
    payload["params"] = {k: v.detach().cpu().clone() for k, v in state["params"].items()}
    buf = io.BytesIO()
    torch.save(payload, buf)
    path = Path(run_dir) / CHECKPOINT
    atomic_write_bytes(path, buf.getvalue())
    return path


def load_checkpoint(run_dir) -> dict | None:
    """The state saved by :func:`save_checkpoint`, or None when run_dir has none."""
    path = Path(run_dir) / CHECKPOINT
    if not path.exists():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("format") != FORMAT:
        raise ValueError(f"checkpoint: unknown format {state.get('format')!r} in {path} (expected {FORMAT})")
    return state
