"""``Net``: an architecture of docs/paper.md §2 as an ``nn.Module`` with the shared parameter names.

The arithmetic lives in ``numerics.functional`` (pure functions of a dict of
tensors); ``Net`` holds the parameters, validates them once at construction
and registers the ``sim_bn`` training inputs. ``numerics.initialization.build``
makes a fresh one, ``numerics.params.from_params`` loads any parameter layout
(a sympy construction from ``theory`` included).
"""
from __future__ import annotations

import torch
from torch import nn

from sharpgen.numerics.nets.functional import forward
from sharpgen.numerics.validate import check_finite, check_hyper


class FirstLayerShape:
    """``width`` and ``d`` read off the first layer W1 (width, d): shared by ``Net`` and ``params.Params``."""

    @property
    def width(self) -> int:
        return len(self.W1)

    @property
    def d(self) -> int:
        return self.W1.shape[1]


class Net(FirstLayerShape, nn.Module):
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
        self.hyper = check_hyper(arch, depth=depth, activation=activation, eps=eps,
                                 dtype=_w1(tensors).dtype if arch == "sim_ln" else "float64")
        self.arch = arch
        _check_layout(arch, tensors, depth)
        self.W1 = nn.Parameter(tensors["W1"])
        if arch != "nobias":
            self.b1 = nn.Parameter(tensors["b1"])
        self.middle = nn.ParameterList([nn.Parameter(tensors[f"middle.{k}"]) for k in range(depth - 2)])
        self.W2 = nn.Parameter(tensors["W2"])
        if arch == "sim_bn":
            self.gamma = nn.Parameter(tensors["gamma"])
        self.register_buffer("X_train", None)

    def set_training_inputs(self, X: torch.Tensor) -> "Net":
        """Register the training inputs whose statistics ``sim_bn`` normalises with (docs/paper.md §2); returns self.

        >>> from sharpgen.numerics.nets.initialization import build
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
        if X.ndim != 2 or X.shape[1] != self.d:
            raise ValueError(f"X: expected shape (n, {self.d}), got {tuple(X.shape)}")
        if self.arch == "sim_bn" and self.X_train is None:
            raise ValueError("X_train: call set_training_inputs(X) before evaluating a 'sim_bn' Net")
        return self.functional(dict(self.named_parameters()), X)

    def functional(self, params: dict, X: torch.Tensor, X_train: torch.Tensor | None = None) -> torch.Tensor:
        """``numerics.functional.forward`` with this net's architecture and hyperparameters, unchecked.

        ``params`` maps the shared names to tensors (the module's own, or
        others for ``torch.func``); sim_bn statistics come from ``X_train``
        (default: the registered training inputs).
        """
        return forward(self.arch, params, X, activation=self.hyper["activation"], eps=self.hyper["eps"],
                       X_train=self.X_train if X_train is None else X_train)

    def __repr__(self) -> str:
        """What the network is, for the REPL: architecture, d, width, and the hyperparameters that matter.

        >>> from sharpgen.numerics.nets.initialization import build
        >>> build("bias", d=30, width=500, depth=3, seed=0)
        Net(arch='bias', d=30, width=500, depth=3, activation='relu', dtype=float64)
        >>> build("sim_ln", d=5, width=8, eps=1e-3, seed=0, dtype=torch.float32)
        Net(arch='sim_ln', d=5, width=8, eps=0.001, dtype=float32)
        """
        parts = [f"arch={self.arch!r}", f"d={self.d}", f"width={self.width}"]
        if self.hyper["depth"] != 2 or self.hyper["activation"] != "relu":
            parts += [f"depth={self.hyper['depth']}", f"activation={self.hyper['activation']!r}"]
        if self.hyper["eps"] is not None:
            parts.append(f"eps={self.hyper['eps']!r}")
        if self.arch == "sim_bn":
            parts.append(f"X_train={'None' if self.X_train is None else tuple(self.X_train.shape)}")
        parts.append(f"dtype={str(self.W1.dtype).removeprefix('torch.')}")
        return f"Net({', '.join(parts)})"


def _w1(tensors: dict) -> torch.Tensor:
    W1 = tensors.get("W1")
    if not isinstance(W1, torch.Tensor):
        raise ValueError(f"W1: expected a (width, d) tensor, got {type(W1).__name__}")
    return W1


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
