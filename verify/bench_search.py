"""Measurements of ``sharpgen bench --search``: the flattest-set search (``numerics.search.flattest``,
docs/paper.md §3, F3-F6: least Tr ∇²L over {f(x_i) = y_i}) at the ledger's sizes and the paper's.

* **batched** — R feasible starts descended together by one ``flattest(problem, theta0=θ (R, P))``
  call (the starts ``vmap``-ed, as the ledger runs them);
* **one at a time** — the same R starts, one ``flattest`` call each (``theta0 = θ[i:i+1]``), the
  loop a user would write;

both for the same k iterations (k doubles until one batched call lasts ``seconds``), reported as
start-iterations per second and as starts per second at the default ``Schedule`` length (400
iterations, extrapolated from the measured time per iteration). Plus the cost of one exact
Tr ∇²L with its gradient (F1 in closed form, ``Problem.sharpness`` + backward) against the trace
of the full torch.func Hessian of the same net (``trace_hessian(..., method="autograd")``) where
P <= 4000. Everything is float64 on the CPU; numbers depend on the machine and its load
(``verify.bench.machine_line``).
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

import torch
from torch.func import jacrev

from sharpgen.numerics.nets.data import condition1_dataset, xor_dataset
from sharpgen.numerics.nets.functional import forward
from sharpgen.numerics.nets.sharpness import AUTOGRAD_MAX_PARAMS, trace_hessian
from sharpgen.numerics.search import FEASIBLE, Problem, Schedule, feasible_starts, flattest
from sharpgen.numerics.validate import check_int, check_number

DEFAULT_ITERATIONS = Schedule().iterations  # what "starts/s" is extrapolated to
STARTS = 8               # R where P <= PROJECT_MAX
LARGE_STARTS = 2         # R above: one batched iteration of 8 starts at the paper size takes ~45-100 s on 2 cores
PROJECT_MAX = 4000       # above this P, starts come from the output-layer solve (feasible_starts takes minutes)
MAX_ITERATIONS = 80      # k of one timed call at most (a multiple of 5, see time_batched)
DATA_KINDS = ("xor", "condition1")
CONDITION1_TAILS = [(1, 1), (-1, 1), (1, -1)]  # the ledger's Thm 3.2 training set at d = 4 (n = 12)


@dataclass(frozen=True)
class Size:
    """One measured problem: ``arch`` and ``width`` on P_xor (``xor_dataset(d, n, seed=0)``) or on the
    ledger's Condition-1 set (``condition1``: d = 4, n = 12).

    >>> Size("tiny", "bias", 3, 4, 4).problem().size   # W1 (4, 3), b1, W2
    20
    """

    name: str
    arch: str
    d: int
    n: int
    width: int
    data: str = "xor"

    def __post_init__(self):
        check_int("d", self.d, 2)
        check_int("n", self.n, 1)
        check_int("width", self.width, 1)
        if self.data not in DATA_KINDS:
            raise ValueError(f"data: expected one of {DATA_KINDS}, got {self.data!r}")
        if self.data == "condition1" and (self.d, self.n) != (4, 4 * len(CONDITION1_TAILS)):
            raise ValueError(f"n: the condition1 size is d = 4, n = 12, got d = {self.d}, n = {self.n}")

    def problem(self) -> Problem:
        """The ``numerics.search.Problem`` of this size (MSE, depth 2, relu)."""
        if self.data == "condition1":
            data = condition1_dataset(self.d, tails=CONDITION1_TAILS, n_test=1, seed=0)
        else:
            data = xor_dataset(self.d, self.n, n_test=1, seed=0)
        return Problem(self.arch, data.X, data.Y, width=self.width)


SIZES = (Size("ledger-bias", "bias", 4, 6, 8), Size("ledger-bn", "sim_bn", 4, 12, 6, "condition1"),
         Size("paper", "bias", 30, 100, 500))


@dataclass
class SearchRow:
    """One path of one size: ``ms_per_iteration`` is the wall time to advance all ``starts`` starts by
    one iteration (one call of k iterations / k, or the R calls together / k)."""

    size: str
    arch: str
    d: int
    n: int
    width: int
    params: int
    path: str
    starts: int
    iterations: int
    ms_per_iteration: float

    @property
    def start_iterations_per_s(self) -> float:
        return 1e3 * self.starts / self.ms_per_iteration


@dataclass
class TraceRow:
    """One exact Tr ∇²L with its gradient vs the full autograd Hessian's trace (``None`` above 4000
    parameters), in ms per evaluation, and the two values."""

    size: str
    params: int
    exact_ms: float
    exact_value: float
    autograd_ms: float | None
    autograd_value: float | None


def start_points(problem: Problem, count: int, seed: int = 0, *, project_max: int = PROJECT_MAX) -> torch.Tensor:
    """``count`` starts on {f(x_i) = t_i} (rows (count', P), only the feasible ones: max |c| <= 1e-10).

    Up to ``project_max`` parameters (and when n > width) ``feasible_starts``; above, each random start
    (``Problem.starts``) with its output layer solved: f is linear in W2, f = H W2, so
    W2 ← W2 − H⁺ (f − t) interpolates exactly when H (n × width) has full row rank.

    >>> prob = Size("tiny", "bias", 3, 4, 6).problem()
    >>> theta = start_points(prob, 2, project_max=0)   # the output-layer solve
    >>> theta.shape[0], bool(prob.residuals(theta).abs().max() <= 1e-10)
    (2, True)
    """
    check_int("count", count, 1)
    check_int("project_max", project_max, 0)
    if problem.size <= project_max or problem.X.shape[0] > problem.width:
        theta = feasible_starts(problem, count, seed)
    else:
        theta = torch.stack([solve_output_layer(problem, t) for t in problem.starts(count, seed)])
    with torch.no_grad():
        ok = problem.residuals(theta).abs().amax(dim=1) <= FEASIBLE
    return theta[ok]


def solve_output_layer(problem: Problem, theta: torch.Tensor) -> torch.Tensor:
    """θ (P,) with W2 replaced by the least-change interpolating W2 − H⁺ (f − t), H = ∂f/∂W2 (n, width).

    >>> prob = Size("tiny", "bias", 3, 4, 6).problem()
    >>> bool(prob.residuals(solve_output_layer(prob, prob.starts(1)[0])[None]).abs().max() < 1e-12)
    True
    """
    if theta.shape != (problem.size,):
        raise ValueError(f"theta: expected one parameter vector of shape ({problem.size},), got {tuple(theta.shape)}")
    params = problem.unflatten(theta.detach())

    def outputs(w2):
        return forward(problem.arch, {**params, "W2": w2}, problem.X, activation=problem.activation,
                       eps=problem.eps, X_train=problem.X)
    with torch.no_grad():
        H, c = jacrev(outputs)(params["W2"]), outputs(params["W2"]) - problem.targets
    w2 = params["W2"] - torch.linalg.lstsq(H, c[:, None], driver="gelsd").solution[:, 0]
    return problem.flatten({**params, "W2": w2})


def default_starts(problem: Problem) -> int:
    """R of a size: ``STARTS`` (8) up to ``PROJECT_MAX`` parameters, ``LARGE_STARTS`` (2) above.

    >>> default_starts(Size("tiny", "bias", 3, 4, 4).problem())
    8
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem: expected a numerics.search.Problem, got {type(problem).__name__}")
    return STARTS if problem.size <= PROJECT_MAX else LARGE_STARTS


def _check_theta(problem: Problem, theta) -> None:
    if not (isinstance(theta, torch.Tensor) and theta.ndim == 2 and theta.shape[0] >= 1
            and theta.shape[1] == problem.size):
        raise ValueError(f"theta: expected starts of shape (R >= 1, {problem.size}), got "
                         f"{tuple(theta.shape) if isinstance(theta, torch.Tensor) else type(theta).__name__}")


def time_batched(problem: Problem, theta: torch.Tensor, seconds: float, *,
                 max_iterations: int = MAX_ITERATIONS) -> tuple[float, int]:
    """(ms per iteration, k) of one ``flattest`` call on all starts θ (R, P) for k iterations: k starts at 1
    and grows (x10 while a call is far below ``seconds``, else x2; at least 5) until a call lasts ``seconds``
    or k reaches ``max_iterations``; the first call doubles as the warm-up unless it already lasts
    ``seconds``. The call includes flattest's kink phase where it runs (round(0.2 k) iterations, at least 1),
    so from k = 5 on its share is the default Schedule's and time / k extrapolates to 400.

    >>> prob = Size("tiny", "bias", 3, 4, 4).problem()
    >>> ms, k = time_batched(prob, start_points(prob, 2), 1e-3, max_iterations=2)
    >>> ms > 0 and 1 <= k <= 2
    True
    """
    _check_theta(problem, theta)
    check_number("seconds", seconds, gt=0)
    check_int("max_iterations", max_iterations, 1)
    k = 1
    while True:
        start = time.perf_counter()
        flattest(problem, theta0=theta, schedule=Schedule(iterations=k))
        elapsed = time.perf_counter() - start
        if elapsed >= seconds or k == max_iterations:
            return 1e3 * elapsed / k, k
        k = min(max_iterations, max(5, k * (2 if elapsed > seconds / 8 else 10)))


def time_one_at_a_time(problem: Problem, theta: torch.Tensor, iterations: int) -> float:
    """ms to advance every start of θ (R, P) by one iteration when each is its own ``flattest`` call
    (``theta0 = θ[i:i+1]``, ``iterations`` each): the R calls' total time / iterations.

    >>> prob = Size("tiny", "bias", 3, 4, 4).problem()
    >>> time_one_at_a_time(prob, start_points(prob, 2), 1) > 0
    True
    """
    _check_theta(problem, theta)
    check_int("iterations", iterations, 1)
    schedule = Schedule(iterations=iterations)
    start = time.perf_counter()
    for i in range(theta.shape[0]):
        flattest(problem, theta0=theta[i:i + 1], schedule=schedule)
    return 1e3 * (time.perf_counter() - start) / iterations


def mean_ms(fn, seconds: float) -> float:
    """ms per call of ``fn()``: one warm-up call, then calls until ``seconds`` have passed (at least one).

    >>> mean_ms(lambda: None, 1e-3) >= 0
    True
    """
    check_number("seconds", seconds, gt=0)
    if not callable(fn):
        raise ValueError(f"fn: expected a callable of no arguments, got {type(fn).__name__}")
    fn()
    calls, elapsed = 0, 0.0
    while calls == 0 or elapsed < seconds:
        start = time.perf_counter()
        fn()
        elapsed += time.perf_counter() - start
        calls += 1
    return 1e3 * elapsed / calls


def time_traces(name: str, problem: Problem, theta: torch.Tensor, seconds: float, *,
                autograd_max: int = AUTOGRAD_MAX_PARAMS) -> TraceRow:
    """Tr ∇²L at the first start θ[0], both ways: F1 exact with its gradient (what each search iteration
    pays) and ``trace_hessian(net, X, Y, method="autograd")`` when P <= ``autograd_max``.

    >>> prob = Size("tiny", "bias", 3, 4, 4).problem()
    >>> row = time_traces("tiny", prob, start_points(prob, 1), 1e-3)
    >>> abs(row.exact_value - row.autograd_value) <= 1e-9 * abs(row.autograd_value)
    True
    """
    _check_theta(problem, theta)
    check_int("autograd_max", autograd_max, 0)
    value = {}

    def exact():
        th = theta[:1].detach().clone().requires_grad_(True)
        tr = problem.sharpness(th)
        tr.sum().backward()
        value["exact"] = float(tr.detach()[0])

    def autograd():
        value["autograd"] = trace_hessian(problem.net(theta[0]), problem.X, problem.Y, loss=problem.loss,
                                          method="autograd", p=problem.p)
    exact_ms = mean_ms(exact, seconds)
    autograd_ms = mean_ms(autograd, seconds) if problem.size <= autograd_max else None
    return TraceRow(name, problem.size, exact_ms, value["exact"], autograd_ms, value.get("autograd"))


def bench_size(size: Size, seconds: float, *, progress=None) -> tuple[list[SearchRow], TraceRow]:
    """Both paths and the trace comparison of one size (starts from ``start_points``, outside the timing)."""
    if not isinstance(size, Size):
        raise ValueError(f"size: expected a bench_search.Size, got {type(size).__name__}")
    check_number("seconds", seconds, gt=0)
    say = progress or (lambda text: None)
    problem = size.problem()
    say(f"{size.name}: feasible starts (P = {problem.size})")
    theta = start_points(problem, default_starts(problem))
    if theta.shape[0] == 0:
        raise RuntimeError(f"bench: no start of size {size.name} could be made interpolating")
    R = theta.shape[0]
    say(f"{size.name}: batched x{R}")
    batched_ms, k = time_batched(problem, theta, seconds)
    say(f"{size.name}: one at a time x{R}, k = {k} each")
    one_ms = time_one_at_a_time(problem, theta, k)
    say(f"{size.name}: Tr exact vs autograd")
    trace = time_traces(size.name, problem, theta, seconds)
    common = dict(size=size.name, arch=size.arch, d=size.d, n=size.n, width=size.width, params=problem.size,
                  starts=R, iterations=k)
    return [SearchRow(path=f"batched x{R}", ms_per_iteration=batched_ms, **common),
            SearchRow(path="one at a time", ms_per_iteration=one_ms, **common)], trace


def summarize(rows: list[SearchRow]) -> list[dict]:
    """The rows as dicts with start-iterations/s, starts/s at 400 iterations and ``x_one`` (the rate over
    the same size's one-at-a-time row).

    >>> rows = [SearchRow("s", "bias", 3, 4, 4, 20, p, 8, 10, ms) for p, ms in (("batched x8", 10.0),
    ...                                                                       ("one at a time", 40.0))]
    >>> [(r["x_one"], r["starts_per_s"]) for r in summarize(rows)]
    [(4.0, 2.0), (1.0, 0.5)]
    """
    out = []
    for size in dict.fromkeys(r.size for r in rows):
        mine = [r for r in rows if r.size == size]
        one = next((r for r in mine if r.path == "one at a time"), None)
        if one is None:
            raise ValueError(f"rows: size {size!r} has no 'one at a time' row to compare with")
        for r in mine:
            rate = r.start_iterations_per_s
            out.append(dict(asdict(r), start_iterations_per_s=rate, starts_per_s=rate / DEFAULT_ITERATIONS,
                            x_one=rate / one.start_iterations_per_s))
    return out


def header(sizes, machine: str) -> str:
    """The lines above the table: what was timed, how it is extrapolated, and the machine.

    >>> header(SIZES[:1], "a machine").splitlines()[-1]
    'a machine'
    """
    if not sizes:
        raise ValueError("sizes: expected at least one Size")
    data = ", ".join(f"{s.name} {s.data}" for s in sizes)
    return (f"flattest-set search (numerics.search.flattest, MSE, float64, cpu)\ntraining sets (seed 0): {data}\n"
            f"starts/s: at the default Schedule's {DEFAULT_ITERATIONS} iterations, EXTRAPOLATED from the "
            f"time per iteration\nof k timed iterations (k doubles until one batched call lasts --seconds)\n"
            f"{machine}")


LEGEND = """\
batched xR     R feasible starts in one flattest(problem, theta0=theta) call (vmap over starts);
               R = 8, or 2 above 4000 parameters (starts there: the output layer solved for W2;
               flattest skips its kink phase where kinks.kink_phase_fits is false: the paper size)
one at a time  the same R starts, one flattest call each (theta0 = theta[i:i+1]), in a Python loop
k              iterations per timed call (Schedule(iterations=k)); ms/iter: all R starts, 1 step
x one          start-iterations/s over the one-at-a-time row of the same size
Tr exact+grad  one exact Tr of the Hessian (F1, closed form) with its gradient, at one start;
autograd       trace of the full torch.func Hessian of the same net (P <= 4000 only)"""


def format_trace(t: dict) -> str:
    """One trace line of the table (within 100 columns).

    >>> format_trace(dict(size="s", params=9000, exact_ms=1.0, exact_value=8.0, autograd_ms=None,
    ...                   autograd_value=None))
    's           Tr exact+grad         1 ms   autograd: skipped (P = 9000 > 4000)'
    """
    missing = {"size", "params", "exact_ms", "exact_value", "autograd_ms", "autograd_value"} - set(t)
    if missing:
        raise ValueError(f"t: expected a TraceRow as a dict, missing {sorted(missing)}")
    line = f"{t['size']:<12}{'Tr exact+grad':<15}{t['exact_ms']:>8.4g} ms   autograd"
    if t["autograd_ms"] is None:
        return line + f": skipped (P = {t['params']} > {AUTOGRAD_MAX_PARAMS})"
    gap = abs(t["exact_value"] - t["autograd_value"]) / max(abs(t["autograd_value"]), 1e-300)
    return line + f" {t['autograd_ms']:.4g} ms   x {t['autograd_ms'] / t['exact_ms']:.3g}   (values agree to {gap:.0e})"


def format_table(summary: list[dict], traces: list[dict]) -> str:
    """The search table (``summarize``'s rows, each size followed by its ``format_trace`` line), every line
    within 100 columns.

    >>> rows = summarize([SearchRow("s", "bias", 3, 4, 4, 20, "one at a time", 8, 10, 40.0)])
    >>> format_table(rows, []).splitlines()[2].split()[-3:]
    ['200', '0.5', '1']
    """
    if not summary:
        raise ValueError("summary: expected at least one summarized row")
    head = (f"{'size':<12}{'arch':<7}{'d':>3}{'n':>5}{'width':>6}{'P':>7}  {'path':<13}{'R':>3}{'k':>4}"
            f"{'ms/iter':>10}{'start-it/s':>11}{'starts/s':>9}{'x one':>8}")
    lines = [head, "-" * len(head)]
    by_size = {t["size"]: t for t in traces}
    for size in dict.fromkeys(r["size"] for r in summary):
        for r in (r for r in summary if r["size"] == size):
            lines.append(f"{size:<12}{r['arch']:<7}{r['d']:>3}{r['n']:>5}{r['width']:>6}{r['params']:>7}  "
                         f"{r['path']:<13}{r['starts']:>3}{r['iterations']:>4}{r['ms_per_iteration']:>10.4g}"
                         f"{r['start_iterations_per_s']:>11.4g}{r['starts_per_s']:>9.3g}{r['x_one']:>8.3g}")
        if size in by_size:
            lines.append(format_trace(by_size[size]))
    return "\n".join(lines)


def report(sizes, seconds: float, machine: str, *, as_json: bool = False, progress=None) -> str:
    """Measure every size and render the whole output: header, legend and table, or JSON
    (``{"header", "rows", "traces"}``)."""
    check_number("seconds", seconds, gt=0)
    if not sizes or not all(isinstance(s, Size) for s in sizes):
        raise ValueError("sizes: expected a non-empty sequence of bench_search.Size")
    rows, traces, failed = [], [], {}
    for size in sizes:
        try:
            got, trace = bench_size(size, seconds, progress=progress)
        except RuntimeError as err:  # one size out of memory (or unprojectable) must not lose the others
            failed[size.name] = str(err).splitlines()[0][:200]
            continue
        rows += got
        traces.append(asdict(trace))
    head = header(sizes, machine)
    summary = summarize(rows) if rows else []
    if as_json:
        return json.dumps({"header": head, "rows": summary, "traces": traces, "failed": failed}, indent=1)
    notes = [f"{name:<12}FAILED: {text}"[:100] for name, text in failed.items()]
    return "\n\n".join([head, LEGEND, "\n".join(([format_table(summary, traces)] if summary else []) + notes)])
