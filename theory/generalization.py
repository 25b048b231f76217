"""Population errors on P_xor, path norm and the Lemma 3.1 Rademacher bound.

``population_errors`` enumerates all 2^d points of {−1, 1}^d (P_xor, docs/paper.md §1:
y = x[1] x[2], x uniform) and returns the exact population MSE and zero-one
error (an output of exactly 0 counts as an error).

Method (exact, yet fast enough for d = 12 and width ~100):

1. A float64 forward pass (numpy) over the whole cube gives every
   pre-activation and output.
2. Zero-one error: a point whose float output has |f| > 1e-9 (1 + S), S a
   bound on the magnitudes summed into f (propagated through the layers), has
   a certain sign (float64 error is ~1e-16 S); the others are
   re-evaluated exactly (sympy ``forward``); an exact value is declared 0
   when sympy simplifies it to 0, otherwise its sign is read at 50 digits.
3. MSE: for relu MLPs (``nobias``, ``bias`` of any depth) with rational
   parameters, exactly by integer arithmetic (each layer scaled to integers,
   Python ints where int64 could overflow): a Rational. Otherwise the output
   of each point is rebuilt exactly from the pre-activations of its active
   neurons (activation pattern from the floats with the same margin, doubtful
   entries decided exactly; sim_bn's a_j always exact), memoised on the coordinates a neuron reads, and
   equal values are summed once: a sympy number (radicals allowed). Points
   with no active neuron have f = 0 exactly (``sim_ln``: 0/ε; ``sim_bn``: no
   term). Deeper relu nets with irrational weights: points with no active
   first-layer neuron have f = 0 exactly, the others are evaluated exactly by
   ``forward``. If this exact rebuild would cost more than ``EXACT_BUDGET``
   scalar operations (dense trained networks with irrational weights,
   softplus) the MSE is the float64 mean
   (``math.fsum``) returned as a ``sympy.Float``: exact in the zero-one error,
   1e-15-accurate in the MSE. The result's type (Rational/Expr vs Float) tells
   which happened.

Parameters with free symbols (e.g. a construction's scale k) are enumerated
exactly in sympy instead, for small instances only; the sign of each y f(x)
must then be decided by the symbols' assumptions.
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp

from sharpgen.theory.architectures import as_lists, check_model, evaluate
from sharpgen.theory.checks import check_dimension, check_integer, check_nonnegative
from sharpgen.theory.data import cube_array, hypercube, xor_labels
from sharpgen.theory.exact import sign, tidy
from sharpgen.theory.params import Params, check_is_params

EXACT_BUDGET = 400_000  # scalar sympy operations for the exact MSE rebuild
_MARGIN = 1e-9


def _floats(M) -> np.ndarray:
    return np.array(M.evalf(20).tolist(), dtype=float)


def _symbolic_errors(arch, params, d, kw):
    """Exact sympy enumeration for parameters with free symbols (e.g. a construction's scale)."""
    if 2 ** d * params.width * (d + 1) > EXACT_BUDGET:
        raise ValueError(f"params: free symbols {sorted(map(str, params.free_symbols))} need symbolic "
                         f"enumeration, too large for d = {d}, width {params.width}; substitute values")
    X = hypercube(d)
    Y = xor_labels(X)
    f = evaluate(arch, as_lists(params), X.tolist(), **kw)
    wrong = 0
    for i in range(X.rows):
        margin = sp.simplify(Y[i] * f[i])
        if margin.is_positive:
            continue
        if margin.is_nonpositive:
            wrong += 1
            continue
        raise ValueError(f"params: the sign of y f(x) at x = {list(X.row(i))} depends on the free "
                         f"symbols ({margin}); substitute values")
    mse = sp.simplify(sp.Add(*[(f[i] - Y[i]) ** 2 for i in range(X.rows)]) / X.rows)
    return mse, sp.Rational(wrong, X.rows)


def _relu_float(Z):
    return np.maximum(Z, 0.0)


def _float_forward(arch, params, X, eps, kappa, activation):
    """float64 outputs, a bound on the magnitudes summed per output (its float error
    is ~1e-16 of it), and the first-layer pre-activations with their own such bound."""
    W1 = _floats(params.W1)
    b1 = np.zeros(params.width) if params.b1 is None else _floats(params.b1)[:, 0]
    Z = X @ W1.T + b1
    Zscale = np.abs(X) @ np.abs(W1).T + np.abs(b1)
    H = np.logaddexp(0.0, Z) if activation == "softplus" else _relu_float(Z)
    Hscale = np.abs(H) + Zscale
    for M in params.middle:
        Mf = _floats(M)
        H = _relu_float(H @ Mf.T)
        Hscale = Hscale @ np.abs(Mf).T
    if arch == "sim_bn":
        # exact statistics: a float a_j could mistake a dead neuron for a barely alive one
        w = np.array([float(k) for k in kappa])
    else:
        w = _floats(params.W2)[:, 0]
    if arch == "sim_ln":
        denom = np.maximum(np.sqrt((H ** 2).sum(axis=1)), float(eps))[:, None]
        return (H * w / denom).sum(axis=1), (Hscale * np.abs(w) / denom).sum(axis=1), Z, Zscale
    return (H * w).sum(axis=1), (Hscale * np.abs(w)).sum(axis=1), Z, Zscale


def _lcm_scale(M):
    """(integer object array, L) with M = array / L exactly."""
    L = 1
    for v in M:
        L = math.lcm(L, int(sp.Rational(v).q))
    return np.array([[int(v * L) for v in row] for row in M.tolist()], dtype=object), L


def _int_matmul(A, B):
    """Exact integer product; int64 when no overflow is possible, Python ints otherwise."""
    bound = max((int(abs(v)) for v in A.flat), default=0) * max(
        (sum(int(abs(v)) for v in col) for col in B.T), default=0)
    if bound < 2 ** 62:
        return (A.astype(np.int64) @ B.astype(np.int64)).astype(object)
    return A.dot(B)


def _rational_mlp(params: Params, X, Y):
    """Exact (MSE, zero-one) of a relu MLP with rational parameters, by integer arithmetic."""
    Xp = X if params.b1 is None else np.hstack([X, np.ones((len(X), 1), dtype=np.int64)])
    Wi, scale = _lcm_scale(params.first_layer)
    H = _int_matmul(Xp.astype(object), Wi.T)
    H = np.where(H > 0, H, 0).astype(object)
    for M in params.middle:
        Mi, L = _lcm_scale(M)
        H = _int_matmul(H, Mi.T)
        H = np.where(H > 0, H, 0).astype(object)
        scale *= L
    Wo, L = _lcm_scale(params.W2)
    scale *= L
    out = [int(o) for o in _int_matmul(H, Wo)[:, 0]]  # f = out / scale, scale > 0
    total = sum((o - int(y) * scale) ** 2 for o, y in zip(out, Y))
    wrong = sum(1 for o, y in zip(out, Y) if o * int(y) <= 0)
    return sp.Rational(total, scale * scale * len(X)), sp.Rational(wrong, len(X))


def _sim_bn_kappa(params: Params, X_train: sp.Matrix):
    """Exact W2_j γ_j / a_j per neuron (0 for a dead neuron, docs/paper.md §2).

    With a rational first layer the training pre-activations are integers
    after scaling (fast); otherwise they are computed in sympy.
    """
    n = X_train.rows
    if all(v.is_Rational for v in params.first_layer) and all(v.is_Rational for v in X_train):
        Xs, Lx = _lcm_scale(X_train.row_join(sp.ones(n, 1)))
        Wi, L = _lcm_scale(params.first_layer)
        Z = _int_matmul(Wi, Xs.T)  # = (L Lx) (W1 x_i + b1)
        sums = [sum(int(v) ** 2 for v in row if v > 0) for row in Z]
        a = [sp.sqrt(sp.Rational(s, n)) / (L * Lx) for s in sums]
    else:
        Z = params.W1 * X_train.T + params.b1 * sp.ones(1, n)
        sums = [sp.Add(*[Z[j, i] ** 2 for i in range(n) if sign(Z[j, i]) > 0]) for j in range(params.width)]
        a = [sp.sqrt(s / n) for s in sums]
    return [sp.Integer(0) if s == 0 else params.W2[j] * params.gamma[j] / a[j] for j, s in enumerate(sums)]


class _Rebuild:
    """Exact outputs of a 2-layer relu-type net (nobias, bias, sim_bn, sim_ln) point by point.

    The active set of each point comes from the float pre-activations with a
    margin; doubtful entries are decided exactly. Exact pre-activations are
    memoised on the coordinates a neuron reads, outputs on the active set.
    """

    def __init__(self, arch, params, X, Z, Zscale, eps, kappa):
        self.arch, self.params, self.X, self.eps = arch, params, X, eps
        self.out_w = params.W2 if kappa is None else kappa
        self.support = [[k for k in range(params.d) if params.W1[j, k] != 0] for j in range(params.width)]
        self.sure_on = Z > _MARGIN * (1 + Zscale)
        self.maybe_on = self.sure_on | (np.abs(Z) <= _MARGIN * (1 + Zscale))
        self.z_memo, self.f_memo = {}, {}

    def cost(self, indices) -> int:
        return int(np.sum(self.maybe_on[indices])) * (self.params.d + 1)

    def _z(self, j, x):
        key = (j, tuple(int(x[k]) for k in self.support[j]))
        if key not in self.z_memo:
            b1 = self.params.b1
            self.z_memo[key] = (sp.Add(*[self.params.W1[j, k] * int(x[k]) for k in self.support[j]])
                                + (0 if b1 is None else b1[j]))
        return key, self.z_memo[key]

    def active(self, i):
        """[(memo key, exact z_j)] for the first-layer neurons with z_j(x_i) > 0."""
        x = self.X[i]
        out = []
        for j in np.nonzero(self.maybe_on[i])[0]:
            key, z = self._z(int(j), x)
            if self.sure_on[i, j] or sign(z) > 0:
                out.append((key, z))
        return out

    def output(self, i):
        active = self.active(i)
        fkey = tuple(k for k, _ in active)
        if fkey not in self.f_memo:
            num = sp.Add(*[self.out_w[k[0]] * z for k, z in active])
            if self.arch == "sim_ln" and active:
                norm = sp.sqrt(sp.Add(*[z ** 2 for _, z in active]))
                num = num / (norm if sign(norm - self.eps) >= 0 else self.eps)
            self.f_memo[fkey] = num
        return fkey, self.f_memo[fkey]


def _exact_two_layer(arch, params, X, Y, first, kappa, doubtful):
    """(errors among the doubtful points, exact MSE or None) of a 2-layer relu-type net, by ``_Rebuild``."""
    rebuild = _Rebuild(arch, params, X, *first, kappa)
    everything = np.arange(len(X))
    exact_all = rebuild.cost(everything) <= EXACT_BUDGET
    counts = {}
    for i in (everything if exact_all else doubtful):
        fkey, _ = rebuild.output(i)
        counts[(fkey, int(Y[i]))] = counts.get((fkey, int(Y[i])), 0) + 1
    signs, wrong = {}, 0
    for i in doubtful:
        fkey, value = rebuild.output(i)
        if fkey not in signs:
            signs[fkey] = sign(value)
        wrong += int(Y[i] * signs[fkey] <= 0)
    if not exact_all:
        return wrong, None
    return wrong, tidy(sp.Add(*[c * (rebuild.f_memo[fk] - y) ** 2 for (fk, y), c in counts.items()]) / len(X))


def _exact_deep(arch, params, X, Y, first, kw, doubtful):
    """(errors among the doubtful points, exact MSE or None) of a deeper or softplus net.

    No active first-layer neuron means f = 0 exactly at any depth (no later biases).
    Memorizing networks are 0 on most of the cube, so sympy is needed only elsewhere.
    """
    gate = _Rebuild(arch, params, X, *first, None) if kw["activation"] == "relu" else None
    live = None
    if gate is not None and gate.cost(np.arange(len(X))) <= EXACT_BUDGET:
        live = [i for i in range(len(X)) if gate.active(i)]
        if len(live) * params.width ** 2 * params.depth > EXACT_BUDGET:
            live = None
    P = as_lists(params)
    exact = {i: evaluate(arch, P, [X[i].tolist()], **kw)[0]
             for i in (doubtful if live is None else live) if gate is None or gate.active(i)}
    wrong = sum(int(Y[i] * sign(exact.get(i, 0)) <= 0) for i in doubtful)
    if live is None:
        return wrong, None
    dead = len(X) - len(exact)  # f = 0 there, (0 - y)² = 1
    return wrong, tidy(sp.Add(dead, *[(v - int(Y[i])) ** 2 for i, v in exact.items()]) / len(X))


def _check_population(arch, params, d, hyper) -> tuple[int, dict]:
    d = check_dimension(d)
    kw = check_model(arch, params, **hyper)
    if params.d != d:
        raise ValueError(f"d: expected params.d = {params.d} (columns of W1), got {d}")
    if arch == "sim_bn" and kw["X_train"] is None:
        raise ValueError("X_train: sim_bn population errors need the training inputs, got None")
    return d, kw


def population_errors(arch, params, d, *, activation="relu", eps=None, X_train=None, depth=None):
    """Exact population (MSE, zero-one error) on P_xor over all 2^d cube points (docs/paper.md §1).

    MSE = 2^{−d} Σ_x (f(x) − x[1]x[2])²; zero-one = 2^{−d} #{x : y f(x) <= 0}.
    ``sim_bn`` needs ``X_train`` (its normalisation statistics). See the module
    docstring for the exact method and when the MSE falls back to a Float.

    >>> p = Params(W1=sp.Matrix([[1, 1, 0], [-1, -1, 0], [1, -1, 0], [-1, 1, 0]]),
    ...            b1=sp.Matrix([-1, -1, -1, -1]), W2=sp.Matrix([1, 1, -1, -1]))
    >>> population_errors("bias", p, 3)   # f = x[1] x[2] on the whole cube
    (0, 0)
    >>> population_errors("bias", p, 4)
    Traceback (most recent call last):
    ...
    ValueError: d: expected params.d = 3 (columns of W1), got 4
    """
    d, kw = _check_population(arch, params, d, dict(activation=activation, eps=eps, X_train=X_train, depth=depth))
    if params.free_symbols:
        return _symbolic_errors(arch, params, d, kw)
    X = cube_array(d)
    Y = X[:, 0] * X[:, 1]
    if arch in ("nobias", "bias") and activation == "relu" and all(v.is_Rational for _, M in params.items() for v in M):
        return _rational_mlp(params, X, Y)
    kappa = _sim_bn_kappa(params, sp.Matrix(kw["X_train"])) if arch == "sim_bn" else None
    f, scale, Z, Zscale = _float_forward(arch, params, X.astype(float), kw["eps"], kappa, activation)
    doubtful = np.nonzero(np.abs(f) <= _MARGIN * (1 + scale))[0]
    wrong = int(np.sum(Y * f <= 0)) - int(np.sum(Y[doubtful] * f[doubtful] <= 0))
    first = (Z, Zscale, kw["eps"])
    if params.depth == 2 and activation == "relu":
        wrong_doubtful, mse = _exact_two_layer(arch, params, X, Y, first, kappa, doubtful)
    else:
        wrong_doubtful, mse = _exact_deep(arch, params, X, Y, first, kw, doubtful)
    if mse is None:
        mse = sp.Float(math.fsum(((f - Y) ** 2).tolist()) / len(X), 15)
    return mse, sp.Rational(wrong + wrong_doubtful, len(X))


def path_norm(params) -> sp.Expr:
    """Path norm Σ_j ||W1_j||_2 |W2_j| of a 2-layer net (Lemma 3.1's class Θ_C).

    W1_j is the j-th row of ``params.first_layer``: W1 for ``nobias`` (the
    paper's definition), the augmented row [W1_j | b1_j] when there is a bias.

    >>> path_norm(Params(W1=sp.Matrix([[3, 4], [1, 0]]), W2=sp.Matrix([2, -1])))
    11
    """
    check_is_params(params)
    if params.depth != 2:
        raise ValueError(f"params: path norm is defined for 2-layer nets, got depth {params.depth}")
    W = params.first_layer
    return sp.Add(*[sp.sqrt(sum(v ** 2 for v in W.row(j))) * sp.Abs(params.W2[j]) for j in range(params.width)])


def rademacher_bound(path_norm, d, n, *, radius=None) -> sp.Expr:
    """Lemma 3.1 / Lemma A.24: R_S({f^nobias_θ : path norm <= C}) <= 2 C B / sqrt(n).

    B bounds ||x_i||_2 on the sample; on the hypercube B = sqrt(d) (default),
    giving 2 C sqrt(d/n) = Õ(sqrt(d/n)). The factor 2 comes from passing from
    the unit sphere to the unit ball, Talagrand's contraction (relu is
    1-Lipschitz) and R_S of the unit-norm linear class <= B/sqrt(n) (Lemma A.25).

    >>> rademacher_bound(3, 4, 16)
    3
    >>> rademacher_bound(1, 4, 0)
    Traceback (most recent call last):
    ...
    ValueError: n: expected an integer >= 1, got 0
    >>> rademacher_bound(float("nan"), 4, 16)
    Traceback (most recent call last):
    ...
    ValueError: path_norm: expected a finite number >= 0, got nan
    """
    C = check_nonnegative("path_norm", path_norm)
    d = check_dimension(d)
    n = check_integer("n", n, 1)
    B = sp.sqrt(d) if radius is None else check_nonnegative("radius", radius)
    return 2 * C * B / sp.sqrt(n)
