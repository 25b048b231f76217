"""Training and test sets of the paper's experiments (docs/paper.md §1, §4, §6) as float64 tensors.

Every sampler takes an explicit ``seed`` (an integer in [0, 2^64 - 1], as
``TrainConfig`` allows) and draws from a local ``torch.Generator``; nothing
touches the global RNG. Cube data above ``limits.CUBE_LIMIT`` is sampled;
sizes the sampler cannot serve are refused up front (``limits.check_cube_sizes``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from sharpgen.numerics.runs.limits import CUBE_LIMIT, SEED_MAX, check_cube_sizes
from sharpgen.numerics.validate import check_int, is_int


def _generator(seed) -> torch.Generator:
    check_int("seed", seed, 0, SEED_MAX)
    return torch.Generator().manual_seed(seed)


def check_points(name: str, X, d: int | None = None, *, allow_empty: bool = False) -> torch.Tensor:
    """X as a float64 (n, d) tensor with n >= 1 (n >= 0 if ``allow_empty``), d >= 2 and finite
    entries, else ValueError naming ``name``.

    >>> check_points("X", [[1, -1]]).dtype
    torch.float64
    >>> check_points("X", [[1.0, float("nan")]])
    Traceback (most recent call last):
    ...
    ValueError: X: expected finite values, got NaN or inf
    """
    t = torch.as_tensor(X, dtype=torch.float64)
    low = 0 if allow_empty else 1
    if t.ndim != 2 or t.shape[0] < low or t.shape[1] < 2 or (d is not None and t.shape[1] != d):
        want = f"(n >= {low}, d >= 2)" if d is None else f"(n >= {low}, {d})"
        raise ValueError(f"{name}: expected shape {want}, got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return t


def check_labels(name: str, Y, n: int) -> torch.Tensor:
    """Y as a float64 (n,) tensor of finite labels, else ValueError naming ``name``.

    >>> check_labels("Y", [1, -1], 2)
    tensor([ 1., -1.], dtype=torch.float64)
    """
    t = torch.as_tensor(Y, dtype=torch.float64)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.shape != (n,):
        raise ValueError(f"{name}: expected shape ({n},) (one label per point), got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return t


@dataclass(frozen=True)
class Dataset:
    """A training set (X, Y) and a test set (X_test, Y_test), float64 tensors, rows are points.

    The test set may be empty (a training set that is the whole cube).

    >>> data = Dataset([[1, 1], [1, -1]], [1, -1], [[-1, -1]], [1])
    >>> data.n, data.d, data.Y.tolist()
    (2, 2, [1.0, -1.0])
    """

    X: torch.Tensor
    Y: torch.Tensor
    X_test: torch.Tensor
    Y_test: torch.Tensor

    def __post_init__(self):
        X = check_points("X", self.X)
        X_test = check_points("X_test", self.X_test, X.shape[1], allow_empty=True).to(X.device)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "Y", check_labels("Y", self.Y, X.shape[0]).to(X.device))
        object.__setattr__(self, "X_test", X_test)
        object.__setattr__(self, "Y_test", check_labels("Y_test", self.Y_test, X_test.shape[0]).to(X.device))

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    def to(self, device) -> "Dataset":
        """The same data on ``device``.

        >>> xor_dataset(2, 2, seed=0).to("cpu").X.device
        device(type='cpu')
        """
        return Dataset(self.X.to(device), self.Y.to(device), self.X_test.to(device), self.Y_test.to(device))


# ---------------------------------------------------------------- hypercube / P_xor

def _codes_to_points(codes: torch.Tensor, d: int) -> torch.Tensor:
    # Code c <-> the c-th row of itertools.product((-1, 1), repeat=d): bit (d-1-k) of c is coordinate k.
    bits = (codes.unsqueeze(1) >> torch.arange(d - 1, -1, -1)) & 1
    return (2 * bits - 1).to(torch.float64)


def cube(d: int) -> torch.Tensor:
    """All 2^d points of {-1, +1}^d, in the row order of ``theory.data.hypercube``.

    >>> cube(2)
    tensor([[-1., -1.],
            [-1.,  1.],
            [ 1., -1.],
            [ 1.,  1.]], dtype=torch.float64)
    """
    check_int("d", d, 2, CUBE_LIMIT)
    return _codes_to_points(torch.arange(2 ** d), d)


def xor_labels(X: torch.Tensor) -> torch.Tensor:
    """P_xor labels y = x[1] x[2] (docs/paper.md §1; 0-based columns 0 and 1).

    >>> xor_labels(cube(2)).tolist()
    [1.0, -1.0, -1.0, 1.0]
    """
    X = check_points("X", X, allow_empty=True)
    return X[:, 0] * X[:, 1]


def _distinct_signs(count: int, d: int, gen: torch.Generator, exclude: set) -> torch.Tensor:
    # Rejection sampling of distinct cube points (used when 2^d is too large to enumerate).
    rows, seen = [], set(exclude)
    while len(rows) < count:
        for row in (2 * torch.randint(0, 2, (2 * (count - len(rows)), d), generator=gen) - 1).tolist():
            key = tuple(row)
            if key not in seen and len(rows) < count:
                seen.add(key)
                rows.append(row)
    return torch.tensor(rows, dtype=torch.float64).reshape(count, d)


def xor_dataset(d: int, n: int, *, n_test: int = 1000, seed: int = 0) -> Dataset:
    """P_xor (docs/paper.md §1): n distinct training points uniform on {-1,1}^d, y = x[1] x[2].

    Test points are distinct, fresh and disjoint from the training points.
    When the rest of the cube has at most ``n_test`` points (small d), the
    test set is the whole rest of the cube, in cube order, so the test error
    is the exact population error on unseen points (empty when n = 2^d).

    >>> data = xor_dataset(3, 5, seed=0)
    >>> data.n, data.X_test.shape[0], bool((data.Y == data.X[:, 0] * data.X[:, 1]).all())
    (5, 3, True)
    >>> xor_dataset(3, 9)
    Traceback (most recent call last):
    ...
    ValueError: n: expected an integer in [1, 8], got 9
    """
    check_int("d", d, 2)
    check_int("n_test", n_test, 1)
    check_cube_sizes(d, n if is_int(n) and n >= 1 else 1, n_test)  # first: 2^d of a huge d never built
    check_int("n", n, 1, 2 ** d)
    gen = _generator(seed)
    if d <= CUBE_LIMIT:
        perm = torch.randperm(2 ** d, generator=gen)
        train, rest = perm[:n], perm[n:]
        test = torch.sort(rest).values if rest.numel() <= n_test else rest[:n_test]
        X, X_test = _codes_to_points(train, d), _codes_to_points(test, d)
    else:
        X = _distinct_signs(n, d, gen, set())
        X_test = _distinct_signs(n_test, d, gen, {tuple(r) for r in X.long().tolist()})
    return Dataset(X, xor_labels(X), X_test, xor_labels(X_test))


def default_condition1_tails(d: int) -> list[tuple[int, ...]]:
    """Default tails T for Condition 1 (Thm 3.2): all-ones and the d-2 tails with one -1 (differences -2 e_k).

    >>> default_condition1_tails(4)
    [(1, 1), (-1, 1), (1, -1)]
    """
    k = d - 2
    return [(1,) * k] + [tuple(-1 if j == i else 1 for j in range(k)) for i in range(k)]


def condition1_dataset(d: int, tails=None, *, n_test: int = 1000, seed: int = 0) -> Dataset:
    """A complete training set satisfying Condition 1 (Thm 3.2), rows as in ``theory.data.condition1_set``.

    The training set is every (x1, x2, t), x1, x2 in {-1, 1}, t in ``tails``
    (a set of points of {-1,1}^{d-2} whose pairwise differences span
    R^{d-2}; default ``default_condition1_tails``), labelled x1 x2. The test
    set is the rest of the cube when it has at most ``n_test`` points, else
    ``n_test`` distinct fresh cube points off the training set.

    >>> data = condition1_dataset(3)
    >>> data.n, data.Y.tolist(), data.X_test.shape[0]
    (8, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0], 0)
    """
    check_int("d", d, 2)
    check_int("n_test", n_test, 1)
    tails = default_condition1_tails(d) if tails is None else [tuple(int(v) for v in t) for t in tails]
    check_cube_sizes(d, 4 * len(tails), n_test)
    if not tails or len(set(tails)) != len(tails):
        raise ValueError("tails: expected a non-empty list of distinct tails")
    for t in tails:
        if len(t) != d - 2 or any(v not in (-1, 1) for v in t):
            raise ValueError(f"tails: each tail must be a point of {{-1, 1}}^{d - 2}, got {t}")
    if d > 2:
        diffs = torch.tensor([[a - b for a, b in zip(t, tails[0])] for t in tails], dtype=torch.float64)
        rank = int(torch.linalg.matrix_rank(diffs))
        if rank != d - 2:
            raise ValueError(f"tails: differences of the tails span a space of dimension {rank}, "
                             f"need d - 2 = {d - 2} (Condition 1)")
    X = torch.tensor([(x1, x2, *t) for t in tails for x1 in (-1, 1) for x2 in (-1, 1)], dtype=torch.float64)
    X_test = _cube_complement(X, n_test, _generator(seed))
    return Dataset(X, xor_labels(X), X_test, xor_labels(X_test))


def _cube_complement(X: torch.Tensor, n_test: int, gen: torch.Generator) -> torch.Tensor:
    d = X.shape[1]
    seen = {tuple(r) for r in X.long().tolist()}
    if d <= CUBE_LIMIT and 2 ** d - len(seen) <= n_test:
        return torch.tensor([r for r in cube(d).long().tolist() if tuple(r) not in seen],
                            dtype=torch.float64).reshape(-1, d)
    return _distinct_signs(n_test, d, gen, seen)


# ---------------------------------------------------------------- continuous data

def _ball(count: int, d: int, radius: float, gen: torch.Generator) -> torch.Tensor:
    direction = torch.randn(count, d, generator=gen, dtype=torch.float64)
    direction = direction / direction.norm(dim=1, keepdim=True)
    r = radius * torch.rand(count, 1, generator=gen, dtype=torch.float64) ** (1.0 / d)
    return direction * r


def ball_dataset(d: int, n: int, *, n_test: int = 1000, seed: int = 0, radius=None) -> Dataset:
    """Figure 7's data: x uniform in the ball of radius sqrt(d) (or ``radius``), y = |x[1]| - |x[2]|.

    Uniform in the ball: a Gaussian direction times radius * U^(1/d).

    >>> data = ball_dataset(10, 4, n_test=3, seed=0)
    >>> data.X.shape, bool((data.X.norm(dim=1) <= 10 ** 0.5).all())
    (torch.Size([4, 10]), True)
    >>> bool(torch.equal(data.Y, data.X[:, 0].abs() - data.X[:, 1].abs()))
    True
    """
    check_int("d", d, 2)
    check_int("n", n, 1)
    check_int("n_test", n_test, 1)
    radius = math.sqrt(d) if radius is None else radius
    if isinstance(radius, bool) or not isinstance(radius, (int, float)) or not math.isfinite(radius) or radius <= 0:
        raise ValueError(f"radius: expected a finite number > 0, got {radius!r}")
    gen = _generator(seed)
    X, X_test = _ball(n, d, float(radius), gen), _ball(n_test, d, float(radius), gen)
    label = lambda Z: Z[:, 0].abs() - Z[:, 1].abs()
    return Dataset(X, label(X), X_test, label(X_test))


def circle_dataset(n: int, *, n_test: int = 1000, seed: int = 0) -> Dataset:
    """Figure 3's setting: points uniform on the unit circle in R^2.

    The paper's sketch has no labelling rule; we use the circle's analogue
    of xor, y = sign(x[1] x[2]) (+1 or -1; a point on an axis gets +1).

    >>> data = circle_dataset(5, seed=0)
    >>> data.X.shape, bool(torch.allclose(data.X.norm(dim=1), torch.ones(5, dtype=torch.float64)))
    (torch.Size([5, 2]), True)
    """
    check_int("n", n, 1)
    check_int("n_test", n_test, 1)
    gen = _generator(seed)

    def points(count):
        angle = 2 * math.pi * torch.rand(count, generator=gen, dtype=torch.float64)
        return torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)

    label = lambda Z: torch.where(Z[:, 0] * Z[:, 1] >= 0, 1.0, -1.0).to(torch.float64)
    X, X_test = points(n), points(n_test)
    return Dataset(X, label(X), X_test, label(X_test))
