"""Hypothesis strategies for the paper's objects on the exact (sympy) side.

Datasets are distinct points of the hypercube {-1, 1}^d (P_xor's support,
SPEC §1) with rational labels; parameters are small rationals in the
layout of ``theory.params.Params`` for each architecture of SPEC §2; an
interpolating network is a parameter draw together with the labels it fits.
"""
from __future__ import annotations

import itertools

import sympy as sp
from hypothesis import strategies as st

from theory.architectures import forward
from theory.params import Params


def rationals(bound: int = 3, denominator: int = 4):
    """Small exact rationals in [-bound, bound]."""
    return st.fractions(min_value=-bound, max_value=bound, max_denominator=denominator).map(
        lambda f: sp.Rational(f.numerator, f.denominator))


def matrices(rows: int, cols: int, **kw):
    return st.lists(rationals(**kw), min_size=rows * cols, max_size=rows * cols).map(
        lambda v: sp.Matrix(rows, cols, v))


@st.composite
def cube_points(draw, d: int, min_n: int = 1, max_n: int = 6):
    """n distinct points of {-1, 1}^d as an (n, d) Matrix."""
    cube = list(itertools.product((-1, 1), repeat=d))
    chosen = draw(st.lists(st.sampled_from(cube), min_size=min_n, max_size=min(max_n, len(cube)), unique=True))
    return sp.Matrix(chosen)


@st.composite
def params_for(draw, arch: str, width: int, d: int, depth: int = 2):
    """Rational parameters with exactly the fields ``arch`` uses (SPEC §2)."""
    W1, W2 = draw(matrices(width, d)), draw(matrices(width, 1))
    b1 = None if arch == "nobias" else draw(matrices(width, 1))
    gamma = draw(matrices(width, 1)) if arch == "sim_bn" else None
    middle = tuple(draw(matrices(width, width)) for _ in range(depth - 2))
    return Params(W1=W1, W2=W2, b1=b1, gamma=gamma, middle=middle)


# (arch, hyper) cases covering every architecture and variant of SPEC §2.
CASES = [
    ("nobias", {}),
    ("bias", {}),
    ("bias", {"activation": "softplus"}),
    ("bias", {"depth": 3}),
    ("sim_bn", {}),
    ("sim_ln", {"eps": sp.Rational(1, 10)}),
]


@st.composite
def problems(draw, case, max_width: int = 4, max_d: int = 3, max_n: int = 5):
    """(arch, params, X, Y, hyper): a random instance, labels rational (not interpolating)."""
    arch, hyper = case
    small = hyper.get("activation") == "softplus"  # transcendental terms: keep it small
    width = draw(st.integers(1, 2 if small else max_width))
    d = draw(st.integers(2, max_d))
    X = draw(cube_points(d, max_n=3 if small else max_n))
    params = draw(params_for(arch, width, d, hyper.get("depth", 2)))
    Y = draw(matrices(X.rows, 1))
    return arch, params, X, Y, hyper


@st.composite
def interpolating(draw, case, **kw):
    """A random instance whose labels are the network's own outputs (f(x_i) = y_i)."""
    arch, params, X, _, hyper = draw(problems(case, **kw))
    return arch, params, X, forward(arch, params, X, **hyper), hyper
