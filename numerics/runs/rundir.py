"""Exclusive use of a run directory: an OS-level lock held for the life of a run.

:func:`locked` takes ``fcntl.flock`` on ``RUN_DIR/.lock`` (creating the
directory if needed) and holds it until the block ends. The kernel drops the
lock when its holder exits in any way (even ``kill -9``), so a lock left by
a killed process is stale by construction: the file may remain, the lock
does not, and the next run takes it. A second process asking for a held
directory is refused at once (:class:`RunDirBusy`) with the holder's pid,
host, start time and command, which the holder writes into the lock file.

Within one process the lock is re-entrant for the thread that holds it
(``sharpgen train`` locks before computing the theory minimum, and
``numerics.train.train`` locks again); another thread is refused like
another process. On release the lock file goes (unlinked while still
locked, and a new holder checks that the file it locked is still the one on
disk, so two holders can never each lock a different file), and every
directory this lock created is removed again if it is empty (``rmdir``,
never a recursive delete: nothing another process put there is touched).

Locks rely on the file system: local disks and NFSv4 honour them; some
network or FUSE file systems do not (README, Reliability).

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as tmp:
...     run = pathlib.Path(tmp) / "run"
...     with locked(run):
...         with locked(run):              # the same thread again: fine
...             inside = sorted(p.name for p in run.iterdir())
...     inside, run.exists()              # released: lock file and the created folder gone
(['.lock'], False)
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from sharpgen.numerics.runs.atomic import default_file_mode

LOCK = ".lock"
_HELD: dict[str, list] = {}  # real path -> [thread id, depth] of the locks this process holds


class RunDirError(ValueError):
    """A run directory cannot be used: not a directory, not writable, full, damaged or in use.

    A ValueError, so callers that turn bad input into exit code 2 treat it the same way.
    """


class RunDirBusy(RunDirError):
    """Another process (or thread) holds the run directory's lock."""


def os_error(err: OSError, path=None, *, advice: str = "free space or choose another directory",
             name: str = "run_dir") -> RunDirError:
    """A one-line :class:`RunDirError` for a failed file operation: the file, the reason and what to do,
    after ``name``, the argument that chose the folder.

    >>> str(os_error(OSError(errno.ENOSPC, "No space left on device", "/r/checkpoint.pt")))
    'run_dir: cannot write /r/checkpoint.pt: No space left on device; free space or choose another directory'
    """
    where = path if path is not None else (err.filename or "the run directory")
    reason = err.strerror or str(err)
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        advice = "choose a directory you can write to"
    return RunDirError(f"{name}: cannot write {where}: {reason}; {advice}")


def _make_dirs(run_dir: Path) -> list[Path]:
    """Create ``run_dir`` and its missing parents; return the ones created, outermost first."""
    missing = []
    for p in (run_dir, *run_dir.parents):
        if p.exists() or p.is_symlink():
            if not p.is_dir():
                raise RunDirError(f"run_dir: {p} is a file, not a directory; give a directory for the run")
            break
        missing.append(p)
    missing.reverse()
    for p in missing:
        try:
            p.mkdir()
        except FileExistsError:
            if not p.is_dir():
                raise RunDirError(f"run_dir: {p} is a file, not a directory; give a directory for the run") from None
        except OSError as err:
            _remove_empty(missing)
            raise os_error(err, p) from None
    return missing


def _remove_empty(created: list[Path]) -> None:
    for p in reversed(created):
        try:
            p.rmdir()
        except OSError:  # not empty (someone put something there) or already gone: leave it
            return


def _holder_text() -> bytes:
    info = {"pid": os.getpid(), "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S %z"), "command": " ".join(sys.argv)[:300]}
    return (json.dumps(info) + "\n").encode()


def describe_holder(path) -> str:
    """Who holds the lock file ``path``, as its holder wrote it (or why that is unknown)."""
    try:
        info = json.loads(Path(path).read_text())
        return f"pid {info['pid']} on {info['host']}, started {info['started']}: {info['command']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown (it is just starting, or its lock file is unreadable)"


def _lock_file(path: Path, role: tuple[str, str, str]) -> int:
    """An open descriptor of ``path`` holding its exclusive lock; RunDirBusy when another holds it."""
    where, user, choose = role
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, default_file_mode())
        except OSError as err:
            raise os_error(err, path.parent) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunDirBusy(f"{where}: {path.parent} is in use by another {user} ({describe_holder(path)}); "
                             f"wait for it to finish or choose {choose}") from None
        except OSError as err:
            if os.fstat(fd).st_size == 0:  # the empty file this call created: no holder ever wrote to it
                path.unlink(missing_ok=True)
            os.close(fd)
            raise RunDirError(f"run_dir: {path.parent} is on a file system without working locks "
                              f"({err.strerror or err}); choose a directory on a local disk") from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # its holder removed the file between our open and our lock: lock the new one


RUN_ROLE = ("run_dir", "run", "another directory")  # (argument, what holds it, the alternative) in messages


@contextmanager
def locked(run_dir, role: tuple[str, str, str] = RUN_ROLE):
    """Hold the exclusive lock of ``run_dir`` (created if missing) for the ``with`` block.

    Raises :class:`RunDirBusy` naming the holder when another process or thread
    has it, :class:`RunDirError` when ``run_dir`` is a file or cannot be written.
    ``role`` words the refusal for another kind of folder: ``("out", "sharpgen verify",
    "another --out")`` says "out: DIR is in use by another sharpgen verify (pid ...); wait for it
    to finish or choose another --out".
    """
    run_dir = Path(run_dir)
    key = os.path.realpath(run_dir)
    me = threading.get_ident()
    if key in _HELD:
        if _HELD[key][0] != me:
            raise RunDirBusy(f"{role[0]}: {run_dir} is in use by another thread of this process; "
                             f"choose {role[2]}")
        _HELD[key][1] += 1
        try:
            yield run_dir
        finally:
            _HELD[key][1] -= 1
        return
    created = _make_dirs(run_dir)
    path = run_dir / LOCK
    try:
        fd = _lock_file(path, role)
    except BaseException:
        _remove_empty(created)
        raise
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, _holder_text(), 0)
    except OSError:
        pass  # the holder's description is a courtesy; the lock itself is held
    _HELD[key] = [me, 1]
    try:
        yield run_dir
    finally:
        del _HELD[key]
        try:
            os.unlink(path)
        except OSError:
            pass
        os.close(fd)
        _remove_empty(created)
