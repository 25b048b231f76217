"""Crash-safe file writes: a file is either its old or its new version, never half-written.

Every write goes to a temporary file in the same directory, is flushed and
fsynced, and then moved over the target with ``os.replace`` (atomic on POSIX).
The temporary file from ``mkstemp`` is private (0600); it is given the mode a
plainly created file would have (0666 minus the process umask) before the
move, so collaborators read run directories as they read any other file.
A write that fails (a full disk, a read-only directory) removes its
temporary file and raises ``OSError`` naming the target file; a process
killed mid-write leaves the temporary file behind, and
:func:`remove_orphans` clears those (the caller holds the directory's lock,
``numerics.rundir``, so no live writer owns them). Nothing here imports torch.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = pathlib.Path(tmp) / "a.txt"
...     atomic_write_text(path, "one"); atomic_write_text(path, "two")
...     path.read_text(), sorted(p.name for p in pathlib.Path(tmp).iterdir())
('two', ['a.txt'])
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def default_file_mode() -> int:
    """The mode ``open(path, "w")`` gives a new file: 0o666 without the bits of the process umask.

    >>> old = os.umask(0o027); mode = default_file_mode(); _ = os.umask(old)
    >>> oct(mode)
    '0o640'
    """
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return 0o666 & ~mask


def _temp_prefix(name: str) -> str:
    return f".{name}."


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace`` (mode as for a new file).

    On failure nothing of the new version remains and the OSError names ``path``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temp_prefix(path.name), suffix=TEMP_SUFFIX)
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), default_file_mode())
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise OSError(err.errno, err.strerror, str(path)) from None
        raise


def atomic_write_text(path, text: str) -> None:
    """UTF-8 text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"))


def strict_json(obj):
    """``obj`` with every non-finite float (NaN, ±Infinity) replaced by None, so it is strict JSON (RFC 8259).

    Readers map None back to NaN where they need a number.

    >>> strict_json({"loss": float("nan"), "rows": [1.5, float("inf")], "name": "x"})
    {'loss': None, 'rows': [1.5, None], 'name': 'x'}
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: strict_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict_json(v) for v in obj]
    return obj


def atomic_write_json(path, obj) -> None:
    """Pretty, key-sorted, strict JSON (:func:`strict_json`: ``null``, never bare ``NaN`` or ``Infinity``;
    reproducible bytes for the same object)."""
    atomic_write_text(path, json.dumps(strict_json(obj), indent=2, sort_keys=True, allow_nan=False) + "\n")


def remove_orphans(directory, names) -> list[Path]:
    """Delete the temporary files that writes of ``names`` in ``directory`` left behind when killed; return them.

    Only files named as this module names its temporaries (``.NAME.<random>.tmp``) go.

    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     d = pathlib.Path(tmp)
    ...     for name in (".a.txt.x1y2.tmp", ".other.z.tmp", "a.txt"):
    ...         _ = (d / name).write_text("")
    ...     [p.name for p in remove_orphans(d, ["a.txt"])], sorted(p.name for p in d.iterdir())
    (['.a.txt.x1y2.tmp'], ['.other.z.tmp', 'a.txt'])
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    prefixes = tuple(_temp_prefix(name) for name in names)
    gone = [p for p in sorted(directory.iterdir()) if p.name.startswith(prefixes) and p.name.endswith(TEMP_SUFFIX)]
    for p in gone:
        p.unlink(missing_ok=True)
    return gone
