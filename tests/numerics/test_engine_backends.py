"""Every fused backend (C loops, torch formulas) against the autograd reference, replica by replica.

One ReplicaEngine call trains three replicas with different (lr, ρ, weight decay) and different
training sets; each must equal its own reference run (numerics.optim.sam through GenericEngine) to
1e-12 in float64, for every architecture × loss.
"""
import math
import pickle
import subprocess
import sys

import pytest
import torch

from engine_reference import LOSSES, NETS, TOL, config, dataset, lr_for, maxdiff, net, reference
from sharpgen.numerics.runs.config import Phase
from sharpgen.numerics.engine.c import loops as c_kernel
from sharpgen.numerics.engine.diverged import TrainingDiverged
from sharpgen.numerics.engine.replicas import ReplicaEngine

BACKENDS = ["torch", "torch-batched"] + (["c"] if c_kernel.c_available() else [])
HYPER = [(0.05, 0.0), (0.2, 0.02), (0.0, 0.05)]  # (rho, weight decay) of replicas 0, 1, 2


def _replica_problem(cfg, R=3, dtype=torch.float64):
    data = [dataset(cfg.d, cfg.n, seed=10 + r) for r in range(R)]
    orders = [torch.randperm(cfg.n, generator=torch.Generator().manual_seed(r)).repeat(2) for r in range(R)]
    phases = [Phase(lr_for(cfg) * (1 + 0.25 * r), rho, 1, wd) for r, (rho, wd) in enumerate(HYPER[:R])]
    return data, orders, phases


def _engine(cfg, models, Xs, backend, threads=None):
    """backend "torch-batched": the torch formulas of all replicas in each call (torch.func.vmap)."""
    name = backend.split("-")[0]
    return ReplicaEngine(cfg, models, Xs, name, threads=threads, batched=backend.endswith("batched"))


def _run(cfg, backend, data, orders, phases, *, threads=None, dtype=torch.float64, batch=1, first_seed=1):
    models = [net(cfg, first_seed + r, X, dtype) for r, (X, _) in enumerate(data)]
    eng = _engine(cfg, models, [X.to(dtype) for X, _ in data], backend, threads=threads)
    targets = [eng.targets(Y.to(dtype))[o] for (_, Y), o in zip(data, orders)]
    out = eng.run(orders, targets, [Phase(p.lr, p.rho, batch, p.weight_decay) for p in phases])
    return models, out


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("arch,depth,activation", NETS)
def test_replicas_equal_their_reference_runs(arch, depth, activation, loss, backend):
    cfg = config(arch, depth, activation, loss)
    data, orders, phases = _replica_problem(cfg)
    models, out = _run(cfg, backend, data, orders, phases)
    assert out == [None, None, None]
    for r, ((X, Y), order, ph) in enumerate(zip(data, orders, phases)):
        ref = reference(cfg, net(cfg, 1 + r, X), X, Y, order, ph)
        assert maxdiff(ref, models[r]) < TOL
        assert maxdiff(ref, net(cfg, 1 + r, X)) > 1e-3  # the steps moved the weights: not vacuous


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("arch,depth,activation", [("sim_bn", 2, "relu"), ("bias", 3, "relu"), ("sim_ln", 2, "relu")])
def test_mini_batches_equal_the_reference(arch, depth, activation, backend):
    cfg = config(arch, depth, activation, "mse")
    data, orders, phases = _replica_problem(cfg, R=2)
    models, out = _run(cfg, backend, data, orders, phases, batch=4)
    assert out == [None, None]
    for r, ((X, Y), order, ph) in enumerate(zip(data, orders, phases)):
        ref = reference(cfg, net(cfg, 1 + r, X), X, Y, order, Phase(ph.lr, ph.rho, 4, ph.weight_decay))
        assert maxdiff(ref, models[r]) < TOL


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("arch,depth,activation", [("sim_ln", 2, "relu"), ("sim_bn", 2, "relu"),
                                                   ("bias", 3, "relu"), ("nobias", 2, "relu")])
def test_projection_equals_the_reference(arch, depth, activation, backend):
    X, Y = dataset()
    probe = net(config(arch, depth, activation, "mse"), 1, X)
    norm = math.sqrt(float((probe.W1.detach() ** 2).sum() + (probe.b1.detach() ** 2).sum()
                           if hasattr(probe, "b1") else (probe.W1.detach() ** 2).sum()))
    cfg = config(arch, depth, activation, "mse", radius=0.9 * norm)
    order, ph = torch.arange(12).repeat(2), Phase(0.1 if arch != "sim_bn" else 0.01, 0.1)
    ref = reference(cfg, net(cfg, 1, X), X, Y, order, ph)
    model = net(cfg, 1, X)
    eng = _engine(cfg, [model], [X], backend)
    assert eng.run([order], [eng.targets(Y)[order]], ph) == [None]
    assert maxdiff(ref, model) < TOL
    first = (model.W1.detach() ** 2).sum() + ((model.b1.detach() ** 2).sum() if hasattr(model, "b1") else 0)
    assert math.sqrt(float(first)) <= cfg.project_radius * (1 + 1e-12)


