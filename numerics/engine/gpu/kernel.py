"""The GPU kernel: one Triton program per replica runs S batch-1 SAM / SGD steps of a depth-2
nobias / bias / sim_ln net, with its weights held on chip (in registers) from the first step
to the last (docs/paper.md §6-§7). Imported only by :func:`.steps.launch`, when triton is
installed (the ``triton`` extra).

The formulas are those of :mod:`sharpgen.numerics.engine.torch_fused.shallow` (derived there)
and ``numerics/engine/c/sam_steps.c``: with z = W1 x + b1, r = ∂ℓ/∂f, the ascent moves only z
and W2 (z' = z + a ||x'||² g_z, a = ρ/||g||), and the descent is torch.optim.SGD's. Padded neurons (beyond m) and inputs (beyond d) are masked to 0,
so they never move. Tests run this kernel in Triton's interpreter (``TRITON_INTERPRET=1``) on
CPU against the autograd reference.
"""
from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def _grads(z, w2, t, live, ACT: tl.constexpr, LOSS: tl.constexpr, SIM_LN: tl.constexpr, LN_SQ: tl.constexpr,
           eps, eps2, THRESHOLD: tl.constexpr):
    """(f, dl/dz, dl/dW2) at pre-activations z and output layer w2 (padded neurons give 0)."""
    if ACT == 0:
        h = tl.where(z > 0, z, 0.0)
        dh = tl.where(z > 0, 1.0, 0.0)
    else:
        e = tl.exp(tl.minimum(z, THRESHOLD))
        h = tl.where(z > THRESHOLD, z, tl.log(1.0 + e))
        dh = tl.where(z > THRESHOLD, 1.0, e / (e + 1.0))
    h = tl.where(live, h, 0.0)
    f = tl.sum(w2 * h, axis=0)
    if SIM_LN:
        sq = tl.sum(h * h, axis=0)
        if LN_SQ:
            on = sq >= eps2
            s = tl.sqrt(tl.maximum(sq, eps2))
        else:
            nrm = tl.sqrt(sq)
            on = nrm >= eps
            s = tl.maximum(nrm, eps)
        f = f / s
        r = 2.0 * (f - t) if LOSS == 0 else 1.0 / (1.0 + tl.exp(-f)) - t
        u = h / s
        gw2 = r * u
        gz = r / s * (w2 - tl.where(on, f, 0.0) * u) * dh
    else:
        r = 2.0 * (f - t) if LOSS == 0 else 1.0 / (1.0 + tl.exp(-f)) - t
        gw2 = r * h
        gz = r * w2 * dh
    return f, tl.where(live, gz, 0.0), tl.where(live, gw2, 0.0)


@triton.jit
def sam_steps_kernel(W1, B1, W2, X, ORDER, TGT, LR, RHO, WD, RADIUS, STATUS, S, m, d, n, x_stride, eps, eps2,
                     BIAS: tl.constexpr, ACT: tl.constexpr, LOSS: tl.constexpr, SIM_LN: tl.constexpr,
                     LN_SQ: tl.constexpr, THRESHOLD: tl.constexpr, BM: tl.constexpr, BD: tl.constexpr):
    """Replica ``program_id(0)``: S steps on rows ORDER[rep, :], weights (BM x BD tile) on chip."""
    rep = tl.program_id(0)
    jm = tl.arange(0, BM)
    kd = tl.arange(0, BD)
    live = jm < m
    tile = live[:, None] & (kd[None, :] < d)
    w1 = tl.load(W1 + rep * m * d + jm[:, None] * d + kd[None, :], mask=tile, other=0.0)
    w2 = tl.load(W2 + rep * m + jm, mask=live, other=0.0)
    b1 = tl.load(B1 + rep * m + jm, mask=live, other=0.0) if BIAS else w2 * 0.0
    lr = tl.load(LR + rep)
    rho = tl.load(RHO + rep)
    wd = tl.load(WD + rep)
    radius = tl.load(RADIUS + rep)
    status = rep * 0
    for s in range(S):
        i = tl.load(ORDER + rep * S + s)
        t = tl.load(TGT + rep * S + s)
        x = tl.load(X + rep * x_stride + i * d + kd, mask=kd < d, other=0.0)
        xx = tl.sum(x * x, axis=0) + (1.0 if BIAS else 0.0)
        z = tl.sum(w1 * x[None, :], axis=1) + b1
        f, gz, gw2 = _grads(z, w2, t, live, ACT, LOSS, SIM_LN, LN_SQ, eps, eps2, THRESHOLD)
        bad = (f - f) != 0.0  # NaN or ±inf (f - f is 0 exactly for every finite f)
        if rho > 0:
            g2 = xx * tl.sum(gz * gz, axis=0) + tl.sum(gw2 * gw2, axis=0)
            a = tl.where(g2 > 0, rho / tl.sqrt(tl.where(g2 > 0, g2, 1.0)), 0.0)
            f, gz, gw2 = _grads(z + a * xx * gz, w2 + a * gw2, t, live, ACT, LOSS, SIM_LN, LN_SQ, eps, eps2,
                                THRESHOLD)
            bad = bad | ((f - f) != 0.0)
        status = tl.where((status == 0) & bad, s + 1, status)
        w1 = w1 - lr * (gz[:, None] * x[None, :] + wd * w1)
        if BIAS:
            b1 = b1 - lr * (gz + wd * b1)
        w2 = w2 - lr * (gw2 + wd * w2)
        if radius > 0:
            q = tl.sqrt(tl.sum(tl.sum(w1 * w1, axis=1), axis=0) + tl.sum(b1 * b1, axis=0))
            c = tl.where(q > radius, radius / q, 1.0)
            w1 = w1 * c
            b1 = b1 * c
    tl.store(W1 + rep * m * d + jm[:, None] * d + kd[None, :], w1, mask=tile)
    tl.store(W2 + rep * m + jm, w2, mask=live)
    if BIAS:
        tl.store(B1 + rep * m + jm, b1, mask=live)
    tl.store(STATUS + rep, status)
