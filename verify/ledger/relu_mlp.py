"""Exact ||∇θ f(x)||² of a depth-D relu ``bias``/``nobias`` MLP by backpropagation in sympy (F2 at any depth).

``theory.sharpness`` has F2 for depth 2 only (``relu_grad_norm_sq``) and the general trace by
forward-mode jets, which costs one pass per parameter; the ledger's depth-3 properties need
hundreds of exact traces, so the closed form lives here. For a relu MLP with layers
z_1 = W1' x', a_l = relu(z_l), z_{l+1} = W_{l+1} a_l and f = W_D · a_{D−1}:
||∇f||² = Σ_l ||δ_l||² ||a_{l−1}||² + ||a_{D−1}||², δ_{D−1} = W_D ⊙ 1[z_{D−1} > 0],
δ_{l−1} = (W_lᵀ δ_l) ⊙ 1[z_{l−1} > 0] (relu'(0) = 0). At interpolation
Tr ∇²L = (2/n) Σ_i ||∇f(x_i)||² (Lemma 4.1).

>>> from sharpgen.theory.params import Params
>>> p = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([2]))
>>> grad_norm_sq(p, [3, 4])   # W2² ||x'||² + relu(W1' x')² = 4·26 + 9, as theory's F2
113
"""
from __future__ import annotations

import sympy as sp


def positive(v) -> bool:
    """v > 0 for an exact real number: rationals directly, others from 50 digits unless they are within
    1e-40 of 0, where ``simplify`` decides (relu's kink: relu'(0) = 0). Much faster than sympy's
    relational ``v > 0`` on nested radicals.

    >>> positive(sp.sqrt(2) - sp.Rational(141, 100)), positive(sp.sqrt(8) - 2 * sp.sqrt(2))
    (True, False)
    """
    v = sp.sympify(v)
    if v.is_Rational:
        return bool(v > 0)
    x = sp.N(v, 50)
    if abs(x) > sp.Float(10) ** -40:
        return bool(x > 0)
    return bool(sp.simplify(v) > 0)


def _step(z: sp.Matrix) -> sp.Matrix:
    return z.applyfunc(lambda v: sp.Integer(1) if positive(v) else sp.Integer(0))


def grad_norm_sq(params, x) -> sp.Expr:
    """||∇θ f(x)||² over every parameter (first layer with its bias, middle layers, output layer)."""
    x = sp.Matrix(list(x))
    a = [x.col_join(sp.Matrix([1])) if params.b1 is not None else x]
    W = [params.first_layer, *params.middle]
    z = []
    for M in W:
        z.append(M * a[-1])
        a.append(z[-1].applyfunc(lambda v: v if positive(v) else sp.Integer(0)))
    total = (a[-1].T * a[-1])[0]
    delta = params.W2.multiply_elementwise(_step(z[-1]))
    for layer in range(len(W) - 1, -1, -1):
        total += (delta.T * delta)[0] * (a[layer].T * a[layer])[0]
        if layer > 0:
            delta = (W[layer].T * delta).multiply_elementwise(_step(z[layer - 1]))
    return total


def trace_at_interpolation(params, X) -> sp.Expr:
    """(2/n) Σ_i ||∇f(x_i)||²: Tr ∇²L of an interpolating relu MLP (Lemma 4.1)."""
    X = sp.Matrix(X)
    return sp.Rational(2, X.rows) * sp.Add(*[grad_norm_sq(params, X.row(i)) for i in range(X.rows)])
