"""Exact sharpness Tr ∇²L(θ) and its decompositions (docs/paper.md §3, F1–F4).

Method. Tr ∇²L = Σ_k ∂²L/∂θ_k²: only the Hessian's diagonal is needed. For
each scalar parameter θ_k alone we move it along t and need the exact first
and second t-derivatives at t = θ_k. ``trace_hessian`` gets them by exact
second-order forward-mode differentiation: every quantity is carried as a
``Jet`` (value, d/dt, d²/dt²) of exact sympy scalars through the same
forward code as ``theory.architectures.forward``. Branches (relu side,
dead ``sim_bn`` neuron, ``sim_ln``'s max(||h||, ε)) are chosen by their
condition at the base point, which is what differentiating the ``Piecewise``
forward gives (relu'(0) = 0); an undecided condition (free symbols) makes
each jet component a ``Piecewise``. ``trace_hessian_by_diff`` does the same
with sympy's ``diff`` on the symbolic forward (t a sympy symbol): slower,
kept as the independent reference the tests compare against. Parameters may
hold free symbols (e.g. a construction's scale); the result is then an
expression in them.
"""
from __future__ import annotations

import numbers

import sympy as sp

from sharpgen.theory.architectures import as_lists, check_eps, check_inputs, check_params, evaluate, forward, relu
from sharpgen.theory.data import as_labels, as_points
from sharpgen.theory.losses import mse
from sharpgen.theory.params import Params

HYPER = ("activation", "eps", "X_train", "depth")


def _check_hyper(hyper: dict) -> None:
    for key in hyper:
        if key not in HYPER:
            raise ValueError(f"{key}: not a hyperparameter; expected one of {HYPER}")


def _check_labels(Y, n: int) -> sp.Matrix:
    # Free symbols are allowed (e.g. labels that are outputs of a symbolic network).
    return as_labels(Y, n, "Y", symbolic=True)


def parameter_slots(params: Params):
    """(field, row, col, value) for every scalar entry of θ, in ``Params.items`` order.

    >>> p = Params(W1=sp.Matrix([[1, 2]]), W2=sp.Matrix([3]))
    >>> [(f, r, c) for f, r, c, _ in parameter_slots(p)]
    [('W1', 0, 0), ('W1', 0, 1), ('W2', 0, 0)]
    """
    for name, mat in params.items():
        for r in range(mat.rows):
            for c in range(mat.cols):
                yield name, r, c, mat[r, c]


def replace_entry(params: Params, field: str, row: int, col: int, value) -> Params:
    """A copy of ``params`` with the one entry (field, row, col) set to ``value``.

    >>> p = Params(W1=sp.Matrix([[1, 2]]), W2=sp.Matrix([3]))
    >>> replace_entry(p, "W1", 0, 1, 5).W1
    Matrix([[1, 5]])
    """
    fields = {"W1": params.W1, "b1": params.b1, "W2": params.W2, "gamma": params.gamma}
    middle = list(params.middle)
    if field.startswith("middle."):
        k = int(field.split(".")[1])
        target = middle[k] = sp.Matrix(middle[k])
    else:
        target = fields[field] = sp.Matrix(fields[field])
    target[row, col] = value
    return Params(W1=fields["W1"], W2=fields["W2"], b1=fields["b1"], gamma=fields["gamma"],
                  middle=tuple(middle))


