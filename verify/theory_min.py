"""The bridge from a training run to theory: the exact minimum of Tr ∇²L for the run's own training set.

``numerics`` never imports sympy, so ``sharpgen train`` computes the value
here (``theory.minimum.min_sharpness``, docs/paper.md §3 F3-F6) and hands the
float to ``numerics.train.train``, which logs it beside the measured trace.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp

from sharpgen.numerics.runs.config import TrainConfig
from sharpgen.numerics.runs.train import make_dataset
from sharpgen.theory.minimum import min_sharpness

CUBE_DATA = ("xor", "condition1")  # points on {-1, 1}^d with xor labels: exact integers


@dataclass(frozen=True)
class TheoryMinimum:
    """The theory's minimum sharpness for a run: ``value`` (None when the theory has none for this
    setting), whether it is ``exact`` (else a lower bound), and ``source`` (the result used, or why none)."""

    value: float | None
    exact: bool
    source: str


def _exact_points(config: TrainConfig, data) -> tuple[list, list]:
    X, Y = data.X.tolist(), data.Y.tolist()
    if config.data in CUBE_DATA:
        return [[int(v) for v in row] for row in X], [sp.Integer(int(v)) for v in Y]
    return [[sp.Rational(repr(v)) for v in row] for row in X], [sp.Rational(repr(v)) for v in Y]


def theory_min_for(config: TrainConfig, data=None) -> TheoryMinimum:
    """Exact infimum of Tr ∇²L over the training-loss minimizers of the run's training set ``data``
    (``numerics.train.make_dataset(config)`` when None).

    MSE: ``theory.minimum.min_sharpness`` (F3-F6). Logistic loss with label
    smoothing p: the minimizers interpolate the labels γ_p·y, γ_p = ln((1-p)/p)
    (Thm A.2), where ℓ' = 0 and ℓ'' = σ(γ_p)σ(-γ_p) = p(1-p), so
    Tr ∇²L = p(1-p)·(1/n) Σ ||∇f||² = (p(1-p)/2)·(the MSE trace for labels γ_p·y);
    the infimum is that factor times the MSE infimum for the scaled labels.

    >>> theory_min_for(TrainConfig(arch="bias", d=3, n=4, width=4))   # F3: 4 sqrt(d + 1)
    TheoryMinimum(value=8.0, exact=True, source='F3 (Thm 4.1, attained by C1)')
    """
    if data is None:
        data = make_dataset(config)
    X, Y = _exact_points(config, data)
    factor = sp.Integer(1)
    if config.loss == "logistic":
        p = sp.Rational(repr(config.p))
        Y = [sp.log((1 - p) / p) * y for y in Y]
        factor = p * (1 - p) / 2
    hyper = {"depth": config.depth, "activation": config.activation}
    if config.eps is not None:
        hyper["eps"] = sp.Rational(repr(config.eps))
    try:
        result = min_sharpness(config.arch, X, Y, **hyper)
    except ValueError as err:
        return TheoryMinimum(None, False, f"no theory minimum for this setting ({err})")
    value = float(factor * result.value)
    return TheoryMinimum(value if math.isfinite(value) else None, bool(result.exact), result.source)
