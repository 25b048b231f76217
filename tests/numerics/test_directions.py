"""numerics.search.directions: the least statistic over unit directions, against cases known exactly."""
import pytest
import torch

from sharpgen.numerics.nets.data import cube
from sharpgen.numerics.search.directions import STATISTICS, least, statistic_values


def test_the_square_and_the_cube_reach_their_exact_least_fraction():
    assert least(cube(2), "positive_fraction", starts=8, iterations=100).value == 0.25
    # on the whole cube {-1,1}^3, P(w·x > 0) is least (1/4) where w·x = 0 on half the points
    assert least(cube(3), "positive_fraction", starts=16, iterations=150).value == 0.25


@pytest.mark.parametrize("statistic", STATISTICS)
def test_a_set_missed_by_a_direction_has_least_value_zero(statistic):
    X = torch.tensor([[1., 1., 1.], [1., -1., 1.], [1., 1., -1.]], dtype=torch.float64)  # x1 = 1 on all
    res = least(X, statistic, starts=16, iterations=200)
    assert res.value <= 1e-6 and abs(float(res.direction.norm()) - 1) < 1e-12
    assert float(statistic_values(X, res.direction[None], statistic)[0]) == res.value


def test_statistic_values_match_their_formulas():
    g = torch.Generator().manual_seed(3)
    X, W = torch.randn(7, 4, generator=g, dtype=torch.float64), torch.randn(5, 4, generator=g, dtype=torch.float64)
    z = W @ X.T
    assert torch.equal(statistic_values(X, W, "positive_fraction"), (z > 0).double().mean(1))
    assert torch.allclose(statistic_values(X, W, "positive_square"), torch.where(z > 0, z * z, 0).mean(1))
    assert torch.allclose(statistic_values(X, W, "mean_relu"), torch.relu(z).mean(1))
    with pytest.raises(ValueError, match="statistic: expected one of"):
        least(X, "median")
