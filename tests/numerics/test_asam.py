"""Adaptive SAM (numerics.asam) against an independent computation of its step.

The reference builds T as an explicit diagonal matrix over the flattened
parameter vector (numpy, float64), takes the gradients from a hand-written
two-layer relu net, and forms e = ρ T² g/‖T g‖ and θ − lr(∇L(θ + e) + wd·θ)
directly. Tolerance 1e-12 absolute: the two computations differ only in
rounding order.
"""
import math

import numpy as np
import pytest
import torch

from sharpgen.numerics.optim.asam import ASAM, ETA, asam_param_groups, make_asam
from sharpgen.numerics.runs.config import Phase, TrainConfig
from sharpgen.numerics.nets.initialization import build
from sharpgen.numerics.nets.losses import get_loss
from sharpgen.numerics.nets.params import from_params
from sharpgen.numerics.optim.sam import SAM
from sharpgen.numerics.runs.train import train

TOL = 1e-12


def _grads_bias(W1, b1, W2, X, Y):
    """Gradient of (1/B) Σ (W2·relu(W1 x + b1) − y)² by hand (relu'(0) = 0)."""
    Z = X @ W1.T + b1
    H = np.maximum(Z, 0)
    r = 2 * (H @ W2 - Y) / len(Y)
    GZ = r[:, None] * W2[None, :] * (Z > 0)
    return GZ.T @ X, GZ.sum(axis=0), H.T @ r


def _flat(*arrays):
    return np.concatenate([a.ravel() for a in arrays])


def _unflat(v, shapes):
    out, k = [], 0
    for s in shapes:
        size = int(np.prod(s))
        out.append(v[k:k + size].reshape(s))
        k += size
    return out


def _reference_step(W1, b1, W2, X, Y, *, rho, eta, lr, wd):
    """(e, θ_new) of one ASAM step: T = diag(|W1|+η, 1 for b1, |W2|+η) as an explicit matrix."""
    shapes = [W1.shape, b1.shape, W2.shape]
    theta = _flat(W1, b1, W2)
    g = _flat(*_grads_bias(W1, b1, W2, X, Y))
    t = _flat(np.abs(W1) + eta, np.ones_like(b1), np.abs(W2) + eta)
    T = np.diag(t)
    Tg = T @ g
    e = rho * (T @ T @ g) / np.linalg.norm(Tg)
    gp = _flat(*_grads_bias(*_unflat(theta + e, shapes), X, Y))
    return e, theta - lr * (gp + wd * theta)


def _two_step(net, opt, X, Y):
    loss = get_loss("mse")
    loss(net(X), Y).backward()
    opt.first_step(zero_grad=True)
    after_ascent = torch.cat([p.detach().flatten().clone() for p in net.parameters()])
    loss(net(X), Y).backward()
    opt.second_step(zero_grad=True)
    return after_ascent


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("eta,wd", [(ETA, 0.0), (0.2, 0.05)])
def test_asam_step_equals_the_explicit_diagonal_computation(batch, eta, wd):
    rng = np.random.default_rng(batch)
    W1, b1, W2 = rng.normal(size=(5, 4)), rng.normal(size=5), rng.normal(size=5)
    X, Y = rng.choice([-1.0, 1.0], size=(batch, 4)), rng.choice([-1.0, 1.0], size=batch)
    rho, lr = 0.3, 0.05
    e_ref, theta_ref = _reference_step(W1, b1, W2, X, Y, rho=rho, eta=eta, lr=lr, wd=wd)

    net = from_params("bias", {"W1": W1, "b1": b1, "W2": W2})
    theta0 = _flat(W1, b1, W2)
    opt = make_asam(net, lr=lr, rho=rho, weight_decay=wd, eta=eta)
    after_ascent = _two_step(net, opt, torch.tensor(X), torch.tensor(Y))
    assert np.abs(after_ascent.numpy() - theta0 - e_ref).max() < TOL
    got = torch.cat([p.detach().flatten() for p in net.parameters()]).numpy()
    assert np.abs(got - theta_ref).max() < TOL
    assert np.abs(got - theta0).max() > 1e-4  # the step moved the weights


def test_asam_perturbation_differs_from_sam():
    # Same net, same batch: the adaptive ascent is not the Euclidean one (else the test above proves nothing new).
    X, Y = torch.tensor([[1.0, -1.0, 1.0]], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64)
    a, b = build("bias", 3, 6, seed=2), build("bias", 3, 6, seed=2)
    ea = _two_step(a, make_asam(a, lr=0.1, rho=0.2), X, Y)
    eb = _two_step(b, SAM(b.parameters(), rho=0.2, lr=0.1), X, Y)
    assert (ea - eb).abs().max() > 1e-3


