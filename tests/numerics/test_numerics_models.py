"""numerics.models (docs/paper.md §2 architectures in torch) and numerics.device."""
from __future__ import annotations

import sys
import warnings

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import assert_fresh_python_runs

from sharpgen.numerics.nets.data import xor_dataset
from sharpgen.numerics.device import resolve_device
from sharpgen.numerics.nets.functional import forward
from sharpgen.numerics.nets.initialization import build
from sharpgen.numerics.nets.models import Net
from sharpgen.numerics.nets.params import from_params, model_to_params
from sharpgen.numerics.nets.params import Params
from sharpgen.verify.strategies import ARCH_CASES, arch_cases

NAMES = {
    "nobias": ["W1", "W2"],
    "bias": ["W1", "b1", "W2"],
    "sim_ln": ["W1", "b1", "W2"],
    "sim_bn": ["W1", "b1", "W2", "gamma"],
}


def test_numerics_never_imports_sympy():
    code = ("import sys, sharpgen.numerics as numerics\n"
            f"sys.path.insert(0, {str(Path(__file__).parents[1])!r})\n"
            "from conftest import package_modules\n"
            "names = list(package_modules(numerics))\n"
            "assert len(names) > 30, names\n"
            "assert 'sympy' not in sys.modules, 'sympy imported'\n")
    assert_fresh_python_runs(code)


@pytest.mark.parametrize("arch, hyper", ARCH_CASES)
def test_parameter_names_shapes_and_hyper(arch, hyper):
    net = build(arch, 5, 3, seed=0, **hyper)
    depth = hyper.get("depth", 2)
    expected = NAMES[arch] + [f"middle.{k}" for k in range(depth - 2)]
    assert sorted(n for n, _ in net.named_parameters()) == sorted(expected)
    assert net.W1.shape == (3, 5) and net.W2.shape == (3,) and net.W1.dtype == torch.float64
    assert all(w.shape == (3, 3) for w in net.middle)
    assert net.hyper == {"depth": depth, "activation": hyper.get("activation", "relu"), "eps": hyper.get("eps")}


def test_build_is_seeded_locally_and_pytorch_default_uniform():
    state = torch.random.get_rng_state()
    a, b = build("bias", 4, 50, seed=3), build("bias", 4, 50, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.W1, build("bias", 4, 50, seed=4).W1)
    assert a.W1.abs().max() <= 0.5 and a.b1.abs().max() <= 0.5 and a.W2.abs().max() <= 50 ** -0.5
    # Uniform on [-1/sqrt(fan_in), 1/sqrt(fan_in)]: the largest draw of 200 is near the bound.
    assert a.W1.abs().max() > 0.45
    deep = build("bias", 4, 50, depth=3, seed=3)
    assert deep.middle[0].abs().max() <= 50 ** -0.5
    assert torch.equal(build("sim_bn", 4, 6, seed=0).gamma, torch.ones(6, dtype=torch.float64))


def test_init_scale_first_layer_scales_w1_and_b1_only():
    a = build("sim_ln", 4, 6, eps=1e-3, seed=2)
    b = build("sim_ln", 4, 6, eps=1e-3, seed=2, init_scale_first_layer=0.01)
    assert torch.allclose(b.W1, 0.01 * a.W1, rtol=1e-15) and torch.allclose(b.b1, 0.01 * a.b1, rtol=1e-15)
    assert torch.equal(a.W2, b.W2)


@pytest.mark.parametrize("kwargs, message", [
    ({"width": 0}, r"^width: expected an integer >= 1, got 0"),
    ({"d": 1}, r"^d: expected an integer >= 2, got 1"),
    ({"depth": 1}, r"^depth: expected an integer >= 2, got 1"),
    ({"arch": "sim_ln"}, r"^eps: expected a finite number > 0 for 'sim_ln'"),
    ({"arch": "sim_ln", "eps": 0.0}, r"^eps: expected a finite number > 0 for 'sim_ln', got 0.0"),
    ({"eps": 0.1}, r"^eps: only sim_ln uses eps, got 0.1 for arch 'bias'"),
    ({"arch": "sim_ln", "eps": -1.0}, r"^eps: expected a finite number > 0"),
    ({"arch": "nobias", "depth": 3}, r"^depth: expected 2 for 'nobias'"),
    ({"arch": "sim_bn", "activation": "softplus"}, r"^activation: expected 'relu' for 'sim_bn'"),
    ({"activation": "tanh"}, r"^activation: expected one of"),
    ({"arch": "resnet"}, r"^arch: expected one of"),
    ({"init_scale_first_layer": float("nan")}, r"^init_scale_first_layer: expected a finite number"),
    ({"seed": 1.5}, r"^seed: expected an integer >= 0 or None"),
])
def test_build_rejects_bad_arguments(kwargs, message):
    args = {"arch": "bias", "d": 3, "width": 2, **kwargs}
    with pytest.raises(ValueError, match=message):
        build(args.pop("arch"), args.pop("d"), args.pop("width"), **args)


