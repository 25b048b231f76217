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
* The schedule: :func:`check_schedule_sizes` bounds the epochs (``MAX_EPOCHS``) and the
  evaluations, i.e. rows of metrics.csv (``MAX_EVALUATIONS``), since the evaluation grid is
  built before the first step.

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
SIZES = ("width", "d", "depth", "n", "n_test")  # the fields estimated_bytes grows with
MAX_INPUT_ENTRIES = 2 ** 27  # inputs of a data set, float64: 1 GiB
MAX_EPOCHS = 10 ** 9  # 1700 times the paper's longest schedule (6e5); at a microsecond a step, years
MAX_EVALUATIONS = 10 ** 6  # metrics.csv rows: each evaluation costs milliseconds, the grid is held in memory


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
    points = n + n_test
    if points * d > MAX_INPUT_ENTRIES:
        raise ValueError(f"{'n' if points > d else 'd'}: the data would hold (n + n_test)·d = {_size(points)}·{_size(d)} numbers, more than "
                         f"{MAX_INPUT_ENTRIES} (1 GiB of float64); lower d, n or n_test")
    if d > CUBE_LIMIT and d - 1 < points.bit_length() and points > 2 ** (d - 1):  # never builds 2^d for huge d
        raise ValueError(f"n: expected n + n_test <= 2^(d-1) = {2 ** (d - 1)} for cube data with d = {d} > "
                         f"{CUBE_LIMIT} (distinct points are drawn by rejection sampling, which needs half the "
                         f"cube free), got n + n_test = {n + n_test}; lower n or n_test")


def check_schedule_sizes(total_epochs: int, eval_every: int, eval_log_points: int) -> None:
    """ValueError when a schedule has more than ``MAX_EPOCHS`` epochs or more than ``MAX_EVALUATIONS``
    evaluations (total_epochs / eval_every + eval_log_points), naming the argument to lower.

    >>> check_schedule_sizes(6 * 10 ** 5, 1000, 30)
    >>> check_schedule_sizes(10 ** 8, 10, 0)
    Traceback (most recent call last):
    ...
    ValueError: eval_every: expected at most 1000000 evaluations (metrics.csv rows), got about 1e+07 (1e+08 epochs / eval_every 10 + 0 log-spaced); raise eval_every or lower eval_log_points
    """
    if total_epochs > MAX_EPOCHS:
        raise ValueError(f"epochs: expected at most {MAX_EPOCHS:.0e} epochs in all phases (the paper's longest "
                         f"schedule has 6e5), got {total_epochs:.3g}; lower the phases' epochs")
    count = total_epochs // eval_every + eval_log_points
    if count > MAX_EVALUATIONS:
        what = "eval_log_points" if eval_log_points > MAX_EVALUATIONS // 2 else "eval_every"
        raise ValueError(f"{what}: expected at most {MAX_EVALUATIONS} evaluations (metrics.csv rows), got about "
                         f"{count:.3g} ({total_epochs:.3g} epochs / eval_every {eval_every} + "
                         f"{_size(eval_log_points)} log-spaced); raise eval_every or lower eval_log_points")


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


def _size(k: int) -> str:
    """An integer as written, or in 3 digits when it is too long to read (1e+300 given on a command line)."""
    return str(k) if k < 10 ** 12 else f"{k:.3g}"


def _gib(b: float) -> str:
    return f"{b / 2 ** 30:.3g} GiB"


def check_memory(config, available: int | None = None) -> None:
    """ValueError when ``estimated_bytes(config)`` exceeds ``available`` (default: physical memory).

    >>> from sharpgen.numerics.runs.config import TrainConfig
    >>> check_memory(TrainConfig(width=10 ** 8), available=2 ** 34)
    Traceback (most recent call last):
    ...
    ValueError: width: a run of this size needs about 3.11e+04 GiB (3.3e+09 parameters; activations of width 100000000 on n + n_test = 1100 points and 4096 diagnostic ones), more than this machine's 16 GiB; lower width, d, depth, n or n_test
    """
    available = physical_memory() if available is None else available
    need = estimated_bytes(config)
    if available is not None and need > available:
        params = parameter_count(config.d, config.width, config.depth)
        raise ValueError(f"{_culprit(config, available)}: a run of this size needs about {_gib(need)} ({params:.2g} "
                         f"parameters; activations of width {_size(config.width)} on n + n_test = {_size(config.n + config.n_test)} "
                         f"points and {DIAGNOSTIC_POINTS} diagnostic ones), more than this machine's "
                         f"{_gib(available)}; lower width, d, depth, n or n_test")


def _culprit(config, available: int) -> str:
    """The size that alone makes the run too big (back at its default, the run fits), else all of them."""
    defaults = type(config)()
    for name in SIZES:
        if estimated_bytes(config.replace(**{name: min(getattr(config, name), getattr(defaults, name))})) <= available:
            return name
    return ", ".join(SIZES)
