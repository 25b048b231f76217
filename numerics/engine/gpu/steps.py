"""The ``triton`` backend: every replica's batch-1 steps in one GPU launch (:mod:`.kernel`).

The replicas' weights are stacked into (R, ...) tensors, the kernel runs one program per
replica through all S steps (each replica's sample order precomputed, one row of an (R, S)
tensor), and the results are copied back into each replica's network. What the kernel does not
cover (sim_bn, depth >= 3, mini-batch phases, orders of unequal length) runs the torch formulas
(all replicas in each call where they share a batch size,
:mod:`sharpgen.numerics.engine.torch_fused.batched`). On CPU the kernel runs only in Triton's
interpreter (``TRITON_INTERPRET=1``), which is how CI checks it. This module imports without
triton; only :func:`launch` needs it.
"""
from __future__ import annotations

import functools
import importlib.util

import torch

from sharpgen.numerics.engine.backends import triton_supported
from sharpgen.numerics.engine.c.loops import ACT_CODE, LOSS_CODE
from sharpgen.numerics.engine.diverged import TrainingDiverged
from sharpgen.numerics.nets.functional import SOFTPLUS_THRESHOLD, eps_sq_is_normal


@functools.lru_cache(maxsize=None)
def triton_available() -> bool:
    """Whether the triton package is installed (``pip install 'sharpgen[triton]'``)."""
    return importlib.util.find_spec("triton") is not None


def _pow2(v: int) -> int:
    return 1 << max(0, (v - 1).bit_length())


def launch(tensors, Xs, orders, targets, hyper, *, arch, activation="relu", loss="mse", eps=None) -> list[int]:
    """Run the kernel on replicas ``tensors`` (``NetTensors``, depth 2, not sim_bn) in place.

    ``orders``/``targets``: equal-length 1-D tensors, one per replica; ``hyper``: per replica
    (lr, rho, wd, radius or None). Returns per replica 0 or k+1 (step k went non-finite).
    """
    # deferred: triton is an optional package (the ``triton`` extra); this module imports without it
    from sharpgen.numerics.engine.gpu.kernel import sam_steps_kernel
    t0 = tensors[0]
    dev, dtype = t0.W1.device, t0.W1.dtype
    (m, d), n, R, S = t0.W1.shape, Xs[0].shape[0], len(tensors), len(orders[0])
    bias = t0.b1 is not None
    W1 = torch.stack([t.W1 for t in tensors]).contiguous()
    W2 = torch.stack([t.W2 for t in tensors]).contiguous()
    B1 = torch.stack([t.b1 for t in tensors]).contiguous() if bias else W2
    shared = all(X is Xs[0] for X in Xs)
    X = Xs[0].contiguous() if shared else torch.stack(Xs).contiguous()
    order = torch.stack([o.to(device=dev, dtype=torch.long) for o in orders]).contiguous()
    tgt = torch.stack([t.to(device=dev, dtype=dtype) for t in targets]).contiguous()
    col = lambda k: torch.tensor([h[k] if h[k] is not None else 0.0 for h in hyper], dtype=dtype, device=dev)
    status = torch.zeros(R, dtype=torch.int32, device=dev)
    eps_ = float(eps) if eps is not None else 1.0
    sam_steps_kernel[(R,)](W1, B1, W2, X, order, tgt, col(0), col(1), col(2), col(3), status, S, m, d, n,
                           0 if shared else n * d, eps_, float(torch.tensor(eps_ * eps_, dtype=dtype)),
                           BIAS=bias, ACT=ACT_CODE[activation], LOSS=LOSS_CODE[loss], SIM_LN=arch == "sim_ln",
                           LN_SQ=bool(eps_sq_is_normal(eps_, dtype)), THRESHOLD=float(SOFTPLUS_THRESHOLD),
                           BM=_pow2(m), BD=_pow2(d), num_warps=8)
    for r, t in enumerate(tensors):
        t.W1.copy_(W1[r])
        t.W2.copy_(W2[r])
        if bias:
            t.b1.copy_(B1[r])
    return [int(v) for v in status.tolist()]


def triton_run_(engine, todo, orders, targets, phases) -> list[TrainingDiverged | None]:
    """:meth:`~sharpgen.numerics.engine.replicas.ReplicaEngine.run` for the ``triton`` backend on
    replicas ``todo``: the kernel where it covers the case, else the engine's torch formulas."""
    cfg = engine.config
    covered = triton_supported(cfg.arch, depth=cfg.depth) and all(phases[r].batch == 1 for r in todo) \
        and len({len(orders[r]) for r in todo}) == 1
    if not covered or not todo:
        return engine.torch_together(todo, orders, targets, phases)
    hyper = [(phases[r].lr, phases[r].rho, phases[r].weight_decay, cfg.project_radius) for r in todo]
    codes = launch([engine.tensors[r] for r in todo], [engine.Xs[r] for r in todo], [orders[r] for r in todo],
                   [targets[r] for r in todo], hyper, **engine.kw)
    return [TrainingDiverged.non_finite("output", step=rc - 1) if rc else None for rc in codes]
