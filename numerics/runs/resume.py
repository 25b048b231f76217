"""What a resumed run must find unchanged, so that resuming never changes the computation.

``numerics.checkpoint`` binds a checkpoint to its config; this module checks
the rest before anything is written: the parameters' names and shapes, the
theory minimum logged beside Tr ∇²L, the metric rows already on disk (one
per evaluation epoch up to the checkpoint), and how the steps are computed
(device, the step backend of each phase, torch threads and version; a
different backend gives different numbers in the last bits and, on CPU
without the C loop, runs many times slower). Each failure is a ValueError
naming what differs and what to do. Nothing here writes.
"""
from __future__ import annotations

import torch

from sharpgen.numerics.engine.c import loops as c_kernel
from sharpgen.numerics.runs.rundir import RunDirError


def check_params(own: dict, saved: dict, path) -> None:
    """The checkpoint's parameters have the model's names and shapes.

    >>> check_params({"W1": torch.zeros(2, 3)}, {"W1": torch.zeros(3, 2)}, "c.pt")
    Traceback (most recent call last):
    ...
    sharpgen.numerics.runs.rundir.RunDirError: checkpoint: c.pt holds parameters {'W1': (3, 2)} where the config's network has {'W1': (2, 3)}; start a new run in another directory
    """
    shapes = lambda params: {k: tuple(v.shape) for k, v in sorted(params.items())}
    if shapes(own) != shapes(saved):
        raise RunDirError(f"checkpoint: {path} holds parameters {shapes(saved)} where the config's network has "
                          f"{shapes(own)}; start a new run in another directory")


def check_theory_min(saved, given) -> None:
    """The theory minimum given for the resumed session is the one the run logged so far.

    >>> check_theory_min(None, 8.0)
    Traceback (most recent call last):
    ...
    ValueError: theory_min: this run logged None so far, got 8.0; resume with the same value (sharpgen train --resume reads it from the checkpoint)
    """
    if saved != given:
        raise ValueError(f"theory_min: this run logged {saved!r} so far, got {given!r}; resume with the same value "
                         f"(sharpgen train --resume reads it from the checkpoint)")


def check_rows(epochs: list, expected: list, path) -> None:
    """The metric rows kept on resume are exactly one per evaluation epoch up to the checkpoint.

    >>> check_rows([0, 5], [0, 5, 10], "m.csv")
    Traceback (most recent call last):
    ...
    sharpgen.numerics.runs.rundir.RunDirError: metrics.csv: m.csv has rows for epochs [0, 5] where the run evaluated [0, 5, 10]; it was edited or damaged: start a new run in another directory
    """
    if epochs != expected:
        short = lambda xs: xs if len(xs) <= 12 else [*xs[:5], "...", *xs[-5:]]
        raise RunDirError(f"metrics.csv: {path} has rows for epochs {short(epochs)} where the run evaluated "
                          f"{short(expected)}; it was edited or damaged: start a new run in another directory")


def compute_changes(previous: dict, now: dict, keys) -> dict:
    """{key: [before, now]} for the ``keys`` whose values differ between two sessions.

    >>> compute_changes({"backends": ["c"], "threads": 1}, {"backends": ["torch"], "threads": 1}, ("backends", "threads"))
    {'backends': [['c'], ['torch']]}
    """
    return {k: [previous.get(k), now.get(k)] for k in keys if previous.get(k) != now.get(k)}


def check_compute(changes: dict, *, allowed: bool, reason: str | None = None) -> str | None:
    """None when nothing changed; else a loud warning when ``allowed``, else a ValueError.

    ``reason``: why the backend resolves differently here (e.g. the C loop's compile error).
    """
    if not changes:
        return None
    what = "; ".join(f"{k} {before} before, {now} here" for k, (before, now) in changes.items())
    why = f" ({reason})" if reason else ""
    if allowed:
        return (f"WARNING: resuming with different computation ({what}){why}: from here on the numbers differ "
                f"from an uninterrupted run; the change is recorded in the checkpoint's sessions")
    raise ValueError(f"resume: the steps would be computed differently ({what}){why}, so the numbers would differ "
                     f"from an uninterrupted run; restore the first setting (e.g. a C compiler via CC, the same "
                     f"--threads or device), or resume with --allow-backend-change (API: allow_backend_change=True) "
                     f"to continue anyway")


def c_unavailable_reason(dtype) -> str | None:
    """Why the C step loop cannot run here (its build or load error), or None when it can."""
    try:
        c_kernel.load_c_kernel(dtype)
        return None
    except (RuntimeError, OSError) as err:
        return f"the C step loop is unavailable: {err}"
