"""Without a system C compiler the C loops build with the ziglang package's compiler; without any,
the fused steps fall back to the torch formulas, announced once."""
import importlib.util

import pytest
import torch

from sharpgen.numerics.engine import backends as engine
from sharpgen.numerics.engine.c import loops as c_kernel

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_no_compiler_means_torch_backend_announced_once(monkeypatch, no_c_compiler):
    engine.reset_fallback_notice()
    with pytest.raises(RuntimeError, match="no C compiler found"):
        c_kernel.compile_c_kernel(torch.float64)
    assert not c_kernel.c_available(torch.float64)
    with pytest.warns(RuntimeWarning, match="no working C compiler: the fused steps run in torch"):
        assert engine.resolve_backend("auto", fused=True, device=CPU, dtype=torch.float64) == "torch"
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # announced once per process, not once per run
        assert engine.resolve_backend("auto", fused=True, device=CPU, dtype=torch.float64) == "torch"


def test_failing_compiler_means_torch_backend(monkeypatch, fresh_kernel_cache):
    monkeypatch.setenv("CC", "false")  # a "compiler" that always fails
    engine.reset_fallback_notice(announced=True)
    with pytest.raises(RuntimeError, match="compilation failed"):
        c_kernel.compile_c_kernel(torch.float32)
    assert engine.resolve_backend("auto", fused=True, device=CPU, dtype=torch.float32) == "torch"
    assert not list((fresh_kernel_cache / "sharpgen").glob("*.so"))  # nothing half-written left behind


@pytest.mark.skipif(importlib.util.find_spec("ziglang") is None, reason="the ziglang package is not installed")
def test_without_a_system_compiler_ziglang_builds_the_same_loops(monkeypatch, fresh_kernel_cache):
    from engine_reference import TOL, config, dataset, maxdiff, net, reference
    from sharpgen.numerics.runs.config import Phase
    from sharpgen.numerics.engine.replicas import ReplicaEngine
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setattr(c_kernel.shutil, "which", lambda name: None)
    assert c_kernel.find_compiler()[-3:] == ["-m", "ziglang", "cc"]
    with pytest.warns(RuntimeWarning, match="no system C compiler: building the C loops with the ziglang"):
        c_kernel.load_c_kernel(torch.float64)
    cfg = config("sim_bn", 2, "relu", "mse")
    X, Y = dataset()
    order, ph = torch.arange(12).repeat(2), Phase(0.01, 0.05)
    model = net(cfg, 1, X)
    eng = ReplicaEngine(cfg, [model], [X], "c")
    assert eng.run([order], [eng.targets(Y)[order]], ph) == [None]
    assert maxdiff(reference(cfg, net(cfg, 1, X), X, Y, order, ph), model) < TOL


def test_cc_naming_a_missing_program_says_so(monkeypatch, fresh_kernel_cache):
    monkeypatch.setenv("CC", "no-such-compiler-xyz")
    with pytest.raises(RuntimeError, match=r"^CC='no-such-compiler-xyz' is not an executable on PATH"):
        c_kernel.compile_c_kernel(torch.float64)


def test_cuda_device_never_uses_the_c_loop():
    from sharpgen.numerics.engine.gpu.steps import triton_available
    want = "triton" if triton_available() else "torch"
    assert engine.resolve_backend("auto", fused=True, device=CUDA, dtype=torch.float64) == want
    with pytest.raises(ValueError, match="backend: 'c' runs on CPU only"):
        engine.resolve_backend("c", fused=True, device=CUDA, dtype=torch.float64)


def test_unfused_cases_use_the_generic_engine():
    assert engine.resolve_backend("auto", fused=False, device=CPU, dtype=torch.float64) == "generic"
    with pytest.raises(ValueError, match="^backend: 'c' covers the networks of docs/paper.md"):
        engine.resolve_backend("c", fused=False, device=CPU, dtype=torch.float64)


def test_every_architecture_is_fused():
    for arch, depth in (("nobias", 2), ("bias", 2), ("bias", 3), ("sim_ln", 2), ("sim_bn", 2)):
        assert engine.fused_supported(arch, depth=depth)
    assert not engine.fused_supported("sim_bn", depth=3) and not engine.fused_supported("nobias", activation="softplus")
