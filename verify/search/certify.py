"""An independent re-check of a net found by ``numerics.search``: its Tr ∇²L and its interpolation.

``certify(problem, theta)`` recomputes, without the search's closed-form code path:

(a) float64: Tr ∇²L by the full autograd Hessian of the training loss
    (``numerics.nets.sharpness.trace_hessian(..., method="autograd")``; the closed form "exact"
    above ``AUTOGRAD_MAX_PARAMS`` parameters, recorded as the method) and max |f(x_i) − t_i|;
(b) exact sympy (relu ``bias``/``nobias`` at any depth, ``sim_ln``, ``sim_bn``; at most
    ``EXACT_MAX_PARAMS`` parameters): the parameters rationalized to the exact binary value of each
    float, the exact residual and the exact Tr (``theory.sharpness.trace_hessian``, the full F1
    trace; for the logistic loss, relu nets only, (1/n) Σ σ(f_i)σ(−f_i) ||∇f(x_i)||², F1 with
    ℓ'' = σσ' and Tr ∇²f = 0 on relu nets).

Each part is "ok" when its Tr agrees with the search's own Tr to ``AGREE`` (relative) and its residual
is at most ``numerics.search.FEASIBLE``.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import sympy as sp

import torch

from sharpgen.numerics.nets.sharpness import AUTOGRAD_MAX_PARAMS, trace_hessian as numeric_trace
from sharpgen.numerics.search.method import FEASIBLE
from sharpgen.numerics.search.problem import Problem, interpolation_targets
from sharpgen.theory.architectures import as_lists, evaluate
from sharpgen.theory.params import Params as TheoryParams
from sharpgen.theory.sharpness import grad_norm_sq, trace_hessian as exact_trace

AGREE = 1e-8  # relative agreement of an independent Tr with the search's
EXACT_MAX_PARAMS = 400  # sympy on exact binary rationals: seconds up to here
DIGITS = 30  # significant digits of an exact value's float and its printed decimal


@dataclass
class Part:
    """One independent check: its ``method``, Tr and residual (floats; exact ones also as strings),
    the relative difference to the search's Tr, and whether it is ``ok`` (``None``: skipped, ``note``)."""

    method: str
    trace: float | None = None
    residual: float | None = None
    rel_diff: float | None = None
    ok: bool | None = None
    trace_exact: str | None = None
    residual_exact: str | None = None
    note: str = ""


@dataclass
class Certificate:
    """The re-check of one net: the search's Tr, the float64 part and the exact part (``Part``).

    ``ok``: the float64 part is ok and the exact part is ok or skipped.

    >>> c = Certificate(8.0, Part("autograd", 8.0, 0.0, 0.0, True), Part("skipped", note="too large"))
    >>> c.ok, c.to_dict()["exact"]["method"]
    (True, 'skipped')
    """

    search_trace: float
    numeric: Part
    exact: Part

    @property
    def ok(self) -> bool:
        return bool(self.numeric.ok) and self.exact.ok is not False

    def to_dict(self) -> dict:
        return {"search_trace": self.search_trace, "ok": self.ok, "numeric": asdict(self.numeric),
                "exact": asdict(self.exact)}


def relative(a: float, b: float) -> float:
    """|a − b| / max(|b|, 1e-300): the relative difference of a to the reference b.

    >>> relative(1.0 + 1e-12, 1.0) < 1e-11
    True
    """
    if not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        raise ValueError(f"a, b: expected two real numbers, got {a!r}, {b!r}")
    return abs(a - b) / max(abs(b), 1e-300) if math.isfinite(a) and math.isfinite(b) else math.inf


def judged(part: Part, search_trace: float) -> Part:
    """``part`` with its ``rel_diff`` and ``ok`` filled in against ``search_trace``."""
    part.rel_diff = relative(part.trace, search_trace)
    part.ok = part.rel_diff <= AGREE and part.residual <= FEASIBLE
    return part


def numeric_part(problem: Problem, theta: torch.Tensor) -> Part:
    """(a): Tr by the full autograd Hessian (closed form above ``AUTOGRAD_MAX_PARAMS``) and the residual."""
    net = problem.net(theta)
    method = "autograd" if problem.size <= AUTOGRAD_MAX_PARAMS else "exact"
    note = "" if method == "autograd" else f"{problem.size} parameters > {AUTOGRAD_MAX_PARAMS}: closed form"
    trace = float(numeric_trace(net, problem.X, problem.Y, problem.loss, method=method, p=problem.p))
    with torch.no_grad():
        res = float((net(problem.X) - interpolation_targets(problem.loss, problem.Y, problem.p)).abs().max())
    return Part(method, trace, res, note=note)


