"""Fused SAM / SGD steps for ``bias`` nets of depth D >= 3, hand-derived, in torch (any device, any batch).

f(x) = W2 · act(M_{L-1} ⋯ act(M_0 act(W1 x + b1))), L = D − 2 middle layers (docs/paper.md §2,
Figure 11). On a mini-batch with r_i = ∂ℓ/∂f_i / |B| (rows are samples):

* G_L = (r W2ᵀ) ⊙ act'(Z_L), G_{l-1} = (G_l M_{l-1}) ⊙ act'(Z_{l-1});
* g_{M_l} = G_{l+1}ᵀ H_l, g_W1 = G_0ᵀ X_B, g_b1 = Σ_i G_0,i, g_W2 = H_Lᵀ r.

SAM perturbs every tensor by ρ g/||g|| and descends with the gradient there
(torch.optim.SGD with weight decay), as :class:`sharpgen.numerics.optim.sam.SAM`. The C loop
(``numerics/engine/c/deep_steps.c``) implements the same formulas for batch 1 with the rank-one
shortcuts written there.
"""
from __future__ import annotations

import torch

from sharpgen.numerics.engine.torch_fused.shallow import act_and_derivative, ascent_scale, dloss
from sharpgen.numerics.optim.sam import project_first_layer_


def deep_grads(W1, b1, mids, W2, Xb, tb, *, activation: str, loss: str):
    """(f, [g_W1, g_b1, g_M_0, ..., g_W2]) of the mean batch loss."""
    Z = Xb @ W1.T + b1
    hs, ds = [], []
    for M in [None, *mids]:
        if M is not None:
            Z = hs[-1] @ M.T
        h, dh = act_and_derivative(Z, activation)
        hs.append(h)
        ds.append(dh)
    f = hs[-1] @ W2
    r = dloss(loss, f, tb) / Xb.shape[0]
    G = r[:, None] * W2[None, :] * ds[-1]
    gmids = []
    for l in range(len(mids) - 1, -1, -1):
        gmids.insert(0, G.T @ hs[l])
        G = (G @ mids[l]) * ds[l]
    return f, [G.T @ Xb, G.sum(dim=0), *gmids, hs[-1].T @ r]


@torch.no_grad()
def deep_step_(W1, b1, mids, W2, Xb, tb, *, activation="relu", loss="mse", lr, rho=0.0, wd=0.0,
               radius=None) -> torch.Tensor:
    """One SAM (ρ > 0) or SGD (ρ = 0) step on the batch (Xb, tb), in place; returns f at θ + e."""
    params = [W1, b1, *mids, W2]
    kw = dict(activation=activation, loss=loss)
    f, grads = deep_grads(W1, b1, mids, W2, Xb, tb, **kw)
    if rho > 0:
        a = ascent_scale(rho, torch.sqrt(sum((g * g).sum() for g in grads)))
        shifted = [p + a * g for p, g in zip(params, grads)]
        f, grads = deep_grads(shifted[0], shifted[1], shifted[2:-1], shifted[-1], Xb, tb, **kw)
    for p, g in zip(params, grads):
        p.sub_(lr * (g + wd * p))
    if radius is not None:
        project_first_layer_(W1, b1, radius)
    return f
