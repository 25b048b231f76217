"""The compiled batch-1 loop (``sam_steps.c``, package data): build, cache and ctypes binding.

Compiled once per machine and dtype with the C compiler named by ``CC`` (else
cc, gcc or clang) into ``$XDG_CACHE_HOME/sharpgen`` (default
``~/.cache/sharpgen``), keyed by the source, flags, compiler and CPU, and
loaded once per process.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

import torch

SOURCE = "sam_steps.c"
_ARCH_CODE = {"nobias": 0, "bias": 1, "sim_ln": 2}
_ACT_CODE = {"relu": 0, "softplus": 1}
_LOSS_CODE = {"mse": 0, "logistic": 1}
_C_VARIANTS = {
    torch.float64: ("sam_steps_f64", "-DREAL=double -DEXP=exp -DLOG1P=log1p -DSQRT=sqrt"),
    torch.float32: ("sam_steps_f32", "-DREAL=float -DEXP=expf -DLOG1P=log1pf -DSQRT=sqrtf"),
}
_C_FLAGS = ["-O3", "-march=native", "-fPIC", "-shared", "-std=c99"]


def _cpu_tag() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
        line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
        model = next((ln for ln in text.splitlines() if ln.startswith("model name")), "")
    except OSError:
        line = model = ""
    return platform.machine() + model + line


class CKernel:
    """The compiled batch-1 loop for one dtype, loaded through ctypes.

    Build it with :func:`load_c_kernel` (cached per process caller, compiled
    once per machine into ``$XDG_CACHE_HOME/sharpgen`` or ``~/.cache/sharpgen``).
    """

    def __init__(self, lib_path: Path, dtype: torch.dtype):
        name, _ = _C_VARIANTS[dtype]
        self.dtype = dtype
        self.lib = ctypes.CDLL(str(lib_path))
        self.fn = getattr(self.lib, name)
        real = ctypes.c_double if dtype == torch.float64 else ctypes.c_float
        P, L, I = ctypes.c_void_p, ctypes.c_long, ctypes.c_int
        self.fn.argtypes = [I, I, I, L, L, P, P, P, P, P, P, L, real, real, real, real, real, P]
        self.fn.restype = L

    def steps_(self, W1, b1, W2, X, order, targets, *, arch, activation="relu", loss="mse", eps=None,
               lr, rho=0.0, wd=0.0, radius=None) -> int:
        """Run len(order) batch-1 steps in place; returns 0 or k+1 when step k went non-finite."""
        for name, t in (("W1", W1), ("W2", W2), ("X", X)) + ((("b1", b1),) if b1 is not None else ()):
            if t.device.type != "cpu" or t.dtype != self.dtype or not t.is_contiguous():
                raise ValueError(f"{name}: the C kernel needs a contiguous CPU {self.dtype} tensor")
        m, d = W1.shape
        order = order.to(torch.long).contiguous()
        targets = targets.to(self.dtype).contiguous()
        work = torch.empty(6 * m, dtype=self.dtype)  # per call, so one loaded kernel serves many threads
        ptr = lambda t: ctypes.c_void_p(t.data_ptr())
        return int(self.fn(_ARCH_CODE[arch], _ACT_CODE[activation], _LOSS_CODE[loss], m, d,
                           ptr(W1), ptr(b1) if b1 is not None else None, ptr(W2), ptr(X), ptr(order),
                           ptr(targets), len(order), lr, rho, wd, eps if eps is not None else 0.0,
                           radius if radius is not None else 0.0, ptr(work)))


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sharpgen"


def c_source() -> str:
    """The text of ``sam_steps.c``, shipped as package data."""
    return resources.files(__package__).joinpath(SOURCE).read_text()


def find_compiler() -> str:
    """The C compiler: ``$CC`` if set (it must exist), else cc, gcc or clang; RuntimeError saying how to fix."""
    if os.environ.get("CC"):
        cc = shutil.which(os.environ["CC"])
        if cc is None:
            raise RuntimeError(f"CC={os.environ['CC']!r} is not an executable on PATH; set CC to a C compiler")
        return cc
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        raise RuntimeError("no C compiler found (cc, gcc, clang); install one (e.g. apt install gcc) "
                           "or set CC, for the fast CPU backend")
    return cc


def compile_c_kernel(dtype: torch.dtype = torch.float64) -> Path:
    """Compile (or find cached) the shared library for ``dtype``; raises RuntimeError if impossible."""
    if dtype not in _C_VARIANTS:
        raise ValueError(f"dtype: expected torch.float64 or torch.float32, got {dtype}")
    cc = find_compiler()
    source = c_source()
    name, defs = _C_VARIANTS[dtype]
    key = hashlib.sha256("\n".join([source, defs, " ".join(_C_FLAGS), cc, _cpu_tag(), sys.platform]).encode())
    out = _cache_dir() / f"{name}_{key.hexdigest()[:16]}.so"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        src = Path(tmp) / "kernel.c"
        src.write_text(source)
        lib = Path(tmp) / "kernel.so"
        cmd = [cc, *_C_FLAGS, *defs.split(), f"-DFNAME={name}", str(src), "-o", str(lib), "-lm"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"C kernel compilation failed: {proc.stderr.strip()[:500]}")
        os.replace(lib, out)  # atomic: concurrent builders never see a half-written library
    return out


@functools.lru_cache(maxsize=None)
def load_c_kernel(dtype: torch.dtype = torch.float64) -> CKernel:
    """Compile if needed and load the C loop for ``dtype`` (once per process)."""
    return CKernel(compile_c_kernel(dtype), dtype)


def c_available(dtype: torch.dtype = torch.float64) -> bool:
    """Whether the C loop can be built and loaded here."""
    try:
        load_c_kernel(dtype)
        return True
    except (RuntimeError, OSError):
        return False


