"""``sharpgen bench``: µs per 1-SAM step of every training path, side by side, in one run.

Paths (docs/paper.md §7): ``generic`` (a ``Net`` + ``numerics.sam.SAM``, two autograd
passes per step, the reference the trainer uses for sim_bn and depth 3),
``plain-autograd`` (a lean inline forward + two ``torch.autograd.grad`` calls:
docs/paper.md §7's "plain PyTorch loop"), ``fused-torch`` (the hand-derived step of
``numerics.fast`` in eager torch, also the CUDA path), ``fused-c`` (the
compiled batch-1 loop, float64 and float32) and, when it compiles here,
``fused-compile`` (``torch.compile`` of the fused torch step). Ratios are
against ``generic`` in the same run, so they compare like with like on a
loaded machine; absolute µs depend on the machine and its load.
"""
from __future__ import annotations

import sys
import time

import torch

CASES = (
    ("nobias", "relu", "mse"),
    ("bias", "relu", "mse"),
    ("bias", "softplus", "mse"),
    ("sim_ln", "relu", "mse"),
    ("bias", "relu", "logistic"),
)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "bench", help="µs per 1-SAM step: generic autograd vs fused kernels, side by side",
        description=__doc__.split("\n\n")[0].replace("``", ""))
    parser.add_argument("--steps", type=int, default=400,
                        help="steps timed per path (repeated, doubling, until 0.2 s have passed); default 400")
    parser.add_argument("--d", type=int, default=30, help="input dimension of the xor data (>= 2); default 30")
    parser.add_argument("--n", type=int, default=100,
                        help="training points of the xor data (1 to 2^d - 1); default 100")
    parser.add_argument("--width", type=int, default=500, help="hidden width m (>= 1); default 500")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (cuda times generic and fused-torch)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile of the fused step (slow to build)")
    parser.add_argument("--cases", default="all", help="comma-separated arch:activation:loss, or 'all'")
    parser.set_defaults(func=run)


def _timeit(fn, steps: int, device) -> float:
    """Seconds per step of ``fn(k)`` (k steps per call), at least 0.2 s of work measured."""
    fn(min(steps, 20))  # warm-up
    total_steps, elapsed, k = 0, 0.0, steps
    while elapsed < 0.2:
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn(k)
        if device.type == "cuda":
            torch.cuda.synchronize()
        elapsed += time.perf_counter() - t
        total_steps += k
        k *= 2
    return elapsed / total_steps


def _restore(params, start) -> None:
    """Copy ``start`` into ``params`` in place: every timed call begins from the same weights."""
    with torch.no_grad():
        for q, q0 in zip(params, start):
            q.copy_(q0)


def _plain_forward(arch, activation, eps):
    """A lean inline forward (no module, no validation): the "plain PyTorch loop" of docs/paper.md §7."""
    from sharpgen.numerics.functional import ln_normaliser
    act = torch.relu if activation == "relu" else torch.nn.functional.softplus

    def f(params, xb):
        z = xb @ params[0].T
        if arch != "nobias":
            z = z + params[1]
        h = act(z)
        out = h @ params[-1]
        if arch == "sim_ln":
            out = out / ln_normaliser((h * h).sum(dim=1), eps)
        return out
    return f


