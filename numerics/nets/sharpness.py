"""Sharpness Tr ∇²L(θ) of a ``Net`` or any ``torch.nn.Module`` on a training set (docs/paper.md §1, §3 F1/F2).

Three methods (``"exact"`` for our nets only):

- ``"exact"``: Lemma 4.1 (F1) without assuming interpolation,
  Tr ∇²L = (1/n) Σ_i l''(f_i) ||∇θ f(x_i)||² + (1/n) Σ_i l'(f_i) Tr ∇²θ f(x_i),
  with both per-sample terms in closed form (F2 and its extensions below),
  O(n m d + n m²) -- fast at the paper's size. (Materialising per-sample
  gradients with torch.func is 10-100x slower there; the tests compare these
  closed forms with torch.func's Jacobians and Hessians instead.)
- ``"autograd"``: the full Hessian of L by ``torch.func.hessian`` over the
  flat parameter vector (small nets only; the independent check, and the
  default for a module that is not one of our nets).
- ``"hutchinson"``: the Rademacher estimator E[vᵀ ∇²L v] by Hessian-vector
  products, with its standard error.

The closed forms use: a weight matrix W entering only through z = W a has
∇_W f = g aᵀ and Σ_jk ∂²f/∂W_jk² = Σ_j ∂²f/∂z_j² ||a||², where g = ∂f/∂z.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from sharpgen.numerics.nets.data import check_labels, check_points
from sharpgen.numerics.nets.losses import get_loss, loss_derivatives
from sharpgen.numerics.nets.functional import activation_derivatives, first_weights, ln_norm_branch, ln_normaliser, middle_layers, safe_norm
from sharpgen.numerics.nets.models import Net
from sharpgen.numerics.validate import LOSSES, check_int

METHODS = ("exact", "autograd", "hutchinson")
AUTOGRAD_MAX_PARAMS = 4000  # the full Hessian is P x P float64: 128 MB at this limit


@dataclass(frozen=True)
class HutchinsonEstimate:
    """A Hutchinson estimate of Tr ∇²L: mean of vᵀ∇²L v over ``samples`` Rademacher v, and its standard error.

    >>> HutchinsonEstimate(8.0, 0.0, 10).value
    8.0
    """

    value: float
    stderr: float
    samples: int


# ---------------------------------------------------------------- helpers

def _with_ones(X: torch.Tensor) -> torch.Tensor:
    """Augmented inputs x' = (x, 1) (docs/paper.md §1)."""
    return torch.cat([X, torch.ones_like(X[:, :1])], dim=1)


def _first_inputs(params: dict, X: torch.Tensor) -> torch.Tensor:
    return X if params.get("b1") is None else _with_ones(X)


def _mlp_forward(params: dict, X: torch.Tensor, activation: str):
    """Each hidden layer's input (x or x', then a_1, ...) and pre-activation z, and the top activation."""
    act = activation_derivatives(activation)[0]
    a, inputs, zs = _first_inputs(params, X), [], []
    for W in [first_weights(params)] + middle_layers(params):
        inputs.append(a)
        zs.append(a @ W.T)
        a = act(zs[-1])
    return inputs, zs, a


# ---------------------------------------------------------------- per-sample closed forms

def _relu_step(z: torch.Tensor) -> torch.Tensor:
    return (z > 0).to(z.dtype)


def _mlp_gradient_norms(params: dict, X: torch.Tensor, activation: str, step=None) -> torch.Tensor:
    # ||∇f||² = ||a_{D-1}||² (output layer) + Σ_l ||g_l||² ||a_{l-1}||²; F2 when D = 2.
    _, d1, _ = activation_derivatives(activation)
    d1 = d1 if step is None or activation != "relu" else step
    inputs, zs, top = _mlp_forward(params, X, activation)
    weights = middle_layers(params)
    total = (top * top).sum(dim=1)
    g = params["W2"] * d1(zs[-1])
    for k in reversed(range(len(zs))):
        total = total + (g * g).sum(dim=1) * (inputs[k] * inputs[k]).sum(dim=1)
        if k > 0:
            g = d1(zs[k - 1]) * (g @ weights[k - 1])
    return total


