"""Dead directions (u·x_i < 0 on every training point): exact certificates, and where they exist."""
from __future__ import annotations

import itertools

import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st

from sharpgen.theory.dead_directions import dead_direction, is_dead_direction


def _cube_sample(d: int, n: int, seed: int) -> list[list[int]]:
    import random
    rng = random.Random(seed)
    return [[rng.choice((-1, 1)) for _ in range(d)] for _ in range(n)]


@given(st.lists(st.lists(st.integers(-3, 3), min_size=3, max_size=3), min_size=1, max_size=8))
@settings(max_examples=150, deadline=None)
def test_a_returned_direction_is_an_exact_certificate(X):
    u = dead_direction(X)
    if u is not None:
        assert all(isinstance(v, sp.Rational) for v in u)
        assert all(sum(a * b for a, b in zip(u, x)) < 0 for x in X)


@pytest.mark.parametrize("d", [2, 3, 4])
def test_none_when_the_points_surround_the_origin(d):
    cube = [list(x) for x in itertools.product((-1, 1), repeat=d)]
    assert dead_direction(cube) is None
    assert dead_direction([[0] * d]) is None  # u·0 = 0 is never < 0


def test_the_ledger_setting_at_n_equal_d_has_one_and_at_n_much_larger_none():
    found_small = [dead_direction(_cube_sample(30, 30, s)) is not None for s in range(3)]
    found_large = [dead_direction(_cube_sample(30, 300, s)) is not None for s in range(3)]
    assert all(found_small) and not any(found_large)


def test_is_dead_direction_is_strict():
    assert not is_dead_direction([1, -1], [[1, 1]])  # u·x = 0: not dead
    assert is_dead_direction([1, -1], [[-1, 1], [0, 1]])
