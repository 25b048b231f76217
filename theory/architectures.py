"""Symbolic forward pass of the four architectures of docs/paper.md §2.

``forward(arch, params, X)`` returns the n x 1 sympy column of outputs
f_θ(x_i) for the rows x_i of X. Everything is exact: relu is written as
``Piecewise((z, z > 0), (0, True))`` so that relu'(0) = 0 (torch's
convention, docs/paper.md §1); it is never ``Heaviside`` (value 1/2 at 0).

Conventions fixed here (the paper leaves them open):

* ``sim_bn``: a neuron with a[j] = 0 (dead on every training input) has
  normalised output h_j / a_j := 0, so nothing is NaN/zoo and its derivatives
  are 0. With s_j = Σ_i h(x_i)_j² over the training inputs: s_j = 0 drops the
  term, s_j > 0 keeps it, and an undecided sign (free symbols) is written
  ``Piecewise((term, s_j > 0), (0, True))``.
* ``sim_ln``: max(||h||, ε) is ``Piecewise((||h||, ||h|| >= ε), (ε, True))``;
  at the tie ||h|| = ε the norm branch is used, as torch's ``clamp_min``
  (used by ``F.normalize``) passes the gradient there.
"""
from __future__ import annotations

import sympy as sp

from sharpgen.theory.checks import as_points, check_choice, check_depth, check_eps
from sharpgen.theory.params import Params, check_is_params

ARCHITECTURES = ("nobias", "bias", "sim_bn", "sim_ln")
ACTIVATIONS = ("relu", "softplus")
# f_θ(x) of each architecture (depth 2, docs/paper.md §2) in LaTeX, as ``forward`` computes it:
# what ``sympy.latex`` prints for a network of that architecture.
FORMULAS = {
    "nobias": r"W_{2}^{\top} \operatorname{relu}\left(W_{1} x\right)",
    "bias": r"W_{2}^{\top} \operatorname{relu}\left(W_{1} x + b_{1}\right)",
    "sim_bn": r"\sum_{j} W_{2,j} \gamma_{j} \frac{h_{j}(x)}{a_{j}},\; "
              r"h = \operatorname{relu}\left(W_{1} x + b_{1}\right),\; "
              r"a_{j} = \sqrt{\tfrac{1}{n} \textstyle\sum_{i} h_{j}(x_{i})^{2}}",
    "sim_ln": r"W_{2}^{\top} \frac{h(x)}{\max\left(\lVert h(x) \rVert, \varepsilon\right)},\; "
              r"h = \operatorname{relu}\left(W_{1} x + b_{1}\right)",
}


def relu(z):
    """relu(z) = max(z, 0) as ``Piecewise`` with relu'(0) = 0 (docs/paper.md §1).

    >>> relu(sp.Integer(-2)), relu(sp.Rational(3, 2))
    (0, 3/2)
    >>> z = sp.Symbol("z")
    >>> sp.diff(relu(z), z).subs(z, 0)
    0
    """
    return sp.Piecewise((z, z > 0), (0, True))


def softplus(z):
    """softplus(z) = log(1 + exp(z)) (the activation of the paper's Figure 5).

    >>> softplus(sp.Integer(0))
    log(2)
    """
    return sp.log(1 + sp.exp(z))


def check_arch(arch) -> str:
    """Return ``arch`` if it is one of ``ARCHITECTURES``, else raise ValueError.

    >>> check_arch("bias")
    'bias'
    >>> check_arch("resnet")
    Traceback (most recent call last):
    ...
    ValueError: arch: expected one of ('nobias', 'bias', 'sim_bn', 'sim_ln'), got 'resnet'
    """
    return check_choice("arch", arch, ARCHITECTURES)


