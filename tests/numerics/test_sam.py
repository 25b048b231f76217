"""Optimizers (numerics.sam) and fused steps (numerics.fast) against independent computations.

Tolerances: float64 throughout; 1e-12 absolute between two computations of
the same step (they differ only in rounding order).
"""
import math

import numpy as np
import pytest
import torch

from sharpgen.numerics.engine.c import loops as c_kernel
from sharpgen.numerics.engine.torch_fused import shallow as torch_steps
from sharpgen.numerics.nets.losses import get_loss
from sharpgen.numerics.nets.initialization import build
from sharpgen.numerics.nets.params import from_params
from sharpgen.numerics.engine.diverged import TrainingDiverged
from sharpgen.numerics.optim.asam import ASAM, ETA, asam_param_groups
from sharpgen.numerics.optim.sam import SAM, NonFiniteGradient, make_optimizer, project_first_layer_

TOL = 1e-12


def _sam_step(net, loss_fn, xb, yb, opt):
    loss_fn(net(xb), yb).backward()
    opt.first_step(zero_grad=True)
    loss_fn(net(xb), yb).backward()
    opt.second_step(zero_grad=True)


def test_one_sam_step_equals_hand_computation():
    # f(x) = W2 . relu(W1 x + b1), one sample, loss (f - y)^2: gradients written out in numpy.
    W1 = np.array([[0.5, -0.3], [0.2, 0.8]])
    b1 = np.array([0.1, -0.2])
    W2 = np.array([0.7, -0.4])
    x, y, lr, rho = np.array([1.0, -1.0]), 1.0, 0.1, 0.05

    def grad(W1, b1, W2):
        z = W1 @ x + b1
        h = np.maximum(z, 0)
        r = 2 * (W2 @ h - y)
        gz = r * W2 * (z > 0)
        return np.outer(gz, x), gz, r * h

    g = grad(W1, b1, W2)
    norm = math.sqrt(sum((t ** 2).sum() for t in g))
    e = [rho * t / norm for t in g]
    gp = grad(W1 + e[0], b1 + e[1], W2 + e[2])
    want = [W1 - lr * gp[0], b1 - lr * gp[1], W2 - lr * gp[2]]

    net = from_params("bias", {"W1": W1, "b1": b1, "W2": W2})
    opt = SAM(net.parameters(), torch.optim.SGD, rho=rho, lr=lr)
    _sam_step(net, get_loss("mse"), torch.tensor(x[None, :]), torch.tensor([y], dtype=torch.float64), opt)
    for got, ref in zip((net.W1, net.b1, net.W2), want):
        assert np.abs(got.detach().numpy() - ref).max() < TOL
    assert np.abs(net.W1.detach().numpy() - W1).max() > 1e-4  # the step moved the weights


def test_sam_with_rho_zero_equals_sgd_bitwise():
    torch.manual_seed(0)
    X = torch.randn(6, 4, dtype=torch.float64)
    Y = torch.randn(6, dtype=torch.float64)
    a, b = (build("bias", 4, 7, seed=3) for _ in range(2))
    opt_a = SAM(a.parameters(), torch.optim.SGD, rho=0.0, lr=0.05, weight_decay=0.01)
    opt_b = torch.optim.SGD(b.parameters(), lr=0.05, weight_decay=0.01)
    loss = get_loss("mse")
    for i in [0, 3, 5, 1, 2, 4, 0]:
        _sam_step(a, loss, X[i:i + 1], Y[i:i + 1], opt_a)
        opt_b.zero_grad()
        loss(b(X[i:i + 1]), Y[i:i + 1]).backward()
        opt_b.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_sam_step_closure_equals_two_steps():
    X = torch.tensor([[1.0, -1.0, 1.0]], dtype=torch.float64)
    Y = torch.tensor([1.0], dtype=torch.float64)
    a, b = (build("nobias", 3, 5, seed=1) for _ in range(2))
    loss = get_loss("mse")
    opt_a = SAM(a.parameters(), rho=0.1, lr=0.1)
    _sam_step(a, loss, X, Y, opt_a)
    opt_b = SAM(b.parameters(), rho=0.1, lr=0.1)

    def closure():
        opt_b.zero_grad()
        value = loss(b(X), Y)
        value.backward()
        return value
    opt_b.step(closure)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_zero_gradient_gives_zero_ascent():
    w = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    opt = SAM([w], rho=1.0, lr=0.1)
    (w ** 2).sum().backward()
    opt.first_step()
    assert torch.equal(w.detach(), torch.zeros(2, dtype=torch.float64))


