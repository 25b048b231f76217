"""The four architectures of docs/paper.md §2 as torch networks.

``forward`` is a pure function of a dict of tensors keyed by the shared parameter names (docs/paper.md §2)
("W1", "b1", "W2", "gamma", "middle.0", ...), so it works with
``torch.func`` (functional_call, vmap, jacrev, hessian). ``Net`` is the
``nn.Module`` wrapper the optimizers train; ``build`` initialises one the
PyTorch-default way, ``from_params`` loads any parameter layout (a sympy
construction from ``theory`` included) and ``model_to_params`` reads it back.

Conventions: relu'(0) = 0 (torch's); a ``sim_bn`` neuron that is dead on
every training input (a_j = 0) contributes exactly 0 to the output, with
finite (zero) gradients -- the paper leaves that case undefined.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from sharpgen.numerics.params import Params

ARCHITECTURES = ("nobias", "bias", "sim_bn", "sim_ln")
ACTIVATIONS = ("relu", "softplus")


# ---------------------------------------------------------------- validation

def check_arch(arch) -> str:
    """Return ``arch`` or raise ValueError naming the four docs/paper.md §2 architectures.

    >>> check_arch("sim_ln")
    'sim_ln'
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch: expected one of {ARCHITECTURES}, got {arch!r}")
    return arch


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    return value


def check_hyper(arch: str, *, depth: int = 2, activation: str = "relu", eps=None) -> dict:
    """Validate the architecture hyperparameters and return them as a dict.

    ``depth`` >= 2 (> 2 only for ``bias``); ``activation`` relu or softplus
    (softplus only for ``bias``, Figure 5); ``eps`` > 0 required for
    ``sim_ln`` (the fixed floor of its normaliser) and ignored otherwise.

    >>> check_hyper("sim_ln", eps=1e-3)
    {'depth': 2, 'activation': 'relu', 'eps': 0.001}
    >>> check_hyper("nobias", depth=3)
    Traceback (most recent call last):
    ...
    ValueError: depth: expected 2 for 'nobias' (depth > 2 only for 'bias'), got 3
    """
    check_arch(arch)
    _check_int("depth", depth, 2)
    if depth > 2 and arch != "bias":
        raise ValueError(f"depth: expected 2 for {arch!r} (depth > 2 only for 'bias'), got {depth}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {ACTIVATIONS}, got {activation!r}")
    if activation != "relu" and arch != "bias":
        raise ValueError(f"activation: expected 'relu' for {arch!r} (softplus only for 'bias'), got {activation!r}")
    if eps is not None:
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not math.isfinite(eps) or eps <= 0:
            raise ValueError(f"eps: expected a finite number > 0, got {eps!r}")
        eps = float(eps)
    if arch == "sim_ln" and eps is None:
        raise ValueError("eps: expected a finite number > 0 for 'sim_ln', got None")
    return {"depth": depth, "activation": activation, "eps": eps}


def check_init_gamma(arch: str, init_gamma) -> float:
    """``init_gamma`` as a float: a finite number > 0 for ``sim_bn``, exactly 1 for the others (no γ).

    >>> check_init_gamma("sim_bn", 0.5)
    0.5
    >>> check_init_gamma("bias", 0.5)
    Traceback (most recent call last):
    ...
    ValueError: init_gamma: expected 1.0 for 'bias' (only sim_bn has gamma), got 0.5
    """
    if isinstance(init_gamma, bool) or not isinstance(init_gamma, (int, float)) or not math.isfinite(init_gamma) \
            or init_gamma <= 0:
        raise ValueError(f"init_gamma: expected a finite number > 0, got {init_gamma!r}")
    if arch != "sim_bn" and init_gamma != 1:
        raise ValueError(f"init_gamma: expected 1.0 for {arch!r} (only sim_bn has gamma), got {init_gamma!r}")
    return float(init_gamma)


DTYPES = (torch.float64, torch.float32)