def _mlp_hessian_traces(params: dict, X: torch.Tensor, activation: str) -> torch.Tensor:
    # Tr ∇²f = Σ_l Σ_j [∂²f/∂z_l²]_jj ||a_{l-1}||². relu: every term is 0 (a.e.), any depth.
    # softplus: H_{D-1} = diag(W_D σ''(z_{D-1})), and going down
    # H_l = D_l W_{l+1}ᵀ H_{l+1} W_{l+1} D_l + diag(σ''(z_l) ⊙ W_{l+1}ᵀ g_{l+1}), D_l = diag(σ'(z_l)).
    # Depth <= 3 needs diagonals only (O(n m²)); deeper nets carry full (n, m, m) matrices (O(n m³)).
    if activation == "relu":
        return torch.zeros(X.shape[0], dtype=X.dtype, device=X.device)
    _, d1, d2 = activation_derivatives(activation)
    inputs, zs, _ = _mlp_forward(params, X, activation)
    weights = middle_layers(params)
    g = params["W2"] * d1(zs[-1])
    hess, is_diag = params["W2"] * d2(zs[-1]), True
    total = torch.zeros(X.shape[0], dtype=X.dtype, device=X.device)
    for k in reversed(range(len(zs))):
        diag = hess if is_diag else torch.diagonal(hess, dim1=1, dim2=2)
        total = total + diag.sum(dim=1) * (inputs[k] * inputs[k]).sum(dim=1)
        if k == 0:
            break
        W, s1, s2 = weights[k - 1], d1(zs[k - 1]), d2(zs[k - 1])
        back = g @ W
        if k - 1 == 0:  # only the diagonal of the first layer's H is needed
            quad = hess @ (W * W) if is_diag else torch.einsum("nab,ai,bi->ni", hess, W, W)
            hess, is_diag = s1 * s1 * quad + s2 * back, True
        else:
            WD = W[None] * s1[:, None, :]
            inner = hess[:, :, None] * WD if is_diag else hess @ WD
            hess, is_diag = WD.transpose(1, 2) @ inner + torch.diag_embed(s2 * back), False
        g = s1 * back
    return total


def _sim_ln_terms(params: dict, X: torch.Tensor, eps: float, step=_relu_step):
    # f = F(h) = W2·h / N, N = max(||h||, eps), h = relu(z), s = W2·h. Where ||h|| >= eps:
    # ∂F/∂h = W2/N - s h/N³ and ∂²F/∂h_j² = -2 W2_j h_j/N³ - s/N³ + 3 s h_j²/N⁵; where ||h|| < eps,
    # N = eps is constant: ∂F/∂h = W2/eps and ∂²F/∂h_j² = 0. Only W1' enters nonlinearly.
    Xp = _first_inputs(params, X)
    z = Xp @ first_weights(params).T
    h, u = torch.relu(z), step(z)
    sq = (h * h).sum(dim=1, keepdim=True)
    N = ln_normaliser(sq, eps)  # max(||h||, eps), = eps > 0 also where eps² underflows to 0
    big = ln_norm_branch(sq, eps)  # at the tie the norm branch, as in models.forward
    s = h @ params["W2"][:, None]
    W2 = params["W2"]
    zero = torch.zeros_like(h)
    # The norm-branch terms divide by powers of N; where N = eps they are not used (torch.where drops
    # them, and with them any 0/0 from an eps whose powers underflow), and the eps-branch terms are
    # written without eps².
    g = u * (W2 / N - torch.where(big, s * h / N ** 3, zero))
    x_sq = (Xp * Xp).sum(dim=1)
    grad_sq = (g * g).sum(dim=1) * x_sq + torch.where(big, sq / N ** 2, (safe_norm(sq) / N) ** 2)[:, 0]
    d2F = torch.where(big, -2 * W2 * h / N ** 3 - s / N ** 3 + 3 * s * h * h / N ** 5, zero)
    return grad_sq, x_sq * (u * d2F).sum(dim=1)


