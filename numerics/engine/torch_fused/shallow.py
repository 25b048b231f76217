"""Fused 1-SAM / SGD steps with hand-derived gradients, in torch (any device, any batch size).

One step on a mini-batch B (rows X_B, kernel targets t_B), loss
(1/|B|) Σ ℓ(f(x_i), t_i), with r_i = ∂ℓ/∂f_i / |B| and z = W1 x + b1:

* gradients: g_W2 = Σ r_i φ_i, g_z,i = r_i ∂f_i/∂h ⊙ act'(z_i),
  g_W1 = Σ g_z,i x_iᵀ, g_b1 = Σ g_z,i, where φ = h (plain) or h/s
  (``sim_ln``, s = max(||h||, ε)), ∂f/∂h = W2 (plain) or (W2 − f·φ·1[||h||>ε])/s;
* SAM ascent without touching W1: with K = X'_B X'_Bᵀ (x' = (x, 1) for biased
  nets, x for ``nobias``), ||g||² = Σ K ⊙ (G_z G_zᵀ) + ||g_W2||² and the
  perturbed pre-activations are Z' = Z + a·K·G_z, a = ρ/||g|| (0 if g = 0);
* descent (torch.optim.SGD convention): θ ← θ − lr (g(θ + e) + wd·θ);
* optional Figure-6b projection of [W1 | b1] onto a Frobenius ball.

MSE (docs/paper.md §1): ℓ = (f − y)², ∂ℓ/∂f = 2 (f − y), kernel target y.
Logistic: ℓ = softplus(f) − t f, ∂ℓ/∂f = σ(f) − t; the kernel target t is
derived from :mod:`sharpgen.numerics.nets.losses` by :func:`kernel_targets`. The C loop
(``numerics/engine/c/sam_steps.c``) implements the same formulas for batch 1.
"""
from __future__ import annotations

import torch

from sharpgen.numerics.nets.functional import activation_derivatives, ln_norm_branch, ln_normaliser
from sharpgen.numerics.nets.losses import LOSSES, get_loss
from sharpgen.numerics.optim.sam import project_first_layer_


def kernel_targets(loss: str, Y: torch.Tensor, p: float | None = None) -> torch.Tensor:
    """Targets in the kernel's form: y for MSE; for logistic the t with ∂ℓ/∂f = σ(f) − t.

    For the logistic loss t is read off :mod:`sharpgen.numerics.nets.losses` itself (its
    derivative at f = 0 is 1/2 − t), so the kernels follow whatever label
    convention that module implements.
    """
    if loss == "mse":
        return Y
    if loss != "logistic":
        raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")
    fn = get_loss("logistic", p=p)
    zero = torch.zeros_like(Y, requires_grad=True)
    (grad,) = torch.autograd.grad(fn(zero, Y, reduction="none").sum(), zero)
    return (0.5 - grad).detach()


def act_and_derivative(z: torch.Tensor, activation: str):
    """act(z) and act'(z) (relu'(0) = 0; torch's softplus threshold).

    >>> [t.tolist() for t in act_and_derivative(torch.tensor([-1.0, 0.0, 2.0]), "relu")]
    [[0.0, 0.0, 2.0], [0.0, 0.0, 1.0]]
    """
    act, d1, _ = activation_derivatives(activation)
    return act(z), d1(z)


def dloss(loss: str, f: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """∂ℓ/∂f for kernel targets t: 2 (f − t) for MSE, σ(f) − t for the logistic loss.

    >>> dloss("mse", torch.tensor([1.0]), torch.tensor([0.5])).tolist()
    [1.0]
    """
    return 2.0 * (f - t) if loss == "mse" else torch.sigmoid(f) - t


def ascent_scale(rho, norm: torch.Tensor) -> torch.Tensor:
    """a = ρ/||g|| of the SAM ascent e = a·g = ρ g/||g|| (docs/paper.md §6), 0 where ||g|| = 0 (no
    direction to ascend in; the division is guarded so no NaN appears even where it is not taken).
    ``rho``: a float, or a tensor (one per replica in the batched steps); the one formula every
    torch step uses.

    >>> ascent_scale(0.1, torch.tensor([2.0, 0.0], dtype=torch.float64)).tolist()
    [0.05, 0.0]
    """
    return torch.where(norm > 0, rho / torch.where(norm > 0, norm, torch.ones_like(norm)), torch.zeros_like(norm))


def grads(arch, activation, loss, eps, Z, W2, t):
    """Per-batch gradient pieces (G_z, g_W2) at pre-activations Z and output layer W2."""
    H, dact = act_and_derivative(Z, activation)
    B = Z.shape[0]
    if arch == "sim_ln":
        sq = (H * H).sum(dim=1)
        s = ln_normaliser(sq, eps)
        active = ln_norm_branch(sq, eps).to(Z.dtype)
        U = H / s[:, None]
        f = U @ W2
        r = dloss(loss, f, t) / B
        GH = (r / s)[:, None] * (W2[None, :] - (f * active)[:, None] * U)
        return GH * dact, U.T @ r
    f = H @ W2
    r = dloss(loss, f, t) / B
    return r[:, None] * W2[None, :] * dact, H.T @ r


@torch.no_grad()
def torch_step_(W1, b1, W2, Xb, tb, *, arch, activation="relu", loss="mse", eps=None,
                lr, rho=0.0, wd=0.0, radius=None) -> None:
    """One fused SAM (ρ > 0) or SGD (ρ = 0) step on batch (Xb, tb), in place; any device."""
    Z = Xb @ W1.T
    if b1 is not None:
        Z = Z + b1
    GZ, gW2 = grads(arch, activation, loss, eps, Z, W2, tb)
    if rho > 0:
        K = Xb @ Xb.T
        if b1 is not None:
            K = K + 1.0
        norm2 = (K * (GZ @ GZ.T)).sum() + (gW2 * gW2).sum()
        a = ascent_scale(rho, torch.sqrt(norm2))
        GZ, gW2 = grads(arch, activation, loss, eps, Z + a * (K @ GZ), W2 + a * gW2, tb)
    W1.sub_(lr * (GZ.T @ Xb + wd * W1))
    if b1 is not None:
        b1.sub_(lr * (GZ.sum(dim=0) + wd * b1))
    W2.sub_(lr * (gW2 + wd * W2))
    if radius is not None:
        project_first_layer_(W1, b1, radius)


def minibatches(X, order, targets, batch: int):
    """The ``len(order) // batch`` mini-batches (rows, targets): batch k is rows order[k*batch:(k+1)*batch].

    ``targets`` holds one target per entry of ``order``; both move to X's device (and targets to its dtype).

    >>> X = torch.arange(4.0)[:, None]
    >>> [(xb.flatten().tolist(), tb.tolist()) for xb, tb in minibatches(X, torch.tensor([3, 1, 0]), torch.ones(3), 2)]
    [([3.0, 1.0], [1.0, 1.0])]
    """
    order = order.to(X.device)
    targets = targets.to(device=X.device, dtype=X.dtype)
    for k in range(len(order) // batch):
        yield X[order[k * batch:(k + 1) * batch]], targets[k * batch:(k + 1) * batch]


def torch_steps_(W1, b1, W2, X, order, targets, *, batch=1, **kw) -> None:
    """Run ``len(order) // batch`` fused steps, one per mini-batch of :func:`minibatches`."""
    for xb, tb in minibatches(X, order, targets, batch):
        torch_step_(W1, b1, W2, xb, tb, **kw)
