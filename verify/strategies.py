"""Hypothesis strategies that generate the paper's objects (public API).

Use them in your own property tests::

    from hypothesis import given
    from sharpgen.verify.strategies import cube_subsets

    @given(cube_subsets())
    def test_my_claim(problem):
        d, X = problem
        ...

Exact side (sympy): distinct points of the hypercube {-1, 1}^d (the support
of P_xor, docs/paper.md §1) with rational labels, rational parameters in the
shared layout of ``sharpgen.theory.params.Params`` for every architecture of
docs/paper.md §2, and networks together with the labels they interpolate.
Torch side: small random ``Net`` instances of every architecture on P_xor
training sets, interpolating or not.
"""
from __future__ import annotations

import itertools

import sympy as sp
import torch
from hypothesis import strategies as st

from sharpgen.numerics.data import xor_dataset
from sharpgen.numerics.initialization import build
from sharpgen.theory.architectures import forward
from sharpgen.theory.data import hypercube
from sharpgen.theory.params import Params

# ---------------------------------------------------------------- exact (sympy)

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
    """Rational parameters with exactly the fields ``arch`` uses (docs/paper.md §2)."""
    W1, W2 = draw(matrices(width, d)), draw(matrices(width, 1))
    b1 = None if arch == "nobias" else draw(matrices(width, 1))
    gamma = draw(matrices(width, 1)) if arch == "sim_bn" else None
    middle = tuple(draw(matrices(width, width)) for _ in range(depth - 2))
    return Params(W1=W1, W2=W2, b1=b1, gamma=gamma, middle=middle)


# (arch, hyper) cases covering every architecture and variant of docs/paper.md §2 (exact side).
EXACT_CASES = [
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


LABELS = tuple(sp.Rational(v) for v in ("-2", "-1", "-1/2", "0", "1/3", "1", "3/2", "4"))


@st.composite
def cube_subsets(draw, dims=(3, 4, 5), min_n=1, max_n=8):
    """(d, X): d from ``dims`` and n distinct cube points as rows, min_n <= n <= max_n."""
    d = draw(st.sampled_from(dims))
    n = draw(st.integers(min_n, min(max_n, 2 ** d)))
    rows = draw(st.lists(st.integers(0, 2 ** d - 1), min_size=n, max_size=n, unique=True))
    return d, hypercube(d)[rows, :]


def labels(n: int):
    """n exact labels from ``LABELS`` (a column), zeros and non-unit magnitudes included."""
    return st.lists(st.sampled_from(LABELS), min_size=n, max_size=n).map(sp.Matrix)


# ---------------------------------------------------------------- torch

# (arch, hyperparameters) covering every architecture / activation / depth the paper trains.
ARCH_CASES = (
    ("nobias", {}),
    ("bias", {}),
    ("bias", {"depth": 3}),
    ("bias", {"depth": 4}),
    ("bias", {"activation": "softplus"}),
    ("bias", {"activation": "softplus", "depth": 3}),
    ("bias", {"activation": "softplus", "depth": 4}),
    ("sim_ln", {"eps": 1e-3}),
    ("sim_ln", {"eps": 1.5}),
    ("sim_bn", {}),
)


def arch_cases():
    """An (arch, hyper) pair from ``ARCH_CASES``."""
    return st.sampled_from(ARCH_CASES)


@st.composite
def xor_problems(draw, max_d: int = 4, max_width: int = 5):
    """(net, X, Y): a random network of any architecture on a P_xor training set.

    Y is the xor labels (not interpolating), or the network's own outputs
    (interpolating), or those plus a small perturbation.
    """
    arch, hyper = draw(arch_cases())
    d = draw(st.integers(2, max_d))
    n = draw(st.integers(1, min(6, 2 ** d)))
    width = draw(st.integers(1, max_width))
    scale = draw(st.sampled_from([1.0, 0.3, 3.0]))
    seed = draw(st.integers(0, 2 ** 16))
    net = build(arch, d, width, init_scale_first_layer=scale, seed=seed, **hyper)
    data = xor_dataset(d, n, seed=seed)
    net.set_training_inputs(data.X)
    labels = draw(st.sampled_from(["xor", "interpolate", "near"]))
    with torch.no_grad():
        f = net(data.X)
    Y = {"xor": data.Y, "interpolate": f, "near": f + 0.1 * data.Y}[labels]
    return net, data.X, Y.detach().clone()
