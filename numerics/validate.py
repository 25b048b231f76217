"""The vocabulary of ``sharpgen.numerics`` and the checks of user input at its boundary.

The names a configuration may use (architectures, activations, losses,
devices, dtypes) have their home here; step backends live in ``engine``.
Each check returns the value (normalised) or raises ValueError whose message
names the argument and the allowed range, so callers (``TrainConfig``,
``Net``, ``build``, ``from_params``) validate once and pass plain data
inward; ``numerics.functional`` never validates.

This module does not import torch at load time (``sharpgen train --help``
reads the vocabulary through ``numerics.config``); the few checks that need
torch import it when called.
"""
from __future__ import annotations

import math
import os

import numpy as np

ARCHITECTURES = ("nobias", "bias", "sim_bn", "sim_ln")
ACTIVATIONS = ("relu", "softplus")
LOSSES = ("mse", "logistic")
DEVICES = ("cpu", "cuda", "auto")
DTYPES = ("float64", "float32")

# Ranges of the step hyperparameters of docs/paper.md §6 (one table row): lr > 0, the rest >= 0.
STEP_RANGES = {"lr": {"gt": 0}, "rho": {"ge": 0}, "weight_decay": {"ge": 0}, "label_noise": {"ge": 0}}


def is_finite_number(v) -> bool:
    """A finite int or float; bools are not numbers here (``True`` is no learning rate)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def is_int(v) -> bool:
    """An int that is not a bool."""
    return isinstance(v, int) and not isinstance(v, bool)


def check_choice(name: str, value, choices: tuple):
    """``value`` if it is one of ``choices``, else ValueError naming ``name`` and the choices.

    >>> check_choice("arch", "resnet", ARCHITECTURES)
    Traceback (most recent call last):
    ...
    ValueError: arch: expected one of ('nobias', 'bias', 'sim_bn', 'sim_ln'), got 'resnet'
    """
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: expected one of {choices}, got {value!r}")
    return value


def check_arch(arch) -> str:
    """Return ``arch`` or raise ValueError naming the four docs/paper.md §2 architectures.

    >>> check_arch("sim_ln")
    'sim_ln'
    """
    return check_choice("arch", arch, ARCHITECTURES)


def check_int(name: str, value, low: int, high: int | None = None, *, allow_none: bool = False):
    """``value`` if it is an int (not a bool) in [low, high] (high None: no upper end), else
    ValueError naming ``name`` and the allowed range; ``allow_none`` also accepts None.

    >>> check_int("width", 3, 1)
    3
    >>> check_int("d", 40, 2, 20)
    Traceback (most recent call last):
    ...
    ValueError: d: expected an integer in [2, 20], got 40
    """
    if allow_none and value is None:
        return None
    if not (is_int(value) and value >= low and (high is None or value <= high)):
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name}: expected an integer {allowed}{' or None' if allow_none else ''}, got {value!r}")
    return value


def check_number(name: str, value, *, gt=None, ge=None, lt=None, allow_none: bool = False):
    """``value`` as a float if it is a finite number with ``value > gt``, ``>= ge``, ``< lt`` (each
    when given), else ValueError naming ``name`` and the range; ``allow_none`` also accepts None.

    >>> check_number("lr", 0.1, gt=0)
    0.1
    >>> check_number("p", 0.7, gt=0, lt=0.5)
    Traceback (most recent call last):
    ...
    ValueError: p: expected a finite number in (0, 0.5), got 0.7
    """
    if allow_none and value is None:
        return None
    ok = is_finite_number(value) and (gt is None or value > gt) and (ge is None or value >= ge) \
        and (lt is None or value < lt)
    if not ok:
        if gt is not None and lt is not None:
            allowed = f"in ({gt}, {lt})"
        else:
            allowed = " and ".join(s for s in (gt is not None and f"> {gt}", ge is not None and f">= {ge}",
                                               lt is not None and f"< {lt}") if s)
        raise ValueError(f"{name}: expected a finite number {allowed}{' or None' if allow_none else ''}, "
                         f"got {value!r}")
    return float(value)


def check_step(name: str, value, where: str = "") -> float:
    """A step hyperparameter (``lr``, ``rho``, ``weight_decay``, ``label_noise``) in its range
    (``STEP_RANGES``); ``where`` prefixes the name in the message (e.g. "phases[1].").

    >>> check_step("rho", -1.0, "phases[0].")
    Traceback (most recent call last):
    ...
    ValueError: phases[0].rho: expected a finite number >= 0, got -1.0
    """
    return check_number(where + name, value, **STEP_RANGES[name])


def check_smoothing(p) -> float:
    """The label-smoothing weight p of the logistic loss if 0 < p < 1/2 (so gamma_p > 0), else ValueError.

    >>> check_smoothing(0.2)
    0.2
    """
    return check_number("p", p, gt=0, lt=0.5)


def check_loss(loss, p) -> tuple[str, float | None]:
    """(loss, p) if ``loss`` is "mse" with p None, or "logistic" with label smoothing 0 < p < 1/2
    (docs/paper.md §1, Appendix A.5); else ValueError naming ``loss`` or ``p``.

    >>> check_loss("mse", 0.1)
    Traceback (most recent call last):
    ...
    ValueError: p: expected None for 'mse' (label smoothing is for 'logistic'), got 0.1
    """
    check_choice("loss", loss, LOSSES)
    if loss == "logistic":
        return loss, check_smoothing(p)
    if p is not None:
        raise ValueError(f"p: expected None for 'mse' (label smoothing is for 'logistic'), got {p!r}")
    return loss, None


def _dtype_name(dtype) -> str:
    name = dtype if isinstance(dtype, str) else str(dtype).removeprefix("torch.")
    return check_choice("dtype", name, DTYPES)


def eps_floor(dtype) -> float:
    """The largest eps that rounds to 0 in ``dtype`` (a name or a torch dtype): half the smallest subnormal.

    ``sim_ln`` needs eps above it.

    >>> eps_floor("float32") == 2.0 ** -150, eps_floor("float64")
    (True, 0.0)
    """
    return float(np.finfo(_dtype_name(dtype)).smallest_subnormal) / 2


def check_hyper(arch: str, *, depth: int = 2, activation: str = "relu", eps=None, dtype="float64") -> dict:
    """Validate the architecture hyperparameters of docs/paper.md §2 once; return them as a dict.

    ``depth`` >= 2 (> 2 only for ``bias``); ``activation`` relu or softplus
    (softplus only for ``bias``, Figure 5); ``eps``, the fixed floor of the
    ``sim_ln`` normaliser, is required there (a finite number that stays > 0
    in ``dtype``) and refused for the other architectures.

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
    check_choice("activation", activation, ACTIVATIONS)
    if activation != "relu" and arch != "bias":
        raise ValueError(f"activation: expected 'relu' for {arch!r} (softplus only for 'bias'), got {activation!r}")
    if arch != "sim_ln":
        if eps is not None:
            raise ValueError(f"eps: only sim_ln uses eps, got {eps!r} for arch {arch!r}")
        return {"depth": depth, "activation": activation, "eps": None}
    if not is_finite_number(eps) or eps <= 0:
        raise ValueError(f"eps: expected a finite number > 0 for 'sim_ln', got {eps!r}")
    floor = eps_floor(dtype)
    if eps <= floor:
        raise ValueError(f"eps: expected a number > {floor!r} (it rounds to 0 in {_dtype_name(dtype)}), got {eps!r}")
    return {"depth": depth, "activation": activation, "eps": float(eps)}


