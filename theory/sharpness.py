"""Exact sharpness Tr ∇²L(θ) and its decompositions (docs/paper.md §3, F1 and F2).

Tr ∇²L = Σ_k ∂²L/∂θ_k²: only the Hessian's diagonal is needed. Two exact methods:

* ``"jets"`` (every architecture): for each scalar parameter θ_k alone, the
  exact first and second derivatives along t = θ_k by second-order forward mode
  (``theory.jets.Jet``) through the very forward code of
  ``theory.architectures.forward``. Branches (relu side, dead ``sim_bn`` neuron,
  ``sim_ln``'s max(||h||, ε)) are chosen by their condition at the base point,
  which is what differentiating the ``Piecewise`` forward gives (relu'(0) = 0);
  an undecided condition (free symbols) makes each jet component a ``Piecewise``.
* ``"closed_form"`` (relu ``nobias``/``bias``, any depth): F2 summed as in F1,
  (2/n) Σ_i ||∇θ f(x_i)||² by backpropagation (``relu_grad_norm_sq``; at depth 2
  ||W2 ⊙ 1[W1' x_i' > 0]||² ||x_i'||² + ||relu(W1' x_i')||², ``relu_trace``).
  With the branch convention above the residual term of F1 is exactly 0 for
  these nets, at every θ, so this is the same exact number, found per sample
  instead of per parameter (about 100 times sooner for C1 at d = 10, n = 20).

``trace_hessian`` takes the closed form by itself (``method="auto"``) where it
applies and every entry of θ, X and Y is an exact number (no float, no free
symbol), so that both methods end in the same canonical form
(``theory.exact.tidy``); ``method="jets"`` forces the general path.
``trace_hessian_by_diff`` computes the same value with sympy's ``diff`` on the
symbolic forward: slower, kept as the independent reference of the tests.
Parameters may hold free symbols (e.g. a construction's scale); the result is
then an expression in them.
"""
from __future__ import annotations

import sympy as sp

from sharpgen.theory.architectures import as_lists, check_inputs, check_model, evaluate
from sharpgen.theory.checks import as_labels, check_keywords
from sharpgen.theory.data import augment
from sharpgen.theory.exact import positive, tidy
from sharpgen.theory.jets import Jet
from sharpgen.theory.losses import mse
from sharpgen.theory.params import Params, check_is_params

HYPER = ("activation", "eps", "X_train", "depth")
METHODS = ("auto", "jets", "closed_form")


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


def _seeded_lists(params: Params, field: str, row: int, col: int, entry) -> dict:
    """``as_lists(params)`` with the one entry (field, row, col) replaced by ``entry`` (a jet)."""
    P = as_lists(params)
    if field.startswith("middle."):
        P["middle"][int(field.split(".")[1])][row][col] = entry
    elif field == "W1":
        P["W1"][row][col] = entry
    else:
        P[field][row] = entry
    return P


def _setup(arch, params, hyper) -> dict:
    """Validate the net and its hyperparameters once; return them as ``evaluate`` takes them."""
    check_keywords(hyper, HYPER, "a hyperparameter")
    return check_model(arch, params, **hyper)


def _labels(Y, n: int) -> sp.Matrix:
    # Free symbols are allowed (e.g. labels that are outputs of a symbolic network).
    return as_labels(Y, n, "Y", symbolic=True)


def _exact_numbers(*mats) -> bool:
    return all(v.is_number and not v.has(sp.Float) for mat in mats for v in mat)


def _use_closed_form(method, arch, params, kw, X, Y) -> bool:
    """Whether ``trace_hessian`` uses F2; ValueError for an unknown ``method`` or an inapplicable ``closed_form``."""
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    applies = arch in ("nobias", "bias") and kw["activation"] == "relu"
    if method == "closed_form" and not applies:
        raise ValueError(f"method: 'closed_form' (F2) is for relu nobias/bias nets, "
                         f"got {arch!r} ({kw['activation']}); use 'jets'")
    if method == "closed_form":
        return True
    return method == "auto" and applies and _exact_numbers(X, Y, *[mat for _, mat in params.items()])


