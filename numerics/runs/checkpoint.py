"""The run directory of a training run: its files, the torch checkpoint, and whether a run may start or resume.

Files (named in ``numerics.state``, which also reads them without torch; all written atomically,
``numerics.atomic``): ``config.json`` (the ``TrainConfig`` and what was resolved at the start), ``metrics.csv``
(``numerics.metrics_csv``), ``checkpoint.pt`` (parameters, epoch, cumulative
wall time, the sessions so far, the theory minimum logged, and the config
that produced it with its digest) and ``summary.json``. :func:`open_run` is
the one place that decides whether ``run_dir`` may start a new run or resume
one; the caller holds the directory's lock (``numerics.rundir``).

Everything read back is checked before use: a damaged or foreign file is a
:class:`~sharpgen.numerics.runs.rundir.RunDirError` (a ValueError) naming the
file and what to do, never a traceback and never a silent continuation.
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import torch

from sharpgen.numerics.runs.atomic import atomic_write_bytes
from sharpgen.numerics.runs.config import TrainConfig, config_digest
from sharpgen.numerics.runs.rundir import RunDirError
# The file names and the config reader live in numerics.state (torch-free); imported here for the callers of both.
from sharpgen.numerics.runs.state import CHECKPOINT, CONFIG, METRICS, RUN_FILES, SUMMARY, load_config

# 3: the checkpoint carries its config and digest and the theory minimum; 2: metric rows live in metrics.csv only
FORMAT = 3
_STATE_KEYS = ("epoch", "wall_s", "sessions", "params", "config", "config_digest", "theory_min")
_RESTART = f"move it away and resume to restart the run from epoch 0, or start a new run in another directory"


def differing_fields(a: dict, b: dict) -> list[str]:
    """The keys whose values differ between two config dicts.

    >>> differing_fields({"seed": 0, "width": 5}, {"seed": 1, "width": 5})
    ['seed']
    """
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def read_config(run_dir) -> TrainConfig | None:
    """The validated ``TrainConfig`` of run_dir/config.json, or None; an invalid value names the file and field."""
    saved = load_config(run_dir)
    if saved is None:
        return None
    try:
        return TrainConfig.from_dict(saved).validate()
    except (ValueError, TypeError) as err:
        raise RunDirError(f"config.json: {Path(run_dir) / CONFIG}: {err}; restore the file, "
                          f"or start a new run in another directory") from None


def save_checkpoint(run_dir, state: dict) -> Path:
    """Atomically store ``state`` (tensors, numbers, lists; moved to CPU) as run_dir/checkpoint.pt."""
    payload = {"format": FORMAT, **state}
    payload["params"] = {k: v.detach().cpu().clone() for k, v in state["params"].items()}
    buf = io.BytesIO()
    torch.save(payload, buf)
    path = Path(run_dir) / CHECKPOINT
    atomic_write_bytes(path, buf.getvalue())
    return path


def _check_state(state, path: Path) -> dict:
    """``state`` if it has this format's keys with sane values (finite parameters), else RunDirError."""
    if not isinstance(state, dict):
        raise RunDirError(f"checkpoint: {path} holds {type(state).__name__}, not a checkpoint; {_RESTART}")
    if state.get("format") != FORMAT:
        raise RunDirError(f"checkpoint: format {state.get('format')!r} in {path} is not this version's {FORMAT} "
                          f"(written by another sharpgen); start a new run in another directory")
    missing = [k for k in _STATE_KEYS if k not in state]
    epoch, wall, params = state.get("epoch"), state.get("wall_s"), state.get("params")
    problems = [f"missing {missing}"] if missing else []
    if not (isinstance(epoch, int) and not isinstance(epoch, bool) and epoch >= 0):
        problems.append(f"epoch {epoch!r}")
    if not (isinstance(wall, (int, float)) and math.isfinite(wall) and wall >= 0):
        problems.append(f"wall_s {wall!r}")
    if not (isinstance(params, dict) and params and all(isinstance(v, torch.Tensor) for v in params.values())):
        problems.append("parameters")
    elif not all(bool(torch.isfinite(v).all()) for v in params.values()):
        bad = sorted(k for k, v in params.items() if not bool(torch.isfinite(v).all()))
        problems.append(f"non-finite parameters in {bad}")
    if problems:
        raise RunDirError(f"checkpoint: {path} is not a valid checkpoint ({'; '.join(problems)}); {_RESTART}")
    return state


def load_checkpoint(run_dir) -> dict | None:
    """The checked state saved by :func:`save_checkpoint`, or None when run_dir has none.

    An unreadable file (empty, truncated, random bytes) or an invalid state raises RunDirError.
    """
    path = Path(run_dir) / CHECKPOINT
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for damaged files (EOFError, RuntimeError, UnpicklingError)
        reason = (str(err).strip().splitlines() or [""])[0][:160]
        raise RunDirError(f"checkpoint: {path} cannot be read, it is damaged ({type(err).__name__}: {reason}); "
                          f"{_RESTART}") from None
    return _check_state(state, path)


def _check_binding(state: dict, config: dict, path: Path) -> dict:
    """``state`` if the config that wrote it is ``config`` and its epoch lies within config's schedule."""
    if state["config_digest"] != config_digest(config) or state["config"] != config:
        diff = differing_fields(state["config"], config) if isinstance(state["config"], dict) else ["config"]
        raise RunDirError(f"checkpoint: {path} was written by a run with another config (differs in {diff}); "
                          f"config.json was edited or belongs to another run: restore it, or start a new run "
                          f"in another directory")
    total = sum(int(ph["epochs"]) for ph in config["phases"])
    if state["epoch"] > total:
        raise RunDirError(f"checkpoint: epoch {state['epoch']} in {path} lies beyond the schedule's {total} epochs; "
                          f"{_RESTART}")
    return state


def open_run(run_dir, config: dict, *, resume: bool) -> dict | None:
    """The checkpoint to continue from (``resume``), or None for a run starting at epoch 0; ValueError when
    neither fits.

    A new run needs a directory without a run (no checkpoint, no config.json).
    Resuming needs config.json equal to ``config``, and then continues from
    the checkpoint, bound to that config (:func:`_check_binding`), or starts
    from epoch 0 when the run was stopped before its first checkpoint (a
    directory is never stuck).
    """
    run_dir = Path(run_dir)
    saved, state = load_config(run_dir), load_checkpoint(run_dir)
    if not resume:
        if state is not None or saved is not None:
            raise RunDirError(f"run_dir: {run_dir} already holds a run; resume it or choose another directory")
        return None
    if saved is None:
        if state is None:
            raise RunDirError(f"resume: no run to resume in {run_dir} (no {CONFIG}); start a new run there "
                              f"without resume")
        raise RunDirError(f"config.json: missing in {run_dir} beside {CHECKPOINT}; restore it, or start a new run "
                          f"in another directory")
    if saved != config:
        raise RunDirError(f"config: differs from {run_dir / CONFIG} in {differing_fields(saved, config)}; "
                          f"a resumed run needs the same config")
    return None if state is None else _check_binding(state, config, run_dir / CHECKPOINT)
