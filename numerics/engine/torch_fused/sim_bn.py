"""Fused SAM / SGD steps for ``sim_bn`` with hand-derived gradients, in torch (any device, any batch).

``sim_bn`` (docs/paper.md §2): f(x) = Σ_j c_j h_j(x) / a_j with c = W2 ⊙ γ, h = relu(W x'),
W = [W1 | b1], a_j = sqrt((1/n) Σ_l h_j(x_l)²) over the whole training set (a_j = 0: the
neuron contributes 0). On a mini-batch B with r_i = ∂ℓ/∂f_i / |B| and q_j = Σ_i r_i h_j(x_i):

* g_W2 = γ ⊙ q / a, g_γ = W2 ⊙ q / a;
* g_W = (R ⊙ 1[Z_B > 0] ⊙ (c/a))ᵀ X'_B − diag(c ⊙ q / (n a³)) M, with M = Hᵀ X' the
  only O(n·m·d) quantity (the gradient flowing through the statistics a).

The SAM ascent perturbs (W, W2, γ) by ρ g/||g|| and the descent uses the gradient there
(torch.optim.SGD with weight decay), as :class:`sharpgen.numerics.optim.sam.SAM` does. The C loop
(``numerics/engine/c/sim_bn_steps.c``) implements the same formulas for batch 1.
"""
from __future__ import annotations

import torch

from sharpgen.numerics.engine.torch_fused.shallow import ascent_scale, dloss
from sharpgen.numerics.optim.sam import project_first_layer_


def with_ones(X: torch.Tensor) -> torch.Tensor:
    """x' = (x, 1) for every row.

    >>> with_ones(torch.zeros(1, 2)).tolist()
    [[0.0, 0.0, 1.0]]
    """
    return torch.cat([X, torch.ones_like(X[:, :1])], dim=1)


def bn_grads(W, W2, gamma, X1, Xb1, tb, loss: str):
    """(f on the batch, g_W, g_W2, g_γ) of the mean batch loss; X1, Xb1 carry the column of ones."""
    n, B = X1.shape[0], Xb1.shape[0]
    H = torch.relu(X1 @ W.T)
    a2 = (H * H).mean(dim=0)
    alive = a2 > 0
    a = torch.sqrt(torch.where(alive, a2, torch.ones_like(a2)))
    c = W2 * gamma
    scale = torch.where(alive, c / a, torch.zeros_like(a))
    Zb = Xb1 @ W.T
    f = torch.relu(Zb) @ scale
    r = dloss(loss, f, tb) / B
    q = torch.relu(Zb).T @ r
    zero = torch.zeros_like(a)
    gW2 = torch.where(alive, gamma * q / a, zero)
    gg = torch.where(alive, W2 * q / a, zero)
    beta = torch.where(alive, c * q / (n * a ** 3), zero)
    gW = ((r[:, None] * (Zb > 0).to(W.dtype)) * scale).T @ Xb1 - beta[:, None] * (H.T @ X1)
    return f, gW, gW2, gg


@torch.no_grad()
def bn_step_(W1, b1, W2, gamma, X, Xb, tb, *, loss="mse", lr, rho=0.0, wd=0.0, radius=None) -> torch.Tensor:
    """One sim_bn SAM (ρ > 0) or SGD (ρ = 0) step on the batch (Xb, tb), in place; returns f at θ + e."""
    X1, Xb1 = with_ones(X), with_ones(Xb)
    W = torch.cat([W1, b1[:, None]], dim=1)
    f, gW, gW2, gg = bn_grads(W, W2, gamma, X1, Xb1, tb, loss)
    if rho > 0:
        a = ascent_scale(rho, torch.sqrt((gW * gW).sum() + (gW2 * gW2).sum() + (gg * gg).sum()))
        f, gW, gW2, gg = bn_grads(W + a * gW, W2 + a * gW2, gamma + a * gg, X1, Xb1, tb, loss)
    W.sub_(lr * (gW + wd * W))
    W1.copy_(W[:, :-1])
    b1.copy_(W[:, -1])
    W2.sub_(lr * (gW2 + wd * W2))
    gamma.sub_(lr * (gg + wd * gamma))
    if radius is not None:
        project_first_layer_(W1, b1, radius)
    return f
