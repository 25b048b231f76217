"""Resource limits of the numerics, checked up front: refused with the limit and the reason, never an
endless loop or a raw allocation failure.

* Cube data (P_xor and Condition 1, docs/paper.md §1): up to ``CUBE_LIMIT``
  the 2^d points are enumerated; above it distinct points are drawn by
  rejection sampling, which must leave at least half the cube unused
  (``n + n_test <= 2^(d-1)``; the expected number of draws per point is then
  below 2). :func:`check_cube_sizes` is the one place for that rule.
* Memory: :func:`estimated_bytes` bounds what a training run holds (copies of
  the parameters in the step engine, activations and per-sample terms of the
  evaluation on the training, test and 4096 diagnostic points) and
  :func:`check_memory` refuses a run whose estimate exceeds the machine's
  physical memory, naming the sizes to lower.

Nothing here imports torch.
"""
from __future__ import annotations

from sharpgen.numerics.validate import parameter_count, physical_memory

CUBE_LIMIT = 20  # cube(d) materialises 2^d points; above this we sample instead
SEED_MAX = 2 ** 64 - 1  # seeds are non-negative and fit torch.Generator.manual_seed
CUBE_DATA = ("xor", "condition1")
PARAM_COPIES = 6  # parameters, gradients, SAM's perturbed copy and step buffers
ACTIVATION_COPIES = 8  # pre-activations, activations and their derivatives, per-sample gradient terms
DIAGNOSTIC_POINTS = 4096  # numerics.diagnostics.zero_fraction's sample


def check_cube_sizes(d: int, n: int, n_test: int) -> None:
    """ValueError unless n training and n_test test points, distinct, can be drawn from {-1, 1}^d quickly.

    Up to d = ``CUBE_LIMIT`` the cube is enumerated (any n <= 2^d works; the test set is at most the
    rest of the cube); above it, n + n_test must be at most 2^(d-1) (rejection sampling).

    >>> check_cube_sizes(30, 100, 1000)
    >>> check_cube_sizes(21, 2 ** 20, 1000)
    Traceback (most recent call last):
    ...
    ValueError: n: expected n + n_test <= 2^(d-1) = 1048576 for cube data with d = 21 > 20 (distinct points are drawn by rejection sampling, which needs half the cube free), got n + n_test = 1049576; lower n or n_test
    """
    if d > CUBE_LIMIT and n + n_test > 2 ** (d - 1):
        raise ValueError(f"n: expected n + n_test <= 2^(d-1) = {2 ** (d - 1)} for cube data with d = {d} > "
                         f"{CUBE_LIMIT} (distinct points are drawn by rejection sampling, which needs half the "
                         f"cube free), got n + n_test = {n + n_test}; lower n or n_test")


def estimated_bytes(config) -> int:
    """An upper estimate of the memory a run of ``config`` (a ``TrainConfig``) holds, in bytes (float64).

    >>> from sharpgen.numerics.runs.config import TrainConfig
    >>> round(estimated_bytes(TrainConfig()) / 2 ** 20)   # Figure 4b's network: about 160 MiB
    162
    """
    params = parameter_count(config.d, config.width, config.depth)
    points = config.n + config.n_test + DIAGNOSTIC_POINTS
    activations = points * config.width * (config.depth - 1)
    return 8 * (PARAM_COPIES * params + ACTIVATION_COPIES * activations + 2 * points * config.d)


def _gib(b: float) -> str:
    return f"{b / 2 ** 30:.3g} GiB"


def check_memory(config, available: int | None = None) -> None:
    """ValueError when ``estimated_bytes(config)`` exceeds ``available`` (default: physical memory).

    >>> from sharpgen.numerics.runs.config import TrainConfig
    >>> check_memory(TrainConfig(width=10 ** 8), available=2 ** 34)
    Traceback (most recent call last):
    ...
    ValueError: width: a run of this size needs about 3.11e+04 GiB (3.3e+09 parameters; activations of width 100000000 on n + n_test = 1100 points and 4096 diagnostic ones), more than this machine's 16 GiB; lower width, n or n_test
    """
    available = physical_memory() if available is None else available
    need = estimated_bytes(config)
    if available is not None and need > available:
        params = parameter_count(config.d, config.width, config.depth)
        raise ValueError(f"width: a run of this size needs about {_gib(need)} ({params:.2g} parameters; "
                         f"activations of width {config.width} on n + n_test = {config.n + config.n_test} points "
                         f"and {DIAGNOSTIC_POINTS} diagnostic ones), more than this machine's {_gib(available)}; "
                         f"lower width, n or n_test")
