"""What a config's ``backend`` means on a device, decided once per run (docs/engine.md)."""
from __future__ import annotations

import os
import warnings

BACKENDS = ("auto", "generic", "torch", "c", "triton")
FUSED_ARCHS = ("nobias", "bias", "sim_ln", "sim_bn")
FUSED_LOSSES = ("mse", "logistic")
TRITON_ARCHS = ("nobias", "bias", "sim_ln")
# Whether this process has said that the fused steps run in torch on CPU (said once, not per run).
_ANNOUNCED = []


def fused_supported(arch: str, *, depth: int = 2, activation: str = "relu", loss: str = "mse") -> bool:
    """Whether the fused steps cover this network and loss: every architecture of docs/paper.md §2
    (depth > 2 for bias; relu, or softplus for bias), MSE or logistic.

    >>> fused_supported("bias", activation="softplus"), fused_supported("sim_bn"), fused_supported("bias", depth=3)
    (True, True, True)
    >>> fused_supported("sim_ln", depth=3), fused_supported("sim_bn", activation="softplus")
    (False, False)
    """
    return arch in FUSED_ARCHS and loss in FUSED_LOSSES and (depth == 2 or (arch == "bias" and depth > 2)) \
        and (activation == "relu" or (arch == "bias" and activation == "softplus"))


def triton_supported(arch: str, *, depth: int = 2) -> bool:
    """Whether the GPU kernel covers this network (depth-2 nobias/bias/sim_ln; batch-1 phases).

    >>> triton_supported("bias"), triton_supported("sim_bn"), triton_supported("bias", depth=3)
    (True, False, False)
    """
    return arch in TRITON_ARCHS and depth == 2


def resolve_backend(backend: str, *, fused: bool, device, dtype) -> str:
    """What ``backend`` means for a run: "generic", "torch", "c" or "triton".

    ``auto``, for fused cases: c on CPU when the C loops load here (else torch, announced once
    with a warning); on CUDA triton when the package is installed, else torch; generic for the
    rest. Explicit names are checked against the case and device. (``c`` and ``triton`` take
    the cases their kernels do not cover, such as mini-batch phases, with the torch formulas.)

    >>> import torch
    >>> resolve_backend("auto", fused=False, device=torch.device("cpu"), dtype=torch.float64)
    'generic'
    """
    # deferred: config validation and ``sharpgen train --help`` read this module's tables, and must
    # not import torch (tests/verify/test_cli_train.py::test_help_does_not_import_torch)
    from sharpgen.numerics.engine.c.loops import c_available
    from sharpgen.numerics.engine.gpu.steps import triton_available
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    if backend == "generic" or (backend == "auto" and not fused):
        return "generic"
    if not fused:
        raise ValueError(f"backend: {backend!r} covers the networks of docs/paper.md §2 with MSE or logistic "
                         f"loss; use 'generic' or 'auto'")
    if backend == "auto":
        if device.type != "cpu":
            return "triton" if device.type == "cuda" and triton_available() else "torch"
        if c_available(dtype):
            return "c"
        announce_torch_fallback()
        return "torch"
    if backend == "c" and device.type != "cpu":
        raise ValueError(f"backend: 'c' runs on CPU only, got device {device}")
    if backend == "triton":
        if device.type != "cuda" and os.environ.get("TRITON_INTERPRET") != "1":
            raise ValueError(f"backend: 'triton' runs on CUDA (or with TRITON_INTERPRET=1), got device {device}")
        if not triton_available():
            raise ValueError("backend: 'triton' needs the triton package (pip install 'sharpgen[triton]')")
    return backend


def announce_torch_fallback() -> None:
    """Warn (RuntimeWarning), once per process until :func:`reset_fallback_notice`, that the CPU
    runs the (much slower) torch steps for want of a C compiler."""
    if not _ANNOUNCED:
        _ANNOUNCED.append(True)
        warnings.warn("no working C compiler: the fused steps run in torch on this CPU, about 50x slower "
                      "than the C loops; install gcc (or set CC) for the fast backend", RuntimeWarning, stacklevel=3)


def reset_fallback_notice(announced: bool = False) -> None:
    """Set whether the torch fallback counts as announced in this process (False: the next
    :func:`announce_torch_fallback` warns again; True: it stays silent).

    >>> import warnings
    >>> reset_fallback_notice()
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     announce_torch_fallback()
    ...     announce_torch_fallback()
    >>> len(caught)
    1
    """
    _ANNOUNCED[:] = [True] if announced else []