def bench_case(arch, activation, loss, *, d, n, width, device, steps, compile_=False) -> dict[str, float]:
    """µs/step of each available path for one case (1-SAM, ρ 0.05, batch 1, lr 0.01; 0.001 for softplus).

    Every timed call starts from the same initial weights, so long timings never
    run into a diverged state; a path that reports a non-finite step is an error.
    """
    from sharpgen.numerics.data import xor_dataset
    from sharpgen.numerics.engine import c_kernel, torch_steps
    from sharpgen.numerics.losses import get_loss
    from sharpgen.numerics.initialization import build
    from sharpgen.numerics.sam import SAM

    p = 0.2 if loss == "logistic" else None
    eps = 1e-3 if arch == "sim_ln" else None
    data = xor_dataset(d, n, n_test=1, seed=0)
    X, Y = data.X.to(device), data.Y.to(device)
    T = torch_steps.kernel_targets(loss, Y, p)
    gen = torch.Generator().manual_seed(1)
    order = torch.randint(0, n, (1 << 22,), generator=gen)
    lr, rho = (0.001 if activation == "softplus" else 0.01), 0.05
    init = build(arch, d, width, activation=activation, eps=eps, seed=0, device=device)
    init_params = [q.detach().clone() for q in init.parameters()]
    loss_fn = get_loss(loss, p)
    out = {}

    net = build(arch, d, width, activation=activation, eps=eps, seed=0, device=device)
    opt = SAM(net.parameters(), torch.optim.SGD, rho=rho, lr=lr)

    def generic(k):
        _restore(net.parameters(), init_params)
        for i in order[:k].tolist():
            xb, yb = X[i:i + 1], Y[i:i + 1]
            loss_fn(net(xb), yb).backward()
            opt.first_step(zero_grad=True)
            loss_fn(net(xb), yb).backward()
            opt.second_step(zero_grad=True)
    out["generic"] = _timeit(generic, steps, device)

    plain_params = [q.clone().requires_grad_(True) for q in init_params]
    forward = _plain_forward(arch, activation, eps)

    def plain(k):
        _restore(plain_params, init_params)
        for i in order[:k].tolist():
            xb, yb = X[i:i + 1], Y[i:i + 1]
            grads = torch.autograd.grad(loss_fn(forward(plain_params, xb), yb), plain_params)
            with torch.no_grad():
                scale = rho / torch.sqrt(sum((g * g).sum() for g in grads))
                shifted = [q + scale * g for q, g in zip(plain_params, grads)]
            shifted = [q.requires_grad_(True) for q in shifted]
            grads = torch.autograd.grad(loss_fn(forward(shifted, xb), yb), shifted)
            with torch.no_grad():
                for q, g in zip(plain_params, grads):
                    q.sub_(lr * g)
    out["plain-autograd"] = _timeit(plain, steps, device)

    kw = dict(arch=arch, activation=activation, loss=loss, eps=eps, lr=lr, rho=rho)
    W1, W2 = init_params[0].clone(), init_params[-1].clone()
    b1 = init_params[1].clone() if arch != "nobias" else None
    tensors = [t for t in (W1, b1, W2) if t is not None]
    dev_order, dev_T = order.to(device), T.to(device)

    def fused_torch(k):
        _restore(tensors, init_params)
        torch_steps.torch_steps_(W1, b1, W2, X, dev_order[:k], dev_T[dev_order[:k]], **kw)
    out["fused-torch"] = _timeit(fused_torch, steps, device)

    if compile_:
        try:
            step = torch.compile(torch_steps.torch_step_, dynamic=False)

            def fused_compiled(k):
                _restore(tensors, init_params)
                for i in dev_order[:k].tolist():
                    step(W1, b1, W2, X[i:i + 1], dev_T[i:i + 1], **kw)
            out["fused-compile"] = _timeit(fused_compiled, steps, device)
        except Exception as err:  # inductor needs a working toolchain; report, do not fail
            print(f"  (torch.compile unavailable: {type(err).__name__}: {str(err)[:80]})", file=sys.stderr)

    if device.type == "cpu":
        for dtype, label in ((torch.float64, "fused-c"), (torch.float32, "fused-c-f32")):
            try:
                kernel = c_kernel.load_c_kernel(dtype)
            except (RuntimeError, OSError) as err:
                print(f"  ({label} unavailable: {err})", file=sys.stderr)
                continue
            Wc1, Wc2 = W1.to(dtype).clone(), W2.to(dtype).clone()
            bc1 = b1.to(dtype).clone() if b1 is not None else None
            Xc, Tc = X.to(dtype), T.to(dtype)
            start = [t.clone() for t in (Wc1, bc1, Wc2) if t is not None]

            def fused_c(k, Wc1=Wc1, bc1=bc1, Wc2=Wc2, Xc=Xc, Tc=Tc, kernel=kernel, start=start):
                _restore([t for t in (Wc1, bc1, Wc2) if t is not None], start)
                rc = kernel.steps_(Wc1, bc1, Wc2, Xc, order[:k], Tc[order[:k]], **kw)
                if rc:
                    raise RuntimeError(f"{label}: non-finite output at step {rc - 1} of the benchmark run")
            out[label] = _timeit(fused_c, steps * 20, device)
    return {k: 1e6 * v for k, v in out.items()}