def trace_hessian(arch, params, X, Y, *, method="auto", **hyper):
    """Exact Tr ∇²L(θ) for the MSE of docs/paper.md §1, L = (1/n) Σ (f(x_i) − y_i)², residual included.

    Sum over every scalar parameter θ_k (W1, b1, middle layers, W2, gamma) of ∂²L/∂θ_k².
    ``hyper``: ``activation``, ``eps`` (``sim_ln``), ``X_train`` (``sim_bn`` statistics;
    default X), ``depth``. ``method``: ``"auto"`` (default: F2's closed form for
    relu ``nobias``/``bias`` nets whose entries are exact numbers, else
    jets), ``"jets"`` (the general path, any net), ``"closed_form"`` (F2 also with
    floats or free symbols: equal, not necessarily in the same form). See the module
    docstring; every method gives the exact value.

    >>> p = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([2]))
    >>> trace_hessian("bias", p, [[3, 4]], [6])   # f = 6 = y: 2 (W2² ||x'||² + relu(z)²)
    226
    >>> trace_hessian("bias", p, [[3, 4]], [6], method="jets")
    226
    """
    kw = _setup(arch, params, hyper)
    X = check_inputs(params, X)
    Y = _labels(Y, X.rows)
    if _use_closed_form(method, arch, params, kw, X, Y):
        return _relu_trace(params, X)
    rows = X.tolist()
    total = []
    for field, r, c, value in parameter_slots(params):
        outs = evaluate(arch, _seeded_lists(params, field, r, c, Jet(value, 1)), rows, **kw)
        loss = sum(((Jet.lift(f) - y) ** 2 for f, y in zip(outs, Y)), Jet(0)) / X.rows
        total.append(loss.dd)
    return tidy(sp.Add(*total))


def trace_hessian_by_diff(arch, params, X, Y, **hyper):
    """Tr ∇²L(θ) by sympy ``diff`` of the symbolic loss, one parameter at a time (reference).

    Same value as ``trace_hessian`` (F1's left side), computed independently:
    θ_k is replaced by a sympy symbol t, L(t) is built by the forward pass with its
    branches frozen at t = θ_k, differentiated twice and evaluated at t = θ_k. Slow;
    for tests on small instances.

    >>> p = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([2]))
    >>> trace_hessian_by_diff("bias", p, [[3, 4]], [6])
    226
    """
    kw = _setup(arch, params, hyper)
    X = check_inputs(params, X)
    Y = _labels(Y, X.rows)
    t = sp.Dummy("t")
    rows = X.tolist()
    total = []
    for field, r, c, value in parameter_slots(params):
        moved = as_lists(replace_entry(params, field, r, c, t))
        loss = mse(evaluate(arch, moved, rows, branches_at=(t, value), **kw), Y)
        total.append(sp.diff(loss, t, 2).subs(t, value))
    return tidy(sp.Add(*total))


def _output_derivatives(arch, params, rows, kw):
    """Per sample i: (f(x_i), ||∇_θ f(x_i)||², Tr ∇²_θ f(x_i)), exact (jets, one parameter at a time)."""
    f = evaluate(arch, as_lists(params), rows, **kw)
    grad_sq = [sp.Integer(0)] * len(rows)
    hess_tr = [sp.Integer(0)] * len(rows)
    for field, r, c, value in parameter_slots(params):
        outs = evaluate(arch, _seeded_lists(params, field, r, c, Jet(value, 1)), rows, **kw)
        for i, out in enumerate(outs):
            out = Jet.lift(out)
            grad_sq[i] += out.d ** 2
            hess_tr[i] += out.dd
    return f, grad_sq, hess_tr


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
    kw = _setup(arch, params, hyper)
    if arch == "sim_bn" and kw["X_train"] is None:
        raise ValueError("X_train: sim_bn statistics need the training inputs, got None")
    _, grad_sq, _ = _output_derivatives(arch, params, _point(x, params).tolist(), kw)
    return tidy(grad_sq[0])


def _f1_terms(arch, params, X, Y, hyper):
    kw = _setup(arch, params, hyper)
    X = check_inputs(params, X)
    Y = _labels(Y, X.rows)
    rows = X.tolist()
    if arch == "sim_bn" and kw["X_train"] is None:
        kw = dict(kw, X_train=rows)
    f, grad_sq, hess_tr = _output_derivatives(arch, params, rows, kw)
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
    return tidy(_f1_terms(arch, params, X, Y, hyper)[0])


def residual_term(arch, params, X, Y, **hyper):
    """(2/n) Σ_i (f(x_i) − y_i) Tr ∇²_θ f(x_i), F1's correction off interpolation.

    Zero at interpolation; zero a.e. for relu MLPs (their diagonal second
    derivatives vanish); non-zero for softplus, sim_bn and sim_ln.

    >>> p = Params(W1=sp.Matrix([[1]]), b1=sp.Matrix([0]), W2=sp.Matrix([1]))
    >>> residual_term("bias", p, [[1]], [5])
    0
    """
    return tidy(_f1_terms(arch, params, X, Y, hyper)[1])


