"""Choosing the torch device for training runs (verification always runs in float64 on any device)."""
from __future__ import annotations

import warnings

import torch

from sharpgen.numerics.validate import DEVICES, check_choice


def resolve_device(name: str = "auto") -> torch.device:
    """The torch device for ``name``: "cpu", "cuda" or "auto" (cuda when available, else cpu).

    "cuda" without an available GPU falls back to the CPU with a one-line
    ``RuntimeWarning`` (shown on stderr), so a preset written for a GPU still runs.

    >>> resolve_device("cpu")
    device(type='cpu')
    >>> resolve_device("tpu")
    Traceback (most recent call last):
    ...
    ValueError: name: expected one of ('cpu', 'cuda', 'auto'), got 'tpu'
    """
    check_choice("name", name, DEVICES)
    if name == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if name == "cuda":
        warnings.warn("cuda requested but not available; running on cpu", RuntimeWarning, stacklevel=2)
    return torch.device("cpu")
