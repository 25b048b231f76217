"""Test-session settings.

``TRITON_INTERPRET=1``: the GPU kernel (numerics.engine.triton_kernel) runs in Triton's
interpreter on CPU tensors, which is how the tests check its logic without a GPU. Triton reads
the variable when it is imported and when it decorates a kernel, and test collection imports
every module (tests/test_docstrings.py), so it is set here, before anything is collected.
"""
import os

os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest  # noqa: E402  (after the variable, see above)


@pytest.fixture
def fresh_kernel_cache(monkeypatch, tmp_path):
    """No compiled C library on disk and none loaded in this process (restored afterwards)."""
    from sharpgen.numerics.engine.c import loops as c_kernel
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "kernel-cache"))
    c_kernel.load_c_kernel.cache_clear()
    yield tmp_path / "kernel-cache"
    c_kernel.load_c_kernel.cache_clear()


@pytest.fixture
def no_c_compiler(monkeypatch, fresh_kernel_cache):
    """A machine without any C compiler: no $CC, none on PATH, no ziglang package."""
    from sharpgen.numerics.engine.c import loops as c_kernel
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setattr(c_kernel.shutil, "which", lambda name: None)
    real = c_kernel.importlib.util.find_spec
    monkeypatch.setattr(c_kernel.importlib.util, "find_spec", lambda name: None if name == "ziglang" else real(name))
    return fresh_kernel_cache


def metrics_without_wall(run_dir) -> str:
    """A run's metrics.csv text without its wall-clock column: what a resumed (or grouped) run must
    reproduce exactly. Text, not parsed numbers, so NaN cells compare equal and floats bit for bit."""
    lines = (run_dir / "metrics.csv").read_text().splitlines()
    at = lines[0].split(",").index("wall_s")
    return "\n".join(",".join(c for j, c in enumerate(line.split(",")) if j != at) for line in lines)


def run_numbers(run_dir):
    """metrics.csv without its wall-clock column, and the final parameters: what a resumed or grouped
    run must reproduce bit for bit."""
    from sharpgen.numerics.runs import checkpoint as ckpt
    return metrics_without_wall(run_dir), {k: v.tolist() for k, v in ckpt.load_checkpoint(run_dir)["params"].items()}


@pytest.fixture
def metrics_text():
    """:func:`metrics_without_wall`, for tests in any folder."""
    return metrics_without_wall


OPTIONAL_PACKAGES = ("triton",)  # extras a module may need at import time (numerics.engine.gpu.kernel)


def package_modules(*packages):
    """Every module of ``packages`` (the packages themselves first) as ``(name, missing)``: ``missing``
    is the optional package (:data:`OPTIONAL_PACKAGES`) the module needs and this machine lacks, else
    None. Importing each is how the walk finds out, so a module that fails for any other reason
    raises here."""
    import importlib
    import pkgutil
    for pkg in packages:
        yield pkg.__name__, None
        for info in pkgutil.walk_packages(pkg.__path__, prefix=pkg.__name__ + "."):
            try:
                importlib.import_module(info.name)
            except ModuleNotFoundError as err:
                if err.name not in OPTIONAL_PACKAGES:
                    raise
                yield info.name, err.name
            else:
                yield info.name, None


def assert_fresh_python_runs(code: str) -> None:
    """Run ``code`` in a fresh interpreter and require exit status 0 (its stderr is the message):
    the only way to see what an import loads, since this session has loaded everything already."""
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
