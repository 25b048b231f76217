"""theory.concentration: exact tails against brute-force enumeration, the exact PSD test against
eigenvalues, the circle covering against its definition; theory.dead_directions.origin_interior."""
import itertools
import math

import numpy as np
import pytest
import sympy as sp

from sharpgen.theory.concentration import circle_covering, is_psd, square_distribution, tail_probability
from sharpgen.theory.dead_directions import origin_interior


@pytest.mark.parametrize("k, n, positive_only", [(2, 3, False), (3, 2, False), (2, 3, True), (3, 3, True)])
def test_tail_probability_equals_enumeration_of_every_training_set(k, n, positive_only):
    lo, hi = sp.Rational(1, 2), sp.Rational(3, 2)
    outside = 0
    for xs in itertools.product((-1, 1), repeat=k * n):
        total = 0
        for i in range(n):
            s = sum(xs[i * k:(i + 1) * k])
            total += sp.Rational(s * s, k) if (s > 0 or not positive_only) else 0
        outside += not (lo <= total / n <= hi)
    assert tail_probability(k, n, lo=lo, hi=hi, positive_only=positive_only) == sp.Rational(outside, 2 ** (k * n))


def test_square_distribution_has_mean_one_and_half_of_it_positive():
    for k in (1, 2, 3, 4, 5):
        full, pos = square_distribution(k), square_distribution(k, positive_only=True)
        assert sum(full.values()) == 1 and sum(v * p for v, p in full.items()) == 1  # E (w·x)² = ||w||² = 1
        assert sum(v * p for v, p in pos.items()) == sp.Rational(1, 2)                # symmetry


def test_is_psd_agrees_with_eigenvalues_including_singular_matrices():
    rng = np.random.default_rng(0)
    for _ in range(40):
        B = rng.integers(-3, 4, size=(4, rng.integers(1, 5)))
        M = B @ B.T                                   # PSD, often singular
        shift = int(rng.integers(-2, 3))
        S = M - shift * np.eye(4, dtype=int)
        expected = np.linalg.eigvalsh(S.astype(float)).min() >= -1e-9
        assert is_psd(S.tolist()) == expected
    assert not is_psd([[0, 1], [1, 0]]) and is_psd([[0, 0], [0, 0]])


@pytest.mark.parametrize("eps", [sp.Rational(1, 2), sp.Rational(1, 4), sp.Rational(1, 16), sp.Rational(3, 2)])
def test_circle_covering_is_the_fewest_covering_count(eps):
    N = circle_covering(eps)
    chord = lambda m: 2 * math.sin(math.pi / (2 * m))  # farthest point from m equally spaced centres
    assert chord(N) <= float(eps) + 1e-15 and (N == 1 or 4 * (N - 1) * math.asin(float(eps) / 2) < 2 * math.pi)


def test_origin_interior_needs_more_than_d_points_around_it():
    square = [[1, 1], [1, -1], [-1, 1], [-1, -1]]
    assert origin_interior(square) and not origin_interior(square[:3])
    assert not origin_interior([[1, 0], [-1, 0], [0, 1]])      # w = (0, -1): w·x <= 0 on all, = 0 on two
    assert not origin_interior([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]])  # they do not span R^3