def check_dtype(dtype) -> torch.dtype:
    """``dtype`` if it is torch.float64 or torch.float32, else ValueError naming ``dtype``.

    >>> check_dtype(torch.float32)
    torch.float32
    """
    if not isinstance(dtype, torch.dtype) or dtype not in DTYPES:
        raise ValueError(f"dtype: expected torch.float64 or torch.float32, got {dtype!r}")
    return dtype


def check_finite(name: str, t: torch.Tensor) -> torch.Tensor:
    """``t`` if every entry is finite, else ValueError naming ``name``."""
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name}: expected finite values, got NaN or inf")
    return t


def safe_norm(sq: torch.Tensor) -> torch.Tensor:
    """sqrt(sq) for sq >= 0 with a finite (zero) gradient at sq = 0 instead of 0 * inf = NaN."""
    pos = sq > 0
    return torch.where(pos, torch.sqrt(torch.where(pos, sq, torch.ones_like(sq))), torch.zeros_like(sq))


def eps_floor(dtype) -> float:
    """The largest eps that rounds to 0 in ``dtype`` (half the smallest subnormal): sim_ln needs eps above it.

    >>> eps_floor(torch.float32) == 2.0 ** -150, eps_floor(torch.float64)
    (True, 0.0)
    """
    info = torch.finfo(dtype)
    return info.tiny * info.eps / 2


