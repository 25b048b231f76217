"""The networks of docs/paper.md §2 as pure functions of a dict of tensors.

Read top to bottom: activations (with the derivatives the closed forms and
fused steps need), the ``sim_ln`` normaliser, the first layer, the ``sim_bn``
scale, and ``forward``. Parameters are keyed by the shared names ("W1", "b1",
"W2", "gamma", "middle.0", ...), so ``forward`` works with ``torch.func``
(functional_call, vmap, jacrev, hessian). Nothing here validates: the
public API (``Net``, ``build``, ``TrainConfig``) checks its input once.

Conventions: relu'(0) = 0 (torch's); a ``sim_bn`` neuron that is dead on
every training input (a_j = 0) contributes exactly 0 to the output, with
finite (zero) gradients -- the paper leaves that case undefined.
"""
from __future__ import annotations

import torch
from torch import nn

SOFTPLUS_THRESHOLD = 20.0  # torch's softplus returns z itself above this (so act' = 1, act'' = 0 there)


def activation_derivatives(activation: str):
    """(act, act', act'') for relu (relu'(0) = 0, relu'' = 0) or torch's softplus (σ' = s, σ'' = s(1 - s), s the sigmoid)."""
    if activation == "relu":
        return torch.relu, lambda z: (z > 0).to(z.dtype), torch.zeros_like

    def d1(z):
        return torch.where(z > SOFTPLUS_THRESHOLD, torch.ones_like(z), torch.sigmoid(z))

    def d2(z):
        return torch.where(z > SOFTPLUS_THRESHOLD, torch.zeros_like(z), torch.sigmoid(z) * torch.sigmoid(-z))

    return nn.functional.softplus, d1, d2


def safe_norm(sq: torch.Tensor) -> torch.Tensor:
    """sqrt(sq) for sq >= 0 with a finite (zero) gradient at sq = 0 instead of 0 * inf = NaN."""
    pos = sq > 0
    return torch.where(pos, torch.sqrt(torch.where(pos, sq, torch.ones_like(sq))), torch.zeros_like(sq))


def eps_sq_is_normal(eps: float, dtype) -> bool:
    """Whether eps² is a normal number of ``dtype`` (neither underflows nor overflows): then the sim_ln
    normaliser max(||h||, eps) is computed as sqrt(max(||h||², eps²)), in torch (:func:`ln_normaliser`),
    in the C loops and in the GPU kernel alike.

    >>> [eps_sq_is_normal(eps, dtype) for eps, dtype in ((1e-3, torch.float64), (1e-200, torch.float64),
    ...                                                   (1e-30, torch.float32))]
    [True, False, False]
    """
    info = torch.finfo(dtype)
    return info.tiny <= eps * eps <= info.max


def ln_norm_branch(sq: torch.Tensor, eps: float) -> torch.Tensor:
    """Where ``ln_normaliser`` takes the norm branch (||h|| >= eps, the tie included), as a bool tensor."""
    return sq >= eps * eps if eps_sq_is_normal(eps, sq.dtype) else safe_norm(sq) >= eps


def ln_normaliser(sq: torch.Tensor, eps: float) -> torch.Tensor:
    """The sim_ln normaliser N = max(||h||, eps) from sq = ||h||^2 (the norm branch at the tie).

    sqrt(max(||h||^2, eps^2)) when eps^2 is a normal number of the dtype; else
    (eps^2 underflows: 1e-200 in float64, 1e-30 in float32; or overflows)
    max(||h||, eps) with a guarded sqrt, so a dead layer (h = 0) still gives
    N = eps > 0, never 0/0, and the gradient stays finite (zero through the eps branch).

    >>> ln_normaliser(torch.tensor([0.0, 4.0], dtype=torch.float64), 1e-200).tolist()
    [1e-200, 2.0]
    """
    if eps_sq_is_normal(eps, sq.dtype):
        # eps² is a normal number in this dtype: the cheaper sqrt(max(||h||², eps²)) is exact enough and
        # its gradient is finite (clamp passes none below eps², and sqrt is evaluated at >= eps² > 0)
        return torch.sqrt(torch.clamp(sq, min=eps * eps))
    norm = safe_norm(sq)
    return torch.where(norm >= eps, norm, torch.full_like(norm, eps))


def middle_layers(params: dict) -> list[torch.Tensor]:
    """The hidden (m, m) layers ``middle.0``, ``middle.1``, ... of a parameter dict, in order.

    >>> middle_layers({"W1": None, "middle.0": torch.eye(2)})[0].shape
    torch.Size([2, 2])
    """
    out, k = [], 0
    while f"middle.{k}" in params:
        out.append(params[f"middle.{k}"])
        k += 1
    return out


