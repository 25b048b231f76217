"""numerics.data: P_xor, the cube, Condition 1, the ball and the circle (docs/paper.md §1, §4, §6)."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sharpgen.numerics.nets.data import (Dataset, ball_dataset, circle_dataset, condition1_dataset, cube, xor_dataset,
                           xor_labels)
from sharpgen.theory import data as TD


def rows(X: torch.Tensor) -> list[tuple]:
    return [tuple(r) for r in X.long().tolist()]


@pytest.mark.parametrize("d", [2, 3, 5])
def test_cube_has_theory_row_order(d):
    assert cube(d).tolist() == [[float(v) for v in r] for r in TD.hypercube(d).tolist()]


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 7), st.data())
def test_xor_dataset_small_cube(d, data):
    n = data.draw(st.integers(1, 2 ** d))
    n_test = data.draw(st.integers(1, 200))
    seed = data.draw(st.integers(0, 10 ** 6))
    ds = xor_dataset(d, n, n_test=n_test, seed=seed)
    train, test = rows(ds.X), rows(ds.X_test)
    assert ds.n == n and ds.d == d and len(set(train)) == n
    assert not set(train) & set(test) and len(set(test)) == len(test)
    assert all(v in (-1, 1) for r in train + test for v in r)
    assert torch.equal(ds.Y, ds.X[:, 0] * ds.X[:, 1]) and torch.equal(ds.Y_test, ds.X_test[:, 0] * ds.X_test[:, 1])
    rest = 2 ** d - n
    # the whole rest of the cube when it fits in n_test, otherwise n_test fresh points
    assert len(test) == (rest if rest <= n_test else n_test)
    assert ds.X.dtype == ds.Y.dtype == ds.X_test.dtype == torch.float64


def test_xor_dataset_is_seeded():
    a, b = xor_dataset(30, 100, n_test=50, seed=5), xor_dataset(30, 100, n_test=50, seed=5)
    assert torch.equal(a.X, b.X) and torch.equal(a.X_test, b.X_test)
    assert not torch.equal(a.X, xor_dataset(30, 100, n_test=50, seed=6).X)


def test_xor_dataset_large_cube_is_distinct_and_disjoint():
    ds = xor_dataset(30, 100, n_test=500, seed=0)
    train, test = rows(ds.X), rows(ds.X_test)
    assert len(set(train)) == 100 and len(set(test)) == 500 and not set(train) & set(test)
    # x[1] x[2] is balanced: a fair sample has both labels
    assert 20 < int((ds.Y > 0).sum()) < 80


def test_condition1_dataset_matches_theory():
    for d, tails in ((3, None), (5, None), (4, [(1, 1), (-1, 1), (1, -1)])):
        ds = condition1_dataset(d, tails)
        X, Y = TD.condition1_set(d, tails)
        assert ds.X.tolist() == [[float(v) for v in r] for r in X.tolist()]
        assert ds.Y.tolist() == [float(v) for v in Y]
        assert not set(rows(ds.X)) & set(rows(ds.X_test))
        assert ds.X_test.shape[0] == 2 ** d - ds.n
    with pytest.raises(ValueError, match=r"^tails: differences of the tails span a space of dimension 1"):
        condition1_dataset(4, tails=[(1, 1), (-1, -1)])
    with pytest.raises(ValueError, match=r"^tails: each tail must be a point of"):
        condition1_dataset(4, tails=[(1, 1, 1)])


def test_ball_dataset():
    ds = ball_dataset(10, 500, n_test=200, seed=1)
    norms = ds.X.norm(dim=1)
    assert (norms <= 10 ** 0.5).all() and ds.X_test.shape == (200, 10)
    # uniform in the ball: P(||x|| <= r/2) = 2^-10, so almost all mass is near the sphere
    assert (norms > 0.5 * 10 ** 0.5).float().mean() > 0.97
    assert torch.equal(ds.Y, ds.X[:, 0].abs() - ds.X[:, 1].abs())
    assert (ball_dataset(3, 50, radius=0.5, seed=0).X.norm(dim=1) <= 0.5).all()
    with pytest.raises(ValueError, match=r"^radius: expected a finite number > 0"):
        ball_dataset(3, 5, radius=-1.0)


def test_circle_dataset():
    ds = circle_dataset(40, n_test=30, seed=3)
    assert torch.allclose(ds.X.norm(dim=1), torch.ones(40, dtype=torch.float64))
    assert set(ds.Y.tolist()) <= {1.0, -1.0} and ds.X_test.shape == (30, 2)
    assert torch.equal(ds.Y, torch.where(ds.X[:, 0] * ds.X[:, 1] >= 0, 1.0, -1.0).double())


@pytest.mark.parametrize("call, message", [
    (lambda: xor_dataset(1, 1), r"^d: expected an integer >= 2, got 1"),
    (lambda: xor_dataset(3, 0), r"^n: expected an integer in \[1, 8\], got 0"),
    (lambda: xor_dataset(3, 9), r"^n: expected an integer in \[1, 8\], got 9"),
    (lambda: xor_dataset(3, 2, n_test=0), r"^n_test: expected an integer >= 1"),
    (lambda: xor_dataset(3, 2, seed=None), r"^seed: expected an integer"),
    (lambda: cube(1), r"^d: expected an integer in \[2, 20\]"),
    (lambda: ball_dataset(10, 0), r"^n: expected an integer >= 1"),
    (lambda: circle_dataset(0), r"^n: expected an integer >= 1"),
    (lambda: Dataset([[1.0, float("nan")]], [1.0], [[1.0, 1.0]], [1.0]), r"^X: expected finite values"),
    (lambda: Dataset([[1.0, 1.0]], [float("inf")], [[1.0, 1.0]], [1.0]), r"^Y: expected finite values"),
    (lambda: Dataset([[1.0, 1.0]], [1.0, 2.0], [[1.0, 1.0]], [1.0]), r"^Y: expected shape \(1,\)"),
    (lambda: Dataset([[1.0]], [1.0], [[1.0]], [1.0]), r"^X: expected shape \(n >= 1, d >= 2\)"),
    (lambda: Dataset([[1.0, 1.0]], [1.0], [[1.0, 1.0, 1.0]], [1.0]), r"^X_test: expected shape \(n >= 0, 2\)"),
    (lambda: xor_labels([[1.0, float("nan")]]), r"^X: expected finite values"),
])
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_dataset_to_device_keeps_values():
    ds = xor_dataset(3, 4, seed=0)
    moved = ds.to("cpu")
    assert torch.equal(moved.X, ds.X) and torch.equal(moved.Y_test, ds.Y_test)
