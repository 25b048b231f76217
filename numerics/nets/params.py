"""The shared parameter layout (docs/paper.md §2) holding torch tensors.

Same field names as ``theory.params.Params``: ``W1`` (m, d), ``b1`` (m,),
``W2`` (m,), ``gamma`` (m,), ``middle`` (tuple of (m, m)); here vectors are
flat. ``from_arrays`` reads any object with those fields whose values have
``.tolist()`` (a sympy Matrix, a numpy array, a tensor), so a symbolic
construction loads without this package importing sympy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from sharpgen.numerics.nets.models import FirstLayerShape, Net
from sharpgen.numerics.validate import check_dtype, check_finite


def _tensor(name: str, value, shape, dtype, device) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        t = value.detach().to(dtype=dtype, device=device)
    else:
        rows = value.tolist() if hasattr(value, "tolist") else value
        try:
            # float() on each entry is what converts sympy numbers exactly to float64.
            t = torch.as_tensor(np.array(rows, dtype=np.float64), dtype=dtype, device=device)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{name}: cannot convert to a float tensor ({err})") from None
    if t.numel() != int(np.prod(shape)):
        raise ValueError(f"{name}: expected {shape} entries, got shape {tuple(t.shape)}")
    return t.reshape(shape).clone()


@dataclass
class Params(FirstLayerShape):
    """Network parameters as tensors, layout of docs/paper.md §2.

    >>> p = Params.from_arrays({"W1": [[1.0, 0.0]], "W2": [[2.0]]})
    >>> p.W1.shape, p.W2.tolist(), p.width, p.d
    (torch.Size([1, 2]), [2.0], 1, 2)
    """

    W1: torch.Tensor
    W2: torch.Tensor
    b1: torch.Tensor | None = None
    gamma: torch.Tensor | None = None
    middle: tuple[torch.Tensor, ...] = ()

    @property
    def depth(self) -> int:
        return len(self.middle) + 2

    @classmethod
    def from_arrays(cls, source, *, dtype=torch.float64, device=None) -> "Params":
        """Read a ``theory.params.Params``, a mapping, or any object with the shared fields."""
        get = source.get if isinstance(source, dict) else (lambda k, default=None: getattr(source, k, default))
        if get("W1") is None or get("W2") is None:
            raise ValueError("source: needs at least W1 and W2")
        raw = get("W1")
        shape = tuple(raw.shape) if isinstance(raw, torch.Tensor) else np.shape(raw.tolist() if hasattr(raw, "tolist") else raw)
        if len(shape) != 2:
            raise ValueError(f"W1: expected a (width, d) matrix, got shape {shape}")
        W1 = _tensor("W1", raw, shape, dtype, device)
        m = W1.shape[0]
        vec = lambda k: None if get(k) is None else _tensor(k, get(k), (m,), dtype, device)
        middle = tuple(_tensor(f"middle[{k}]", w, (m, m), dtype, device) for k, w in enumerate(get("middle") or ()))
        return cls(W1=W1, W2=vec("W2"), b1=vec("b1"), gamma=vec("gamma"), middle=middle)


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

    >>> from sharpgen.numerics.nets.initialization import build
    >>> p = model_to_params(build("sim_bn", d=2, width=3, seed=1))
    >>> p.gamma.tolist(), p.b1.shape, p.middle
    ([1.0, 1.0, 1.0], torch.Size([3]), ())
    """
    def get(name):
        value = getattr(model, name, None)
        return None if value is None else value.detach().clone()

    return Params(W1=get("W1"), W2=get("W2"), b1=get("b1"), gamma=get("gamma"),
                  middle=tuple(w.detach().clone() for w in model.middle))