@pytest.mark.skipif(not c_kernel.c_available(), reason="no C compiler here: the torch backend is used instead")
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("arch,depth,activation", NETS)
def test_c_replicas_are_bitwise_single_runs_and_chunking_does_not_matter(arch, depth, activation, dtype):
    cfg = config(arch, depth, activation, "logistic")
    data, orders, phases = _replica_problem(cfg, R=3)
    together, _ = _run(cfg, "c", data, orders, phases, threads=2, dtype=dtype)
    for r in range(3):
        alone, _ = _run(cfg, "c", data[r:r + 1], orders[r:r + 1], phases[r:r + 1], dtype=dtype, first_seed=1 + r)
        halves = [net(cfg, 1 + r, data[r][0], dtype)]
        eng = ReplicaEngine(cfg, halves, [data[r][0].to(dtype)], "c")
        T = eng.targets(data[r][1].to(dtype))[orders[r]]
        for part in (slice(0, 7), slice(7, None)):  # the same steps in two calls
            assert eng.run([orders[r][part]], [T[part]], phases[r]) == [None]
        for a, b, c in zip(together[r].parameters(), alone[0].parameters(), halves[0].parameters()):
            assert torch.equal(a, b) and torch.equal(a, c)


@pytest.mark.skipif(not c_kernel.c_available(), reason="no C compiler here")
@pytest.mark.parametrize("arch,depth,activation", NETS)
def test_c_float32_follows_the_float32_reference(arch, depth, activation):
    cfg = config(arch, depth, activation, "mse")
    X, Y = dataset()
    order, ph = torch.arange(12).repeat(2), Phase(lr_for(cfg), 0.05)
    ref = reference(cfg, net(cfg, 1, X, torch.float32), X.float(), Y.float(), order, ph)
    model = net(cfg, 1, X, torch.float32)
    eng = ReplicaEngine(cfg, [model], [X.float()], "c")
    assert eng.run([order], [eng.targets(Y.float())[order]], ph) == [None]
    for a, b in zip(ref.parameters(), model.parameters()):
        assert a.dtype == b.dtype == torch.float32
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS + ["generic"])
def test_a_diverging_replica_does_not_disturb_the_others(backend):
    cfg = config("bias", 2, "relu", "mse")
    data, orders, phases = _replica_problem(cfg)
    phases[1] = Phase(1e3, 0.0)
    models, out = _run(cfg, backend, data, orders, phases)
    assert out[0] is None and out[2] is None and isinstance(out[1], TrainingDiverged)
    if backend == "c":  # the C loop names the step of the call at which the output went non-finite
        assert out[1].value == "output" and 0 <= out[1].step < len(orders[1])
        assert str(out[1]) == f"non-finite output at step {out[1].step} of this chunk"
    else:  # the torch formulas and the reference check the parameters at the end of the call
        assert (out[1].value, out[1].step, str(out[1])) == ("parameters", None, "non-finite parameters")
    for r in (0, 2):
        alone, _ = _run(cfg, backend, data[r:r + 1], orders[r:r + 1], phases[r:r + 1], first_seed=1 + r)
        for a, b in zip(models[r].parameters(), alone[0].parameters()):
            assert torch.equal(a, b)


def test_a_diverged_replica_is_skipped_afterwards():
    cfg = config("bias", 2, "relu", "mse")
    data, orders, _ = _replica_problem(cfg, R=2)
    models = [net(cfg, 1 + r, X) for r, (X, _) in enumerate(data)]
    eng = ReplicaEngine(cfg, models, [X for X, _ in data], "torch")
    T = [eng.targets(Y)[o] for (_, Y), o in zip(data, orders)]
    first = eng.run(orders, T, [Phase(0.05), Phase(1e3)])
    assert first[0] is None and isinstance(first[1], TrainingDiverged)
    frozen = [p.detach().clone() for p in models[1].parameters()]
    again = eng.run(orders, T, [Phase(0.05), Phase(0.05)])
    assert again[0] is None and again[1] is first[1]  # the same object still reported, the replica not stepped
    for p, q in zip(models[1].parameters(), frozen):  # bit patterns, so NaNs compare too
        assert torch.equal(p.detach().view(torch.int64), q.view(torch.int64))


