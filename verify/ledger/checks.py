"""What a ledger property is (``Property``, ``Measure``) and the checks the property parts
(``props_mlp``, ``props_norm``) share.

Float comparisons: a construction is loaded into a float64 torch net, its Tr ∇²L computed by
``numerics``' closed form and compared with the exact ``theory`` minimum to a relative ``REL`` = 1e-9;
interpolation is checked to 1e-9. Where the float evaluation is ill-conditioned the exact
checks (``exact_attains``) compare with ``theory.exact.same``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import sympy as sp
from hypothesis import strategies as st

from sharpgen.numerics.nets.sharpness import trace_hessian
from sharpgen.theory import constructions, sharpness
from sharpgen.theory.architectures import forward
from sharpgen.theory.exact import positive, same
from sharpgen.theory.generalization import population_errors
from sharpgen.theory.minimum import min_sharpness
from sharpgen.verify import strategies as S
from sharpgen.verify.ledger.exact_tools import gap

REL = 1e-9


@dataclass
class Measure:
    """What a property's check found on one example."""

    ok: bool
    discrepancy: float
    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Property:
    """``check(example) -> Measure`` over ``strategy()`` examples, for ledger entry ``entry``."""

    entry: str
    name: str
    statement: str
    strategy: Callable
    check: Callable
    discrepancy: str


def rel_gap(a: float, b: float) -> float:
    """|a − b| / max(1, |b|).

    >>> rel_gap(2.0, 2.0), rel_gap(3.0, 2.0)
    (0.0, 0.5)
    """
    return abs(float(a) - float(b)) / max(1.0, abs(float(b)))


def float_trace(itp) -> float:
    """numerics' float64 Tr ∇²L of a loaded interpolator (``strategies.load``)."""
    return trace_hessian(itp.net, itp.X_t, itp.Y_t)


def minimum(itp):
    """The exact minimum sharpness (F3-F6) on the interpolator's training set."""
    return min_sharpness(itp.arch, itp.X, itp.Y, **itp.hyper).value


def xor(X) -> sp.Matrix:
    """The P_xor labels x[1] x[2] of the rows of X.

    >>> xor(sp.Matrix([[1, -1, 1], [-1, -1, 1]])).T
    Matrix([[-1, 1]])
    """
    return sp.Matrix([x[0] * x[1] for x in X.tolist()])


def attains(itp, *, memorizing: bool = False) -> Measure:
    """The net interpolates (1e-9), attains the exact minimum (relative 1e-9), and, if ``memorizing``,
    neuron i fires on training point i only (dead when y_i = 0: Def 4.2)."""
    tr, best = float_trace(itp), minimum(itp)
    disc = max(rel_gap(tr, best), itp.residual)
    values = {"trace": tr, "min": str(best), "interpolation_residual": itp.residual, "discrepancy": disc}
    ok = disc <= REL
    if memorizing:
        fires = (itp.net.W1.detach() @ itp.X_t.T + itp.net.b1.detach()[:, None] > 0).to(int).tolist()
        want = [[int(i == j and itp.Y[i] != 0) for i in range(itp.X.rows)] for j in range(itp.X.rows)]
        values["activations"] = fires
        ok &= fires == want
    return Measure(ok, disc, values)


def exact_trace(itp):
    """Exact Tr ∇²L of the interpolator's exact parameters: F2 by backpropagation for relu nets (any
    depth; = Tr at interpolation, Lemma 4.1), jets otherwise."""
    if itp.arch in ("bias", "nobias"):
        return sharpness.relu_trace(itp.params, itp.X)
    return sharpness.trace_hessian(itp.arch, itp.params, itp.X, itp.Y, **itp.hyper)


def exact_attains(itp, *, memorizing: bool = False) -> Measure:
    """Exact version of ``attains`` for constructions whose float evaluation is ill-conditioned (the LP
    witnesses of off-cube sets make first-layer weights ~1e6, so f = W1 x + b1 cancels ~7 digits): exact
    interpolation, exact activation pattern, exact Tr."""
    p, X, Y = itp.params, itp.X, itp.Y
    tr, best = exact_trace(itp), minimum(itp)
    ok = interpolates_exactly(itp) and same(tr, best)
    values = {"trace": str(tr), "min": str(best)}
    if memorizing:
        Z = p.W1 * X.T + p.b1 * sp.ones(1, X.rows)
        fires = [[int(positive(Z[j, i])) for i in range(X.rows)] for j in range(p.width)]
        values["activations"] = fires
        ok &= fires == [[int(i == j and Y[i] != 0) for i in range(X.rows)] for j in range(X.rows)]
    return Measure(ok, gap(tr, best), values)


def interpolates_exactly(itp) -> bool:
    """f(x_i) = y_i for the exact parameters (``theory.exact.same``)."""
    out = forward(itp.arch, itp.params, itp.X, **itp.hyper)
    return all(same(f, y) for f, y in zip(out, itp.Y))


def above_minimum(itp) -> Measure:
    """Tr ∇²L >= the exact minimum over interpolators (F3-F6): exactly for an exact relu net (a rebalanced
    construction, ``itp.params``), to a relative 1e-9 for a float one."""
    if itp.params is not None and itp.arch in ("bias", "nobias"):
        tr, best = exact_trace(itp), minimum(itp)
        below = max(0.0, float(sp.N(best - tr, 30)))
        ok = interpolates_exactly(itp) and (below == 0.0 or same(tr, best))
        return Measure(ok, 0.0 if same(tr, best) else below, {"trace": str(tr), "min": str(best)})
    tr, best = float_trace(itp), minimum(itp)
    below = max(0.0, (float(best) - tr) / max(1.0, abs(float(best))))
    return Measure(below <= REL and itp.residual <= 1e-9, below,
                   {"trace": tr, "min": str(best), "interpolation_residual": itp.residual, "discrepancy": below})


@st.composite
def generalizing_nets(draw, arch, dims=(2, 3, 4, 5, 6, 7, 8), **hyper):
    """The generalizing construction (C2, C3, C5, C6) of ``arch`` on a random cube subset, loaded."""
    d, X = draw(S.cube_subsets(dims=dims, max_n=10))
    return S.load(arch, constructions.generalizing(arch, d, **hyper), X, xor(X), **hyper)


def generalizes(itp) -> Measure:
    """``attains`` and exact population error 0 on P_xor (Prop 4.2, 5.2, Thm 3.1)."""
    m = attains(itp)
    eps = {"eps": itp.hyper["eps"]} if "eps" in itp.hyper else {}
    _, err = population_errors(itp.arch, itp.params, itp.X.cols, **eps)
    m.values["population_zero_one"] = str(err)
    return Measure(m.ok and err == 0, max(m.discrepancy, float(err)), m.values)