def _sim_bn_terms(params: dict, X: torch.Tensor, X_train: torch.Tensor, step=_relu_step):
    # f(x) = Σ_j c_j h_j(x)/a_j, c_j = W2_j γ_j, a_j² = (1/n) Σ_l h_j(x_l)², x_l the training inputs.
    # With w_j = row j of W1', m_j = ∂(a_j²/2)/∂w_j = (1/n) Σ_l h_j(x_l) x'_l, T_j = (1/n) Σ_l 1[z_jl > 0] ||x'_l||²:
    #   ∇_{w_j} f(x) = c_j (u_j x' - h_j m_j / a_j²) / a_j,  u_j = 1[z_j(x) > 0],
    #   Tr ∇²_{w_j} f(x) = c_j u_j (-2 x'·m_j / a_j³ - h_j T_j / a_j³ + 3 h_j ||m_j||² / a_j⁵),
    # and f is bilinear in (W2_j, γ_j), so their diagonal second derivatives are 0. Dead neurons: 0.
    Wp = first_weights(params)
    Xt, Xp = _with_ones(X_train), _with_ones(X)
    zt = Xt @ Wp.T
    Ht, Ut = torch.relu(zt), step(zt)
    nt = Xt.shape[0]
    a2 = (Ht * Ht).mean(dim=0)
    alive = (a2 > 0).to(a2.dtype)
    a = torch.sqrt(torch.where(a2 > 0, a2, torch.ones_like(a2)))
    W2, gamma = params["W2"] * alive, params["gamma"] * alive
    c = W2 * gamma
    M = Ht.T @ Xt / nt
    T = Ut.T @ (Xt * Xt).sum(dim=1) / nt
    m_sq = (M * M).sum(dim=1)
    z = Xp @ Wp.T
    h, u = torch.relu(z), step(z)
    P = Xp @ M.T
    x_sq = (Xp * Xp).sum(dim=1, keepdim=True)
    grad_out = ((gamma ** 2 + W2 ** 2) * h * h / a ** 2).sum(dim=1)
    grad_first = (c ** 2 / a ** 2 * (u * x_sq - 2 * h * P / a ** 2 + h * h * m_sq / a ** 4)).sum(dim=1)
    trace = (c * u * (-2 * P / a ** 3 - h * T / a ** 3 + 3 * h * m_sq / a ** 5)).sum(dim=1)
    return grad_out + grad_first, trace


def _terms(model: Net, X: torch.Tensor):
    params = {k: v.detach() for k, v in model.named_parameters()}
    return sample_terms(model.arch, params, X, activation=model.hyper["activation"], eps=model.hyper["eps"],
                        X_train=_training_inputs(model, X))


# ---------------------------------------------------------------- public per-sample terms and parts of F1

class SampleTerms(NamedTuple):
    """The two per-sample terms of F1: ``grad_sq`` = ||∇θ f(x_i)||², ``hess_trace`` = Tr ∇²θ f(x_i)."""

    grad_sq: torch.Tensor
    hess_trace: torch.Tensor


def sample_terms(arch: str, params: dict, X: torch.Tensor, *, activation: str = "relu", eps=None,
                 X_train: torch.Tensor | None = None, step=None) -> SampleTerms:
    """The closed forms of :func:`per_sample_terms` on a parameter dict, unchecked and differentiable in
    ``params`` (they compose with ``torch.func.vmap`` and ``grad``: ``numerics.search`` minimizes them).

    ``params`` uses the shared names ("W1", "b1", "W2", "gamma", "middle.k"); ``X_train`` holds the
    sim_bn statistics' inputs (default X). ``step`` replaces relu' = 1[z > 0] where it multiplies a
    gradient (a smooth stand-in such as sigmoid(z/T) lets a search see the jump of Tr where a neuron
    switches on or off; ``None``: the exact relu'). Nothing is validated: :func:`per_sample_terms` is the
    checked face.

    >>> p = {"W1": torch.tensor([[1.0, 0.0]], dtype=torch.float64), "W2": torch.tensor([2.0], dtype=torch.float64)}
    >>> sample_terms("nobias", p, torch.tensor([[3.0, 4.0]], dtype=torch.float64)).grad_sq  # 2² 25 + 3²
    tensor([109.], dtype=torch.float64)
    """
    relu_step = _relu_step if step is None else step
    if arch == "sim_ln":
        return SampleTerms(*_sim_ln_terms(params, X, eps, relu_step))
    if arch == "sim_bn":
        return SampleTerms(*_sim_bn_terms(params, X, X if X_train is None else X_train, relu_step))
    return SampleTerms(_mlp_gradient_norms(params, X, activation, step), _mlp_hessian_traces(params, X, activation))


