"""Hypothesis strategies that generate the paper's objects (public API).

Use them in your own property tests::

    from hypothesis import given
    from sharpgen.verify.strategies import cube_subsets

    @given(cube_subsets())
    def test_my_claim(problem):
        d, X = problem
        ...

Exact side (sympy): distinct points of the hypercube {-1, 1}^d (the support
of P_xor, docs/paper.md §1) with rational labels, extreme-point sets off the
cube (Def 4.1; their witnesses come from the LP of
``theory.data.extreme_point_witness``), Condition-1 training sets (Thm 3.2),
rational parameters in the shared layout of ``sharpgen.theory.params.Params``
for every architecture of docs/paper.md §2, networks together with the labels
they interpolate, and the flattest constructions C1-C3 with each neuron's
weights rebalanced (still interpolating, no longer flattest).
Torch side: small random ``Net`` instances of every architecture on P_xor
training sets, interpolating or not, and random INTERPOLATING networks of
every architecture (``interpolating_nets``: a random first layer, and γ for
sim_bn, with the output layer solved to interpolate the labels).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp
import torch
from hypothesis import assume, strategies as st

from sharpgen.numerics.nets.data import xor_dataset
from sharpgen.numerics.nets.initialization import build
from sharpgen.numerics.nets.params import from_params
from sharpgen.theory import constructions
from sharpgen.theory.architectures import forward
from sharpgen.theory.data import condition1_set, hypercube
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


# ---------------------------------------------------------------- data sets of the paper (exact)

def sphere_point(t) -> list:
    """Inverse stereographic projection of t ∈ Q^{d-1}: a rational point of the unit sphere in R^d.

    >>> sphere_point([sp.Rational(1, 2)])
    [4/5, -3/5]
    """
    s = sum(v ** 2 for v in t)
    return [2 * v / (s + 1) for v in t] + [(s - 1) / (s + 1)]


@st.composite
def extreme_point_sets(draw, dims=(2, 3), min_n: int = 2, max_n: int = 6):
    """(d, X): n distinct rational points of a sphere (random radius and centre) in R^d, off the cube.

    Every point of a sphere is a vertex of the convex hull of the set (Def 4.1), yet
    no exact witness is known in advance: ``theory.data.extreme_point_witness`` finds
    one by linear programming. The norms ||x_i|| differ (the centre moves), so the
    F3/F5 bounds weigh the points differently.
    """
    d = draw(st.sampled_from(dims))
    ts = draw(st.lists(st.tuples(*[rationals(2, 3)] * (d - 1)), min_size=min_n, max_size=max_n, unique=True))
    radius = draw(st.sampled_from([sp.Rational(1, 2), sp.Integer(1), sp.Integer(2)]))
    centre = draw(matrices(1, d, bound=1, denominator=2))
    X = sp.Matrix([sphere_point(t) for t in ts]) * radius
    return d, X + sp.ones(X.rows, 1) * centre


def extreme_sets(max_d: int = 5, max_n: int = 6):
    """(d, X): distinct cube points (exact witnesses x/||x||) or an ``extreme_point_sets`` draw."""
    return st.one_of(cube_subsets(dims=tuple(range(2, max_d + 1)), min_n=1, max_n=max_n),
                     extreme_point_sets(max_n=max_n))


@st.composite
def condition1_sets(draw, dims=(3, 4, 5)):
    """(d, X, Y): a Condition-1 training set (Thm 3.2): tails T ⊂ {-1,1}^{d-2} whose differences span
    R^{d-2}, and every (x1, x2, t), t ∈ T, labelled x1 x2."""
    d = draw(st.sampled_from(dims))
    tails = list(itertools.product((-1, 1), repeat=d - 2))
    chosen = draw(st.lists(st.sampled_from(tails), min_size=d - 1, max_size=min(len(tails), d + 1), unique=True))
    try:
        X, Y = condition1_set(d, chosen)
    except ValueError:  # the differences do not span R^{d-2}
        assume(False)
    return d, X, Y


# ---------------------------------------------------------------- flattest constructions, rebalanced (exact)

def rebalance(params: Params, scales) -> Params:
    """Neuron j's incoming weights (W1 row, b1) times s_j > 0, its output weight over s_j.

    A relu net computes the same function (relu(s z) = s relu(z)), so an interpolator
    stays one; its Tr ∇²L changes (F2) and is minimal only at the flattest balance.

    >>> p = Params(W1=sp.Matrix([[1, 1]]), b1=sp.Matrix([-1]), W2=sp.Matrix([2]))
    >>> q = rebalance(p, [2])
    >>> q.W1, q.b1, q.W2
    (Matrix([[2, 2]]), Matrix([[-2]]), Matrix([[1]]))
    """
    S = sp.diag(*scales)
    return Params(W1=S * params.W1, b1=None if params.b1 is None else S * params.b1,
                  W2=S.inv() * params.W2, gamma=params.gamma, middle=params.middle)


SCALES = (sp.Rational(1, 2), sp.Integer(1), sp.Rational(3, 2), sp.Integer(2))


@st.composite
def rebalanced_constructions(draw, arch: str):
    """(params, X, Y): an interpolating relu net near the flattest ones: C1 (``bias``, random extreme set,
    random labels) or C2 (``bias``) / C3 (``nobias``) on distinct cube points with xor labels, rebalanced."""
    if arch == "bias" and draw(st.booleans()):
        _, X = draw(extreme_sets(max_d=4, max_n=5))
        Y = draw(labels(X.rows))
        params = constructions.memorizing("bias", X, Y)
    else:
        d, X = draw(cube_subsets(dims=(2, 3, 4, 5), max_n=6))
        Y = sp.Matrix([x[0] * x[1] for x in X.tolist()])
        params = constructions.generalizing(arch, d)
    scales = draw(st.lists(st.sampled_from(SCALES), min_size=params.width, max_size=params.width))
    return rebalance(params, scales), X, Y


# ---------------------------------------------------------------- random interpolating networks (torch)

@dataclass
class Interpolator:
    """A float64 network ``net`` with net(X) = Y (to ``residual``), and the exact data (sympy) it was built for.

    ``hyper`` holds the exact hyperparameters (``eps``, ``depth``, ``activation``) as ``theory`` takes
    them; ``params`` the exact parameters when the net was loaded from ``theory`` (``load``).
    """

    arch: str
    hyper: dict
    net: object
    X: sp.Matrix
    Y: sp.Matrix
    residual: float
    params: Params | None = None

    def describe(self) -> dict:
        """Everything needed to rebuild this example: arch, hyper, data, and every parameter (exact if known)."""
        params = self.params if self.params is not None else {
            k: v.detach().tolist() for k, v in self.net.named_parameters()}
        return {"arch": self.arch, "hyper": self.hyper, "X": self.X, "Y": self.Y, "params": params,
                "interpolation_residual": self.residual}

    @property
    def X_t(self) -> torch.Tensor:
        return torch.tensor([[float(v) for v in row] for row in self.X.tolist()], dtype=torch.float64)

    @property
    def Y_t(self) -> torch.Tensor:
        return torch.tensor([float(v) for v in self.Y], dtype=torch.float64)


def output_features(net, X: torch.Tensor) -> torch.Tensor:
    """Φ (n, m) with f(X) = Φ W2: every architecture of docs/paper.md §2 is linear in its output layer,
    so column j is the output with W2 = e_j."""
    saved = net.W2.detach().clone()
    cols = []
    with torch.no_grad():
        for j in range(net.width):
            net.W2.zero_()
            net.W2[j] = 1.0
            cols.append(net(X))
        net.W2.copy_(saved)
    return torch.stack(cols, dim=1)


def solve_output_layer(net, X: torch.Tensor, Y: torch.Tensor) -> float:
    """Set W2 to the least-norm solution of Φ W2 = Y; return the largest |f(x_i) − y_i| left.

    >>> net = build("sim_ln", 2, 3, eps=0.1, seed=0)
    >>> X, Y = torch.tensor([[1.0, 1.0], [-1.0, 1.0]]), torch.tensor([0.5, -2.0], dtype=torch.float64)
    >>> solve_output_layer(net, X, Y) < 1e-12
    True
    """
    phi = output_features(net, X)
    W2 = torch.linalg.pinv(phi) @ Y
    with torch.no_grad():
        net.W2.copy_(W2)
        return float((net(X) - Y).abs().max())


# (arch, exact hyperparameters) of the random interpolators: every architecture and a depth-3 bias net.
INTERP_CASES = (("nobias", {}), ("bias", {}), ("bias", {"depth": 3}), ("sim_ln", {"eps": sp.Rational(1, 10)}),
                ("sim_ln", {"eps": sp.Integer(2)}), ("sim_bn", {}))


@st.composite
def interpolator_data(draw, arch: str, max_n: int = 5):
    """(d, X, Y) for an interpolator of ``arch``: distinct cube points (every arch), extreme sets off the
    cube (bias, sim_ln) or Condition-1 sets (sim_bn); xor labels or random rational labels."""
    if arch == "sim_bn" and draw(st.booleans()):
        return draw(condition1_sets(dims=(3, 4)))
    if arch in ("bias", "sim_ln"):
        d, X = draw(extreme_sets(max_d=4, max_n=max_n))
    else:
        d, X = draw(cube_subsets(dims=(2, 3, 4), max_n=max_n))
    on_cube = all(abs(v) == 1 for v in X)
    if on_cube and draw(st.booleans()):
        return d, X, sp.Matrix([x[0] * x[1] for x in X.tolist()])
    return d, X, draw(labels(X.rows))


@st.composite
def interpolating_nets(draw, case=None, data=None, max_n: int = 5, tolerance: float = 1e-9):
    """An ``Interpolator``: random first layer (PyTorch-default init at a random scale; random γ for
    sim_bn), output layer solved by least squares to interpolate random data of the architecture
    (``data``: a strategy of (d, X, Y) to use instead, e.g. ``condition1_sets()``)."""
    arch, hyper = case if case is not None else draw(st.sampled_from(INTERP_CASES))
    d, X, Y = draw(interpolator_data(arch, max_n=max_n) if data is None else data)
    width = X.rows + draw(st.integers(0, 3))
    eps = float(hyper["eps"]) if "eps" in hyper else None
    net = build(arch, d, width, depth=hyper.get("depth", 2), eps=eps, seed=draw(st.integers(0, 2 ** 16)),
                init_scale_first_layer=draw(st.sampled_from([0.5, 1.0, 3.0])))
    itp = Interpolator(arch, hyper, net, X, Y, 0.0)
    if arch == "sim_bn":
        net.set_training_inputs(itp.X_t)
        gamma = draw(st.lists(st.sampled_from([-2.0, -0.5, 0.3, 1.0, 1.5]), min_size=width, max_size=width))
        with torch.no_grad():
            net.gamma.copy_(torch.tensor(gamma, dtype=torch.float64))
    itp.residual = solve_output_layer(net, itp.X_t, itp.Y_t)
    assume(itp.residual <= tolerance * (1 + float(max(abs(v) for v in Y))))
    return itp


def load(arch: str, params: Params, X: sp.Matrix, Y: sp.Matrix, **hyper) -> Interpolator:
    """An exact ``theory`` network (a construction) as an ``Interpolator`` (float64 torch)."""
    eps = hyper.get("eps")
    net = from_params(arch, params, activation=hyper.get("activation", "relu"), eps=None if eps is None else float(eps),
                      X_train=X if arch == "sim_bn" else None)
    itp = Interpolator(arch, dict(hyper), net, X, Y, 0.0, params)
    with torch.no_grad():
        itp.residual = float((net(itp.X_t) - itp.Y_t).abs().max())
    return itp
