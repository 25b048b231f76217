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
class Params:
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
    def width(self) -> int:
        return self.W1.shape[0]

    @property
    def d(self) -> int:
        return self.W1.shape[1]

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
