"""Validation of user input at the boundary of ``sharpgen.numerics`` (public API and config).

Each check returns the value (normalised) or raises ValueError whose message
names the argument and the allowed range, so callers validate once and pass
plain data inward. The vocabulary of the package (architectures, activations,
dtypes) has its home here; losses live in ``losses``, backends in ``engine``.
"""
from __future__ import annotations

import math

import torch


ARCHITECTURES = ("nobias", "bias", "sim_bn", "sim_ln")


ACTIVATIONS = ("relu", "softplus")


def check_arch(arch) -> str:
    """Return ``arch`` or raise ValueError naming the four docs/paper.md §2 architectures.

    >>> check_arch("sim_ln")
    'sim_ln'
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch: expected one of {ARCHITECTURES}, got {arch!r}")
    return arch


def check_int(name: str, value, low: int, high: int | None = None) -> int:
    """``value`` if it is an int (not a bool) in [low, high] (high None: no upper end), else
    ValueError naming ``name`` and the allowed range.

    >>> check_int("width", 3, 1)
    3
    >>> check_int("d", 40, 2, 20)
    Traceback (most recent call last):
    ...
    ValueError: d: expected an integer in [2, 20], got 40
    """
    ok = not isinstance(value, bool) and isinstance(value, int) and value >= low and (high is None or value <= high)
    if not ok:
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name}: expected an integer {allowed}, got {value!r}")
    return value


def check_hyper(arch: str, *, depth: int = 2, activation: str = "relu", eps=None) -> dict:
    """Validate the architecture hyperparameters and return them as a dict.

    ``depth`` >= 2 (> 2 only for ``bias``); ``activation`` relu or softplus
    (softplus only for ``bias``, Figure 5); ``eps`` > 0 required for
    ``sim_ln`` (the fixed floor of its normaliser) and ignored otherwise.

    >>> check_hyper("sim_ln", eps=1e-3)
    {'depth': 2, 'activation': 'relu', 'eps': 0.001}
    >>> check_hyper("nobias", depth=3)
    Traceback (most recent call last):
    ...
    ValueError: depth: expected 2 for 'nobias' (depth > 2 only for 'bias'), got 3
    """
    check_arch(arch)
    check_int("depth", depth, 2)
    if depth > 2 and arch != "bias":
        raise ValueError(f"depth: expected 2 for {arch!r} (depth > 2 only for 'bias'), got {depth}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {ACTIVATIONS}, got {activation!r}")
    if activation != "relu" and arch != "bias":
        raise ValueError(f"activation: expected 'relu' for {arch!r} (softplus only for 'bias'), got {activation!r}")
    if eps is not None:
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not math.isfinite(eps) or eps <= 0:
            raise ValueError(f"eps: expected a finite number > 0, got {eps!r}")
        eps = float(eps)
    if arch == "sim_ln" and eps is None:
        raise ValueError("eps: expected a finite number > 0 for 'sim_ln', got None")
    return {"depth": depth, "activation": activation, "eps": eps}


DTYPES = {"float64": torch.float64, "float32": torch.float32}


def check_dtype(dtype) -> torch.dtype:
    """``dtype`` if it is torch.float64 or torch.float32, else ValueError naming ``dtype``.

    >>> check_dtype(torch.float32)
    torch.float32
    """
    if not isinstance(dtype, torch.dtype) or dtype not in DTYPES.values():
        raise ValueError(f"dtype: expected torch.float64 or torch.float32, got {dtype!r}")
    return dtype


def check_finite(name: str, t: torch.Tensor) -> torch.Tensor:
    """``t`` if every entry is finite, else ValueError naming ``name``."""
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return t


def eps_floor(dtype) -> float:
    """The largest eps that rounds to 0 in ``dtype`` (half the smallest subnormal): sim_ln needs eps above it.

    >>> eps_floor(torch.float32) == 2.0 ** -150, eps_floor(torch.float64)
    (True, 0.0)
    """
    info = torch.finfo(dtype)
    return info.tiny * info.eps / 2


def check_ln_eps(eps, dtype) -> float:
    """``eps`` as a float if it is a finite number > 0 that stays > 0 in ``dtype``, else ValueError naming eps."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not math.isfinite(eps) or eps <= 0:
        raise ValueError(f"eps: expected a finite number > 0 for 'sim_ln', got {eps!r}")
    floor = eps_floor(dtype)
    if eps <= floor:
        raise ValueError(f"eps: expected a number > {floor!r} (it rounds to 0 in {dtype}), got {eps!r}")
    return float(eps)


def is_finite_number(v) -> bool:
    """A finite int or float; bools are not numbers here (``True`` is no learning rate)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def is_int(v) -> bool:
    """An int that is not a bool."""
    return isinstance(v, int) and not isinstance(v, bool)
