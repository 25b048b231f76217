"""The GPU kernel (numerics.engine.gpu.kernel) checked on CPU in Triton's interpreter.

``TRITON_INTERPRET=1`` runs the same kernel source with numpy, so its logic is tested without a
GPU: one launch steps three replicas with different (lr, ρ, weight decay) and training sets, and
each must equal its autograd reference run to 1e-12 in float64. Skipped only when the triton
package (the ``triton`` extra) is not installed.
"""
import os

import pytest
import torch

from engine_reference import LOSSES, TOL, config, dataset, lr_for, maxdiff, net, reference
from sharpgen.numerics.runs.config import Phase
from sharpgen.numerics.engine.diverged import TrainingDiverged
from sharpgen.numerics.engine.replicas import ReplicaEngine

pytest.importorskip("triton")
pytestmark = pytest.mark.skipif(os.environ.get("TRITON_INTERPRET") != "1",
                                reason="tests/conftest.py sets TRITON_INTERPRET=1 unless the caller overrides it")


def _problem(cfg, R=3, shared=False):
    data = [dataset(cfg.d, cfg.n, seed=0 if shared else 10 + r) for r in range(R)]
    if shared:
        data = [data[0]] * R
    orders = [torch.randperm(cfg.n, generator=torch.Generator().manual_seed(r)).repeat(2) for r in range(R)]
    phases = [Phase(lr_for(cfg) * (1 + 0.25 * r), rho, 1, wd)
              for r, (rho, wd) in enumerate([(0.05, 0.0), (0.2, 0.02), (0.0, 0.05)][:R])]
    return data, orders, phases


def _check(cfg, data, orders, phases):
    models = [net(cfg, 1 + r, X) for r, (X, _) in enumerate(data)]
    eng = ReplicaEngine(cfg, models, [X for X, _ in data], "triton")
    out = eng.run(orders, [eng.targets(Y)[o] for (_, Y), o in zip(data, orders)], phases)
    assert out == [None] * len(models)
    for r, ((X, Y), order, ph) in enumerate(zip(data, orders, phases)):
        ref = reference(cfg, net(cfg, 1 + r, X), X, Y, order, ph)
        assert maxdiff(ref, models[r]) < TOL
        assert maxdiff(ref, net(cfg, 1 + r, X)) > 1e-3


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("arch,activation", [("nobias", "relu"), ("bias", "relu"), ("bias", "softplus"),
                                             ("sim_ln", "relu")])
def test_kernel_replicas_equal_their_reference_runs(arch, activation, loss):
    cfg = config(arch, 2, activation, loss, width=20)  # 20 neurons, 6 inputs: padded tiles are masked
    _check(cfg, *_problem(cfg))


def test_kernel_with_one_shared_training_set_and_projection():
    cfg = config("sim_ln", 2, "relu", "mse", radius=1.0)
    _check(cfg, *_problem(cfg, shared=True))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's overflow warnings inside the interpreter
def test_kernel_reports_the_diverging_replica_only():
    cfg = config("bias", 2, "relu", "mse")
    data, orders, phases = _problem(cfg, R=2)
    phases[0] = Phase(1e3, 0.0)
    models = [net(cfg, 1 + r, X) for r, (X, _) in enumerate(data)]
    eng = ReplicaEngine(cfg, models, [X for X, _ in data], "triton")
    out = eng.run(orders, [eng.targets(Y)[o] for (_, Y), o in zip(data, orders)], phases)
    assert isinstance(out[0], TrainingDiverged) and out[1] is None
    assert (out[0].value, 0 <= out[0].step < len(orders[0])) == ("output", True)
    assert str(out[0]) == f"non-finite output at step {out[0].step} of this chunk"


def test_cases_the_kernel_does_not_cover_run_the_torch_formulas():
    cfg = config("sim_bn", 2, "relu", "logistic")
    _check(cfg, *_problem(cfg, R=2))