def test_forward_is_a_pure_function_usable_with_torch_func():
    data = xor_dataset(4, 6, seed=0)
    net = build("bias", 4, 5, depth=3, seed=1)
    params = {k: v.detach() for k, v in net.named_parameters()}
    single = lambda p, x: forward("bias", p, x[None])[0]
    per_sample = torch.func.vmap(single, in_dims=(None, 0))(params, data.X)
    with torch.no_grad():
        assert torch.allclose(per_sample, net(data.X), rtol=1e-14)
        assert torch.equal(torch.func.functional_call(net, params, (data.X,)), net(data.X))


def test_sim_bn_uses_training_statistics_for_single_samples():
    data = xor_dataset(4, 7, seed=1)
    net = build("sim_bn", 4, 5, seed=0)
    with pytest.raises(ValueError, match="^X_train: call set_training_inputs"):
        net(data.X)
    net.set_training_inputs(data.X)
    with torch.no_grad():
        full = net(data.X)
        ones = torch.stack([net(data.X[i:i + 1])[0] for i in range(7)])
    assert torch.allclose(full, ones, rtol=1e-14)
    params = {k: v.detach() for k, v in net.named_parameters()}
    assert torch.equal(forward("sim_bn", params, data.X[:2], X_train=data.X), full[:2].detach())


def test_sim_bn_statistics_are_differentiable():
    # Gradient of f(x_0) w.r.t. W1 row j includes the path through a_j: compare with finite differences.
    data = xor_dataset(3, 5, seed=2)
    net = build("sim_bn", 3, 2, seed=3).set_training_inputs(data.X)
    (g,) = torch.autograd.grad(net(data.X[:1])[0], net.W1)
    h = 1e-6
    fd = torch.zeros_like(g)
    for j in range(2):
        for k in range(3):
            with torch.no_grad():
                net.W1[j, k] += h
                up = net(data.X[:1])[0]
                net.W1[j, k] -= 2 * h
                down = net(data.X[:1])[0]
                net.W1[j, k] += h
            fd[j, k] = (up - down) / (2 * h)
    assert torch.allclose(g, fd, rtol=1e-6, atol=1e-8)


def test_dead_sim_bn_neuron_contributes_zero_with_finite_gradients():
    data = xor_dataset(3, 5, seed=0)
    net = build("sim_bn", 3, 3, seed=0)
    with torch.no_grad():
        net.W1[1] = 0.0
        net.b1[1] = -1.0
    net.set_training_inputs(data.X)
    out = net(data.X)
    out.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())
    assert net.W2.grad[1] == 0 and net.gamma.grad[1] == 0
    with torch.no_grad():
        net.W2[1] = 1e6
        assert torch.equal(net(data.X), out.detach())


def test_sim_ln_is_finite_when_the_hidden_layer_is_zero():
    net = from_params("sim_ln", {"W1": [[1.0, 0.0]], "b1": [-5.0], "W2": [1.0]}, eps=1e-3)
    out = net(torch.tensor([[1.0, 1.0]], dtype=torch.float64))
    out.sum().backward()
    assert out.item() == 0.0 and all(torch.isfinite(p.grad).all() for p in net.parameters())


def test_sim_ln_floor_eps():
    # f = W2.h / max(||h||, eps): a short hidden vector is divided by eps, a long one is normalised.
    net = from_params("sim_ln", {"W1": [[1.0, 0.0]], "b1": [0.0], "W2": [3.0]}, eps=0.5)
    with torch.no_grad():
        out = net(torch.tensor([[0.25, 0.0], [2.0, 0.0]], dtype=torch.float64))
    assert out.tolist() == [1.5, 3.0]


