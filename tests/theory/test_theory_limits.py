"""Issue 13, class 6, on the exact side: enumerating the cube is refused up front above a stated limit
(d = 40 once exhausted 24 GB), and the vectorised cube keeps hypercube's row order."""
from __future__ import annotations

import itertools
import time

import pytest
import sympy as sp

from sharpgen.theory.data import CUBE_ARRAY_MAX_D, HYPERCUBE_MAX_D, cube_array, hypercube
from sharpgen.theory.generalization import POPULATION_BUDGET, population_errors
from sharpgen.theory.params import Params


@pytest.mark.parametrize("d", [2, 3, 7, 11])
def test_cube_array_rows_in_lexicographic_order(d):
    assert cube_array(d).tolist() == [list(r) for r in itertools.product((-1, 1), repeat=d)]


@pytest.mark.parametrize("make,limit,name", [(cube_array, CUBE_ARRAY_MAX_D, "cube_array"),
                                             (hypercube, HYPERCUBE_MAX_D, "hypercube")])
@pytest.mark.parametrize("excess", [1, 20])
def test_cube_enumeration_refuses_large_d_at_once(make, limit, name, excess):
    d = limit + excess
    start = time.monotonic()
    with pytest.raises(ValueError, match=f"^d: expected an integer in \\[2, {limit}\\] for {name}, got {d} \\(it "
                                         f"holds all 2\\^d = {2 ** d} cube points; larger d would exhaust memory"):
        make(d)
    assert time.monotonic() - start < 1.0  # refused before any allocation


def wide_net(d: int, width: int) -> Params:
    return Params(W1=sp.ones(width, d), b1=sp.zeros(width, 1), W2=sp.ones(width, 1))


@pytest.mark.parametrize("d,width", [(40, 3), (21, 1), (20, 40), (16, 600)])
def test_population_errors_refuse_what_would_exhaust_memory(d, width):
    assert 2 ** d * (width + d + 1) > POPULATION_BUDGET
    with pytest.raises(ValueError, match=f"^d: exact population errors enumerate all 2\\^d cube points, holding "
                                         f"2\\^d \\(width \\+ d \\+ 1\\) = .* numbers for d = {d}, width {width}, above "
                                         f"the limit {POPULATION_BUDGET} \\(about 1 GB\\); use the error on a sample"):
        population_errors("bias", wide_net(d, width), d)


def test_population_errors_just_below_the_limit_still_run():
    # d = 16, width 3: 2^16 * 20 numbers, well inside. W1 = 0, b1 = 1, W2 = 1: f = 3 on every point, so
    # (f - y)^2 is 4 (y = 1) or 16 (y = -1, an error), each on half the cube
    mse, zero_one = population_errors("bias", Params(W1=sp.zeros(3, 16), b1=sp.ones(3, 1), W2=sp.ones(3, 1)), 16)
    assert (mse, zero_one) == (sp.Integer(10), sp.Rational(1, 2))
