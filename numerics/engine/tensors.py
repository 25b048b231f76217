"""A ``Net``'s parameters as the fused steps take them (docs/paper.md §2's shared layout).

The steps update these tensors in place: they are the ``.data`` of the network's parameters,
so the network sees every step without copies.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class NetTensors:
    """W1 (m, d), b1 (m,) or None, W2 (m,), gamma (m,) or None (sim_bn), middle: the (m, m) layers.

    >>> from sharpgen.numerics.nets.initialization import build
    >>> t = NetTensors.of(build("bias", d=3, width=4, depth=3, seed=0))
    >>> t.W1.shape, t.b1.shape, len(t.middle), t.gamma
    (torch.Size([4, 3]), torch.Size([4]), 1, None)
    """

    W1: torch.Tensor
    b1: torch.Tensor | None
    W2: torch.Tensor
    gamma: torch.Tensor | None = None
    middle: list = field(default_factory=list)

    @classmethod
    def of(cls, model) -> "NetTensors":
        """The ``.data`` of a ``Net``'s parameters (shared storage: steps move the network)."""
        get = lambda name: getattr(model, name).data if hasattr(model, name) else None
        return cls(model.W1.data, get("b1"), model.W2.data, get("gamma"), [w.data for w in model.middle])

    def all(self) -> list[torch.Tensor]:
        """Every tensor, in the order W1, b1, middle..., W2, gamma (absent ones left out)."""
        return [t for t in (self.W1, self.b1, *self.middle, self.W2, self.gamma) if t is not None]

    def finite(self) -> bool:
        """Whether every entry of every tensor is finite."""
        return all(bool(torch.isfinite(t).all()) for t in self.all())