class Jet:
    """A truncated Taylor expansion v + d t + (dd/2) t², exact sympy components.

    Arithmetic follows the chain rule to second order (d²/dt² in ``dd``).

    >>> t = Jet(sp.Integer(3), 1)
    >>> j = (t * t + 1).sqrt()        # sqrt(t² + 1) at t = 3
    >>> j.value, j.d, j.dd
    (sqrt(10), 3*sqrt(10)/10, sqrt(10)/100)
    """

    __slots__ = ("value", "d", "dd")

    def __init__(self, value, d=0, dd=0):
        self.value, self.d, self.dd = sp.sympify(value), sp.sympify(d), sp.sympify(dd)

    @staticmethod
    def lift(z) -> "Jet":
        return z if isinstance(z, Jet) else Jet(z)

    def __add__(self, other):
        o = Jet.lift(other)
        return Jet(self.value + o.value, self.d + o.d, self.dd + o.dd)

    __radd__ = __add__

    def __neg__(self):
        return Jet(-self.value, -self.d, -self.dd)

    def __sub__(self, other):
        return self + (-Jet.lift(other))

    def __rsub__(self, other):
        return Jet.lift(other) + (-self)

    def __mul__(self, other):
        o = Jet.lift(other)
        return Jet(self.value * o.value, self.value * o.d + self.d * o.value,
                   self.value * o.dd + 2 * self.d * o.d + self.dd * o.value)

    __rmul__ = __mul__

    def _apply(self, f0, f1, f2) -> "Jet":
        """φ(self) given φ, φ', φ'' at the value."""
        return Jet(f0, f1 * self.d, f1 * self.dd + f2 * self.d ** 2)

    def __pow__(self, r):
        r = sp.sympify(r)
        v = self.value
        return self._apply(v ** r, r * v ** (r - 1), r * (r - 1) * v ** (r - 2))

    def __truediv__(self, other):
        return self * Jet.lift(other) ** -1

    def __rtruediv__(self, other):
        return Jet.lift(other) * self ** -1

    def sqrt(self):
        return self ** sp.Rational(1, 2)

    def exp(self):
        e = sp.exp(self.value)
        return self._apply(e, e, e)

    def log(self):
        v = self.value
        return self._apply(sp.log(v), 1 / v, -1 / v ** 2)

    @staticmethod
    def choose(cond, a, b) -> "Jet":
        """Component-wise ``Piecewise((a, cond), (b, True))`` (cond undecided)."""
        a, b = Jet.lift(a), Jet.lift(b)
        return Jet(*[sp.Piecewise((x, cond), (y, True)) for x, y in
                     ((a.value, b.value), (a.d, b.d), (a.dd, b.dd))])


def _jet_lists(params: Params, field: str, row: int, col: int) -> dict:
    """``as_lists(params)`` with entry (field, row, col) seeded as the jet (θ_k, 1, 0)."""
    P = as_lists(params)
    value = (params.middle[int(field.split(".")[1])] if field.startswith("middle.")
             else getattr(params, field))[row, col]
    if field.startswith("middle."):
        P["middle"][int(field.split(".")[1])][row][col] = Jet(value, 1)
    elif field == "W1":
        P["W1"][row][col] = Jet(value, 1)
    else:
        P[field][row] = Jet(value, 1)
    return P


def _hyper_lists(params, hyper):
    """``hyper`` in the form ``evaluate`` takes (lists, checked ε, no ``depth``)."""
    out = dict(hyper)
    out.pop("depth", None)
    if out.get("X_train") is not None:
        out["X_train"] = check_inputs(params, out["X_train"], "X_train").tolist()
    if out.get("eps") is not None:
        out["eps"] = check_eps(out["eps"])
    return out


def _tidy(expr):
    """Canonical exact form so that equal values compare equal (radicals rationalised)."""
    expr = sp.sympify(expr)
    if expr.is_Rational or expr.is_Float or expr.has(sp.Piecewise, sp.exp, sp.log):
        # floats stay floats; transcendental (softplus) values have no cheap canonical form
        return expr
    if not expr.free_symbols:
        return sp.radsimp(sp.expand(expr))
    # simplify is worth it on construction-sized expressions only
    return sp.simplify(expr) if sp.count_ops(expr) <= 400 else sp.expand(expr)


def _check_model(arch, params, hyper) -> None:
    _check_hyper(hyper)
    check_params(arch, params, activation=hyper.get("activation", "relu"), depth=hyper.get("depth"))
    if arch == "sim_ln" and hyper.get("eps") is None:
        raise ValueError("eps: sim_ln needs eps > 0, got None")


def _setup(arch, params, X, hyper):
    _check_model(arch, params, hyper)
    return check_inputs(params, X)


def trace_hessian(arch, params, X, Y, **hyper):
    """Exact Tr ∇²L(θ) for the MSE of docs/paper.md §1 loss L = (1/n) Σ (f(x_i) − y_i)², residual included.

    Sum over every scalar parameter θ_k (W1, b1, middle layers, W2, gamma) of
    ∂²L/∂θ_k², by exact forward-mode jets through the loss (module docstring).
    ``hyper``: ``activation``, ``eps``, ``X_train`` (sim_bn statistics; default X), ``depth``.

    >>> p = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([2]))
    >>> trace_hessian("bias", p, [[3, 4]], [6])   # f = 6 = y: 2 (W2² ||x'||² + relu(z)²)
    226
    """
    X = _setup(arch, params, X, hyper)
    Y = _check_labels(Y, X.rows)
    kw = _hyper_lists(params, hyper)
    rows = X.tolist()
    total = []
    for field, r, c, _ in parameter_slots(params):
        outs = evaluate(arch, _jet_lists(params, field, r, c), rows, **kw)
        loss = sum(((Jet.lift(f) - y) ** 2 for f, y in zip(outs, Y)), Jet(0)) / X.rows
        total.append(loss.dd)
    return _tidy(sp.Add(*total))


