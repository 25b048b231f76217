"""Fresh networks, initialised the PyTorch-default way (the paper's Appendix B does not state more)."""
from __future__ import annotations

import math

import torch

from sharpgen.numerics.nets.models import Net
from sharpgen.numerics.validate import (check_dtype, check_hyper, check_init_gamma, check_int, check_network_size,
                                       check_number)


def build(arch: str, d: int, width: int, *, depth: int = 2, activation: str = "relu", eps=None,
          init_scale_first_layer: float = 1.0, init_gamma: float = 1.0, dtype=torch.float64, device=None,
          seed=None) -> Net:
    """A freshly initialised network, PyTorch-default style (the paper's Appendix B setting).

    Every weight matrix and the first-layer bias are uniform on
    [-1/sqrt(fan_in), 1/sqrt(fan_in)] (what ``nn.Linear`` draws: W1 and b1
    with fan_in = d, middle layers and the output W2 with fan_in = width);
    gamma starts at ``init_gamma`` (1 is PyTorch's BatchNorm default; the paper does not
    state its value; from 1, fig2a's learning rate diverges at width 500, and
    ``fig2a-repro`` uses 0.5: docs/scenarios.md). W1 and b1 are then multiplied by
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
    check_int("d", d, 2)
    check_int("width", width, 1)
    check_dtype(dtype)
    hyper = check_hyper(arch, depth=depth, activation=activation, eps=eps, dtype=dtype)
    check_network_size(d, width, hyper["depth"])
    check_number("init_scale_first_layer", init_scale_first_layer, gt=0)
    init_gamma = check_init_gamma(arch, init_gamma)
    check_int("seed", seed, 0, allow_none=True)
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
        tensors["gamma"] = torch.full((width,), init_gamma, dtype=torch.float64)
    tensors = {k: v.to(dtype=dtype, device=device) for k, v in tensors.items()}
    return Net(arch, tensors, **hyper)
