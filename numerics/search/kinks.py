"""Settling on relu kinks: first-layer pre-activations held at exactly z = 0.

A relu net's Tr ∇²L counts a neuron at a training point only where its pre-activation is > 0
(relu'(0) = 0, the paper's 1[W1 x > 0] in F2). Some minimizers sit on that kink: a neuron is
exactly 0 on training points it must not serve, and any nearby differentiable point switches some of
them on at full cost W2_j² ||x'||², so a descent through differentiable points stalls above the
minimum. This phase is generic (it is not told which neurons or points): every pre-activation that
comes within ``TAU`` of 0 joins a growing per-start set of extra constraints z_ij(θ) = 0, which the
tangent projection and the Gauss-Newton restoration then keep; the objective meanwhile counts
relu' = 1[z > ``CUT``], so float64 rounding at a held zero is not charged. ``exact_zeros`` then
makes the held zeros exact float64 zeros (for two-layer relu nets on inputs with few binary digits,
such as the cube), so the trace reported is the exact one at a genuine point of parameter space.
The reported value depends on relu'(0) = 0, as the paper's own minimizers do (C3's rows vanish on
the cube points with x1 = −x2).
"""
from __future__ import annotations

import math
from fractions import Fraction

import torch
from torch.func import vmap

from sharpgen.numerics.search.method import FEASIBLE, descend, residual_norms
from sharpgen.numerics.search.problem import Problem

TAU = 1e-5   # a pre-activation this close to 0 is held at 0 from then on
CUT = 1e-9   # relu' = 1[z > CUT] while held zeros carry rounding residue
GRID = 24    # binary digits of the exact-zero rounding


MAX_ENTRIES = 2 ** 24  # the held-zero Jacobian (n m, P) in float64: 128 MB


def kink_phase_fits(problem: Problem) -> bool:
    """Whether the kink phase's Jacobian (n m rows, P columns) has at most ``MAX_ENTRIES`` entries.

    >>> import torch
    >>> kink_phase_fits(Problem("bias", torch.ones(6, 4), torch.ones(6), width=8))
    True
    """
    return problem.X.shape[0] * problem.width * problem.size <= MAX_ENTRIES


def preactivations(problem: Problem, theta: torch.Tensor) -> torch.Tensor:
    """First-layer pre-activations z_ij = W1_j·x_i + b1_j (R, n, m)."""
    def one(t):
        p = problem.unflatten(t)
        z = problem.X @ p["W1"].T
        return z + p["b1"] if "b1" in p else z
    return vmap(one)(theta)