@settings(max_examples=25, deadline=None)
@given(arch_cases(), st.integers(2, 5), st.integers(1, 6), st.integers(0, 1000))
def test_model_to_params_from_params_round_trip(case, d, width, seed):
    arch, hyper = case
    net = build(arch, d, width, seed=seed, **hyper)
    p = model_to_params(net)
    assert isinstance(p, Params) and p.depth == net.hyper["depth"]
    back = from_params(arch, p, **hyper)
    via_dict = from_params(arch, {"W1": p.W1, "b1": p.b1, "W2": p.W2, "gamma": p.gamma, "middle": p.middle}, **hyper)
    for other in (back, via_dict):
        assert [n for n, _ in other.named_parameters()] == [n for n, _ in net.named_parameters()]
        assert all(torch.equal(a, b) for a, b in zip(net.parameters(), other.parameters()))
    p.W1.add_(1.0)  # detached clones: the network is untouched
    assert not torch.equal(p.W1, net.W1)


@pytest.mark.parametrize("arch, fields, message", [
    ("nobias", {"W1": [[1.0, 0.0]], "b1": [0.0], "W2": [1.0]}, r"^params: 'nobias' of depth 2 needs exactly"),
    ("sim_bn", {"W1": [[1.0, 0.0]], "b1": [0.0], "W2": [1.0]}, r"^params: 'sim_bn' of depth 2 needs exactly"),
    ("sim_ln", {"W1": [[1.0, 0.0]], "b1": [0.0], "W2": [1.0], "middle": [[[1.0]]]}, r"^depth: expected 2 for 'sim_ln'"),
    ("bias", {"W1": [[1.0, 0.0]], "b1": [0.0, 1.0], "W2": [1.0]}, r"^b1: expected"),
])
def test_from_params_rejects_wrong_layouts(arch, fields, message):
    with pytest.raises(ValueError, match=message):
        from_params(arch, fields, eps=0.1 if arch == "sim_ln" else None)


