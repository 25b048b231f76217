"""Many replicas per torch call: the hand-derived gradients of every architecture
(:mod:`.shallow`, :mod:`.sim_bn`, :mod:`.deep`) mapped over a leading replica
dimension with ``torch.func.vmap``, so one step of R replicas is one sequence of batched kernels.

This is the ``torch`` backend off the CPU (a GPU runs R small problems as one), and what the
``triton`` backend uses for the cases its kernel does not cover. Each replica has its own
(lr, ρ, weight decay) as tensors; the SAM step is written without branches on them:
e = a·g with a = ρ/||g|| (0 when g = 0 or ρ = 0; :func:`.shallow.ascent_scale`), the descent at θ + e (θ itself when a = 0,
exactly), then the optional Figure-6b projection of the first layer (docs/paper.md §6).
"""
from __future__ import annotations

import functools

import torch

from sharpgen.numerics.engine.torch_fused.deep import deep_grads
from sharpgen.numerics.engine.torch_fused.sim_bn import bn_grads, with_ones
from sharpgen.numerics.engine.torch_fused.shallow import ascent_scale, grads as shallow_pieces


def _shallow(params, X, Xb, tb, *, arch, activation, loss, eps):
    W1, W2 = params[0], params[-1]
    Z = Xb @ W1.T
    if len(params) == 3:
        Z = Z + params[1]
    GZ, gW2 = shallow_pieces(arch, activation, loss, eps, Z, W2, tb)
    return [GZ.T @ Xb, *([GZ.sum(dim=0)] if len(params) == 3 else []), gW2]


def _sim_bn(params, X, Xb, tb, *, loss, **_):
    return list(bn_grads(*params, with_ones(X), with_ones(Xb), tb, loss)[1:])


def _deep(params, X, Xb, tb, *, activation, loss, **_):
    return deep_grads(params[0], params[1], params[2:-1], params[-1], Xb, tb, activation=activation, loss=loss)[1]


def sam_step(params, X, Xb, tb, lr, rho, wd, radius, *, grads, first: int):
    """One SAM (SGD when ρ = 0) step of one replica as a pure function; ``first``: how many leading
    tensors form the first layer [W1 | b1] that the projection (radius > 0) scales."""
    g = grads(params, X, Xb, tb)
    a = ascent_scale(rho, torch.sqrt(sum((gi * gi).sum() for gi in g)))
    g = grads([p + a * gi for p, gi in zip(params, g)], X, Xb, tb)
    new = [p - lr * (gi + wd * p) for p, gi in zip(params, g)]
    q = torch.sqrt(sum((p * p).sum() for p in new[:first]))
    c = torch.where((radius > 0) & (q > radius), radius / torch.where(q > 0, q, torch.ones_like(q)),
                    torch.ones_like(q))
    return [p * c for p in new[:first]] + new[first:]


def _pack(tensors, arch):
    """(stacked parameter list, first-layer count) in the layout the gradient functions take."""
    t0 = tensors[0]
    stack = lambda get: torch.stack([get(t) for t in tensors])
    if arch == "sim_bn":
        W = stack(lambda t: torch.cat([t.W1, t.b1[:, None]], dim=1))
        return [W, stack(lambda t: t.W2), stack(lambda t: t.gamma)], 1
    first = [stack(lambda t: t.W1)] + ([stack(lambda t: t.b1)] if t0.b1 is not None else [])
    mids = [stack(lambda t, k=k: t.middle[k]) for k in range(len(t0.middle))]
    return first + mids + [stack(lambda t: t.W2)], len(first)


def _unpack(params, tensors, arch) -> None:
    for r, t in enumerate(tensors):
        if arch == "sim_bn":
            t.W1.copy_(params[0][r, :, :-1])
            t.b1.copy_(params[0][r, :, -1])
            t.W2.copy_(params[1][r])
            t.gamma.copy_(params[2][r])
            continue
        for dst, src in zip(t.all(), params):
            dst.copy_(src[r])


@torch.no_grad()
def batched_run_(tensors, Xs, orders, targets, phases, *, arch, activation="relu", loss="mse", eps=None,
                 radius=None) -> list[bool]:
    """Step replicas ``tensors`` (``NetTensors``, one shape) in place, all in each torch call.

    ``orders``/``targets``: equal-length 1-D tensors, one per replica; ``phases``: one per replica,
    all with the same batch. Returns per replica whether its parameters stayed finite.
    """
    batch = phases[0].batch
    if any(ph.batch != batch for ph in phases) or len({len(o) for o in orders}) != 1:
        raise ValueError("phases, orders: the batched torch path needs one batch size and one order length")
    dev, dtype = tensors[0].W1.device, tensors[0].W1.dtype
    params, first = _pack(tensors, arch)
    grads = {"sim_bn": _sim_bn}.get(arch, _deep if tensors[0].middle else _shallow)
    kw = dict(arch=arch, activation=activation, loss=loss, eps=eps)
    step = torch.func.vmap(functools.partial(sam_step, grads=functools.partial(grads, **kw), first=first),
                           in_dims=(0, 0, 0, 0, 0, 0, 0, 0))
    X = torch.stack(list(Xs))
    order = torch.stack([o.to(device=dev, dtype=torch.long) for o in orders])
    tgt = torch.stack([t.to(device=dev, dtype=dtype) for t in targets])
    hyper = [torch.tensor(v, dtype=dtype, device=dev) for v in zip(*[(ph.lr, ph.rho, ph.weight_decay,
                                                                      radius or 0.0) for ph in phases])]
    rows = torch.arange(len(tensors), device=dev)[:, None]
    for k in range(order.shape[1] // batch):
        idx = order[:, k * batch:(k + 1) * batch]
        params = step(params, X, X[rows, idx], tgt[:, k * batch:(k + 1) * batch], *hyper)
    _unpack(params, tensors, arch)
    return [t.finite() for t in tensors]