# ------------------------------------------------------------------ the davda54/sam signature, adaptive

def test_rho_positional_equals_rho_keyword_bitwise():
    X, Y = torch.tensor([[1.0, -1.0, 1.0]], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64)
    a, b = (build("bias", 3, 5, seed=4) for _ in range(2))
    _sam_step(a, get_loss("mse"), X, Y, SAM(a.parameters(), torch.optim.SGD, 0.05, lr=0.1))
    _sam_step(b, get_loss("mse"), X, Y, SAM(b.parameters(), torch.optim.SGD, rho=0.05, lr=0.1))
    assert all(torch.equal(pa, pb) for pa, pb in zip(a.parameters(), b.parameters()))
    assert _maxdiff(a, build("bias", 3, 5, seed=4)) > 1e-4


def test_adaptive_equals_davda54_formula_on_an_nn_module():
    # davda54/sam, adaptive=True: e = ρ |w|² g / ‖ |w| g ‖ over every parameter (biases too), by hand here.
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()
    X, Y = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 1, dtype=torch.float64)
    theta = [p.detach().clone() for p in model.parameters()]
    opt = SAM(model.parameters(), torch.optim.SGD, rho=0.05, adaptive=True, lr=0.1)
    torch.nn.functional.mse_loss(model(X), Y).backward()
    g = [p.grad.clone() for p in model.parameters()]
    norm = math.sqrt(sum(float(((w.abs() * gi) ** 2).sum()) for w, gi in zip(theta, g)))
    opt.first_step(zero_grad=True)
    for p, w, gi in zip(model.parameters(), theta, g):
        assert float((p.detach() - (w + 0.05 * w * w * gi / norm)).abs().max()) < TOL
    torch.nn.functional.mse_loss(model(X), Y).backward()
    g_at = [p.grad.clone() for p in model.parameters()]
    opt.second_step(zero_grad=True)
    for p, w, gi in zip(model.parameters(), theta, g_at):
        assert float((p.detach() - (w - 0.1 * gi)).abs().max()) < TOL


def test_asam_is_sam_adaptive_with_its_eta_bitwise():
    X, Y = torch.tensor([[1.0, -1.0, 1.0], [-1.0, 1.0, 1.0]], dtype=torch.float64), torch.tensor([1.0, -1.0],
                                                                                                   dtype=torch.float64)
    a, b = build("bias", 3, 6, seed=2), build("bias", 3, 6, seed=2)
    opt_a = ASAM(asam_param_groups(a), torch.optim.SGD, rho=0.3, lr=0.1)
    opt_b = SAM(asam_param_groups(b), torch.optim.SGD, 0.3, True, eta=ETA, lr=0.1)
    for _ in range(3):
        _sam_step(a, get_loss("mse"), X, Y, opt_a)
        _sam_step(b, get_loss("mse"), X, Y, opt_b)
    assert all(torch.equal(pa, pb) for pa, pb in zip(a.parameters(), b.parameters()))


