"""Crash-safe file writes: a file is either its old or its new version, never half-written.

Every write goes to a temporary file in the same directory, is flushed and
fsynced, and then moved over the target with ``os.replace`` (atomic on POSIX).
The temporary file from ``mkstemp`` is private (0600); it is given the mode a
plainly created file would have (0666 minus the process umask) before the
move, so collaborators read run directories as they read any other file.
Nothing here imports torch.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = pathlib.Path(tmp) / "a.txt"
...     atomic_write_text(path, "one"); atomic_write_text(path, "two")
...     path.read_text(), sorted(p.name for p in pathlib.Path(tmp).iterdir())
('two', ['a.txt'])
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def default_file_mode() -> int:
    """The mode ``open(path, "w")`` gives a new file: 0o666 without the bits of the process umask.

    >>> old = os.umask(0o027); mode = default_file_mode(); _ = os.umask(old)
    >>> oct(mode)
    '0o640'
    """
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace`` (mode as for a new file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), default_file_mode())
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
