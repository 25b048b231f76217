"""The run directory of a training run: its files, the torch checkpoint, and whether a run may start or resume.

Files (all written atomically, ``numerics.atomic``): ``config.json`` (the
``TrainConfig`` and what was resolved at the start), ``metrics.csv``
(``numerics.metrics_csv``), ``checkpoint.pt`` (parameters, epoch, cumulative
wall time and the sessions so far) and ``summary.json``. :func:`open_run` is
the one place that decides whether ``run_dir`` may start a new run or resume one.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import torch

from sharpgen.numerics.atomic import atomic_write_bytes

CHECKPOINT = "checkpoint.pt"
CONFIG = "config.json"
METRICS = "metrics.csv"
SUMMARY = "summary.json"
FORMAT = 2  # 2: metric rows live in metrics.csv only; the checkpoint carries wall_s and sessions


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
        raise ValueError(f"checkpoint: format {state.get('format')!r} in {path} is not this version's {FORMAT} "
                         f"(written by another sharpgen); start a new run in another directory")
    return state


def open_run(run_dir, config: dict, *, resume: bool) -> dict | None:
    """The checkpoint to continue from (``resume``), or None for a new run; ValueError when neither fits.

    A new run needs a directory without a run (no checkpoint, no config.json);
    resuming needs a checkpoint and the same config as config.json.
    """
    run_dir = Path(run_dir)
    state, saved = load_checkpoint(run_dir), load_config(run_dir)
    if not resume:
        if state is not None or saved is not None:
            raise ValueError(f"run_dir: {run_dir} already holds a run; resume it or choose another directory")
        return None
    if state is None:
        raise ValueError(f"resume: no run to resume in {run_dir} (no {CHECKPOINT}); "
                         f"start a new run there without resume")
    if saved is not None and saved != config:
        diff = sorted(k for k in set(saved) | set(config) if saved.get(k) != config.get(k))
        raise ValueError(f"config: differs from {run_dir / CONFIG} in {diff}; a resumed run needs the same config")
    return state