def trace_hessian_by_diff(arch, params, X, Y, **hyper):
    """Tr ∇²L(θ) by sympy ``diff`` of the symbolic loss, one parameter at a time (reference).

    Same value as ``trace_hessian`` (F1's left side), computed independently:
    θ_k is replaced by a sympy symbol t, L(t) is built by ``forward`` (branches
    frozen at t = θ_k), differentiated twice and evaluated at t = θ_k. Slow;
    for tests on small instances.

    >>> p = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([2]))
    >>> trace_hessian_by_diff("bias", p, [[3, 4]], [6])
    226
    """
    X = _setup(arch, params, X, hyper)
    Y = _check_labels(Y, X.rows)
    t = sp.Dummy("t")
    total = []
    for field, r, c, value in parameter_slots(params):
        moved = replace_entry(params, field, r, c, t)
        loss = mse(forward(arch, moved, X, branches_at=(t, value), **hyper), Y)
        total.append(sp.diff(loss, t, 2).subs(t, value))
    return _tidy(sp.Add(*total))


def _output_derivatives(arch, params, X, hyper):
    """Per sample i: (||∇_θ f(x_i)||², Tr ∇²_θ f(x_i)), exact (jets, one parameter at a time)."""
    if arch == "sim_bn" and hyper.get("X_train") is None:
        raise ValueError("X_train: sim_bn statistics need the training inputs, got None")
    kw = _hyper_lists(params, hyper)
    rows = X.tolist()
    grad_sq = [sp.Integer(0)] * X.rows
    hess_tr = [sp.Integer(0)] * X.rows
    for field, r, c, _ in parameter_slots(params):
        outs = evaluate(arch, _jet_lists(params, field, r, c), rows, **kw)
        for i, f in enumerate(outs):
            f = Jet.lift(f)
            grad_sq[i] += f.d ** 2
            hess_tr[i] += f.dd
    return grad_sq, hess_tr


def _point(x, params: Params) -> sp.Matrix:
    x = sp.Matrix(x.tolist() if hasattr(x, "tolist") else x)
    if x.cols == 1 and x.rows != 1:
        x = x.T
    return check_inputs(params, x, "x")


def grad_norm_sq(arch, params, x, **hyper):
    """||∇_θ f_θ(x)||² exactly (Lemma 4.1's per-sample term), all parameters included.

    For ``sim_bn`` pass ``X_train`` (the statistics are over the training set).

    >>> p = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([2]))
    >>> grad_norm_sq("bias", p, [3, 4])   # W2² ||x'||² + relu(W1' x')² = 4·26 + 9
    113
    """
    _check_model(arch, params, hyper)
    X = _point(x, params)
    grad_sq, _ = _output_derivatives(arch, params, X, hyper)
    return _tidy(grad_sq[0])


def _f1_terms(arch, params, X, Y, hyper):
    X = _setup(arch, params, X, hyper)
    Y = _check_labels(Y, X.rows)
    if arch == "sim_bn" and hyper.get("X_train") is None:
        hyper = dict(hyper, X_train=X)
    grad_sq, hess_tr = _output_derivatives(arch, params, X, hyper)
    f = forward(arch, params, X, **hyper)
    n = X.rows
    gradient = sp.Rational(2, n) * sp.Add(*grad_sq)
    residual = sp.Rational(2, n) * sp.Add(*[(f[i] - Y[i]) * hess_tr[i] for i in range(n)])
    return gradient, residual


def gradient_term(arch, params, X, Y, **hyper):
    """(2/n) Σ_i ||∇_θ f(x_i)||², which is Tr ∇²L at interpolation (Lemma 4.1, F1).

    >>> p = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([2]))
    >>> gradient_term("bias", p, [[3, 4], [-1, 0]], [0, 0])
    113
    """
    return _tidy(_f1_terms(arch, params, X, Y, hyper)[0])


def residual_term(arch, params, X, Y, **hyper):
    """(2/n) Σ_i (f(x_i) − y_i) Tr ∇²_θ f(x_i), F1's correction off interpolation.

    Zero at interpolation; zero a.e. for relu MLPs (their diagonal second
    derivatives vanish); non-zero for softplus, sim_bn and sim_ln.

    >>> p = Params(W1=sp.Matrix([[1]]), b1=sp.Matrix([0]), W2=sp.Matrix([1]))
    >>> residual_term("bias", p, [[1]], [5])
    0
    """
    return _tidy(_f1_terms(arch, params, X, Y, hyper)[1])