def parse_cases(text: str) -> tuple:
    """The (arch, activation, loss) cases of ``--cases``: "all" or comma-separated arch:activation:loss.

    Each case must be one the fused kernels cover (depth-2 nobias/bias/sim_ln, relu; softplus only for
    bias; mse or logistic), else ValueError naming ``cases``.
    """
    from sharpgen.numerics import engine
    from sharpgen.numerics.losses import LOSSES
    from sharpgen.numerics.validate import ACTIVATIONS, ARCHITECTURES

    if text == "all":
        return CASES
    out = []
    for item in (c.strip() for c in text.split(",")):
        parts = item.split(":")
        if len(parts) != 3:
            raise ValueError(f"cases: expected 'all' or comma-separated arch:activation:loss, got {item!r}")
        arch, activation, loss = parts
        if arch not in ARCHITECTURES or activation not in ACTIVATIONS or loss not in LOSSES \
                or not engine.fused_supported(arch, depth=2, activation=activation, loss=loss):
            allowed = ", ".join(":".join(c) for c in CASES)
            raise ValueError(f"cases: expected a case the fused kernels cover (arch in nobias, bias, sim_ln; "
                             f"activation relu, or softplus for bias; loss in {LOSSES}), e.g. {allowed}; "
                             f"got {item!r}")
        out.append((arch, activation, loss))
    return tuple(out)


def check_args(args) -> tuple:
    """Validate the bench arguments before anything runs; returns the cases. ValueError names the argument."""
    from sharpgen.numerics.device import DEVICES
    for name, low in (("steps", 1), ("d", 2), ("n", 1), ("width", 1), ("threads", 1)):
        v = getattr(args, name)
        if not (isinstance(v, int) and v >= low):
            raise ValueError(f"{name}: expected an integer >= {low}, got {v!r}")
    if args.n > 2 ** min(args.d, 62) - 1:
        raise ValueError(f"n: expected at most 2^d - 1 = {2 ** args.d - 1} (xor data in d={args.d}), got {args.n}")
    if args.device not in DEVICES:
        raise ValueError(f"device: expected one of {DEVICES}, got {args.device!r}")
    return parse_cases(args.cases)


def run(args) -> int:
    from sharpgen.numerics.device import resolve_device
    try:
        cases = check_args(args)
    except ValueError as err:
        print(f"sharpgen bench: error: {err}", file=sys.stderr)
        return 2
    device = resolve_device(args.device)
    torch.set_num_threads(args.threads)
    print(f"1-SAM step (lr 0.01 [softplus 0.001], rho 0.05, batch 1), d={args.d}, n={args.n}, width={args.width}, "
          f"float64 unless noted, device={device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    rows = []
    for arch, activation, loss in cases:
        res = bench_case(arch, activation, loss, d=args.d, n=args.n, width=args.width, device=device,
                         steps=args.steps, compile_=args.compile)
        rows.append((f"{arch}/{activation}/{loss}", res))
        base = res["generic"]
        cells = "  ".join(f"{k} {v:8.1f} µs (x{base / v:5.1f})" for k, v in res.items())
        print(f"{arch + '/' + activation + '/' + loss:24s} {cells}", flush=True)
    return 0