def torch_dtype(name: str):
    """The torch dtype named ``name`` ("float64" or "float32"); imports torch.

    >>> torch_dtype("float32")
    torch.float32
    """
    import torch  # deferred on purpose: the CLI validates arguments with this module before torch loads
    return getattr(torch, check_choice("dtype", name, DTYPES))


def check_dtype(dtype):
    """``dtype`` if it is torch.float64 or torch.float32, else ValueError naming ``dtype``.

    >>> import torch
    >>> check_dtype(torch.float32)
    torch.float32
    """
    import torch  # deferred on purpose (see torch_dtype)
    if not isinstance(dtype, torch.dtype) or dtype not in (torch.float64, torch.float32):
        raise ValueError(f"dtype: expected torch.float64 or torch.float32, got {dtype!r}")
    return dtype


def check_finite(name: str, t):
    """``t`` (a tensor) if every entry is finite, else ValueError naming ``name``."""
    import torch  # deferred on purpose (see torch_dtype)
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return t


def check_init_gamma(arch: str, init_gamma) -> float:
    """``init_gamma`` as a float: a finite number > 0 for ``sim_bn``, exactly 1 for the others (no γ).

    >>> check_init_gamma("sim_bn", 0.5)
    0.5
    >>> check_init_gamma("bias", 0.5)
    Traceback (most recent call last):
    ...
    ValueError: init_gamma: expected 1.0 for 'bias' (only sim_bn has gamma), got 0.5
    """
    init_gamma = check_number("init_gamma", init_gamma, gt=0)
    if arch != "sim_bn" and init_gamma != 1:
        raise ValueError(f"init_gamma: expected 1.0 for {arch!r} (only sim_bn has gamma), got {init_gamma!r}")
    return init_gamma


def parameter_count(d: int, width: int, depth: int = 2) -> int:
    """Entries of (W1, b1, W2, gamma, middle) at their largest (``bias`` has b1, ``sim_bn`` gamma).

    >>> parameter_count(30, 500)
    16500
    """
    return width * (d + 3) + width * width * (depth - 2)


def physical_memory() -> int | None:
    """This machine's physical memory in bytes (None where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_network_size(d: int, width: int, depth: int = 2, available: int | None = None) -> None:
    """ValueError, before anything is allocated, when a network's float64 parameters (and the copy
    they are drawn in) would not fit in ``available`` bytes (default: physical memory).

    >>> check_network_size(30, 500)
    >>> check_network_size(30, 10 ** 9, available=2 ** 34)
    Traceback (most recent call last):
    ...
    ValueError: width: a network of d = 30, width 1000000000, depth 2 has 3.3e+10 parameters, about 492 GiB in float64, more than this machine's 16 GiB; lower width
    """
    available = physical_memory() if available is None else available
    count = parameter_count(d, width, depth)
    need = 2 * 8 * count
    if available is not None and need > available:
        raise ValueError(f"width: a network of d = {d}, width {width}, depth {depth} has {count:.2g} parameters, "
                         f"about {need / 2 ** 30:.3g} GiB in float64, more than this machine's "
                         f"{available / 2 ** 30:.3g} GiB; lower width")
