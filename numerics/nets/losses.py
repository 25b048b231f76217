"""Losses of docs/paper.md §1 (MSE) and Appendix A.5 (logistic with label smoothing), with their derivatives.

Each loss takes outputs f (n,) and labels Y (n,) and ``reduction`` "mean"
(the training loss L) or "none" (the per-sample losses l(f_i, y_i), which
1-SAM uses one at a time). ``loss_derivatives`` gives l' and l'' per sample,
which the exact sharpness (Lemma 4.1, F1) needs.
"""
from __future__ import annotations

import torch
from torch.nn.functional import softplus

from sharpgen.numerics.validate import LOSSES, check_loss, check_smoothing  # noqa: F401 (verify.cmd_bench reads LOSSES here)

REDUCTIONS = ("mean", "none")


def _check(out: torch.Tensor, Y: torch.Tensor, reduction: str) -> None:
    if out.ndim != 1:
        raise ValueError(f"out: expected shape (n,), got {tuple(out.shape)}")
    if Y.shape != out.shape:
        raise ValueError(f"Y: expected shape {tuple(out.shape)} (one label per output), got {tuple(Y.shape)}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction: expected one of {REDUCTIONS}, got {reduction!r}")


def _check_signs(Y: torch.Tensor) -> None:
    if not bool(((Y == 1) | (Y == -1)).all()):
        raise ValueError("Y: expected labels in {-1, +1} for the logistic loss")


def mse(out: torch.Tensor, Y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """docs/paper.md §1's MSE: L = (1/n) sum_i (f(x_i) - y_i)^2 (no factor 1/2); l = (f - y)^2 per sample.

    >>> mse(torch.tensor([1.0, 0.0]), torch.tensor([1.0, 2.0]))
    tensor(2.)
    """
    _check(out, Y, reduction)
    per = (out - Y) ** 2
    return per.mean() if reduction == "mean" else per


def logistic_ls(out: torch.Tensor, Y: torch.Tensor, p: float, reduction: str = "mean") -> torch.Tensor:
    """Logistic loss with label smoothing p (Appendix A.5), labels y in {-1, +1}, intended sign.

    l_p(f, y) = (1 - p) log(1 + e^{-y f}) + p log(1 + e^{y f}): weight 1 - p on
    the true label. Its per-sample minimiser is f = gamma_p y with
    gamma_p = ln((1 - p)/p). (The paper's printed formula puts p on the true
    label, which flips this sign; see ``theory``'s erratum note.)

    >>> out = torch.tensor([1.3862943611198906, -1.3862943611198906], dtype=torch.float64)  # ±ln 4
    >>> logistic_ls(out, torch.tensor([1.0, -1.0], dtype=torch.float64), 0.2, reduction="none")
    tensor([0.5004, 0.5004], dtype=torch.float64)
    """
    return _logistic(out, Y, check_smoothing(p), reduction)


def _logistic(out: torch.Tensor, Y: torch.Tensor, p: float, reduction: str) -> torch.Tensor:
    _check(out, Y, reduction)
    _check_signs(Y)
    margin = Y * out
    per = (1 - p) * softplus(-margin) + p * softplus(margin)
    return per.mean() if reduction == "mean" else per


def loss_derivatives(name: str, out: torch.Tensor, Y: torch.Tensor, p=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample l'(f_i) and l''(f_i) with respect to the output (for F1 / Lemma 4.1).

    MSE: l' = 2 (f - y), l'' = 2. Logistic (labels +-1): l' = p y s(y f) - (1 - p) y s(-y f),
    l'' = s(f) s(-f), s the sigmoid; at the minimiser l'' = p (1 - p).

    >>> loss_derivatives("mse", torch.tensor([1.0]), torch.tensor([0.5]))
    (tensor([1.]), tensor([2.]))
    """
    name, p = check_loss(name, p)
    _check(out, Y, "none")
    if name == "mse":
        return 2 * (out - Y), torch.full_like(out, 2.0)
    _check_signs(Y)
    margin = Y * out
    d1 = p * Y * torch.sigmoid(margin) - (1 - p) * Y * torch.sigmoid(-margin)
    return d1, torch.sigmoid(out) * torch.sigmoid(-out)


def get_loss(name: str, p=None):
    """The loss function ``(out, Y, reduction="mean") -> Tensor`` named "mse" or "logistic" (needs p).

    >>> round(get_loss("logistic", p=0.2)(torch.zeros(1), torch.ones(1)).item(), 4)
    0.6931
    """
    name, p = check_loss(name, p)
    if name == "mse":
        return mse
    return lambda out, Y, reduction="mean": _logistic(out, Y, p, reduction)
