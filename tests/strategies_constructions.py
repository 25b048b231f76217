"""Hypothesis strategies for the paper's objects used by the construction/minimum tests.

Training sets are random distinct subsets of the hypercube {-1, 1}^d (SPEC §1),
labels either P_xor's x[1] x[2] or arbitrary exact rationals (zero included).
"""
from __future__ import annotations

import sympy as sp
from hypothesis import strategies as st

from theory.data import hypercube

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
