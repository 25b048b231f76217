"""Without a working C compiler the fused steps fall back to the torch formulas."""
import pytest
import torch

from sharpgen.numerics import fast


def test_no_compiler_means_torch_backend(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no cached library to find
    monkeypatch.setattr(fast.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="no C compiler found"):
        fast.compile_c_kernel(torch.float64)
    assert not fast.c_available(torch.float64)
    assert fast.resolve_backend("auto", torch.device("cpu"), torch.float64) == "torch"


def test_failing_compiler_means_torch_backend(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("CC", "false")  # a "compiler" that always fails
    with pytest.raises(RuntimeError, match="compilation failed"):
        fast.compile_c_kernel(torch.float32)
    assert fast.resolve_backend("auto", torch.device("cpu"), torch.float32) == "torch"
    assert not list((tmp_path / "sharpgen").glob("*.so"))  # nothing half-written left behind


def test_cuda_device_never_uses_the_c_loop():
    assert fast.resolve_backend("auto", torch.device("cuda"), torch.float64) == "torch"
    with pytest.raises(ValueError, match="backend: 'c' runs on CPU only"):
        fast.resolve_backend("c", torch.device("cuda"), torch.float64)
