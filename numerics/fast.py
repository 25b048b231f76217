"""Fused 1-SAM / SGD steps with hand-derived gradients (docs/paper.md §6-§7: 1-SAM is
millions of tiny steps, so per-step overhead decides what can be checked).

Covered cases ("fused" cases): depth-2 ``nobias`` and ``bias`` with relu or
softplus, and ``sim_ln`` (relu, floor ε), each with MSE or the logistic loss
with label smoothing. Everything else (``sim_bn``, depth 3) goes through the
generic autograd path (``numerics.sam.SAM`` over a ``numerics.models.Net``),
which is also the reference these kernels are tested against (to 1e-12 in
float64, ``tests/test_sam.py``).

One step on a mini-batch B (rows X_B, kernel targets t_B), loss
(1/|B|) Σ ℓ(f(x_i), t_i), with r_i = ∂ℓ/∂f_i / |B| and z = W1 x + b1:

* gradients: g_W2 = Σ r_i φ_i, g_z,i = r_i ∂f_i/∂h ⊙ act'(z_i),
  g_W1 = Σ g_z,i x_iᵀ, g_b1 = Σ g_z,i, where φ = h (plain) or h/s
  (``sim_ln``, s = max(||h||, ε)), ∂f/∂h = W2 (plain) or (W2 − f·φ·1[||h||>ε])/s;
* SAM ascent without touching W1: with K = X'_B X'_Bᵀ (x' = (x, 1) for biased
  nets, x for ``nobias``), ||g||² = Σ K ⊙ (G_z G_zᵀ) + ||g_W2||² and the
  perturbed pre-activations are Z' = Z + a·K·G_z, a = ρ/||g|| (0 if g = 0);
* descent (torch.optim.SGD convention): θ ← θ − lr (g(θ + e) + wd·θ);
* optional Figure-6b projection of [W1 | b1] onto a Frobenius ball.

Two implementations of the same formulas:

* ``torch`` — device-generic tensor code (CPU or CUDA), any batch size;
* ``c`` — a small C loop over many batch-1 steps, compiled once with the
  system C compiler into a per-user cache and called through ctypes on CPU
  tensors (float64 and float32). It is used only when a compiler is present;
  otherwise :func:`resolve_backend` falls back to ``torch``.

MSE (docs/paper.md §1): ℓ = (f − y)², ∂ℓ/∂f = 2 (f − y), kernel target y.
Logistic: ℓ = softplus(f) − t f, ∂ℓ/∂f = σ(f) − t; the kernel target t is
derived from ``numerics.losses`` by :func:`kernel_targets`.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

FUSED_ARCHS = ("nobias", "bias", "sim_ln")
LOSSES = ("mse", "logistic")
BACKENDS = ("torch", "c")
_ARCH_CODE = {"nobias": 0, "bias": 1, "sim_ln": 2}
_ACT_CODE = {"relu": 0, "softplus": 1}
_LOSS_CODE = {"mse": 0, "logistic": 1}


def fused_supported(arch: str, *, depth: int = 2, activation: str = "relu", loss: str = "mse") -> bool:
    """Whether the fused kernels cover this architecture / loss.

    >>> fused_supported("bias", activation="softplus"), fused_supported("sim_bn"), fused_supported("bias", depth=3)
    (True, False, False)
    """
    return arch in FUSED_ARCHS and depth == 2 and activation in _ACT_CODE and loss in LOSSES \
        and (arch == "bias" or activation == "relu")


def kernel_targets(loss: str, Y: torch.Tensor, p: float | None = None) -> torch.Tensor:
    """Targets in the kernel's form: y for MSE; for logistic the t with ∂ℓ/∂f = σ(f) − t.

    For the logistic loss t is read off ``numerics.losses`` itself (its
    derivative at f = 0 is 1/2 − t), so the kernels follow whatever label
    convention that module implements.
    """
    if loss == "mse":
        return Y
    if loss != "logistic":
        raise ValueError(f"loss: expected one of {LOSSES}, got {loss!r}")
    from sharpgen.numerics.losses import get_loss
    fn = get_loss("logistic", p=p)
    zero = torch.zeros_like(Y, requires_grad=True)
    (grad,) = torch.autograd.grad(fn(zero, Y, reduction="none").sum(), zero)
    return (0.5 - grad).detach()


# ------------------------------------------------------------------ torch twin

def _act(z: torch.Tensor, activation: str):
    """act(z) and act'(z) with torch's conventions (relu'(0) = 0; softplus threshold 20)."""
    if activation == "relu":
        return torch.relu(z), (z > 0).to(z.dtype)
    return torch.nn.functional.softplus(z), torch.where(z > 20, torch.ones_like(z), torch.sigmoid(z))


def _dloss(loss: str, f: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return 2.0 * (f - t) if loss == "mse" else torch.sigmoid(f) - t


def _grads(arch, activation, loss, eps, Z, W2, t):
    """Per-batch gradient pieces (G_z, g_W2) at pre-activations Z and output layer W2."""
    H, dact = _act(Z, activation)
    B = Z.shape[0]
    if arch == "sim_ln":
        norm = torch.sqrt((H * H).sum(dim=1))  # no gradient is taken here: sqrt(0) = 0 is fine
        active = (norm >= eps).to(Z.dtype)  # max(||h||, eps) without eps², which can underflow to 0
        s = torch.where(norm >= eps, norm, torch.full_like(norm, eps))
        U = H / s[:, None]
        f = U @ W2
        r = _dloss(loss, f, t) / B
        GH = (r / s)[:, None] * (W2[None, :] - (f * active)[:, None] * U)
        return GH * dact, U.T @ r
    f = H @ W2
    r = _dloss(loss, f, t) / B
    return r[:, None] * W2[None, :] * dact, H.T @ r


@torch.no_grad()
def torch_step_(W1, b1, W2, Xb, tb, *, arch, activation="relu", loss="mse", eps=None,
                lr, rho=0.0, wd=0.0, radius=None) -> None:
    """One fused SAM (ρ > 0) or SGD (ρ = 0) step on batch (Xb, tb), in place; any device."""
    Z = Xb @ W1.T
    if b1 is not None:
        Z = Z + b1
    GZ, gW2 = _grads(arch, activation, loss, eps, Z, W2, tb)
    if rho > 0:
        K = Xb @ Xb.T
        if b1 is not None:
            K = K + 1.0
        norm2 = (K * (GZ @ GZ.T)).sum() + (gW2 * gW2).sum()
        norm = torch.sqrt(norm2)
        a = torch.where(norm > 0, rho / torch.where(norm > 0, norm, torch.ones_like(norm)), torch.zeros_like(norm))
        GZ, gW2 = _grads(arch, activation, loss, eps, Z + a * (K @ GZ), W2 + a * gW2, tb)
    W1.sub_(lr * (GZ.T @ Xb + wd * W1))
    if b1 is not None:
        b1.sub_(lr * (GZ.sum(dim=0) + wd * b1))
    W2.sub_(lr * (gW2 + wd * W2))
    if radius is not None:
        from sharpgen.numerics.sam import project_first_layer_
        project_first_layer_(W1, b1, radius)


def minibatches(X, order, targets, batch: int):
    """The ``len(order) // batch`` mini-batches (rows, targets): batch k is rows order[k*batch:(k+1)*batch].

    ``targets`` holds one target per entry of ``order``; both move to X's device (and targets to its dtype).

    >>> X = torch.arange(4.0)[:, None]
    >>> [(xb.flatten().tolist(), tb.tolist()) for xb, tb in minibatches(X, torch.tensor([3, 1, 0]), torch.ones(3), 2)]
    [([3.0, 1.0], [1.0, 1.0])]
    """
    order = order.to(X.device)
    targets = targets.to(device=X.device, dtype=X.dtype)
    for k in range(len(order) // batch):
        yield X[order[k * batch:(k + 1) * batch]], targets[k * batch:(k + 1) * batch]


def torch_steps_(W1, b1, W2, X, order, targets, *, batch=1, **kw) -> None:
    """Run ``len(order) // batch`` fused steps, one per mini-batch of :func:`minibatches`."""
    for xb, tb in minibatches(X, order, targets, batch):
        torch_step_(W1, b1, W2, xb, tb, **kw)


# ------------------------------------------------------------------ C loop

_C_SOURCE = r"""
#include <math.h>
#include <stddef.h>
typedef REAL real;

static inline real sigm(real f) {
    if (f >= 0) return 1 / (1 + EXP(-f));
    real e = EXP(f);
    return e / (1 + e);
}

/* gradient pieces at pre-activation z and output layer w2: fills gz, gw2; returns f */
static real grads(int arch, int act, int loss, real eps, long m, const real *z, const real *w2,
                  real t, real *h, real *gz, real *gw2) {
    real f = 0, s = 1, n2 = 0, r;
    long j;
    /* first pass: h = act(z), act'(z) parked in gz (one exp per neuron for softplus) */
    if (act == 0) {
        for (j = 0; j < m; j++) { h[j] = z[j] > 0 ? z[j] : 0; gz[j] = z[j] > 0 ? 1 : 0; }
    } else {
        for (j = 0; j < m; j++) {
            if (z[j] > 20) { h[j] = z[j]; gz[j] = 1; }
            else { real e = EXP(z[j]); h[j] = LOG1P(e); gz[j] = e / (e + 1); }
        }
    }
    for (j = 0; j < m; j++) { f += w2[j] * h[j]; n2 += h[j] * h[j]; }
    if (arch == 2) {
        real nrm = SQRT(n2);  /* max(||h||, eps) without eps*eps, which can underflow to 0 */
        real on = nrm >= eps ? 1 : 0;
        s = nrm >= eps ? nrm : eps;
        f /= s;
        r = loss == 0 ? 2 * (f - t) : sigm(f) - t;
        for (j = 0; j < m; j++) {
            real u = h[j] / s;
            gw2[j] = r * u;
            gz[j] = r / s * (w2[j] - f * on * u) * gz[j];
        }
        return f;
    }
    r = loss == 0 ? 2 * (f - t) : sigm(f) - t;
    for (j = 0; j < m; j++) { gw2[j] = r * h[j]; gz[j] = r * w2[j] * gz[j]; }
    return f;
}

/* dot product with four accumulators (a fixed, deterministic summation order) */
static inline real dot(const real *restrict w, const real *restrict x, long d) {
    real a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    long k;
    for (k = 0; k + 3 < d; k += 4) {
        a0 += w[k] * x[k]; a1 += w[k + 1] * x[k + 1]; a2 += w[k + 2] * x[k + 2]; a3 += w[k + 3] * x[k + 3];
    }
    for (; k < d; k++) a0 += w[k] * x[k];
    return (a0 + a1) + (a2 + a3);
}

/* S batch-1 steps; work holds 6*m reals. Returns 0, or k+1 if step k produced a non-finite output.
   The pass that updates row j of W1 also computes row j's pre-activation for the next sample. */
long FNAME(int arch, int act, int loss, long m, long d, real *restrict W1, real *restrict b1,
           real *restrict W2, const real *restrict X, const long *restrict order, const real *restrict tgt,
           long S, real lr, real rho, real wd, real eps, real radius, real *restrict work) {
    real *z = work, *h = work + m, *gz = work + 2 * m, *gw2 = work + 3 * m, *zp = work + 4 * m, *w2p = work + 5 * m;
    long s, j, k;
    if (S <= 0) return 0;
    for (j = 0; j < m; j++) {
        real acc = dot(W1 + j * d, X + order[0] * d, d);
        z[j] = arch != 0 ? acc + b1[j] : acc;
    }
    for (s = 0; s < S; s++) {
        const real *restrict x = X + order[s] * d;
        const real *restrict xn = s + 1 < S ? X + order[s + 1] * d : x;
        real t = tgt[s], xx = 0, f;
        for (k = 0; k < d; k++) xx += x[k] * x[k];
        if (arch != 0) xx += 1;
        f = grads(arch, act, loss, eps, m, z, W2, t, h, gz, gw2);
        if (!isfinite(f)) return s + 1;
        if (rho > 0) {
            real a = 0, gz2 = 0, w22 = 0, g2;
            for (j = 0; j < m; j++) { gz2 += gz[j] * gz[j]; w22 += gw2[j] * gw2[j]; }
            g2 = xx * gz2 + w22;
            if (g2 > 0) a = rho / SQRT(g2);
            for (j = 0; j < m; j++) { zp[j] = z[j] + a * xx * gz[j]; w2p[j] = W2[j] + a * gw2[j]; }
            f = grads(arch, act, loss, eps, m, zp, w2p, t, h, gz, gw2);
            if (!isfinite(f)) return s + 1;
        }
        for (j = 0; j < m; j++) {
            real *restrict w = W1 + j * d, c = gz[j], acc;
            if (wd != 0) for (k = 0; k < d; k++) w[k] -= lr * (c * x[k] + wd * w[k]);
            else for (k = 0; k < d; k++) w[k] -= lr * (c * x[k]);
            acc = dot(w, xn, d);
            if (arch != 0) { b1[j] -= lr * (c + wd * b1[j]); acc += b1[j]; }
            W2[j] -= lr * (gw2[j] + wd * W2[j]);
            z[j] = acc;
        }
        if (radius > 0) {
            real q = 0;
            for (k = 0; k < m * d; k++) q += W1[k] * W1[k];
            if (arch != 0) for (j = 0; j < m; j++) q += b1[j] * b1[j];
            q = SQRT(q);
            if (q > radius) {
                real c = radius / q;
                for (k = 0; k < m * d; k++) W1[k] *= c;
                if (arch != 0) for (j = 0; j < m; j++) b1[j] *= c;
                for (j = 0; j < m; j++) z[j] *= c;
            }
        }
    }
    return 0;
}
"""

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
        self._work = None

    def steps_(self, W1, b1, W2, X, order, targets, *, arch, activation="relu", loss="mse", eps=None,
               lr, rho=0.0, wd=0.0, radius=None) -> int:
        """Run len(order) batch-1 steps in place; returns 0 or k+1 when step k went non-finite."""
        for name, t in (("W1", W1), ("W2", W2), ("X", X)) + ((("b1", b1),) if b1 is not None else ()):
            if t.device.type != "cpu" or t.dtype != self.dtype or not t.is_contiguous():
                raise ValueError(f"{name}: the C kernel needs a contiguous CPU {self.dtype} tensor")
        m, d = W1.shape
        order = order.to(torch.long).contiguous()
        targets = targets.to(self.dtype).contiguous()
        if self._work is None or self._work.numel() < 6 * m:
            self._work = torch.empty(6 * m, dtype=self.dtype)
        ptr = lambda t: ctypes.c_void_p(t.data_ptr())
        return int(self.fn(_ARCH_CODE[arch], _ACT_CODE[activation], _LOSS_CODE[loss], m, d,
                           ptr(W1), ptr(b1) if b1 is not None else None, ptr(W2), ptr(X), ptr(order),
                           ptr(targets), len(order), lr, rho, wd, eps if eps is not None else 0.0,
                           radius if radius is not None else 0.0, ptr(self._work)))


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sharpgen"


def compile_c_kernel(dtype: torch.dtype = torch.float64) -> Path:
    """Compile (or find cached) the shared library for ``dtype``; raises RuntimeError if impossible."""
    if dtype not in _C_VARIANTS:
        raise ValueError(f"dtype: expected torch.float64 or torch.float32, got {dtype}")
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        raise RuntimeError("no C compiler found (cc, gcc, clang)")
    name, defs = _C_VARIANTS[dtype]
    key = hashlib.sha256("\n".join([_C_SOURCE, defs, " ".join(_C_FLAGS), cc, _cpu_tag(), sys.platform]).encode())
    out = _cache_dir() / f"{name}_{key.hexdigest()[:16]}.so"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        src = Path(tmp) / "kernel.c"
        src.write_text(_C_SOURCE)
        lib = Path(tmp) / "kernel.so"
        cmd = [cc, *_C_FLAGS, *defs.split(), f"-DFNAME={name}", str(src), "-o", str(lib), "-lm"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"C kernel compilation failed: {proc.stderr.strip()[:500]}")
        os.replace(lib, out)  # atomic: concurrent builders never see a half-written library
    return out


def load_c_kernel(dtype: torch.dtype = torch.float64) -> CKernel:
    """Compile if needed and load the C loop for ``dtype``."""
    return CKernel(compile_c_kernel(dtype), dtype)


def c_available(dtype: torch.dtype = torch.float64) -> bool:
    """Whether the C loop can be built and loaded here."""
    try:
        load_c_kernel(dtype)
        return True
    except (RuntimeError, OSError):
        return False


def resolve_backend(name: str, device: torch.device, dtype: torch.dtype) -> str:
    """``auto`` -> ``c`` on CPU when a compiler is present, else ``torch``; validates explicit names."""
    if name == "auto":
        return "c" if device.type == "cpu" and c_available(dtype) else "torch"
    if name not in BACKENDS:
        raise ValueError(f"backend: expected 'auto' or one of {BACKENDS}, got {name!r}")
    if name == "c" and device.type != "cpu":
        raise ValueError(f"backend: 'c' runs on CPU only, got device {device}")
    return name