def trace_from_gradients(arch, params, X, Y, **hyper):
    """F1 (Lemma 4.1 with residual): (2/n) Σ ||∇f(x_i)||² + (2/n) Σ (f(x_i) − y_i) Tr ∇²f(x_i).

    Equals ``trace_hessian`` (an independent computation through f, not L).

    >>> p = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([2]))
    >>> trace_from_gradients("bias", p, [[3, 4]], [6])
    226
    """
    gradient, residual = _f1_terms(arch, params, X, Y, hyper)
    return tidy(gradient + residual)


def _relu_params(params) -> None:
    check_is_params(params)
    if params.gamma is not None or (params.b1 is None and params.depth != 2):
        raise ValueError("params: F2 is for relu nobias (depth 2) and bias (depth D) nets, without gamma")


def _relu_step(z) -> sp.Expr:
    """relu'(z) with relu'(0) = 0: decided exactly for a number, a ``Piecewise`` while free symbols leave it open."""
    if z.free_symbols:
        return sp.Piecewise((1, z > 0), (0, True))
    return sp.Integer(1) if positive(z) else sp.Integer(0)


def _relu_grad_norm_sq(params: Params, x) -> sp.Expr:
    """F2 at one input row x by backpropagation, untidied (``relu_grad_norm_sq`` without the checks)."""
    a = [augment(x, params.b1 is not None)]
    layers = [params.first_layer, *params.middle]
    z = []
    for W in layers:
        z.append(W * a[-1])
        a.append(z[-1].multiply_elementwise(z[-1].applyfunc(_relu_step)))
    total = (a[-1].T * a[-1])[0]
    delta = params.W2.multiply_elementwise(z[-1].applyfunc(_relu_step))
    for layer in range(len(layers) - 1, -1, -1):
        total += (delta.T * delta)[0] * (a[layer].T * a[layer])[0]
        if layer > 0:
            delta = (layers[layer].T * delta).multiply_elementwise(z[layer - 1].applyfunc(_relu_step))
    return total


def _relu_trace(params: Params, X: sp.Matrix) -> sp.Expr:
    return tidy(sp.Rational(2, X.rows) * sp.Add(*[_relu_grad_norm_sq(params, X.row(i)) for i in range(X.rows)]))


def relu_grad_norm_sq(params, x):
    """F2 closed form at any depth D: ||∇θ f(x)||² = Σ_l ||δ_l||² ||a_{l−1}||² + ||a_{D−1}||².

    Backpropagation through z_1 = W1' x', a_l = relu(z_l), z_{l+1} = W_{l+1} a_l (the middle
    layers), f = W2 · a_{D−1}: δ_{D−1} = W2 ⊙ 1[z_{D−1} > 0], δ_{l−1} = (W_lᵀ δ_l) ⊙ 1[z_{l−1} > 0],
    a_0 = x'. x', W1' are the augmented input and [W1 | b1] for ``bias``; x, W1 for ``nobias``
    (``params.b1 is None``, depth 2). 1[z > 0] is 0 at z = 0 (relu'(0) = 0). At depth 2 this is
    ||W2 ⊙ 1[W1' x' > 0]||² ||x'||² + ||relu(W1' x')||².

    >>> p = Params(W1=sp.Matrix([[1, 0]]), b1=sp.Matrix([0]), W2=sp.Matrix([2]))
    >>> relu_grad_norm_sq(p, [3, 4])   # W2² ||x'||² + relu(W1' x')² = 4·26 + 9
    113
    >>> deep = Params(W1=p.W1, b1=p.b1, W2=p.W2, middle=(sp.Matrix([[3]]),))   # depth 3: a = 3, 9
    >>> relu_grad_norm_sq(deep, [3, 4])   # 9² + 2²·3² + (3·2)²·26
    1053
    """
    _relu_params(params)
    return tidy(_relu_grad_norm_sq(params, _point(x, params)))


def relu_trace(params, X):
    """F2/F1 for relu nets of any depth: (2/n) Σ_i relu_grad_norm_sq(params, x_i).

    Equals Tr ∇²L at every θ, interpolating or not: f is linear in each single parameter
    on each activation pattern, so F1's residual term is 0 (relu'(0) = 0; module docstring).
    What ``trace_hessian`` computes for these nets by default; at interpolation it is
    Lemma 4.1's (2/n) Σ ||∇f(x_i)||².

    >>> p = Params(W1=sp.Matrix([[1, 0]]), W2=sp.Matrix([2]))
    >>> relu_trace(p, [[3, 4], [-1, 0]])
    109
    """
    _relu_params(params)
    return _relu_trace(params, check_inputs(params, X))