def test_a_group_may_turn_adaptive_off():
    w, v = (torch.nn.Parameter(torch.tensor([3.0, -4.0], dtype=torch.float64)) for _ in range(2))
    opt = SAM([{"params": [w]}, {"params": [v], "adaptive": False}], torch.optim.SGD, rho=0.5, adaptive=True, lr=0.1)
    ((w ** 2).sum() + (v ** 2).sum()).backward()  # g = (6, -8) for both
    opt.first_step()
    norm = math.sqrt(18.0 ** 2 + 32.0 ** 2 + 6.0 ** 2 + 8.0 ** 2)  # T g: |w| g = (18, -32) for w, g for v
    want_w = torch.tensor([3.0 + 0.5 * 54 / norm, -4.0 - 0.5 * 128 / norm], dtype=torch.float64)  # T² g = (54, -128)
    want_v = torch.tensor([3.0 + 0.5 * 6 / norm, -4.0 - 0.5 * 8 / norm], dtype=torch.float64)
    assert float((w.detach() - want_w).abs().max()) < TOL
    assert float((v.detach() - want_v).abs().max()) < TOL


# ------------------------------------------------------------------ guards

def _one_param_opt(**kw):
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    return w, SAM([w], torch.optim.SGD, rho=0.1, lr=0.1, **kw)


def test_two_steps_must_alternate():
    w, opt = _one_param_opt()
    with pytest.raises(RuntimeError, match="^second_step: called without first_step"):
        opt.second_step()
    (w ** 2).sum().backward()
    opt.first_step(zero_grad=True)
    moved = w.detach().clone()
    (w ** 2).sum().backward()
    with pytest.raises(RuntimeError, match="^first_step: called twice"):
        opt.first_step()
    assert torch.equal(w.detach(), moved)  # the refused ascent moved nothing
    opt.second_step(zero_grad=True)
    with pytest.raises(RuntimeError, match="^second_step: called without first_step"):
        opt.second_step()
    opt.step(lambda: (w ** 2).sum().backward())  # a closure step after a complete pair is fine


@pytest.mark.parametrize("group, message", [
    ({"rho": -0.1}, r"^param_groups\[1\]\.rho: expected a finite number >= 0, got -0.1"),
    ({"lr": 0.0}, r"^param_groups\[1\]\.lr: expected a finite number > 0, got 0.0"),
    ({"weight_decay": -1.0}, r"^param_groups\[1\]\.weight_decay: expected a finite number >= 0"),
    ({"eta": float("nan")}, r"^param_groups\[1\]\.eta: expected a finite number >= 0"),
])
def test_a_groups_own_values_are_checked(group, message):
    groups = [{"params": [torch.nn.Parameter(torch.ones(2))]}, dict(group, params=[torch.nn.Parameter(torch.ones(2))])]
    with pytest.raises(ValueError, match=message):
        SAM(groups, torch.optim.SGD, rho=0.05, lr=0.1)
    w, opt = _one_param_opt()
    with pytest.raises(ValueError, match=message):
        opt.add_param_group(dict(group, params=[torch.nn.Parameter(torch.ones(2))]))


def test_a_missing_lr_is_refused_not_taken_from_the_base_default():
    groups = [{"params": [torch.nn.Parameter(torch.ones(2))], "lr": 0.1}, {"params": [torch.nn.Parameter(torch.ones(2))]}]
    with pytest.raises(ValueError, match=r"^param_groups\[1\]\.lr: missing"):
        SAM(groups, torch.optim.SGD, rho=0.05)
    with pytest.raises(ValueError, match=r"^param_groups\[0\]\.lr: missing"):
        SAM([torch.nn.Parameter(torch.ones(2))], torch.optim.SGD)
    opt = SAM(groups[:1], torch.optim.SGD)
    with pytest.raises(ValueError, match=r"^param_groups\[1\]\.lr: missing"):
        opt.add_param_group({"params": [torch.nn.Parameter(torch.ones(2))]})
    opt.add_param_group({"params": [torch.nn.Parameter(torch.ones(2))], "lr": 0.2})
    assert opt.param_groups[1]["momentum"] == 0  # a later group gets the base optimizer's defaults too


@pytest.mark.parametrize("kw, message", [(dict(rho=-1.0), "^rho"), (dict(rho=0.1, lr=0.0), "^lr"),
                                         (dict(rho=0.1, lr=0.1, adaptive=1), "^adaptive"),
                                         (dict(rho=0.1, lr=0.1, eta=-0.5), "^eta")])