def trace_from_gradients(arch, params, X, Y, **hyper):
    """F1 (Lemma 4.1 with residual): (2/n) Σ ||∇f(x_i)||² + (2/n) Σ (f(x_i) − y_i) Tr ∇²f(x_i).

    Equals ``trace_hessian`` (an independent computation through f, not L).

    >>> p = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([2]))
    >>> trace_from_gradients("bias", p, [[3, 4]], [6])
    226
    """
    gradient, residual = _f1_terms(arch, params, X, Y, hyper)
    return _tidy(gradient + residual)


def _relu_params(params) -> None:
    if not isinstance(params, Params):
        raise ValueError(f"params: expected a theory.params.Params, got {type(params).__name__}")
    if params.depth != 2 or params.gamma is not None:
        raise ValueError("params: F2 is for 2-layer relu nobias/bias nets (no middle layers, no gamma)")


def _augment(x: sp.Matrix, bias: bool) -> sp.Matrix:
    """x' = (x, 1) as a column when there is a bias (docs/paper.md §1), else x as a column."""
    col = x.T
    return col.col_join(sp.Matrix([1])) if bias else col


def relu_grad_norm_sq(params, x):
    """F2 closed form: ||W2 ⊙ 1[W1' x' > 0]||² ||x'||² + ||relu(W1' x')||².

    x', W1' are the augmented input and [W1 | b1] for ``bias``; x, W1 for
    ``nobias`` (``params.b1 is None``). 1[z > 0] is 0 at z = 0 (relu'(0) = 0).

    >>> p = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([2]))
    >>> relu_grad_norm_sq(p, [3, 4])
    113
    """
    _relu_params(params)
    xp = _augment(_point(x, params), params.b1 is not None)
    z = params.first_layer * xp
    active = sp.Add(*[params.W2[j] ** 2 * sp.Piecewise((1, z[j] > 0), (0, True)) for j in range(params.width)])
    return _tidy(active * (xp.T * xp)[0] + sp.Add(*[relu(v) ** 2 for v in z]))


def relu_trace(params, X):
    """F2/F1 for 2-layer relu nets: (2/n) Σ_i relu_grad_norm_sq(params, x_i).

    Equals Tr ∇²L at every θ off the relu kinks, interpolating or not (F1).

    >>> p = Params(W1=sp.Matrix([[1, 0]]), W2=sp.Matrix([2]))
    >>> relu_trace(p, [[3, 4], [-1, 0]])
    109
    """
    _relu_params(params)
    X = check_inputs(params, X)
    return _tidy(sp.Rational(2, X.rows) * sp.Add(*[relu_grad_norm_sq(params, X.row(i)) for i in range(X.rows)]))


def per_sample_bound(x, y, *, depth=2, bias=True):
    """F3/F4 lower bound on ||∇_θ f(x)||² over depth-D relu MLPs with f(x) = y.

    D |y|^{2(D−1)/D} ||x'||^{2/D}, x' = (x, 1) if ``bias`` else x
    (D = 2: 2 ||x'|| |y|; Theorem 4.1's proof, F3 by Cauchy–Schwarz/AM–GM).

    >>> per_sample_bound([1, 1, 1], -1)
    4
    >>> per_sample_bound([1, 1, 1], 1, bias=False)
    2*sqrt(3)
    >>> per_sample_bound([1, 1], 1, depth=1)
    Traceback (most recent call last):
    ...
    ValueError: depth: expected an integer >= 2, got 1
    """
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth < 2:
        raise ValueError(f"depth: expected an integer >= 2, got {depth!r}")
    entries = list(x) if isinstance(x, sp.MatrixBase) else list(x.tolist() if hasattr(x, "tolist") else x)
    xp = _augment(as_points([entries], "x"), bool(bias))
    y = as_labels([y], 1, "y", symbolic=True)[0]
    norm = sp.sqrt((xp.T * xp)[0])
    D = sp.Integer(depth)
    return D * sp.Abs(y) ** (2 * (D - 1) / D) * norm ** (2 / D)


# Re-exported so that the exact sharpness API lives in one place; theory.minimum
# must not import this module (it would be circular).
from sharpgen.theory.minimum import MinSharpness, min_sharpness  # noqa: E402
