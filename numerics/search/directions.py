"""The least value over unit directions w of a statistic of the training inputs (Appendix A.2.1).

The uniform-convergence lemmas behind Lemma 3.1 bound, for every unit w at once, averages over the
training inputs x_1..x_n of

* ``positive_fraction``: (1/n) Σ_i 1[w·x_i > 0] (Lemma A.5's (1/n) Σ ||x_i||² 1[w·x_i > 0] is d
  times this on the cube, where ||x_i||² = d);
* ``positive_square``: (1/n) Σ_i (w·x_i)² 1[w·x_i > 0] (Lemma A.6);
* ``mean_relu``: (1/n) Σ_i relu(w·x_i), the g(u) of Lemma 3.1's proof, whose least value G* bounds
  the constant 1/G of every net's path-norm bound (docs/verify.md, lemma-3.1).

Their least values are minima of non-convex functions of w (a sphere): :func:`least` descends from
many starts together (random directions and the directions −x_i), by Adam on the sphere, the
indicator smoothed by a sigmoid whose temperature falls to 0, and recomputes the exact statistic
at every end point and at small-integer directions near it (``_sparsified``). The smallest value is
attained at the returned direction, so it is an upper bound on the minimum (exact on integer inputs
at an integer direction; else up to float64 rounding of w·x_i).

>>> import torch
>>> X = torch.tensor([[1., 1.], [1., -1.], [-1., 1.], [-1., -1.]])   # the square: min fraction 1/4
>>> round(least(X, "positive_fraction", starts=8, iterations=100).value, 6)
0.25
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

STATISTICS = ("positive_fraction", "positive_square", "mean_relu")
SNAP_SCALES = (1, 2, 3, 4, 6, 8)
DEGREE = {"positive_fraction": 0, "positive_square": 2, "mean_relu": 1}  # statistic(c w) = c^DEGREE statistic(w)


@dataclass(frozen=True)
class Least:
    """``value``: the least statistic found; ``direction``: the unit w attaining it (float64, (d,));
    ``values``: every start's end value (their spread says how rugged the landscape is)."""

    statistic: str
    value: float
    direction: torch.Tensor
    values: torch.Tensor


def statistic_values(X: torch.Tensor, W: torch.Tensor, statistic: str) -> torch.Tensor:
    """The exact statistic (module docstring) at each row of W (unit directions), shape (len(W),)."""
    if statistic not in STATISTICS:
        raise ValueError(f"statistic: expected one of {STATISTICS}, got {statistic!r}")
    return _of_projections(W @ X.T, statistic)


def _of_projections(z: torch.Tensor, statistic: str, temperature: float | None = None) -> torch.Tensor:
    """The statistic from z = W Xᵀ; with a ``temperature`` the indicator is a sigmoid (a step has no
    gradient: its sigmoid does, sharpening as it cools)."""
    if statistic == "positive_fraction":
        step = torch.sigmoid(z / temperature) if temperature else (z > 0).to(z.dtype)
        return step.mean(dim=1)
    if statistic == "positive_square":
        return (z.clamp(min=0) ** 2).mean(dim=1)
    return z.clamp(min=0).mean(dim=1)


def _starts(X: torch.Tensor, starts: int, generator: torch.Generator) -> torch.Tensor:
    """Half random directions, half −x_i (a direction that already misses one point)."""
    n, d = X.shape
    away = -X[torch.randperm(n, generator=generator)[: starts // 2]]
    W = torch.cat([away, torch.randn(starts - len(away), d, generator=generator, dtype=X.dtype).to(X.device)])
    return W / W.norm(dim=1, keepdim=True)


def least(X, statistic: str, *, starts: int = 64, iterations: int = 300, seed: int = 0,
          lr: float = 0.05) -> Least:
    """The least value of ``statistic`` (one of ``STATISTICS``) over unit w found by the search of the
    module docstring, float64.

    Parameters
    ----------
    X : (n, d) training inputs.
    starts, iterations : starts descended together, and Adam steps for each.
    seed : seeds the random starts.
    """
    if statistic not in STATISTICS:
        raise ValueError(f"statistic: expected one of {STATISTICS}, got {statistic!r}")
    X = torch.as_tensor(X, dtype=torch.float64)
    scale = float(X.norm(dim=1).mean())
    W = _starts(X, starts, torch.Generator().manual_seed(seed)).requires_grad_(True)
    opt = torch.optim.Adam([W], lr=lr)
    for k in range(iterations):
        temperature = scale * 0.3 * (0.01 / 0.3) ** (k / max(1, iterations - 1))
        U = W / W.norm(dim=1, keepdim=True)
        loss = _of_projections(U @ X.T, statistic, temperature).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            W /= W.norm(dim=1, keepdim=True)
    U, values = _sparsified(X, W.detach() / W.detach().norm(dim=1, keepdim=True), statistic)
    best = int(values.argmin())
    return Least(statistic, float(values[best]), U[best].clone(), values)


def _sparsified(X: torch.Tensor, U: torch.Tensor, statistic: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Each end point, or a small-integer direction near it, whichever has the smaller statistic: the
    direction kept on its k largest coordinates (k = 1..d), scaled so its largest entry is K (K in
    ``SNAP_SCALES``) and rounded. The indicator's infimum can sit where some w·x_i are exactly 0, which
    a smooth descent approaches but does not reach and float rounding of w misses; on integer inputs
    (the cube) an integer w gives every w·x_i exactly."""
    order = U.abs().argsort(dim=1, descending=True)
    best, values = U, statistic_values(X, U, statistic)
    for k in range(1, U.shape[1] + 1):
        V = U * torch.zeros_like(U).scatter_(1, order[:, :k], 1.0)
        V = V / V.abs().amax(dim=1, keepdim=True)
        for scale in SNAP_SCALES:
            R = torch.round(V * scale)
            norm = R.norm(dim=1, keepdim=True)
            # the statistic is homogeneous in w: evaluated at the integer R (signs exact), then scaled
            v = statistic_values(X, R, statistic) / norm[:, 0] ** DEGREE[statistic]
            better = v < values  # a rounded-to-zero R gives NaN, never better
            best, values = torch.where(better[:, None], R / norm, best), torch.where(better, v, values)
    return best, values