def _check_model(model) -> Net:
    if not isinstance(model, Net):
        raise ValueError(f"model: expected a numerics.models.Net, got {type(model).__name__}")
    return model


def _as_inputs(model: Net, X) -> torch.Tensor:
    return check_points("X", X, model.d).to(dtype=model.W1.dtype, device=model.W1.device)


def _training_inputs(model: Net, X: torch.Tensor) -> torch.Tensor:
    """sim_bn statistics come from the registered training inputs, else from X itself."""
    return X if model.X_train is None else model.X_train


def per_sample_terms(model: Net, X) -> SampleTerms:
    """||∇θ f(x_i)||² and Tr ∇²θ f(x_i) for every row of X, in closed form (F2 and its extensions).

    2-layer relu: ||∇f||² = ||W2 ⊙ 1[W1'x' > 0]||² ||x'||² + ||relu(W1'x')||² (F2) and
    Tr ∇²f = 0 (a.e., any depth); softplus depth 2: Tr ∇²f = Σ_j W2_j σ''(z_j) ||x'||²;
    sim_ln: ||x'||² Σ_j 1[z_j > 0] ∂²F/∂h_j²; sim_bn: the per-neuron formulas
    through a_j (see the module source), with the registered training inputs
    as statistics (X itself if none).

    >>> from sharpgen.numerics.nets.params import from_params
    >>> net = from_params("bias", {"W1": [[1.0, 0.0]], "b1": [0.0], "W2": [2.0]}, activation="softplus")
    >>> terms = per_sample_terms(net, [[0.0, 1.0]])
    >>> terms.hess_trace  # 2 * σ''(0) * ||(0, 1, 1)||² = 2 * 0.25 * 2
    tensor([1.], dtype=torch.float64)
    >>> per_sample_terms(from_params("bias", {"W1": [[1.0, 0.0]], "b1": [0.0], "W2": [2.0]}), [[3.0, 4.0]]).grad_sq
    tensor([113.], dtype=torch.float64)
    """
    model = _check_model(model)
    return SampleTerms(*_terms(model, _as_inputs(model, X)))


class TraceParts(NamedTuple):
    """Tr ∇²L split as in F1: ``total`` = ``gauss_newton`` + the residual term (1/n) Σ ℓ'(f_i) Tr ∇²f(x_i)."""

    total: float
    gauss_newton: float


# ---------------------------------------------------------------- methods

def _flat_loss(named: list[tuple[str, torch.Tensor]], forward, loss_fn, Y: torch.Tensor):
    """L(θ) over the flat vector θ of the ``named`` tensors, ``forward(params) -> outputs``; and θ itself."""
    names = [k for k, _ in named]
    tensors = [v.detach() for _, v in named]
    sizes = [t.numel() for t in tensors]

    def L(theta):
        params = {k: chunk.reshape(t.shape) for k, chunk, t in zip(names, torch.split(theta, sizes), tensors)}
        return loss_fn(forward(params), Y)

    return L, torch.cat([t.reshape(-1) for t in tensors])


def _net_loss(model: Net, X: torch.Tensor, Y: torch.Tensor, loss_fn):
    X_train = _training_inputs(model, X)
    return _flat_loss(list(model.named_parameters()), lambda params: model.functional(params, X, X_train), loss_fn, Y)


def _module_loss(model: torch.nn.Module, X: torch.Tensor, Y: torch.Tensor, loss_fn):
    named = [(k, v) for k, v in model.named_parameters() if v.requires_grad]
    if not named:
        raise ValueError(f"model: expected a module with parameters that require grad, got {type(model).__name__}")
    return _flat_loss(named, lambda params: torch.func.functional_call(model, params, (X,)), loss_fn, Y)


def _exact(model, X, Y, loss, p) -> TraceParts:
    with torch.no_grad():
        out = model.functional(dict(model.named_parameters()), X, _training_inputs(model, X))
        d1, d2 = loss_derivatives(loss, out, Y, p)
        terms = per_sample_terms(model, X)
        gauss_newton = float((d2 * terms.grad_sq).mean())
        return TraceParts(gauss_newton + float((d1 * terms.hess_trace).mean()), gauss_newton)


