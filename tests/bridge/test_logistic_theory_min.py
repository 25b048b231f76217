"""The theory minimum logged by `sharpgen train` (verify.theory_min.theory_min_for).

At a minimizer of the label-smoothed logistic loss the net interpolates gamma_p * y (Thm A.2)
and Tr of the Hessian is (p(1-p)/2) times the MSE trace for those labels (Lemma A.13, with the
factor corrected): checked here against the torch exact trace of the logistic loss itself.
"""
import math

import sympy as sp
import torch

from sharpgen.numerics.nets.params import from_params
from sharpgen.numerics.nets.sharpness import trace_hessian as torch_trace
from sharpgen.numerics.runs.config import TrainConfig
from sharpgen.theory import constructions, sharpness
from sharpgen.theory.data import hypercube, xor_labels
from sharpgen.theory.params import Params
from sharpgen.numerics.runs.train import make_dataset
from sharpgen.verify.theory_min import theory_min_for

P = 0.2
GAMMA = math.log((1 - P) / P)


def test_logistic_trace_is_the_scaled_mse_trace_at_the_smoothed_minimizer():
    d = 4
    X = hypercube(d)[::2, :]
    Y = xor_labels(X)
    c3 = constructions.generalizing("nobias", d)
    gamma = sp.log(4)  # ln((1 - p)/p) at p = 1/5
    scaled = Params(W1=c3.W1, W2=c3.W2 * gamma)  # f = gamma_p * x1 * x2 everywhere
    net = from_params("nobias", scaled)
    Xt = torch.tensor(X.tolist(), dtype=torch.float64)
    Yt = torch.tensor([float(v) for v in Y], dtype=torch.float64)
    assert torch.allclose(net(Xt), GAMMA * Yt, atol=1e-12)
    logistic = torch_trace(net, Xt, Yt, loss="logistic", p=P)
    mse_scaled = float(sharpness.trace_hessian("nobias", scaled, X, gamma * Y))
    assert math.isclose(logistic, P * (1 - P) / 2 * mse_scaled, rel_tol=1e-12)


def test_theory_min_for_logistic_nobias_is_the_scaled_exact_minimum():
    config = TrainConfig(arch="nobias", d=6, n=20, width=8, loss="logistic", p=P, data="xor", seed=3)
    result = theory_min_for(config, make_dataset(config))
    # Exact on P_xor labels c*x1*x2 (c = gamma_p): (p(1-p)/2) * 4 sqrt(d) * gamma_p.
    assert math.isclose(result.value, P * (1 - P) / 2 * 4 * math.sqrt(6) * GAMMA, rel_tol=1e-12)
    assert result.exact


def test_theory_min_for_mse_uses_the_runs_own_training_set():
    # bias on distinct cube points with xor labels: 4 sqrt(d + 1) (F3) for any training set of the cube;
    # the default data=None builds the same set as make_dataset.
    config = TrainConfig(arch="bias", d=5, n=12, width=8, seed=1)
    assert theory_min_for(config).value == theory_min_for(config, make_dataset(config)).value
    assert math.isclose(theory_min_for(config).value, 4 * math.sqrt(6), rel_tol=1e-12)


def test_theory_min_for_says_when_it_is_a_bound_or_absent():
    bound = theory_min_for(TrainConfig(arch="nobias", data="ball", d=4, n=6, width=8, seed=0))
    assert bound.value is not None and not bound.exact and bound.source
    softplus = theory_min_for(TrainConfig(arch="bias", activation="softplus", d=4, n=6, width=8, seed=0))
    assert (softplus.value, softplus.exact) == (0.0, False) and "trivial bound" in softplus.source