def check_hyper(arch, *, activation="relu", depth=None, eps=None) -> tuple[str, int | None, sp.Expr | None]:
    """The one check of an architecture's hyperparameters (docs/paper.md §2): (activation, depth, ε).

    Only ``bias`` may use softplus or have depth D > 2 (``depth=None``: not given);
    ``sim_ln`` needs ε > 0 and no other architecture takes one.

    >>> check_hyper("sim_ln", eps=0.5)
    ('relu', None, 0.500000000000000)
    >>> check_hyper("nobias", activation="softplus")
    Traceback (most recent call last):
    ...
    ValueError: activation: nobias uses relu only, got 'softplus'
    >>> check_hyper("bias", eps=1)
    Traceback (most recent call last):
    ...
    ValueError: eps: only sim_ln uses eps, got 1 for 'bias'
    """
    check_arch(arch)
    check_choice("activation", activation, ACTIVATIONS)
    if arch != "bias" and activation != "relu":
        raise ValueError(f"activation: {arch} uses relu only, got {activation!r}")
    if depth is not None:
        depth = check_depth(depth)
        if arch != "bias" and depth != 2:
            raise ValueError(f"depth: {arch} has depth 2, got {depth!r}")
    if arch != "sim_ln":
        if eps is not None:
            raise ValueError(f"eps: only sim_ln uses eps, got {eps!r} for {arch!r}")
        return activation, depth, None
    if eps is None:
        raise ValueError("eps: sim_ln needs eps > 0, got None")
    return activation, depth, check_eps(eps)


def _check_fields(arch, params, depth) -> None:
    """``params`` has exactly the fields ``arch`` uses (docs/paper.md §2) and, if given, ``depth`` layers.

    ``nobias``: W1, W2; ``bias``: W1, b1, W2 and optional middle layers (depth D);
    ``sim_bn``: W1, b1, gamma, W2; ``sim_ln``: W1, b1, W2.
    """
    check_is_params(params)
    if depth is not None and depth != params.depth:
        raise ValueError(f"depth: expected params.depth = {params.depth} (number of layers in params), got {depth!r}")
    if arch != "bias" and params.depth != 2:
        raise ValueError(f"params: {arch} has depth 2, but params has {len(params.middle)} middle layers")
    if arch == "nobias" and params.b1 is not None:
        raise ValueError("params: nobias has no bias, but params.b1 is set")
    if arch != "nobias" and params.b1 is None:
        raise ValueError(f"params: {arch} needs params.b1, got None")
    if arch == "sim_bn" and params.gamma is None:
        raise ValueError("params: sim_bn needs params.gamma, got None")
    if arch != "sim_bn" and params.gamma is not None:
        raise ValueError(f"params: {arch} has no gamma, but params.gamma is set")


def check_model(arch, params, *, activation="relu", depth=None, eps=None, X_train=None) -> dict:
    """Validate a network and its hyperparameters once; return them as ``evaluate`` takes them.

    ``check_hyper``; then ``params`` must have exactly the fields ``arch`` uses
    (docs/paper.md §2: ``nobias`` W1, W2; ``bias`` W1, b1, W2 and middle layers for
    depth D, which must equal ``depth`` if given; ``sim_bn`` W1, b1, gamma, W2;
    ``sim_ln`` W1, b1, W2); then ``X_train`` (``sim_bn`` only: the inputs its
    statistics a_j are taken over; rows of length ``params.d``).

    >>> check_model("nobias", Params(W1=sp.eye(2), W2=sp.ones(2, 1), b1=sp.zeros(2, 1)))
    Traceback (most recent call last):
    ...
    ValueError: params: nobias has no bias, but params.b1 is set
    >>> p = Params(W1=sp.eye(2), b1=sp.ones(2, 1), W2=sp.ones(2, 1))
    >>> check_model("sim_ln", p, eps=sp.Rational(1, 2))
    {'activation': 'relu', 'eps': 1/2, 'X_train': None}
    >>> check_model("bias", p, X_train=[[1, 1]])
    Traceback (most recent call last):
    ...
    ValueError: X_train: only sim_bn uses X_train (its normalisation statistics), got it for 'bias'
    """
    activation, depth, eps = check_hyper(arch, activation=activation, depth=depth, eps=eps)
    _check_fields(arch, params, depth)
    if X_train is not None:
        if arch != "sim_bn":
            raise ValueError(f"X_train: only sim_bn uses X_train (its normalisation statistics), got it for {arch!r}")
        X_train = check_inputs(params, X_train, "X_train").tolist()
    return {"activation": activation, "eps": eps, "X_train": X_train}