class Kinks:
    """The held zeros of each start: ``mask`` (R, n, m) of (point, neuron) pairs with z = 0 imposed.

    >>> import torch
    >>> prob = Problem("nobias", torch.tensor([[1.0, -1.0]]), torch.tensor([1.0]), width=2)
    >>> theta = torch.tensor([[1.0, 1.0, 0.5, 0.0, 1.0, 1.0]], dtype=torch.float64)  # W1 rows (1, 1), (0.5, 0)
    >>> Kinks(prob, theta).update(theta).mask.tolist()   # z = 1 - 1 = 0 for neuron 0 at x = (1, -1)
    [[[1.0, 0.0]]]
    """

    def __init__(self, problem: Problem, theta: torch.Tensor):
        self.problem = problem
        self.mask = torch.zeros(preactivations(problem, theta).shape, dtype=theta.dtype, device=theta.device)
        self.base = _preactivation_jacobian(problem)

    def update(self, theta: torch.Tensor) -> "Kinks":
        with torch.no_grad():
            self.mask = torch.maximum(self.mask, (preactivations(self.problem, theta).abs() < TAU).to(theta.dtype))
        return self

    def residuals(self, theta: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """The held z_ij of the starts ``rows`` (k, n m), zero where not held."""
        return (preactivations(self.problem, theta) * self.mask[rows]).flatten(1)

    def jacobian(self, theta: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        """∂(held z)/∂θ (k, n m, P)."""
        return self.base[None] * self.mask[rows].flatten(1)[..., None]


def _preactivation_jacobian(problem: Problem) -> torch.Tensor:
    # z_ij = W1_j·x_i + b1_j is linear in θ: ∂z_ij/∂W1_j = x_i, ∂z_ij/∂b1_j = 1, a constant (n m, P)
    n, d = problem.X.shape
    m = problem.width
    offsets, k = {}, 0
    for name, shape in problem.shapes.items():
        offsets[name] = k
        k += math.prod(shape)
    base = torch.zeros(n, m, problem.size, dtype=torch.float64, device=problem.device)
    for j in range(m):
        base[:, j, offsets["W1"] + j * d: offsets["W1"] + (j + 1) * d] = problem.X
        if "b1" in offsets:
            base[:, j, offsets["b1"] + j] = 1.0
    return base.reshape(n * m, problem.size)


def counted_sharpness(problem: Problem, theta: torch.Tensor) -> torch.Tensor:
    """Tr ∇²L with relu' = 1[z > CUT] (R,): the kink phase's objective."""
    return problem.sharpness_with_step(theta, lambda z: (z > CUT).to(z.dtype))


def _int_nullspace(rows: list) -> list[list[int]]:
    # an integer basis of {w : r·w = 0 for every row r}, by exact elimination over the rationals
    A = [[Fraction(v) for v in r] for r in rows]
    ncol, pivots, r = len(A[0]), [], 0
    for c in range(ncol):
        p = next((i for i in range(r, len(A)) if A[i][c] != 0), None)
        if p is None:
            continue
        A[r], A[p] = A[p], A[r]
        A[r] = [v / A[r][c] for v in A[r]]
        for i in range(len(A)):
            if i != r and A[i][c] != 0:
                A[i] = [a - A[i][c] * b for a, b in zip(A[i], A[r])]
        pivots.append(c)
        r += 1
    basis = []
    for free in (c for c in range(ncol) if c not in pivots):
        v = [Fraction(0)] * ncol
        v[free] = Fraction(1)
        for i, c in enumerate(pivots):
            v[c] = -A[i][free]
        scale = math.lcm(*[x.denominator for x in v])
        basis.append([int(x * scale) for x in v])
    return basis


def exact_zeros(problem: Problem, theta: torch.Tensor) -> torch.Tensor:
    """Each start with its near-zero first-layer pre-activations (|z| < 1e-6) made exact float64 zeros: row
    W1'_j = N u, N an integer basis of the null space of the inputs x_i' it vanishes on, u rounded to
    2^-GRID; then the output layer re-solved for interpolation (f is linear in W2). Two-layer relu
    ``bias``/``nobias`` only (other problems: returned unchanged). The caller keeps a result only where it
    is feasible and lowers the exact Tr."""
    if problem.arch not in ("bias", "nobias") or problem.depth != 2 or problem.activation != "relu":
        return theta
    bias = problem.arch == "bias"
    Xa = torch.cat([problem.X, torch.ones_like(problem.X[:, :1])], 1) if bias else problem.X
    out = theta.clone()
    for r in range(len(theta)):
        p = {k: v.clone() for k, v in problem.unflatten(theta[r]).items()}
        W = torch.cat([p["W1"], p["b1"][:, None]], 1) if bias else p["W1"].clone()
        Z = Xa @ W.T
        for j in range(W.shape[0]):
            held = (Z[:, j].abs() < 1e-6).nonzero()[:, 0].tolist()
            if held:
                W[j] = _on_null_space(W[j], _int_nullspace([Xa[i].tolist() for i in held]))
        p["W1"] = W[:, :problem.X.shape[1]].contiguous()
        if bias:
            p["b1"] = W[:, -1].contiguous()
        A = torch.relu(Xa @ W.T)
        for _ in range(2):
            p["W2"] = p["W2"] - torch.linalg.pinv(A) @ (A @ p["W2"] - problem.targets)
        out[r] = torch.cat([p[k].reshape(-1) for k in problem.shapes])
    return out


def _on_null_space(w: torch.Tensor, basis: list) -> torch.Tensor:
    if not basis:
        return torch.zeros_like(w)
    N = torch.tensor(basis, dtype=w.dtype, device=w.device).T
    u = torch.linalg.lstsq(N, w[:, None]).solution[:, 0]
    return N @ (torch.round(u * 2.0 ** GRID) / 2.0 ** GRID)


def settle(problem: Problem, theta: torch.Tensor, schedule) -> torch.Tensor:
    """The kink phase (module docstring) from the end points θ (R, P), then ``exact_zeros``; per start, the
    feasible point with the least exact Tr among θ, the phase's end point and its exact-zero copy."""
    moved = descend(problem, theta, lambda t, T: counted_sharpness(problem, t), schedule=schedule,
                    extra=Kinks(problem, theta))
    best, best_tr = theta.clone(), _exact_or_inf(problem, theta)
    for cand in (moved, exact_zeros(problem, moved)):
        tr = _exact_or_inf(problem, cand)
        better = tr < best_tr
        best[better], best_tr[better] = cand[better], tr[better]
    return best


def _exact_or_inf(problem, theta):
    with torch.no_grad():
        tr = problem.sharpness(theta)
    ok = (residual_norms(problem, theta) <= FEASIBLE) & torch.isfinite(tr)
    return torch.where(ok, tr, torch.full_like(tr, math.inf))
