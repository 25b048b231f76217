"""Hypothesis strategies for the numerics package: the paper's networks and data sets, small."""
from __future__ import annotations

import torch
from hypothesis import strategies as st

from numerics.data import xor_dataset
from numerics.models import build

# (arch, hyperparameters) covering every architecture / activation / depth the paper trains.
ARCH_CASES = (
    ("nobias", {}),
    ("bias", {}),
    ("bias", {"depth": 3}),
    ("bias", {"depth": 4}),
    ("bias", {"activation": "softplus"}),
    ("bias", {"activation": "softplus", "depth": 3}),
    ("bias", {"activation": "softplus", "depth": 4}),
    ("sim_ln", {"eps": 1e-3}),
    ("sim_ln", {"eps": 1.5}),
    ("sim_bn", {}),
)


def arch_cases():
    """An (arch, hyper) pair from ``ARCH_CASES``."""
    return st.sampled_from(ARCH_CASES)


@st.composite
def xor_problems(draw, max_d: int = 4, max_width: int = 5):
    """(net, X, Y): a random network of any architecture on a P_xor training set.

    Y is the xor labels (not interpolating), or the network's own outputs
    (interpolating), or those plus a small perturbation.
    """
    arch, hyper = draw(arch_cases())
    d = draw(st.integers(2, max_d))
    n = draw(st.integers(1, min(6, 2 ** d)))
    width = draw(st.integers(1, max_width))
    scale = draw(st.sampled_from([1.0, 0.3, 3.0]))
    seed = draw(st.integers(0, 2 ** 16))
    net = build(arch, d, width, init_scale_first_layer=scale, seed=seed, **hyper)
    data = xor_dataset(d, n, seed=seed)
    net.set_training_inputs(data.X)
    labels = draw(st.sampled_from(["xor", "interpolate", "near"]))
    with torch.no_grad():
        f = net(data.X)
    Y = {"xor": data.Y, "interpolate": f, "near": f + 0.1 * data.Y}[labels]
    return net, data.X, Y.detach().clone()