def check_inputs(params: Params, X, name: str = "X") -> sp.Matrix:
    """X as an (n, d) sympy Matrix whose d matches ``params.d``, else ValueError naming ``name``.

    >>> check_inputs(Params(W1=sp.eye(2), W2=sp.ones(2, 1)), [[1, -1]])
    Matrix([[1, -1]])
    >>> check_inputs(Params(W1=sp.eye(2), W2=sp.ones(2, 1)), [[1, -1, 1]], "X_train")
    Traceback (most recent call last):
    ...
    ValueError: X_train: expected 2 columns (params.d), got 3
    """
    X = as_points(X, name)
    if X.cols != params.d:
        raise ValueError(f"{name}: expected {params.d} columns (params.d), got {X.cols}")
    return X


# The forward pass below is written on plain lists with Python arithmetic so
# that it runs unchanged on sympy scalars (``forward``) and on the second-order
# jets of ``theory.sharpness`` (exact forward-mode derivatives). A jet exposes
# ``value`` and the methods ``sqrt``, ``exp``, ``log`` and ``choose``.

def _is_jet(z) -> bool:
    return hasattr(z, "choose")


def _value(z):
    return z.value if _is_jet(z) else z


def _decide(cond, at):
    """Truth value of ``cond`` at the base point ``at = (symbol, value)``, or None if undecided."""
    if at is not None and isinstance(cond, sp.Basic):
        cond = cond.subs(*at)
    if isinstance(cond, (bool, sp.logic.boolalg.BooleanAtom)):
        return bool(cond)
    return None


def _choose(cond, a, b, at):
    """``a`` where ``cond`` holds else ``b`` (``Piecewise`` unless ``cond`` is decided)."""
    decided = _decide(cond, at)
    if decided is not None:
        return a if decided else b
    for z in (a, b):
        if _is_jet(z):
            return type(z).choose(cond, a, b)
    return sp.Piecewise((a, cond), (b, True))


def _relu(z, at):
    return _choose(_value(z) > 0, z, sp.Integer(0), at)


def _sqrt(z):
    return z.sqrt() if _is_jet(z) else sp.sqrt(z)


def _softplus(z):
    return (1 + z.exp()).log() if _is_jet(z) else softplus(z)


def _total(terms):
    out = sp.Integer(0)
    for t in terms:
        out = out + t
    return out


def _pre(P, x):
    """W1 x + b1 for one input x (lists)."""
    b1 = P["b1"]
    return [_total(w * v for w, v in zip(row, x)) + (b1[j] if b1 is not None else 0)
            for j, row in enumerate(P["W1"])]


def _mlp(P, X, act):
    outs = []
    for x in X:
        h = [act(z) for z in _pre(P, x)]
        for W in P["middle"]:
            h = [act(_total(w * v for w, v in zip(row, h))) for row in W]
        outs.append(_total(w * v for w, v in zip(P["W2"], h)))
    return outs


def _sim_bn(P, X, X_train, at):
    relu_ = lambda z: _relu(z, at)  # noqa: E731
    H = [[relu_(z) for z in _pre(P, x)] for x in X]
    H_train = H if X_train is X else [[relu_(z) for z in _pre(P, x)] for x in X_train]
    n_train = len(X_train)
    scales = []  # per neuron: W2_j gamma_j / a_j, or None when dead (a_j = 0: term 0)
    for j in range(len(P["W2"])):
        s = _total(h[j] ** 2 for h in H_train)
        s_value = _value(s)
        if isinstance(s_value, sp.Expr) and s_value.is_zero:
            scales.append(None)
            continue
        scale = P["W2"][j] * P["gamma"][j] / _sqrt(s / n_train)
        # The dead-neuron rule stays in the expression while the sign of s_j is undecided.
        scales.append(scale if _decide(s_value > 0, at) else (s_value, scale))
    outs = []
    for h in H:
        terms = []
        for j, scale in enumerate(scales):
            if isinstance(scale, tuple):
                terms.append(_choose(scale[0] > 0, scale[1] * h[j], sp.Integer(0), at))
            elif scale is not None:
                terms.append(scale * h[j])
        outs.append(_total(terms))
    return outs


