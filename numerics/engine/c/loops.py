"""The compiled batch-1 loops (``sam_steps.c``, ``deep_steps.c``, ``sim_bn_steps.c`` with
``steps_common.h``, package data): build, cache and ctypes binding.

Compiled once per machine and dtype with the C compiler named by ``CC`` (else cc, gcc or
clang; else, without a system compiler, the one the ``ziglang`` package ships: ``pip install
'sharpgen[cc]'``, the same source at the same speed, announced when it builds) into
``$XDG_CACHE_HOME/sharpgen`` (default ``~/.cache/sharpgen``), keyed by the sources, flags,
compiler and CPU, and loaded once per process.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import warnings
from importlib import resources
from pathlib import Path

import torch

from sharpgen.numerics.nets.functional import SOFTPLUS_THRESHOLD, eps_sq_is_normal

SOURCE = "sam_steps.c"  # the entry file; compiled with the others below
SOURCES = ("sam_steps.c", "deep_steps.c", "sim_bn_steps.c")
HEADERS = ("steps_common.h",)
ARCH_CODE = {"nobias": 0, "bias": 1, "sim_ln": 2, "sim_bn": 3}
ACT_CODE = {"relu": 0, "softplus": 1}
LOSS_CODE = {"mse": 0, "logistic": 1}
_C_VARIANTS = {
    torch.float64: ("_f64", "-DREAL=double -DEXP=exp -DLOG1P=log1p -DSQRT=sqrt"),
    torch.float32: ("_f32", "-DREAL=float -DEXP=expf -DLOG1P=log1pf -DSQRT=sqrtf"),
}
_C_FLAGS = ["-O3", "-march=native", "-fPIC", "-shared", "-std=c99", "-ffp-contract=fast"]


def _cpu_tag() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
        line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
        model = next((ln for ln in text.splitlines() if ln.startswith("model name")), "")
    except OSError:
        line = model = ""
    return platform.machine() + model + line


def _structs(real):
    """The ctypes mirrors of ``spec`` and ``state`` in steps_common.h for one dtype."""
    I, L, P = ctypes.c_int, ctypes.c_long, ctypes.c_void_p

    class Spec(ctypes.Structure):
        _fields_ = [("arch", I), ("act", I), ("loss", I), ("depth", I), ("ln_sq", I), ("m", L), ("d", L),
                    ("n", L), ("eps", real), ("eps2", real), ("lr", real), ("rho", real), ("wd", real),
                    ("radius", real)]

    class State(ctypes.Structure):
        _fields_ = [("W1", P), ("b1", P), ("W2", P), ("gamma", P), ("mid", P), ("X", P), ("order", P),
                    ("tgt", P), ("S", L), ("work", P)]

    return Spec, State


def kernel_family(arch: str, depth: int) -> str:
    """Which compiled loop steps this network: "steps2" (depth-2 nobias/bias/sim_ln),
    "steps_deep" (depth >= 3) or "steps_bn" (sim_bn).

    >>> kernel_family("sim_bn", 2), kernel_family("bias", 3), kernel_family("sim_ln", 2)
    ('steps_bn', 'steps_deep', 'steps2')
    """
    if arch == "sim_bn":
        return "steps_bn"
    return "steps_deep" if depth > 2 else "steps2"


class CKernel:
    """The compiled batch-1 loops for one dtype, loaded through ctypes (the call releases the GIL,
    so threads can step different replicas at once).

    Build it with :func:`load_c_kernel` (cached per process, compiled once per machine into
    ``$XDG_CACHE_HOME/sharpgen`` or ``~/.cache/sharpgen``).
    """

    def __init__(self, lib_path: Path, dtype: torch.dtype):
        suffix, _ = _C_VARIANTS[dtype]
        self.dtype = dtype
        self.lib = ctypes.CDLL(str(lib_path))
        real = ctypes.c_double if dtype == torch.float64 else ctypes.c_float
        self.Spec, self.State = _structs(real)
        self.steps, self.work = {}, {}
        for family, work in (("steps2", "work2"), ("steps_deep", "work_deep"), ("steps_bn", "work_bn")):
            fn, wfn = getattr(self.lib, family + suffix), getattr(self.lib, work + suffix)
            fn.argtypes = [ctypes.POINTER(self.Spec), ctypes.POINTER(self.State)]
            wfn.argtypes = [ctypes.POINTER(self.Spec)]
            fn.restype = wfn.restype = ctypes.c_long
            self.steps[family], self.work[family] = fn, wfn

    def spec(self, *, arch, m, d, n, depth=2, activation="relu", loss="mse", eps=None, lr, rho=0.0, wd=0.0,
             radius=None):
        """The C ``spec`` of one replica's call (the sim_ln normaliser as
        :func:`sharpgen.numerics.nets.functional.ln_normaliser` has it)."""
        eps = float(eps) if eps is not None else 0.0
        ln_sq = int(arch == "sim_ln" and eps_sq_is_normal(eps, self.dtype))
        eps2 = float(torch.tensor(eps * eps, dtype=self.dtype))
        return self.Spec(ARCH_CODE[arch], ACT_CODE[activation], LOSS_CODE[loss], depth, ln_sq, m, d, n,
                         eps, eps2, lr, rho, wd, radius if radius is not None else 0.0)

    def steps_(self, W1, b1, W2, X, order, targets, *, arch, activation="relu", loss="mse", eps=None,
               lr, rho=0.0, wd=0.0, radius=None, gamma=None, mid=None) -> int:
        """Run len(order) batch-1 steps in place; returns 0 or k+1 when step k went non-finite.

        ``mid``: the depth-2 middle layers stacked into one contiguous (depth-2, m, m) tensor.
        """
        tensors = {"W1": W1, "b1": b1, "W2": W2, "X": X, "gamma": gamma, "mid": mid}
        for name, t in tensors.items():
            if t is not None and (t.device.type != "cpu" or t.dtype != self.dtype or not t.is_contiguous()):
                raise ValueError(f"{name}: the C kernel needs a contiguous CPU {self.dtype} tensor")
        m, d = W1.shape
        n = X.shape[0]
        if X.ndim != 2 or X.shape[1] != d:
            raise ValueError(f"X: expected shape (n, {d}), got {tuple(X.shape)}")
        if len(targets) != len(order):
            raise ValueError(f"targets: expected one per entry of order ({len(order)}), got {len(targets)}")
        if len(order) and not (0 <= int(order.min()) and int(order.max()) < n):
            raise ValueError(f"order: expected row indices in [0, {n}), got {int(order.min())}..{int(order.max())}")
        depth = 2 + (0 if mid is None else mid.shape[0])
        sp = self.spec(arch=arch, m=m, d=d, n=n, depth=depth, activation=activation, loss=loss,
                       eps=eps, lr=lr, rho=rho, wd=wd, radius=radius)
        family = kernel_family(arch, depth)
        order = order.to(torch.long).contiguous()
        targets = targets.to(self.dtype).contiguous()
        work = torch.empty(int(self.work[family](ctypes.byref(sp))), dtype=self.dtype)  # per call: thread-safe
        ptr = lambda t: None if t is None else t.data_ptr()
        st = self.State(ptr(W1), ptr(b1), ptr(W2), ptr(gamma), ptr(mid), ptr(X), ptr(order), ptr(targets),
                        len(order), ptr(work))
        return int(self.steps[family](ctypes.byref(sp), ctypes.byref(st)))

    def run_tensors(self, t, X, order, targets, **kw) -> int:
        """:meth:`steps_` on a :class:`~sharpgen.numerics.engine.tensors.NetTensors` (middle layers stacked for the call and copied back)."""
        mid = torch.stack(t.middle).contiguous() if t.middle else None
        rc = self.steps_(t.W1, t.b1, t.W2, X, order, targets, gamma=t.gamma, mid=mid, **kw)
        for k, w in enumerate(t.middle):
            w.copy_(mid[k])
        return rc


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sharpgen"


def c_source(name: str = SOURCE) -> str:
    """The text of one C file of the kernel (default ``sam_steps.c``), shipped as package data."""
    return resources.files(__package__).joinpath(name).read_text()


def find_compiler() -> list[str]:
    """The C compiler command: ``$CC`` if set (it must exist), else cc, gcc or clang, else
    ``python -m ziglang cc`` when the ziglang package is installed; RuntimeError saying how to fix."""
    if os.environ.get("CC"):
        cc = shutil.which(os.environ["CC"])
        if cc is None:
            raise RuntimeError(f"CC={os.environ['CC']!r} is not an executable on PATH; set CC to a C compiler")
        return [cc]
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is not None:
        return [cc]
    if importlib.util.find_spec("ziglang") is not None:
        return [sys.executable, "-m", "ziglang", "cc"]
    raise RuntimeError("no C compiler found (cc, gcc, clang, or the ziglang package); install one (e.g. apt "
                       "install gcc, or pip install 'sharpgen[cc]') or set CC, for the fast CPU backend")


def _defines(dtype: torch.dtype) -> list[str]:
    suffix, defs = _C_VARIANTS[dtype]
    return [*defs.split(), f"-DSUFFIX={suffix}", f"-DSOFTPLUS_THRESHOLD={float(SOFTPLUS_THRESHOLD)!r}"]


def compile_c_kernel(dtype: torch.dtype = torch.float64) -> Path:
    """Compile (or find cached) the shared library for ``dtype``; raises RuntimeError if impossible."""
    if dtype not in _C_VARIANTS:
        raise ValueError(f"dtype: expected torch.float64 or torch.float32, got {dtype}")
    cc = find_compiler()
    files = {name: c_source(name) for name in SOURCES + HEADERS}
    defs = _defines(dtype)
    key = hashlib.sha256("\n".join([*files.values(), *defs, " ".join(_C_FLAGS), " ".join(cc), _cpu_tag(),
                                     sys.platform]).encode())
    out = _cache_dir() / f"sam_steps{_C_VARIANTS[dtype][0]}_{key.hexdigest()[:16]}.so"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        for name, text in files.items():
            (Path(tmp) / name).write_text(text)
        lib = Path(tmp) / "kernel.so"
        if "ziglang" in cc:
            warnings.warn("no system C compiler: building the C loops with the ziglang package's compiler "
                          "(once per machine, about a minute)", RuntimeWarning, stacklevel=2)
        cmd = [*cc, *_C_FLAGS, *defs, *(str(Path(tmp) / name) for name in SOURCES), "-o", str(lib), "-lm"]
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