def trace_parts(model: Net, X, Y, loss: str = "mse", *, p=None) -> TraceParts:
    """The exact Tr ∇²L and its Gauss-Newton part (1/n) Σ ℓ''(f_i) ||∇θ f(x_i)||² (Lemma 4.1 / F1).

    At interpolation with MSE the residual term vanishes and the two agree;
    off it (e.g. ``sim_ln`` with a non-zero training loss) they differ.

    >>> from sharpgen.numerics.nets.params import from_params
    >>> net = from_params("bias", {"W1": [[1.0, 0.0]], "b1": [0.0], "W2": [1.0]})
    >>> trace_parts(net, [[1.0, 1.0]], [1.0])
    TraceParts(total=8.0, gauss_newton=8.0)
    """
    return _exact(*_checked(model, X, Y), loss, p)


def _checked(model, X, Y) -> tuple[Net, torch.Tensor, torch.Tensor]:
    model = _check_model(model)
    X = _as_inputs(model, X)
    return model, X, check_labels("Y", Y, X.shape[0]).to(dtype=X.dtype, device=X.device)


def _checked_module(model: torch.nn.Module, X, Y, named_loss: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(X, Y) for a generic module: tensors in the dtype and on the device of its first parameter."""
    first = next(model.parameters(), None)
    if first is None:
        raise ValueError(f"model: expected a module with parameters, got {type(model).__name__}")
    X = torch.as_tensor(X).to(dtype=first.dtype, device=first.device)
    if X.ndim < 1 or X.shape[0] < 1 or not bool(torch.isfinite(X).all()):
        raise ValueError(f"X: expected a finite tensor with at least one row, got shape {tuple(X.shape)}")
    if named_loss:
        return X, check_labels("Y", Y, X.shape[0]).to(dtype=X.dtype, device=X.device)
    Y = torch.as_tensor(Y).to(device=X.device)
    if Y.ndim < 1 or Y.shape[0] != X.shape[0]:
        raise ValueError(f"Y: expected {X.shape[0]} rows (one target per input row), got shape {tuple(Y.shape)}")
    return X, (Y.to(X.dtype) if Y.is_floating_point() else Y)


def _loss_function(loss, p):
    """The loss as ``fn(outputs, Y) -> scalar``: a name of ``LOSSES`` (outputs of shape (n, 1) read
    as (n,)), or a callable."""
    if isinstance(loss, str):
        named = get_loss(loss, p)
        return lambda out, Y: named(out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out, Y)
    if not callable(loss):
        raise ValueError(f"loss: expected one of {LOSSES} or a callable loss(output, target), got {loss!r}")
    if p is not None:
        raise ValueError(f"p: expected None for a callable loss (label smoothing is for 'logistic'), got {p!r}")
    return loss


def _autograd(L, theta: torch.Tensor) -> float:
    P = theta.numel()
    if P > AUTOGRAD_MAX_PARAMS:
        raise ValueError(f"method: 'autograd' builds the full Hessian and allows at most "
                         f"{AUTOGRAD_MAX_PARAMS} parameters, got {P}; use 'exact' (our nets) or 'hutchinson'")
    return float(torch.diagonal(torch.func.hessian(L)(theta)).sum())


def _hutchinson(L, theta: torch.Tensor, samples: int, seed: int) -> HutchinsonEstimate:
    gen = torch.Generator().manual_seed(seed)
    # reverse over reverse (Hv = vᵀ∇²L, ∇²L symmetric): forward-mode jvp through nn.Linear's backward
    # fails in torch.func ("ZeroTensors are immutable")
    _, hvp = torch.func.vjp(torch.func.grad(L), theta)
    values = []
    for _ in range(samples):
        v = (2 * torch.randint(0, 2, theta.shape, generator=gen) - 1).to(dtype=theta.dtype, device=theta.device)
        Hv = hvp(v)[0]
        values.append(float(v @ Hv))
    vals = torch.tensor(values, dtype=torch.float64)
    return HutchinsonEstimate(float(vals.mean()), float(vals.std() / samples ** 0.5), samples)


def _check_method(model, loss, method) -> str:
    """The method to use: ``method``, or by default "exact" for a ``Net``, and for other modules
    "autograd" up to ``AUTOGRAD_MAX_PARAMS`` trainable parameters, "hutchinson" above."""
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model: expected a torch.nn.Module (e.g. a numerics.models.Net), got {type(model).__name__}")
    if method is None and not isinstance(model, Net):
        size = sum(q.numel() for q in model.parameters() if q.requires_grad)
        method = "autograd" if size <= AUTOGRAD_MAX_PARAMS else "hutchinson"
    if method is None:
        method = "exact"
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    if method == "exact" and not isinstance(model, Net):
        raise ValueError(f"method: 'exact' is the closed form of Lemma 4.1 for sharpgen's Net only, got a "
                         f"{type(model).__name__}; use 'autograd' or 'hutchinson'")
    if method == "exact" and not isinstance(loss, str):
        raise ValueError(f"loss: method 'exact' needs a loss named in {LOSSES}, got {loss!r}")
    return method


def trace_hessian(model: torch.nn.Module, X, Y, loss="mse", method: str | None = None, *, p=None,
                  samples: int = 200, seed: int = 0):
    """Sharpness Tr ∇²L(θ) of the training loss on (X, Y) (docs/paper.md §1; Lemma 4.1 / F1, F2).

    ``model`` is one of our nets (``Net``) or any ``torch.nn.Module`` (θ: its parameters that
    require grad; L as the module computes it in its current train/eval mode). ``"exact"``
    (float, our nets only, the default for them): (1/n) Σ l''(f_i) ||∇θ f(x_i)||² +
    (1/n) Σ l'(f_i) Tr ∇²θ f(x_i) (MSE: l'' = 2, l' = 2 (f - y)), both terms in closed form.
    ``"autograd"`` (float, the default for other modules up to ``AUTOGRAD_MAX_PARAMS``
    parameters): trace of the full Hessian from torch.func. ``"hutchinson"`` (the default for
    larger modules): a ``HutchinsonEstimate`` (mean and standard error) from ``samples``
    Rademacher vectors drawn with ``seed``. ``loss`` is "mse" or "logistic" (with label smoothing ``p``; a module's
    output of shape (n, 1) is read as (n,) and Y must have shape (n,)), or any callable
    ``loss(output, target) -> scalar`` such as ``torch.nn.MSELoss()``. For sim_bn the
    statistics are the registered training inputs, or X when none are registered.

    >>> from sharpgen.numerics.nets.params import from_params
    >>> net = from_params("bias", {"W1": [[1.0, 0.0]], "b1": [0.0], "W2": [1.0]})
    >>> trace_hessian(net, [[1.0, 1.0]], [1.0])  # interpolates: 2 (||(1, 1, 1)||² + 1) = 8
    8.0
    >>> trace_hessian(net, [[1.0, 1.0]], [1.0], method="autograd")
    8.0
    >>> est = trace_hessian(net, [[1.0, 1.0]], [1.0], method="hutchinson", samples=50, seed=0)
    >>> abs(est.value - 8.0) <= 4 * est.stderr
    True
    >>> lin = torch.nn.Linear(2, 1, bias=False).double()   # L = (w·x - y)²: ∇²L = 2 x xᵀ, Tr = 2 ||x||²
    >>> trace_hessian(lin, [[1.0, 2.0]], [[0.0]], loss=torch.nn.MSELoss())
    10.0
    """
    method = _check_method(model, loss, method)
    loss_fn = _loss_function(loss, p)
    if isinstance(model, Net):
        model, X, Y = _checked(model, X, Y)
        if method == "exact":
            return _exact(model, X, Y, loss, p).total
        L, theta = _net_loss(model, X, Y, loss_fn)
    else:
        X, Y = _checked_module(model, X, Y, isinstance(loss, str))
        L, theta = _module_loss(model, X, Y, loss_fn)
    if method == "autograd":
        return _autograd(L, theta)
    check_int("samples", samples, 2)
    check_int("seed", seed, 0)
    return _hutchinson(L, theta, samples, seed)