def test_forward_rejects_mismatched_inputs():
    net = build("bias", 3, 2, seed=0)
    with pytest.raises(ValueError, match=r"^X: expected shape \(n, 3\)"):
        net(torch.zeros(2, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"^X: expected a tensor of shape"):
        net.set_training_inputs(torch.zeros(2, 4))


def test_net_casts_inputs_to_its_dtype():
    net = build("nobias", 2, 3, seed=0)
    assert net(torch.ones(1, 2, dtype=torch.float32)).dtype == torch.float64
    assert isinstance(net, Net) and net.width == 3 and net.d == 2


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dev = resolve_device("cuda")
    if torch.cuda.is_available():
        assert dev.type == "cuda"
    else:
        assert dev == torch.device("cpu") and len(caught) == 1 and "not available" in str(caught[0].message)
    with pytest.raises(ValueError, match=r"^name: expected one of \('cpu', 'cuda', 'auto'\)"):
        resolve_device("gpu")


# ---------------------------------------------------------------- review fixes

def _dead_sim_ln(dtype):
    """sim_ln parameters whose hidden layer is dead (h = 0) on the all-ones input."""
    return {"W1": torch.tensor([[-1.0, 0.0], [0.0, -1.0]], dtype=dtype), "b1": torch.tensor([-1.0, -1.0], dtype=dtype),
            "W2": torch.tensor([1.0, 2.0], dtype=dtype)}


@pytest.mark.parametrize("dtype,eps", [(torch.float64, 1e-200), (torch.float32, 1e-30), (torch.float64, 1e-3)])
def test_sim_ln_dead_layer_with_tiny_eps_is_finite(dtype, eps):
    # eps * eps underflows to 0 here (1e-400 in float64, 1e-60 in float32): the normaliser must still be eps
    net = from_params("sim_ln", _dead_sim_ln(dtype), eps=eps, dtype=dtype)
    X = torch.tensor([[1.0, 1.0], [1.0, 0.5]], dtype=dtype)
    out = net(X)
    assert out.tolist() == [0.0, 0.0]
    out.sum().backward()
    for q in net.parameters():
        assert bool(torch.isfinite(q.grad).all()), q.grad
    # an alive sample next to the dead one: f = W2.h / ||h||, gradients finite
    net.zero_grad()
    X2 = torch.tensor([[1.0, 1.0], [-3.0, -1.0]], dtype=dtype)
    out = net(X2)
    assert out[0].item() == 0.0 and out[1].item() == pytest.approx((2 * 1 + 0) / 2, rel=1e-6)
    out.sum().backward()
    assert all(bool(torch.isfinite(q.grad).all()) for q in net.parameters())


def test_sim_ln_eps_that_rounds_to_zero_is_refused():
    with pytest.raises(ValueError, match="^eps: expected a number > .* rounds to 0 in float32"):
        from_params("sim_ln", _dead_sim_ln(torch.float64), eps=1e-50, dtype=torch.float32)
    with pytest.raises(ValueError, match="^eps: expected a number > .* rounds to 0 in float32"):
        Net("sim_ln", _dead_sim_ln(torch.float32), eps=1e-50)


@pytest.mark.parametrize("eps", [float("nan"), float("inf"), -1.0, 0.0, True, None])
def test_net_rejects_bad_eps(eps):
    with pytest.raises(ValueError, match="^eps: expected a finite number > 0 for 'sim_ln'"):
        Net("sim_ln", _dead_sim_ln(torch.float64), eps=eps)


def test_nobias_net_rejects_a_bias_and_forward_is_unchecked():
    params = {"W1": torch.eye(2), "b1": torch.ones(2), "W2": torch.ones(2)}
    with pytest.raises(ValueError, match="^params: 'nobias' of depth 2 needs exactly"):
        Net("nobias", params)
    assert forward("nobias", dict(params, b1=None), torch.ones(1, 2)).tolist() == [2.0]


def test_eps_is_checked_once_not_on_every_forward_pass(monkeypatch):
    # validation happens when the Net is made; the forward pass (the training hot path) calls no check
    from sharpgen.numerics import validate
    net = Net("sim_ln", _dead_sim_ln(torch.float64), eps=1e-3)
    calls = []
    for name in ("check_hyper", "eps_floor", "check_number"):
        monkeypatch.setattr(validate, name, lambda *a, name=name, **k: calls.append(name))
    net(torch.ones(3, 2, dtype=torch.float64))
    assert calls == []


def test_print_net_shows_what_it_is():
    assert repr(build("nobias", d=30, width=500, seed=0)) == "Net(arch='nobias', d=30, width=500, dtype=float64)"
    assert str(build("bias", d=4, width=3, activation="softplus", seed=0)) == \
        "Net(arch='bias', d=4, width=3, depth=2, activation='softplus', dtype=float64)"
    assert "eps=0.001" in repr(build("sim_ln", d=4, width=3, eps=1e-3, seed=0))
    net = build("sim_bn", d=4, width=3, seed=0)
    assert "X_train=None" in repr(net)
    assert "X_train=(5, 4)" in repr(net.set_training_inputs(torch.ones(5, 4)))


@pytest.mark.parametrize("name", ["W1", "b1", "W2"])
def test_non_finite_weights_are_refused(name):
    p = {k: v.clone() for k, v in _dead_sim_ln(torch.float64).items()}
    p[name].view(-1)[0] = float("nan")
    with pytest.raises(ValueError, match=f"^{name}: expected finite values"):
        Net("bias", p)
    with pytest.raises(ValueError, match=f"^{name}: expected finite values"):
        from_params("bias", {k: v.tolist() for k, v in p.items()})


def test_non_finite_training_inputs_are_refused():
    net = build("sim_bn", d=2, width=3, seed=0)
    with pytest.raises(ValueError, match="^X: expected finite values"):
        net.set_training_inputs(torch.tensor([[1.0, float("nan")]]))
    with pytest.raises(ValueError, match="^X_train: expected finite values"):
        from_params("sim_bn", model_to_params(net), X_train=[[1.0, float("inf")]])


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan")])
def test_build_rejects_non_positive_first_layer_scale(scale):
    with pytest.raises(ValueError, match="^init_scale_first_layer: expected a finite number > 0"):
        build("bias", d=2, width=3, init_scale_first_layer=scale)


@pytest.mark.parametrize("dtype", [torch.int64, torch.float16, "float64", None])
def test_build_and_from_params_accept_float32_float64_only(dtype):
    with pytest.raises(ValueError, match="^dtype: expected torch.float64 or torch.float32"):
        build("bias", d=2, width=3, dtype=dtype)
    with pytest.raises(ValueError, match="^dtype"):
        from_params("nobias", {"W1": [[1.0, 0.0]], "W2": [2.0]}, dtype=dtype)
    assert build("bias", d=2, width=3, dtype=torch.float32, seed=0).W1.dtype == torch.float32