def test_constructor_arguments_are_checked(kw, message):
    with pytest.raises(ValueError, match=message):
        SAM([torch.nn.Parameter(torch.ones(2))], torch.optim.SGD, **kw)


def test_a_rho_changed_after_construction_is_checked_at_first_step():
    w, opt = _one_param_opt()
    opt.param_groups[0]["rho"] = -0.5
    (w ** 2).sum().backward()
    with pytest.raises(ValueError, match=r"^param_groups\[0\]\.rho"):
        opt.first_step()


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
@pytest.mark.parametrize("adaptive", [False, True])
def test_non_finite_gradient_raises_and_moves_nothing(bad, adaptive):
    w, opt = _one_param_opt(adaptive=adaptive)
    before = w.detach().clone()
    w.grad = torch.tensor([1.0, bad], dtype=torch.float64)
    with pytest.raises(NonFiniteGradient, match="^grad: NaN or inf in the gradient at first_step"):
        opt.first_step()
    assert torch.equal(w.detach(), before)
    assert issubclass(NonFiniteGradient, TrainingDiverged)  # the trainer records such a run as diverged
    with pytest.raises(RuntimeError, match="^second_step: called without first_step"):
        opt.second_step()


def test_finite_gradient_whose_squares_overflow_still_ascends_by_rho():
    w = torch.nn.Parameter(torch.tensor([1.0, 1.0]))  # float32: (3e30)² overflows
    opt = SAM([w], torch.optim.SGD, rho=0.5, lr=0.1)
    w.grad = torch.tensor([3e30, 4e30])
    opt.first_step()
    assert torch.allclose(w.detach(), torch.tensor([1.3, 1.4]), rtol=1e-6, atol=0)


@pytest.mark.parametrize("bad", [dict(lr=0.0), dict(lr=float("nan")), dict(lr=0.1, rho=-1.0),
                                 dict(lr=0.1, weight_decay=-0.1)])
def test_make_optimizer_rejects(bad):
    name = [k for k in bad if k != "lr"][-1] if len(bad) > 1 else "lr"
    with pytest.raises(ValueError, match=f"^{name}"):
        make_optimizer([torch.nn.Parameter(torch.ones(1))], **bad)


def test_projection_keeps_norm_within_radius():
    gen = torch.Generator().manual_seed(0)
    for scale in (0.01, 1.0, 100.0):
        W1 = scale * torch.randn(5, 3, generator=gen, dtype=torch.float64)
        b1 = scale * torch.randn(5, generator=gen, dtype=torch.float64)
        W0, b0 = W1.clone(), b1.clone()
        before = project_first_layer_(W1, b1, 10.0)
        after = math.sqrt(float((W1 ** 2).sum() + (b1 ** 2).sum()))
        assert before == pytest.approx(math.sqrt(float((W0 ** 2).sum() + (b0 ** 2).sum())), rel=1e-14)
        assert after <= 10.0 * (1 + 1e-12)
        if before <= 10.0:
            assert torch.equal(W1, W0) and torch.equal(b1, b0)
        else:
            assert after == pytest.approx(10.0, rel=1e-12)
            assert torch.allclose(W1 * before / 10.0, W0, rtol=1e-12, atol=0)


# ------------------------------------------------------------------ fused == generic

FUSED_CASES = [("nobias", "relu", "mse"), ("bias", "relu", "mse"), ("bias", "softplus", "mse"),
               ("sim_ln", "relu", "mse"), ("nobias", "relu", "logistic"), ("bias", "relu", "logistic"),
               ("bias", "softplus", "logistic"), ("sim_ln", "relu", "logistic")]