def _sim_ln(P, X, eps, at):
    outs = []
    for x in X:
        h = [_relu(z, at) for z in _pre(P, x)]
        norm = _sqrt(_total(v ** 2 for v in h))
        denom = _choose(_value(norm) >= eps, norm, eps, at)
        outs.append(_total(w * v for w, v in zip(P["W2"], h)) / denom)
    return outs


def as_lists(params: Params) -> dict:
    """Params as a dict of nested lists (rows), the input of ``evaluate``.

    >>> as_lists(Params(W1=sp.Matrix([[1, 2]]), W2=sp.Matrix([3])))
    {'W1': [[1, 2]], 'b1': None, 'W2': [3], 'gamma': None, 'middle': []}
    """
    def col(v):
        return None if v is None else list(v)
    return {"W1": params.W1.tolist(), "b1": col(params.b1), "W2": col(params.W2),
            "gamma": col(params.gamma), "middle": [w.tolist() for w in params.middle]}


def evaluate(arch, P, X, *, activation="relu", eps=None, X_train=None, branches_at=None) -> list:
    """Unchecked core of ``forward`` on lists: P from ``as_lists``, X and X_train lists of rows.

    Entries may be sympy scalars or jets (``theory.jets.Jet``). Callers
    validate with ``check_model``/``check_inputs`` first. Same formulas as
    ``forward`` (docs/paper.md §2).

    >>> P = as_lists(Params(W1=sp.Matrix([[1, 2]]), W2=sp.Matrix([3])))
    >>> evaluate("nobias", P, [[1, 1], [-1, 0]])
    [9, 0]
    """
    if arch in ("nobias", "bias"):
        act = (lambda z: _relu(z, branches_at)) if activation == "relu" else _softplus
        return _mlp(P, X, act)
    if arch == "sim_bn":
        return _sim_bn(P, X, X if X_train is None else X_train, branches_at)
    return _sim_ln(P, X, eps, branches_at)


def forward(arch, params, X, *, activation="relu", eps=None, X_train=None, depth=None,
            branches_at=None) -> sp.Matrix:
    """Outputs f_θ(x_i) of architecture ``arch`` (docs/paper.md §2) as an n x 1 sympy column.

    * ``nobias``: W2 · relu(W1 x); ``bias``: W_D relu(... relu(W1 x + b1)), depth
      ``params.depth``, activation relu or softplus;
    * ``sim_bn``: Σ_j W2_j γ_j h_j(x) / a_j, h = relu(W1 x + b1),
      a_j = sqrt((1/n) Σ_i h(x_i)_j²) over ``X_train`` (default X); a_j = 0 -> term 0;
    * ``sim_ln``: W2 · h(x) / max(||h(x)||, ε), ``eps`` required > 0.

    ``depth``, if given, must equal ``params.depth`` (it is read from params).
    ``branches_at = (symbol, value)`` freezes every branch (relu side, dead
    neuron, max) to the one its condition selects at symbol = value; the
    result then equals the ``Piecewise`` one near that value, with the same
    derivatives there (relu'(0) = 0), and differentiates much faster.

    >>> p = Params(W1=sp.Matrix([[1, 1], [-1, 1]]), b1=sp.Matrix([-1, 0]), W2=sp.Matrix([2, 3]))
    >>> forward("bias", p, [[1, 1], [1, -1]]).T
    Matrix([[2, 0]])
    >>> forward("sim_ln", p, [[1, 1]], eps=sp.Rational(1, 10)).T
    Matrix([[2]])
    >>> forward("sim_ln", p, [[1, 1]])
    Traceback (most recent call last):
    ...
    ValueError: eps: sim_ln needs eps > 0, got None
    """
    hyper = check_model(arch, params, activation=activation, depth=depth, eps=eps, X_train=X_train)
    X = check_inputs(params, X)
    if branches_at is not None and (len(branches_at) != 2 or not isinstance(branches_at[0], sp.Symbol)):
        raise ValueError(f"branches_at: expected (symbol, value), got {branches_at!r}")
    return sp.Matrix(evaluate(arch, as_lists(params), X.tolist(), branches_at=branches_at, **hyper))
