"""numerics.search: the flattest-set search ends feasible, never below an exact minimum, and its
adversary stays inside its bound; the closed-form sharpness it minimizes equals the autograd Hessian."""
import math

import pytest
import torch

from sharpgen.numerics.nets.data import condition1_dataset, cube, xor_dataset, xor_labels
from sharpgen.numerics.nets.sharpness import trace_hessian
from sharpgen.numerics.search import FEASIBLE, Problem, Schedule, adversary, flattest, restore, targets
from sharpgen.numerics.search.problem import interpolation_targets

SHORT = Schedule(iterations=120)


def f3(X, Y, bias=True):
    """(4/n) Σ ||x_i'|| |y_i|, the F3 lower bound."""
    norms = ((X * X).sum(dim=1) + (1.0 if bias else 0.0)).sqrt()
    return float(4 * (norms * Y.abs()).mean())


@pytest.mark.parametrize("arch,kw", [("bias", {}), ("nobias", {}), ("sim_ln", {"eps": 1e-3}), ("sim_bn", {}),
                                     ("bias", {"depth": 3}), ("bias", {"activation": "softplus"})])
def test_sharpness_is_the_autograd_hessian(arch, kw):
    data = xor_dataset(3, 5, seed=3)
    prob = Problem(arch, data.X, data.Y, width=4, **kw)
    theta = prob.starts(2, seed=5)
    for t, tr in zip(theta, prob.sharpness(theta)):
        net = prob.net(t)
        assert float(tr) == pytest.approx(float(trace_hessian(net, data.X, data.Y, method="autograd")), rel=1e-10)


def test_smoothed_sharpness_tends_to_the_exact_one():
    data = xor_dataset(3, 5, seed=4)
    prob = Problem("bias", data.X, data.Y, width=6)
    theta = prob.starts(3, seed=1)
    exact = prob.sharpness(theta)
    assert torch.allclose(prob.sharpness(theta, 1e-6), exact, rtol=1e-6)
    assert not torch.allclose(prob.sharpness(theta, 1.0), exact, rtol=1e-3)


def test_restore_reaches_the_tolerance_and_changes_little():
    data = xor_dataset(4, 6, seed=2)
    prob = Problem("bias", data.X, data.Y, width=10)
    theta = prob.starts(4, seed=0)
    out = restore(prob, theta)
    res = prob.residuals(out).abs().amax(dim=1)
    assert bool((res <= 1e-12).any())
    moved = (out - theta).norm(dim=1)
    assert bool((moved[res <= 1e-12] < 10 * theta.norm(dim=1)[res <= 1e-12]).all())


@pytest.mark.parametrize("seed", [21, 22])
def test_flattest_meets_f3_from_above_on_unseen_sets(seed):
    data = xor_dataset(4, 6, seed=seed)
    res = flattest(Problem("bias", data.X, data.Y, width=8), starts=6, seed=seed, schedule=Schedule(iterations=250))
    bound = f3(data.X, data.Y)
    assert res.best is not None and float(res.residuals[res.best]) <= FEASIBLE
    feasible = res.traces[res.feasible]
    assert bool((feasible >= bound * (1 - 1e-9)).all()), (feasible.min().item(), bound)
    assert res.best_trace <= bound * 1.02


def test_flattest_reports_infeasible_starts_as_such():
    X = cube(2)
    res = flattest(Problem("nobias", X, xor_labels(X), width=1), starts=2, schedule=Schedule(iterations=5))
    assert res.best is None and not bool(res.feasible.any())
    with pytest.raises(ValueError, match="no start ended feasible"):
        res.best_theta
    assert math.isnan(res.best_trace) and res.spread()["count"] == 0


def test_adversary_stays_inside_its_bound_and_beats_its_starts():
    data = xor_dataset(4, 6, seed=23)
    prob = Problem("bias", data.X, data.Y, width=8)
    bound = f3(data.X, data.Y) * 1.01
    X = cube(4)
    target = targets.population_error(X, xor_labels(X))
    flat = flattest(prob, starts=4, seed=23, schedule=Schedule(iterations=200))
    inside = flat.feasible & (flat.traces <= bound)
    before = max(target.measure(prob, t) for t in flat.theta[inside])
    res = adversary(prob, target, bound, theta0=flat.theta[inside], schedule=Schedule(iterations=150))
    assert bool((res.traces[res.feasible] <= bound).all())
    assert bool((res.residuals[res.feasible] <= FEASIBLE).all())
    assert float(res.values[res.best]) >= before


def test_adversary_with_a_bound_below_every_start_finds_nothing():
    data = xor_dataset(3, 4, seed=1)
    prob = Problem("bias", data.X, data.Y, width=6)
    res = adversary(prob, targets.path_norm(), bound=1e-3, starts=2, flat_schedule=Schedule(iterations=20))
    assert res.best is None and res.theta.shape == (0, prob.size)


def test_targets_measure_what_they_say():
    data = condition1_dataset(4)
    prob = Problem("sim_bn", data.X, data.Y, width=3)
    W1 = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    theta = prob.flatten({"W1": W1, "b1": [0.0, 0.0, 0.0], "W2": [1.0, 2.0, 0.0], "gamma": [2.0, -1.0, 1.0]})
    assert targets.off_coordinates((0, 1)).measure(prob, theta) == 1.0  # the zero row is not a neuron with a ratio
    assert targets.path_norm().measure(prob, theta) == pytest.approx(1.0 + 10.0)
    assert targets.output_mass().measure(prob, theta) == pytest.approx(-4.0)
    wrong = targets.population_error(data.X, -data.Y).measure(prob, theta)
    right = targets.population_error(data.X, data.Y).measure(prob, theta)
    assert wrong + right >= 1.0  # an output of 0 is wrong for both labels (docs/paper.md §1)


