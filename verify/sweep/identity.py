"""One run identity: in a sweep folder a run id stands for one configuration, for every sweep that uses it.

``OUT/grid.json`` is the folder's registry: run id -> axis labels and the full config, for every
grid point any sweep has registered there. :func:`register` adds a sweep's points under the
folder's lock (``OUT/locks/grid.lock``), after checking each against the registry and against the
run directory's own ``config.json``; a point whose id is already bound to another config is
refused before anything is written, naming the run and the fields that differ. Two invocations
of the same sweep (or of sweeps that agree on their shared runs) therefore cooperate: their
workers lock each run and the later one finds it done. Two sweeps that disagree never share a
run: the later is refused.

Workers check again under the run's lock (:func:`check_run`), so a run directory whose
``config.json`` disagrees with the task (a folder edited or copied by hand) is never trained or
skipped as if it were the task's: :class:`RunIdentityError` stops the sweep.

>>> import tempfile
>>> from sharpgen.verify.sweep.spec import parse_spec
>>> from sharpgen.verify.sweep.grid import expand
>>> def sweep(width):
...     return parse_spec({"sweep": {"name": "demo"}, "base": {"arch": "nobias", "d": 3, "n": 4, "width": width},
...                        "axes": {"seed": [0, 1]}})
>>> with tempfile.TemporaryDirectory() as out:
...     register(sweep(8), expand(sweep(8)), Path(out))
...     register(sweep(8), expand(sweep(8)), Path(out))      # the same sweep again: cooperates
...     try:
...         register(sweep(9), expand(sweep(9)), Path(out))  # another width under the same run ids
...     except RunIdentityError as err:
...         print(str(err).split(" by ")[0])
out: run seed=0 in the sweep folder is bound to another config
"""
from __future__ import annotations

import fcntl
import json
from contextlib import contextmanager
from pathlib import Path

from sharpgen.numerics.runs.atomic import atomic_write_json, atomic_write_text
from sharpgen.numerics.runs.rundir import RunDirError, os_error
from sharpgen.numerics.runs.state import RunFileError, read_run

GRID = "grid.json"


class RunIdentityError(RunDirError):
    """A run id of the sweep folder is bound to another config than the one asked for."""


def differing(a: dict, b: dict) -> list[str]:
    """The fields in which two config dicts differ, sorted.

    >>> differing({"width": 8, "lr": 0.1}, {"width": 9, "lr": 0.1})
    ['width']
    """
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def refusal(run_id: str, fields: list[str], where: str) -> RunIdentityError:
    return RunIdentityError(f"out: run {run_id} in the sweep folder is bound to another config by {where} "
                            f"(differs in {fields}); a run id stands for one config: use another --out, or "
                            f"the sweep file that made it")


def check_run(out, run_id: str, config: dict) -> None:
    """RunIdentityError when OUT/runs/<run_id>/config.json holds another config than ``config``."""
    found = read_run(Path(out) / "runs" / run_id)
    if found.config is not None and found.config != config:
        raise refusal(run_id, differing(found.config, config), f"its run directory ({found.run_dir / 'config.json'})")


def read_registry(out) -> dict:
    """OUT/grid.json's runs (run id -> {"labels", "config"}), {} when there is none; RunFileError when damaged."""
    path = Path(out) / GRID
    try:
        runs = json.loads(path.read_text(encoding="utf-8"))["runs"]
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as err:
        raise RunFileError(f"out: {path} is damaged ({type(err).__name__}: {err}); it binds run ids to configs, "
                           f"so the folder cannot be trusted: use another --out") from None
    if not isinstance(runs, dict) or not all(isinstance(r, dict) and isinstance(r.get("config"), dict)
                                             for r in runs.values()):
        raise RunFileError(f"out: {path} is damaged (not a table of runs); use another --out")
    return runs


def check_points(points, out) -> None:
    """Refuse ``points`` (``grid.GridPoint``) whose run ids OUT binds to other configs: in grid.json or in the
    run directories. Reads only."""
    registry = read_registry(out) if Path(out).is_dir() else {}
    for p in points:
        config = p.config.to_dict()
        bound = registry.get(p.run_id)
        if bound is not None and bound["config"] != config:
            raise refusal(p.run_id, differing(bound["config"], config), f"{Path(out) / GRID}")
        check_run(out, p.run_id, config)


@contextmanager
def folder_lock(out):
    """OUT/locks/grid.lock, held exclusively for the block (short: a registration); waits for a holder."""
    path = Path(out) / "locks" / "grid.lock"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, "a")
    except OSError as err:
        raise os_error(err, path, advice="choose another --out", name="out") from None
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def register(spec, points, out: Path) -> None:
    """Bind ``points``' run ids to their configs in OUT/grid.json (merged with what is there) and write
    OUT/sweep.toml, after :func:`check_points` under the folder's lock; refused before any write."""
    with folder_lock(out):
        check_points(points, out)
        runs = read_registry(out)
        runs.update({p.run_id: {"labels": p.labels, "config": p.config.to_dict()} for p in points})
        try:
            if spec.text is not None:
                atomic_write_text(out / "sweep.toml", spec.text)
            atomic_write_json(out / GRID, {"name": spec.name, "source": spec.source,
                                           "axes": [a.name for a in spec.axes], "runs": runs})
        except OSError as err:
            raise os_error(err, advice="free space or choose another --out", name="out") from None