def exact_params(problem: Problem, theta: torch.Tensor) -> TheoryParams:
    """θ as a ``theory.params.Params`` holding the exact binary value of every float (sympy.Rational)."""
    p = {k: v.detach().to(torch.float64) for k, v in problem.unflatten(theta).items()}
    col = lambda k: None if k not in p else sp.Matrix([sp.Rational(float(v)) for v in p[k].tolist()])
    mat = lambda t: sp.Matrix([[sp.Rational(float(v)) for v in row] for row in t.tolist()])
    middle = tuple(mat(p[k]) for k in sorted((k for k in p if k.startswith("middle.")), key=lambda s: int(s[7:])))
    return TheoryParams(W1=mat(p["W1"]), W2=col("W2"), b1=col("b1"), gamma=col("gamma"), middle=middle)


def exact_skip_reason(problem: Problem) -> str | None:
    """Why the exact part cannot run on ``problem`` (None: it can)."""
    if problem.size > EXACT_MAX_PARAMS:
        return f"{problem.size} parameters > {EXACT_MAX_PARAMS}"
    if problem.activation != "relu":
        return f"activation {problem.activation}: the exact check is for relu nets"
    if problem.loss != "mse" and problem.arch not in ("bias", "nobias"):
        return f"loss {problem.loss} on {problem.arch}: the exact check is MSE there"
    return None


def exact_part(problem: Problem, theta: torch.Tensor) -> Part:
    """(b): the exact residual and Tr of the rationalized θ (module docstring); skipped with a note."""
    reason = exact_skip_reason(problem)
    if reason is not None:
        return Part("skipped", note=reason)
    params = exact_params(problem, theta)
    X = [[sp.Rational(float(v)) for v in row] for row in problem.X.tolist()]
    Y = [sp.Rational(float(v)) for v in problem.Y.tolist()]
    hyper = {"depth": problem.depth, "activation": problem.activation}
    if problem.eps is not None:
        hyper["eps"] = sp.Rational(float(problem.eps))
    outs = evaluate(problem.arch, as_lists(params), X, activation=problem.activation, eps=hyper.get("eps"))
    if problem.loss == "mse":
        targets = Y
        trace = exact_trace(problem.arch, params, X, Y, **hyper)
        method = "sympy trace_hessian (exact rationals)"
    else:
        gamma = sp.log((1 - sp.Rational(float(problem.p))) / sp.Rational(float(problem.p)))
        targets = [gamma * y for y in Y]
        sig = lambda z: 1 / (1 + sp.exp(-z))
        trace = sp.Add(*[sig(f) * sig(-f) * grad_norm_sq(problem.arch, params, x, **hyper)
                         for f, x in zip(outs, X)]) / len(X)
        method = "sympy F1 with logistic l'' (exact rationals)"
    residual = sp.Max(*[sp.Abs(f - t) for f, t in zip(outs, targets)])
    return Part(method, float(sp.N(trace, DIGITS)), float(sp.N(residual, DIGITS)),
                trace_exact=str(trace if trace.is_Rational else sp.N(trace, DIGITS)),
                residual_exact=str(residual if residual.is_Rational else sp.N(residual, DIGITS)))


def certify(problem: Problem, theta: torch.Tensor) -> Certificate:
    """Re-check one net θ (P,) of ``problem`` independently of the search (module docstring).

    >>> import torch
    >>> prob = Problem("bias", torch.tensor([[1.0, 1.0]]), torch.tensor([1.0]), width=1)
    >>> theta = prob.flatten({"W1": [[0.5, 0.5]], "b1": [1.0], "W2": [0.5]})   # f = 0.5 relu(2) = 1
    >>> c = certify(prob, theta)
    >>> c.ok, c.exact.trace_exact   # F2: 2 (W2² ||x'||² + relu(W1' x')²) = 2 (3/4 + 4)
    (True, '19/2')
    """
    if not isinstance(problem, Problem):
        raise ValueError(f"problem: expected a numerics.search.Problem, got {type(problem).__name__}")
    # on the CPU whatever device the search ran on: the re-check shares no kernels with it
    problem = replace(problem, device="cpu")
    theta = torch.as_tensor(theta, dtype=torch.float64).cpu()
    if theta.shape != (problem.size,):
        raise ValueError(f"theta: expected shape ({problem.size},), got {tuple(theta.shape)}")
    search_trace = float(problem.sharpness(theta[None])[0])
    numeric = judged(numeric_part(problem, theta), search_trace)
    exact = exact_part(problem, theta)
    if exact.method != "skipped":
        exact = judged(exact, search_trace)
    return Certificate(search_trace, numeric, exact)