def test_logistic_targets_are_gamma_p_times_y():
    Y = torch.tensor([1.0, -1.0], dtype=torch.float64)
    assert interpolation_targets("logistic", Y, 0.2).tolist() == pytest.approx([math.log(4), -math.log(4)])
    assert interpolation_targets("mse", Y).tolist() == [1.0, -1.0]


@pytest.mark.parametrize("bad,match", [({"width": 0}, "width"), ({"arch": "cnn"}, "arch"),
                                       ({"loss": "hinge"}, "loss"), ({"depth": 3, "arch": "nobias"}, "depth")])
def test_problem_refuses_bad_input(bad, match):
    data = xor_dataset(3, 4, seed=0)
    kw = {"arch": "bias", "width": 4, **bad}
    with pytest.raises(ValueError, match=match):
        Problem(kw.pop("arch"), data.X, data.Y, **kw)


def test_schedule_refuses_bad_input():
    with pytest.raises(ValueError, match="iterations"):
        Schedule(iterations=0)
    with pytest.raises(ValueError, match="smoothing"):
        Schedule(smoothing=(1.0,))


def test_nobias_settles_on_kinks_and_meets_4_sqrt_d():
    # the nobias minimum sits where pre-activations vanish on training points; without the kink phase the
    # descent stalls above it (numerics.search.kinks)
    data = xor_dataset(3, 5, seed=21)
    prob = Problem("nobias", data.X, data.Y, width=8)
    res = flattest(prob, starts=6, seed=21)
    bound = 4 * 3 ** 0.5
    assert bool((res.traces[res.feasible] >= bound * (1 - 1e-9)).all())
    assert res.best_trace <= bound * (1 + 1e-4)
    net = prob.net(res.best_theta)
    assert float(trace_hessian(net, data.X, data.Y, method="autograd")) == pytest.approx(res.best_trace, rel=1e-9)


def test_exact_zeros_makes_near_zero_preactivations_exact():
    from sharpgen.numerics.search.kinks import exact_zeros, preactivations
    X = cube(3)
    prob = Problem("nobias", X, xor_labels(X), width=4)
    W1 = torch.tensor([[1.0, 1.0, 0.0], [1.0, -1.0, 0.0], [-1.0, 1.0, 0.0], [-1.0, -1.0, 0.0]], dtype=torch.float64)
    theta = prob.flatten({"W1": W1 * 0.7, "W2": [0.7, -0.7, -0.7, 0.7]})  # z = 0.7 (±x1 ± x2): 0 at x1 = -x2
    theta = theta + 1e-9 * torch.randn(theta.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    z0 = preactivations(prob, theta[None])[0]
    near = z0.abs() < 1e-6
    assert bool(near.any()) and not bool((z0[near] == 0).all())
    out = exact_zeros(prob, theta[None])
    z1 = preactivations(prob, out)[0]
    assert bool((z1[near] == 0).all())
    assert float(prob.residuals(out).abs().max()) <= 1e-12


def _searched_on(device):
    X = cube(3)[:4]
    prob = Problem("bias", X, xor_labels(X), width=6, device=device)
    return prob, adversary(prob, targets.population_error(cube(3), xor_labels(cube(3))), 8 * 1.01, starts=3,
                           schedule=Schedule(iterations=30), flat_schedule=Schedule(iterations=60))


def test_search_runs_where_the_problem_lives_and_cuda_falls_back_cleanly():
    """The device is resolved once, in Problem; every tensor of a result is there. Without a GPU, "cuda"
    warns and runs on the CPU with bitwise the CPU's numbers; with one, the numbers agree to 1e-9."""
    cpu_prob, cpu = _searched_on("cpu")
    assert cpu_prob.device == torch.device("cpu") and cpu.best is not None
    if torch.cuda.is_available():
        prob, res = _searched_on("cuda")
        assert res.theta.device.type == res.traces.device.type == res.values.device.type == "cuda"
        assert res.best_trace == pytest.approx(cpu.best_trace, rel=1e-9)
        return
    with pytest.warns(RuntimeWarning, match="cuda requested but not available"):
        prob, res = _searched_on("cuda")
    assert prob.device == torch.device("cpu")
    assert torch.equal(res.theta, cpu.theta) and res.best == cpu.best
    torch.testing.assert_close(res.values, cpu.values, rtol=0, atol=0, equal_nan=True)


def test_problem_device_is_validated():
    with pytest.raises(ValueError, match="device: expected one of"):
        Problem("bias", cube(2), xor_labels(cube(2)), width=2, device="tpu")


def test_starts_are_drawn_on_the_cpu_so_every_device_gets_the_same():
    X = cube(3)[:4]
    a = Problem("bias", X, xor_labels(X), width=4, device="cpu").starts(3, seed=2)
    b = Problem("bias", X, xor_labels(X), width=4, device="auto").starts(3, seed=2)
    assert torch.equal(a.cpu(), b.cpu())