def check_ln_eps(eps, dtype) -> float:
    """``eps`` as a float if it is a finite number > 0 that stays > 0 in ``dtype``, else ValueError naming eps."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not math.isfinite(eps) or eps <= 0:
        raise ValueError(f"eps: expected a finite number > 0 for 'sim_ln', got {eps!r}")
    floor = eps_floor(dtype)
    if eps <= floor:
        raise ValueError(f"eps: expected a number > {floor!r} (it rounds to 0 in {dtype}), got {eps!r}")
    return float(eps)


def _eps_sq_is_normal(eps: float, dtype) -> bool:
    info = torch.finfo(dtype)
    return info.tiny <= eps * eps <= info.max


def ln_norm_branch(sq: torch.Tensor, eps: float) -> torch.Tensor:
    """Where ``ln_normaliser`` takes the norm branch (||h|| >= eps, the tie included), as a bool tensor."""
    return sq >= eps * eps if _eps_sq_is_normal(eps, sq.dtype) else safe_norm(sq) >= eps


def ln_normaliser(sq: torch.Tensor, eps: float) -> torch.Tensor:
    """The sim_ln normaliser N = max(||h||, eps) from sq = ||h||^2 (the norm branch at the tie).

    sqrt(max(||h||^2, eps^2)) when eps^2 is a normal number of the dtype; else
    (eps^2 underflows: 1e-200 in float64, 1e-30 in float32; or overflows)
    max(||h||, eps) with a guarded sqrt, so a dead layer (h = 0) still gives
    N = eps > 0, never 0/0, and the gradient stays finite (zero through the eps branch).

    >>> ln_normaliser(torch.tensor([0.0, 4.0], dtype=torch.float64), 1e-200).tolist()
    [1e-200, 2.0]
    """
    if _eps_sq_is_normal(eps, sq.dtype):
        # eps² is a normal number in this dtype: the cheaper sqrt(max(||h||², eps²)) is exact enough and
        # its gradient is finite (clamp passes none below eps², and sqrt is evaluated at >= eps² > 0)
        return torch.sqrt(torch.clamp(sq, min=eps * eps))
    norm = safe_norm(sq)
    return torch.where(norm >= eps, norm, torch.full_like(norm, eps))


def _act(activation: str):
    return torch.relu if activation == "relu" else nn.functional.softplus


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


# ---------------------------------------------------------------- forward

def first_layer(params: dict, X: torch.Tensor) -> torch.Tensor:
    """Pre-activations z = W1 x + b1 (or W1 x without a bias) for every row of X, shape (n, m).

    >>> first_layer({"W1": torch.eye(2), "b1": torch.ones(2)}, torch.tensor([[1.0, -3.0]]))
    tensor([[ 2., -2.]])
    """
    z = X @ params["W1"].T
    return z if params.get("b1") is None else z + params["b1"]


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


def forward(arch: str, params: dict, X: torch.Tensor, *, activation: str = "relu", eps=None,
            X_train: torch.Tensor | None = None) -> torch.Tensor:
    """Outputs f(x_i) of an architecture of docs/paper.md §2 for every row of X, shape (n,).

    - nobias / bias (depth D): f = W_D . act(W_{D-1} ... act(W1 x + b1)),
      bias only in the first layer; ``middle.k`` is the paper's W_{k+2}.
    - sim_ln: f = W2 . h / max(||h||, eps), h = relu(W1 x + b1); the
      normaliser (``ln_normaliser``) has finite derivatives at h = 0 and stays
      eps > 0 there also when eps^2 underflows to 0 in the dtype.
    - sim_bn: f = sum_j W2_j gamma_j h_j / a_j with a_j over ``X_train`` (the
      whole training set, also when X is a single sample); gradients flow
      through a_j. Dead neurons (a_j = 0) contribute 0.

    >>> p = {"W1": torch.tensor([[1.0, 1.0], [-1.0, -1.0]]), "b1": torch.tensor([-1.0, -1.0]),
    ...      "W2": torch.tensor([1.0, 1.0])}
    >>> forward("bias", p, torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]]))
    tensor([1., 0., 1.])
    >>> forward("sim_ln", p, torch.tensor([[1.0, 1.0]]), eps=1e-3)
    tensor([1.])
    """
    check_arch(arch)
    if arch == "nobias" and params.get("b1") is not None:
        raise ValueError("b1: expected None (or absent) for 'nobias', which has no first-layer bias, got a tensor")
    if X.ndim != 2 or X.shape[1] != params["W1"].shape[1]:
        raise ValueError(f"X: expected shape (n, {params['W1'].shape[1]}), got {tuple(X.shape)}")
    act = _act(activation)
    h = act(first_layer(params, X))
    if arch in ("nobias", "bias"):
        for W in middle_layers(params):
            h = act(h @ W.T)
        return h @ params["W2"]
    if arch == "sim_ln":
        eps = check_ln_eps(eps, h.dtype)
        return (h @ params["W2"]) / ln_normaliser((h * h).sum(dim=1), eps)
    if X_train is None:
        raise ValueError("X_train: 'sim_bn' needs the training inputs for its statistics, got None")
    if X_train.ndim != 2 or X_train.shape[1] != X.shape[1]:
        raise ValueError(f"X_train: expected shape (n, {X.shape[1]}), got {tuple(X_train.shape)}")
    return h @ bn_scale(params, X_train)


# ---------------------------------------------------------------- module

class Net(nn.Module):
    """An architecture of docs/paper.md §2 as an ``nn.Module`` with the shared parameter names.

    Parameters: ``W1`` (m, d), ``b1`` (m,) unless nobias, ``W2`` (m,) the output
    layer, ``gamma`` (m,) for sim_bn, ``middle`` (ParameterList of (m, m)
    hidden layers, names "middle.0", ...). ``sim_bn`` needs its training inputs
    registered with ``set_training_inputs`` (a buffer) before ``forward``.

    >>> net = Net("nobias", {"W1": torch.ones(3, 2), "W2": torch.ones(3)})
    >>> [name for name, _ in net.named_parameters()], net(torch.ones(1, 2))
    (['W1', 'W2'], tensor([6.], grad_fn=<MvBackward0>))
    """

    def __init__(self, arch: str, tensors: dict, *, depth: int = 2, activation: str = "relu", eps=None):
        super().__init__()
        self.arch = check_arch(arch)
        self.hyper = check_hyper(arch, depth=depth, activation=activation, eps=eps)
        _check_layout(arch, tensors, depth)
        if arch == "sim_ln":
            check_ln_eps(eps, tensors["W1"].dtype)
        self.W1 = nn.Parameter(tensors["W1"])
        if arch != "nobias":
            self.b1 = nn.Parameter(tensors["b1"])
        self.middle = nn.ParameterList([nn.Parameter(tensors[f"middle.{k}"]) for k in range(depth - 2)])
        self.W2 = nn.Parameter(tensors["W2"])
        if arch == "sim_bn":
            self.gamma = nn.Parameter(tensors["gamma"])
        self.register_buffer("X_train", None)

    @property
    def width(self) -> int:
        return self.W1.shape[0]

    @property
    def d(self) -> int:
        return self.W1.shape[1]

    def set_training_inputs(self, X: torch.Tensor) -> "Net":
        """Register the training inputs whose statistics ``sim_bn`` normalises with (docs/paper.md §2); returns self.

        >>> net = build("sim_bn", d=2, width=3, seed=0).set_training_inputs(torch.ones(4, 2))
        >>> net.X_train.shape, net.X_train.dtype
        (torch.Size([4, 2]), torch.float64)
        """
        if not isinstance(X, torch.Tensor) or X.ndim != 2 or X.shape[0] < 1 or X.shape[1] != self.d:
            shape = tuple(X.shape) if isinstance(X, torch.Tensor) else type(X).__name__
            raise ValueError(f"X: expected a tensor of shape (n >= 1, {self.d}), got {shape}")
        check_finite("X", X)
        self.X_train = X.detach().to(dtype=self.W1.dtype, device=self.W1.device)
        return self

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """f(x) for every row of X (cast to the parameters' dtype and device), shape (n,)."""
        X = torch.as_tensor(X, dtype=self.W1.dtype, device=self.W1.device)
        if self.arch == "sim_bn" and self.X_train is None:
            raise ValueError("X_train: call set_training_inputs(X) before evaluating a 'sim_bn' Net")
        return forward(self.arch, dict(self.named_parameters()), X, activation=self.hyper["activation"],
                       eps=self.hyper["eps"], X_train=self.X_train)


def _check_layout(arch: str, tensors: dict, depth: int) -> None:
    need = {"W1", "W2"} | ({"b1"} if arch != "nobias" else set()) | ({"gamma"} if arch == "sim_bn" else set())
    need |= {f"middle.{k}" for k in range(depth - 2)}
    given = {k for k, v in tensors.items() if v is not None}
    if given != need:
        raise ValueError(f"params: {arch!r} of depth {depth} needs exactly {sorted(need)}, got {sorted(given)}")
    if tensors["W1"].ndim != 2:
        raise ValueError(f"W1: expected a (width, d) matrix, got shape {tuple(tensors['W1'].shape)}")
    m = tensors["W1"].shape[0]
    for k in need - {"W1"}:
        shape = (m, m) if k.startswith("middle") else (m,)
        if tuple(tensors[k].shape) != shape:
            raise ValueError(f"{k}: expected shape {shape} (width of W1), got {tuple(tensors[k].shape)}")
    for k in sorted(need):
        check_finite(k, tensors[k])


# ---------------------------------------------------------------- construction

def build(arch: str, d: int, width: int, *, depth: int = 2, activation: str = "relu", eps=None,
          init_scale_first_layer: float = 1.0, init_gamma: float = 1.0, dtype=torch.float64, device=None,
          seed=None) -> Net:
    """A freshly initialised network, PyTorch-default style (the paper's Appendix B setting).

    Every weight matrix and the first-layer bias are uniform on
    [-1/sqrt(fan_in), 1/sqrt(fan_in)] (what ``nn.Linear`` draws: W1 and b1
    with fan_in = d, middle layers and the output W2 with fan_in = width);
    gamma starts at ``init_gamma`` (1 is PyTorch's BatchNorm default; the paper
    does not state its value; from 1, fig2a's learning rate diverges at width
    500 and ``fig2a-repro`` uses 0.5, docs/scenarios.md). W1 and b1 are then multiplied by
    ``init_scale_first_layer`` (Figure 6 uses 1/100). Randomness comes from a
    local ``torch.Generator`` seeded with ``seed`` (fresh entropy when None),
    never from the global RNG.

    >>> net = build("bias", d=3, width=4, seed=0)
    >>> net.W1.shape, net.b1.shape, net.W2.shape, bool(net.W1.abs().max() <= 3 ** -0.5)
    (torch.Size([4, 3]), torch.Size([4]), torch.Size([4]), True)
    >>> build("bias", d=3, width=0)
    Traceback (most recent call last):
    ...
    ValueError: width: expected an integer >= 1, got 0
    """
    check_arch(arch)
    _check_int("d", d, 2)
    _check_int("width", width, 1)
    hyper = check_hyper(arch, depth=depth, activation=activation, eps=eps)
    if isinstance(init_scale_first_layer, bool) or not isinstance(init_scale_first_layer, (int, float)) \
            or not math.isfinite(init_scale_first_layer) or init_scale_first_layer <= 0:
        raise ValueError(f"init_scale_first_layer: expected a finite number > 0, got {init_scale_first_layer!r}")
    check_init_gamma(arch, init_gamma)
    check_dtype(dtype)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"seed: expected an integer or None, got {seed!r}")
    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(seed)

    def uniform(shape, fan_in):
        bound = 1.0 / math.sqrt(fan_in)
        return (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound

    tensors = {"W1": uniform((width, d), d) * init_scale_first_layer}
    if arch != "nobias":
        tensors["b1"] = uniform((width,), d) * init_scale_first_layer
    for k in range(depth - 2):
        tensors[f"middle.{k}"] = uniform((width, width), width)
    tensors["W2"] = uniform((width,), width)
    if arch == "sim_bn":
        tensors["gamma"] = torch.full((width,), float(init_gamma), dtype=torch.float64)
    tensors = {k: v.to(dtype=dtype, device=device) for k, v in tensors.items()}
    return Net(arch, tensors, **hyper)


def from_params(arch: str, params, *, activation: str = "relu", eps=None, depth=None, X_train=None,
                dtype=torch.float64, device=None) -> Net:
    """Load parameters (a ``theory`` or ``numerics`` Params, or a dict) into a ``Net``.

    Exact sympy numbers become float64 (through ``numerics.params.Params``,
    which never imports sympy). The depth follows from the number of middle
    layers; ``depth`` if given must agree. ``X_train`` registers the sim_bn
    training inputs.

    >>> net = from_params("nobias", {"W1": [[1.0, 0.0]], "W2": [2.0]})
    >>> net(torch.tensor([[3.0, 1.0], [-1.0, 0.0]]))
    tensor([6., 0.], dtype=torch.float64, grad_fn=<MvBackward0>)
    """
    check_arch(arch)
    check_dtype(dtype)
    p = params if isinstance(params, Params) else Params.from_arrays(params, dtype=dtype, device=device)
    if depth is not None and depth != p.depth:
        raise ValueError(f"depth: expected {p.depth} (the number of middle layers + 2), got {depth!r}")
    tensors = {"W1": p.W1, "b1": p.b1, "W2": p.W2, "gamma": p.gamma}
    tensors.update({f"middle.{k}": w for k, w in enumerate(p.middle)})
    tensors = {k: None if v is None else v.detach().to(dtype=dtype, device=device).clone()
               for k, v in tensors.items()}
    net = Net(arch, tensors, depth=p.depth, activation=activation, eps=eps)
    if X_train is not None:
        rows = X_train if isinstance(X_train, torch.Tensor) else np.array(
            X_train.tolist() if hasattr(X_train, "tolist") else X_train, dtype=np.float64)
        check_finite("X_train", torch.as_tensor(rows))
        net.set_training_inputs(torch.as_tensor(rows, dtype=dtype, device=device))
    return net


def model_to_params(model: Net) -> Params:
    """The parameters of a ``Net`` as a ``numerics.params.Params`` of detached clones.

    >>> p = model_to_params(build("sim_bn", d=2, width=3, seed=1))
    >>> p.gamma.tolist(), p.b1.shape, p.middle
    ([1.0, 1.0, 1.0], torch.Size([3]), ())
    """
    def get(name):
        value = getattr(model, name, None)
        return None if value is None else value.detach().clone()

    return Params(W1=get("W1"), W2=get("W2"), b1=get("b1"), gamma=get("gamma"),
                  middle=tuple(w.detach().clone() for w in model.middle))