def _setup(arch, activation, loss, d=6, m=24, n=12, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = (torch.randint(0, 2, (n, d), generator=gen) * 2 - 1).to(torch.float64)
    Y = X[:, 0] * X[:, 1]
    eps = 1e-3 if arch == "sim_ln" else None
    scale = 0.3 if arch == "sim_ln" else 1.0
    mk = lambda: build(arch, d, m, activation=activation, eps=eps, seed=seed + 1, init_scale_first_layer=scale)
    p = 0.2 if loss == "logistic" else None
    return X, Y, mk, eps, p


def _generic(net, X, Y, order, loss_fn, *, lr, rho, wd, batch=1, radius=None):
    opt = make_optimizer(net.parameters(), lr=lr, rho=rho, weight_decay=wd)
    for k in range(len(order) // batch):
        idx = order[k * batch:(k + 1) * batch]
        xb, yb = X[idx], Y[idx]
        opt.zero_grad()
        loss_fn(net(xb), yb).backward()
        if isinstance(opt, SAM):
            opt.first_step(zero_grad=True)
            loss_fn(net(xb), yb).backward()
            opt.second_step(zero_grad=True)
        else:
            opt.step()
        if radius is not None:
            project_first_layer_(net.W1.data, net.b1.data if hasattr(net, "b1") else None, radius)


def _tensors(net):
    return net.W1.data, (net.b1.data if hasattr(net, "b1") else None), net.W2.data


def _maxdiff(a, b):
    return max(float((pa - pb).detach().abs().max()) for pa, pb in zip(a.parameters(), b.parameters()))


@pytest.mark.parametrize("arch,activation,loss", FUSED_CASES)
@pytest.mark.parametrize("rho,wd", [(0.05, 0.0), (0.5, 0.02), (0.0, 0.05)])
def test_fused_batch1_equals_generic(arch, activation, loss, rho, wd):
    X, Y, mk, eps, p = _setup(arch, activation, loss)
    order = torch.randperm(len(Y), generator=torch.Generator().manual_seed(5)).repeat(2)
    ref, via_torch, via_c = mk(), mk(), mk()
    lr = 0.05
    _generic(ref, X, Y, order, get_loss(loss, p), lr=lr, rho=rho, wd=wd)
    T = torch_steps.kernel_targets(loss, Y, p)
    kw = dict(arch=arch, activation=activation, loss=loss, eps=eps, lr=lr, rho=rho, wd=wd)
    torch_steps.torch_steps_(*_tensors(via_torch), X, order, T[order], **kw)
    assert _maxdiff(ref, via_torch) < TOL
    assert _maxdiff(ref, mk()) > 1e-3  # the run moved the weights: the comparison is not vacuous
    if c_kernel.c_available():
        rc = c_kernel.load_c_kernel().steps_(*_tensors(via_c), X, order, T[order], **kw)
        assert rc == 0
        assert _maxdiff(ref, via_c) < TOL


@pytest.mark.parametrize("arch,activation,loss", [("bias", "relu", "mse"), ("sim_ln", "relu", "logistic"),
                                                  ("nobias", "relu", "mse")])
@pytest.mark.parametrize("rho", [0.0, 0.1])
def test_fused_minibatch_equals_generic(arch, activation, loss, rho):
    X, Y, mk, eps, p = _setup(arch, activation, loss)
    order = torch.randperm(len(Y), generator=torch.Generator().manual_seed(2)).repeat(3)
    ref, fused = mk(), mk()
    _generic(ref, X, Y, order, get_loss(loss, p), lr=0.05, rho=rho, wd=0.01, batch=4)
    torch_steps.torch_steps_(*_tensors(fused), X, order, torch_steps.kernel_targets(loss, Y, p)[order], batch=4,
                      arch=arch, activation=activation, loss=loss, eps=eps, lr=0.05, rho=rho, wd=0.01)
    assert _maxdiff(ref, fused) < TOL


def test_fused_projection_equals_generic():
    X, Y, mk, eps, p = _setup("sim_ln", "relu", "mse")
    order = torch.arange(len(Y)).repeat(2)
    ref, via_torch, via_c = mk(), mk(), mk()
    radius = 0.9 * math.sqrt(float((ref.W1.detach() ** 2).sum() + (ref.b1.detach() ** 2).sum()))
    _generic(ref, X, Y, order, get_loss("mse"), lr=0.5, rho=0.1, wd=0.0, radius=radius)
    kw = dict(arch="sim_ln", eps=eps, lr=0.5, rho=0.1, radius=radius)
    torch_steps.torch_steps_(*_tensors(via_torch), X, order, Y[order], **kw)
    assert _maxdiff(ref, via_torch) < TOL
    if c_kernel.c_available():
        c_kernel.load_c_kernel().steps_(*_tensors(via_c), X, order, Y[order], **kw)
        assert _maxdiff(ref, via_c) < TOL
    assert math.sqrt(float((ref.W1.detach() ** 2).sum() + (ref.b1.detach() ** 2).sum())) <= radius * (1 + 1e-12)


def test_kernel_targets_match_loss_derivative():
    Y = torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64)
    f = torch.tensor([0.3, -2.0, 1.5], dtype=torch.float64, requires_grad=True)
    get_loss("logistic", p=0.2)(f, Y, reduction="none").sum().backward()
    assert torch.allclose(torch.sigmoid(f.detach()) - torch_steps.kernel_targets("logistic", Y, 0.2), f.grad,
                          atol=1e-15, rtol=0)
    assert torch_steps.kernel_targets("mse", Y) is Y


def test_c_kernel_reports_non_finite_step():
    if not c_kernel.c_available():
        pytest.skip("no C compiler here: the torch backend is used instead")
    X, Y, mk, eps, p = _setup("bias", "relu", "mse")
    net = mk()
    rc = c_kernel.load_c_kernel().steps_(*_tensors(net), X, torch.arange(12).repeat(50), Y.repeat(50),
                                     arch="bias", lr=1e3, rho=0.0)
    assert rc > 0


@pytest.mark.parametrize("eps", [1e-200, 1e-3])
@pytest.mark.parametrize("rho", [0.0, 0.05])
def test_fused_sim_ln_with_dead_samples_and_tiny_eps(eps, rho):
    # eps * eps underflows for 1e-200; samples whose hidden layer is dead (h = 0) must give a finite step
    # (the normaliser is eps, not sqrt(0) = 0), the same in the generic, fused torch and C paths
    gen = torch.Generator().manual_seed(0)
    X = (torch.randint(0, 2, (12, 6), generator=gen) * 2 - 1).to(torch.float64)
    Y = X[:, 0] * X[:, 1]

    def mk():
        net = build("sim_ln", 6, 3, eps=eps, seed=1)
        with torch.no_grad():
            net.b1 -= 0.5
        return net

    with torch.no_grad():
        h = torch.relu(X @ mk().W1.T + mk().b1)
    assert int(((h * h).sum(dim=1) == 0).sum()) >= 5  # the case is not vacuous
    order = torch.arange(12).repeat(2)
    ref, via_torch, via_c = mk(), mk(), mk()
    kw = dict(arch="sim_ln", activation="relu", loss="mse", eps=eps, lr=0.01, rho=rho, wd=0.0)
    _generic(ref, X, Y, order, get_loss("mse"), lr=0.01, rho=rho, wd=0.0)
    assert all(bool(torch.isfinite(q).all()) for q in ref.parameters())
    torch_steps.torch_steps_(*_tensors(via_torch), X, order, Y[order], **kw)
    assert _maxdiff(ref, via_torch) < TOL
    assert _maxdiff(ref, mk()) > 1e-4
    if c_kernel.c_available():
        assert c_kernel.load_c_kernel().steps_(*_tensors(via_c), X, order, Y[order], **kw) == 0
        assert _maxdiff(ref, via_c) < TOL
        net32 = mk()
        t32 = [t.to(torch.float32).contiguous() for t in _tensors(net32)]
        kw32 = dict(kw, eps=1e-30 if eps < 1e-100 else eps)
        assert c_kernel.load_c_kernel(torch.float32).steps_(*t32, X.float(), order, Y[order].float(), **kw32) == 0
        assert all(bool(torch.isfinite(t).all()) for t in t32)