def test_asam_is_invariant_to_neuron_rescaling():
    # Kwon et al.'s point: with η = 0 the ascent follows rescalings that leave f unchanged. Scale neuron j's
    # input weights by c_j and its output weight by 1/c_j (nobias: f unchanged); the perturbed network must
    # compute the same function, so the loss at θ + e and the rescaled step agree. SAM's does not.
    rng = np.random.default_rng(5)
    W1, W2 = rng.normal(size=(6, 4)), rng.normal(size=6)
    c = np.exp(rng.normal(size=6))
    X = torch.tensor(rng.choice([-1.0, 1.0], size=(2, 4)))
    Y = torch.tensor([1.0, -1.0], dtype=torch.float64)
    loss = get_loss("mse")

    def perturbed_loss(params, make):
        net = from_params("nobias", params)
        opt = make(net)
        loss(net(X), Y).backward()
        opt.first_step(zero_grad=True)
        with torch.no_grad():
            return float(loss(net(X), Y))

    asam = lambda net: ASAM(net.parameters(), rho=0.5, eta=0.0, lr=0.1)
    sam = lambda net: SAM(net.parameters(), rho=0.5, lr=0.1)
    plain, scaled = {"W1": W1, "W2": W2}, {"W1": W1 * c[:, None], "W2": W2 / c}
    assert abs(perturbed_loss(plain, asam) - perturbed_loss(scaled, asam)) < 1e-12
    assert abs(perturbed_loss(plain, sam) - perturbed_loss(scaled, sam)) > 1e-3


def test_zero_gradient_means_no_ascent():
    w = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    opt = ASAM([w], rho=1.0, lr=0.1)
    (w.sum() * 0).backward()
    opt.first_step()
    assert torch.equal(w.detach(), torch.zeros(3, dtype=torch.float64))


def test_param_groups_keep_biases_unnormalised():
    net = build("sim_bn", 3, 4)
    groups = asam_param_groups(net)
    names = {id(p): k for k, p in net.named_parameters()}
    assert [sorted(names[id(p)] for p in g["params"]) for g in groups] == [["W1", "W2", "gamma"], ["b1"]]
    assert [g["adaptive"] for g in groups] == [True, False]


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf, True, "0.1"])
def test_bad_eta_is_refused(bad):
    with pytest.raises(ValueError, match="eta"):
        ASAM([torch.nn.Parameter(torch.ones(2))], eta=bad)


def test_config_accepts_asam_on_the_generic_engine_only():
    cfg = TrainConfig(arch="nobias", optimizer="asam", phases=(Phase(0.01, 0.5, 1, 0.0, 1),)).validate()
    assert not cfg.fused  # "auto" resolves to the generic engine
    with pytest.raises(ValueError, match="backend: optimizer 'asam' runs on the generic engine"):
        cfg.replace(backend="c").validate()
    with pytest.raises(ValueError, match=r"phases\[0\].rho"):
        cfg.replace(optimizer="sgd").validate()


def test_trainer_runs_asam_like_the_optimizer_by_hand(tmp_path):
    # The trainer's epoch loop with optimizer "asam" equals ASAM steps taken by hand in the same sample order.
    cfg = TrainConfig(arch="bias", d=4, n=6, n_test=8, width=5, optimizer="asam", eval_every=2,
                      phases=(Phase(0.05, 0.3, 1, 0.01, 2),), seed=3)
    result = train(cfg, tmp_path / "run", progress="off")
    assert result.backends == ("generic",)
    from sharpgen.numerics.runs.schedule import epoch_plan
    from sharpgen.numerics.runs.train import make_dataset
    data = make_dataset(cfg)
    net = build("bias", 4, 5, seed=3)
    opt = make_asam(net, lr=0.05, rho=0.3, weight_decay=0.01)
    loss = get_loss("mse")
    for epoch in range(2):
        order, _ = epoch_plan(cfg, epoch, cfg.phases[0], cfg.n)
        for i in order:
            opt.zero_grad()
            _two_step(net, opt, data.X[i:i + 1], data.Y[i:i + 1])
    with torch.no_grad():
        want = float(loss(net(data.X), data.Y))
    assert abs(result.final["train_loss"] - want) < TOL
