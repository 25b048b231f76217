"""Step engines: how the trainer takes a chunk of optimizer steps (docs/paper.md §6-§7).

1-SAM is millions of one-sample steps, so per-step overhead decides what can
be checked. Backends:

* ``generic`` (:mod:`.generic`) — autograd through ``numerics.sam`` on a
  ``Net``: every architecture, and the reference the fused steps are tested
  against (to 1e-12 in float64);
* ``torch`` (:mod:`.torch_steps`) — hand-derived fused steps in torch, any
  device and batch size;
* ``c`` (:mod:`.c_kernel`) — the same formulas as a compiled batch-1 loop
  (``sam_steps.c``) on CPU.

:func:`resolve_backend` decides once per run what a config's ``backend``
means on a device; :func:`make_engine` builds that engine. An engine's
``run(order, targets, phase)`` takes ``len(order) // phase.batch`` steps in
place and raises :class:`TrainingDiverged` when a value goes non-finite.
"""
from __future__ import annotations

BACKENDS = ("auto", "generic", "torch", "c")
FUSED_ARCHS = ("nobias", "bias", "sim_ln")
FUSED_LOSSES = ("mse", "logistic")


class TrainingDiverged(RuntimeError):
    """A non-finite value appeared; the message names the epoch range and the last good checkpoint."""


def fused_supported(arch: str, *, depth: int = 2, activation: str = "relu", loss: str = "mse") -> bool:
    """Whether the fused steps cover this architecture and loss: depth-2 nobias/bias/sim_ln,
    relu (softplus only for bias), MSE or logistic.

    >>> fused_supported("bias", activation="softplus"), fused_supported("sim_bn"), fused_supported("bias", depth=3)
    (True, False, False)
    """
    return arch in FUSED_ARCHS and depth == 2 and loss in FUSED_LOSSES \
        and (activation == "relu" or (arch == "bias" and activation == "softplus"))


def resolve_backend(backend: str, *, fused: bool, device, dtype) -> str:
    """What ``backend`` means for a run: "generic", "torch" or "c".

    ``auto``: c on CPU when the C loop loads here, else torch, for fused cases;
    generic otherwise. Explicit names are checked against the case and device.

    >>> import torch
    >>> resolve_backend("auto", fused=False, device=torch.device("cpu"), dtype=torch.float64)
    'generic'
    """
    from sharpgen.numerics.engine import c_kernel
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {BACKENDS}, got {backend!r}")
    if backend == "generic" or (backend == "auto" and not fused):
        return "generic"
    if not fused:
        raise ValueError(f"backend: {backend!r} covers only depth-2 nobias/bias/sim_ln; use 'generic' or 'auto'")
    if backend == "auto":
        return "c" if device.type == "cpu" and c_kernel.c_available(dtype) else "torch"
    if backend == "c" and device.type != "cpu":
        raise ValueError(f"backend: 'c' runs on CPU only, got device {device}")
    return backend


def make_engine(config, model, X, backend: str):
    """The engine for a resolved ``backend`` stepping ``model`` on training rows ``X``."""
    if backend == "generic":
        from sharpgen.numerics.engine.generic import GenericEngine
        return GenericEngine(config, model, X)
    from sharpgen.numerics.engine.fused import FusedEngine
    return FusedEngine(config, model, X, backend)