def first_layer(params: dict, X: torch.Tensor) -> torch.Tensor:
    """Pre-activations z = W1 x + b1 (or W1 x without a bias) for every row of X, shape (n, m).

    >>> first_layer({"W1": torch.eye(2), "b1": torch.ones(2)}, torch.tensor([[1.0, -3.0]]))
    tensor([[ 2., -2.]])
    """
    z = X @ params["W1"].T
    return z if params.get("b1") is None else z + params["b1"]


def first_weights(params: dict) -> torch.Tensor:
    """W1' = [W1 | b1] (docs/paper.md §1: z = W1' x' with x' = (x, 1)), or W1 without a bias.

    >>> first_weights({"W1": torch.eye(2), "b1": torch.ones(2)})
    tensor([[1., 0., 1.],
            [0., 1., 1.]])
    """
    b1 = params.get("b1")
    return params["W1"] if b1 is None else torch.cat([params["W1"], b1[:, None]], dim=1)


def bn_scale(params: dict, X_train: torch.Tensor) -> torch.Tensor:
    """Per-neuron output weights W2_j gamma_j / a_j of ``sim_bn`` (docs/paper.md §2).

    a_j = sqrt((1/n) sum_l relu(W1 x_l + b1)_j^2) over the training inputs;
    a neuron with a_j = 0 gets weight 0 (our rule for the paper's undefined
    case), with finite gradients.

    >>> p = {"W1": torch.tensor([[1.0, 0.0], [-1.0, 0.0]]), "b1": torch.zeros(2),
    ...      "W2": torch.ones(2), "gamma": torch.ones(2)}
    >>> bn_scale(p, torch.tensor([[2.0, 0.0], [0.0, 1.0]]))
    tensor([0.7071, 0.0000])
    """
    h = torch.relu(first_layer(params, X_train))
    a2 = (h * h).mean(dim=0)
    alive = a2 > 0
    a = torch.sqrt(torch.where(alive, a2, torch.ones_like(a2)))
    return torch.where(alive, params["W2"] * params["gamma"] / a, torch.zeros_like(a2))


def smoothed_relu(temperature: float):
    """z -> T softplus(z/T): relu's smooth stand-in at temperature T (above it by at most T ln 2).

    >>> smoothed_relu(0.01)(torch.tensor([-1.0, 1.0])).tolist()
    [0.0, 1.0]
    """
    return lambda z: temperature * nn.functional.softplus(z / temperature)


def forward(arch: str, params: dict, X: torch.Tensor, *, activation: str = "relu", eps=None,
            X_train: torch.Tensor | None = None, smoothing: float | None = None) -> torch.Tensor:
    """Outputs f(x_i) of an architecture of docs/paper.md §2 for every row of X, shape (n,).

    - nobias / bias (depth D): f = W_D . act(W_{D-1} ... act(W1 x + b1)),
      bias only in the first layer; ``middle.k`` is the paper's W_{k+2}.
    - sim_ln: f = W2 . h / max(||h||, eps), h = relu(W1 x + b1); the
      normaliser (``ln_normaliser``) has finite derivatives at h = 0 and stays
      eps > 0 there also when eps^2 underflows to 0 in the dtype.
    - sim_bn: f = sum_j W2_j gamma_j h_j / a_j with a_j over ``X_train`` (the
      whole training set, also when X is a single sample); gradients flow
      through a_j. Dead neurons (a_j = 0) contribute 0.

    ``smoothing`` T > 0 replaces relu by ``smoothed_relu(T)`` in the hidden activations (not in the
    sim_bn statistics a_j): a search's surrogate that feels a neuron before it switches on.

    Nothing is checked here (``Net`` validates its hyperparameters once and
    its inputs per call): ``arch`` must be one of the four, ``eps`` > 0 for
    sim_ln, ``X_train`` given for sim_bn.

    >>> p = {"W1": torch.tensor([[1.0, 1.0], [-1.0, -1.0]]), "b1": torch.tensor([-1.0, -1.0]),
    ...      "W2": torch.tensor([1.0, 1.0])}
    >>> forward("bias", p, torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]]))
    tensor([1., 0., 1.])
    >>> forward("sim_ln", p, torch.tensor([[1.0, 1.0]]), eps=1e-3)
    tensor([1.])
    """
    act = activation_derivatives(activation)[0]
    if smoothing is not None and activation == "relu":
        act = smoothed_relu(smoothing)
    h = act(first_layer(params, X))
    if arch in ("nobias", "bias"):
        for W in middle_layers(params):
            h = act(h @ W.T)
        return h @ params["W2"]
    if arch == "sim_ln":
        return (h @ params["W2"]) / ln_normaliser((h * h).sum(dim=1), eps)
    return h @ bn_scale(params, X_train)