def test_bad_input_is_refused_naming_the_argument():
    cfg = config("bias", 2, "relu", "mse")
    X, Y = dataset()
    a, b = net(cfg, 1, X), net(config("bias", 2, "relu", "mse", width=8), 1, X)
    with pytest.raises(ValueError, match=r"^models\[1\]: expected the parameter shapes"):
        ReplicaEngine(cfg, [a, b], [X, X], "torch")
    with pytest.raises(ValueError, match=r"^Xs\[1\]: expected shape \(12, 6\)"):
        ReplicaEngine(cfg, [a, net(cfg, 2, X)], [X, X[:6]], "torch")
    with pytest.raises(ValueError, match=r"^models\[0\]: expected \(arch, depth, activation\) \('bias', 2, 'relu'\)"):
        ReplicaEngine(cfg, [net(config("bias", 3, "relu", "mse"), 1, X)], [X], "torch")
    with pytest.raises(ValueError, match="^models: expected a non-empty list"):
        ReplicaEngine(cfg, [], [], "torch")
    with pytest.raises(ValueError, match="^backend: expected one of"):
        ReplicaEngine(cfg, [a], [X], "auto")
    with pytest.raises(ValueError, match="^threads: expected an integer >= 1"):
        ReplicaEngine(cfg, [a], [X], "torch", threads=0)
    eng = ReplicaEngine(cfg, [a], [X], "torch")
    with pytest.raises(ValueError, match="^orders, targets, phases: expected 1 of each"):
        eng.run([torch.arange(3)] * 2, [Y[:3]] * 2, Phase(0.1))


@pytest.mark.skipif(not c_kernel.c_available(), reason="no C compiler here")
def test_c_kernel_refuses_rows_outside_the_training_set():
    cfg = config("bias", 2, "relu", "mse")
    X, Y = dataset()
    eng = ReplicaEngine(cfg, [net(cfg, 1, X)], [X], "c")
    with pytest.raises(ValueError, match=r"^order: expected row indices in \[0, 12\), got 0..12"):
        eng.run([torch.tensor([0, 12])], [Y[:2]], Phase(0.1))
    with pytest.raises(ValueError, match=r"^targets: expected one per entry of order \(2\), got 3"):
        eng.run([torch.tensor([0, 1])], [Y[:3]], Phase(0.1))


def test_sim_bn_dead_neurons_stay_finite_and_equal_the_reference():
    cfg = config("sim_bn", 2, "relu", "mse")
    X, Y = dataset()
    mk = lambda: net(cfg, 1, X)
    dead = lambda m: m.b1.data.__setitem__(slice(0, 5), -100.0)  # five neurons dead on every input
    ref, model = mk(), mk()
    dead(ref), dead(model)
    order, ph = torch.arange(12).repeat(2), Phase(0.01, 0.05)
    reference(cfg, ref, X, Y, order, ph)
    for backend in BACKENDS:
        model = mk()
        dead(model)
        eng = _engine(cfg, [model], [X], backend)
        assert eng.run([order], [eng.targets(Y)[order]], ph) == [None]
        assert maxdiff(ref, model) < TOL
        assert torch.equal(model.W1.data[:5], mk().W1.data[:5])  # dead neurons get zero gradient


def test_a_divergence_is_one_object_that_gains_its_place_in_the_run():
    err = TrainingDiverged.non_finite("output", step=4)
    assert (str(err), err.value, err.step, err.epochs) == ("non-finite output at step 4 of this chunk", "output", 4,
                                                           None)
    assert err.locate(epochs=(3, 5), phase=0, lr=0.5, rho=0.0, kept="Kept.") is err
    text = "training diverged in epochs [3, 5) (phase 0: lr=0.5, rho=0.0): non-finite output at step 4 of this chunk. Kept."
    assert str(err) == text
    back = pickle.loads(pickle.dumps(err))  # a worker process hands it back whole
    assert (type(back), str(back), back.value, back.step, back.epochs) == (TrainingDiverged, text, "output", 4, (3, 5))
    assert str(TrainingDiverged("anything said")) == "anything said"


def test_the_gpu_steps_import_and_answer_without_triton():
    code = ("import sys\n"
            "sys.modules['triton'] = None  # as if the package were not installed\n"
            "import sharpgen.numerics.engine.gpu as gpu, sharpgen.numerics.engine.gpu.steps as steps\n"
            "assert sorted(gpu.__all__) == ['launch', 'triton_available', 'triton_run_'] and gpu.launch is steps.launch\n"
            "assert steps.triton_available() is False\n"
            "try:\n"
            "    import sharpgen.numerics.engine.gpu.kernel\n"
            "except ImportError:\n"
            "    pass\n"
            "else:\n"
            "    raise AssertionError('the kernel imported without triton')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_every_torch_step_uses_the_one_ascent_scale():
    from sharpgen.numerics.engine import torch_fused
    from sharpgen.numerics.engine.torch_fused import batched, deep, shallow, sim_bn
    assert all(module.ascent_scale is shallow.ascent_scale for module in (batched, deep, sim_bn))
    assert torch_fused.ascent_scale is shallow.ascent_scale
    norm = torch.tensor([0.0, 4.0, 0.5], dtype=torch.float64)  # powers of two: the quotients are exact
    assert shallow.ascent_scale(0.2, norm).tolist() == [0.0, 0.05, 0.4]
    assert shallow.ascent_scale(torch.tensor(0.0, dtype=torch.float64), norm).tolist() == [0.0, 0.0, 0.0]
