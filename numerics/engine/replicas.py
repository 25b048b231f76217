"""Many independent training runs ("replicas") stepped by one engine call (docs/paper.md §6-§7).

The paper's experiments want many seeds and grids (Table 1 over seeds, lr/ρ sweeps). A
:class:`ReplicaEngine` steps R networks of one shape at once: each replica has its own
parameters, its own training set (same n and d), its own sample order and targets, and its own
(lr, ρ, weight decay, batch) through its own :class:`~sharpgen.numerics.runs.config.Phase`.
A single run is a ReplicaEngine of one replica.

Backends (resolved once by :func:`sharpgen.numerics.engine.backends.resolve_backend`):

* ``c`` — the compiled loops of :mod:`.c.loops`, one replica per call; the call releases the
  GIL, so ``threads`` Python threads keep that many cores busy with different replicas. Each
  replica's arithmetic is the same whatever else runs, so a replica's numbers are bitwise those
  of a one-replica run with the same backend. Mini-batch phases use the torch formulas.
* ``torch`` — on CPU :func:`.torch_fused.single.torch_run_` per replica (any batch); off the CPU
  (or with ``batched=True``) :func:`.torch_fused.batched.batched_run_`, every replica in each torch
  call (``torch.func.vmap``), when the replicas share one batch size and order length.
* ``triton`` — :mod:`.gpu.steps`: one GPU launch steps every replica (one program each).
* ``generic`` — the autograd reference (:class:`.generic.GenericEngine`) per replica.

A replica whose values go non-finite is reported by :meth:`ReplicaEngine.run` as a
:class:`~.diverged.TrainingDiverged` (which value, and the step where the backend knows it),
and skipped by later calls; the others go on.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import torch

from sharpgen.numerics.engine.c.loops import load_c_kernel
from sharpgen.numerics.engine.diverged import TrainingDiverged
from sharpgen.numerics.engine.generic import GenericEngine
from sharpgen.numerics.engine.gpu.steps import triton_run_
from sharpgen.numerics.engine.tensors import NetTensors
from sharpgen.numerics.engine.torch_fused.batched import batched_run_
from sharpgen.numerics.engine.torch_fused.shallow import kernel_targets
from sharpgen.numerics.engine.torch_fused.single import torch_run_

ENGINE_BACKENDS = ("c", "torch", "triton", "generic")


def default_threads() -> int:
    """The cores this process may run on (``os.sched_getaffinity``; ``os.cpu_count`` elsewhere).

    >>> default_threads() >= 1
    True
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _check_shapes(config, models, Xs) -> None:
    if not models or len(models) != len(Xs):
        raise ValueError(f"models: expected a non-empty list with one training set each, got {len(models)} "
                         f"models and {len(Xs)} training sets")
    want = (config.arch, config.depth, config.activation)
    for r, model in enumerate(models):
        got = (model.arch, len(model.middle) + 2, model.hyper["activation"])
        if got != want:
            raise ValueError(f"models[{r}]: expected (arch, depth, activation) {want} as in config, got {got}")
    ref = [tuple(t.shape) for t in NetTensors.of(models[0]).all()]
    for r, (model, X) in enumerate(zip(models, Xs)):
        if [tuple(t.shape) for t in NetTensors.of(model).all()] != ref:
            raise ValueError(f"models[{r}]: expected the parameter shapes of models[0] {ref}")
        if tuple(X.shape) != tuple(Xs[0].shape) or X.dtype != Xs[0].dtype or X.device != Xs[0].device:
            raise ValueError(f"Xs[{r}]: expected shape {tuple(Xs[0].shape)}, dtype {Xs[0].dtype} and device "
                             f"{Xs[0].device} like Xs[0], got {tuple(X.shape)}, {X.dtype}, {X.device}")


class ReplicaEngine:
    """Steps R replicas of one architecture; ``run`` takes each replica's order, targets and phase.

    ``config``: what the replicas share (arch, depth, activation, loss, p, eps, project_radius);
    ``models``: R ``Net``s, updated in place; ``Xs``: R training sets of one shape (the same
    tensor R times is fine); ``threads``: concurrent replicas for the ``c`` backend (default:
    the cores available); ``batched``: step the torch formulas of all replicas together
    (default: off the CPU only, since on CPU per-replica calls keep each replica's numbers
    bitwise those of a one-replica run).

    >>> from sharpgen.numerics.runs.config import Phase, TrainConfig
    >>> from sharpgen.numerics.nets.initialization import build
    >>> cfg = TrainConfig(arch="bias", d=3, n=4, width=8)
    >>> nets = [build("bias", 3, 8, seed=s) for s in range(3)]
    >>> X = torch.tensor([[1., 1, 1], [1, -1, 1], [-1, 1, -1], [-1, -1, 1]], dtype=torch.float64)
    >>> eng = ReplicaEngine(cfg, nets, [X] * 3, "torch")
    >>> T = eng.targets(X[:, 0] * X[:, 1])
    >>> order = torch.tensor([0, 1, 2, 3])
    >>> eng.run([order] * 3, [T[order]] * 3, [Phase(0.01, rho) for rho in (0.0, 0.05, 0.1)])
    [None, None, None]
    """

    def __init__(self, config, models, Xs, backend: str, *, threads: int | None = None,
                 batched: bool | None = None):
        if backend not in ENGINE_BACKENDS:
            raise ValueError(f"backend: expected one of {ENGINE_BACKENDS} (resolve 'auto' first), got {backend!r}")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
            raise ValueError(f"threads: expected an integer >= 1 or None, got {threads!r}")
        models, Xs = list(models), list(Xs)
        _check_shapes(config, models, Xs)
        self.config, self.models, self.Xs, self.name = config, models, Xs, backend
        self.tensors = [NetTensors.of(m) for m in models]
        self.threads = min(threads or default_threads(), len(models))
        self.diverged: list[TrainingDiverged | None] = [None] * len(models)
        self.kw = dict(arch=config.arch, activation=config.activation, loss=config.loss, eps=config.eps)
        self.kernel = self.generic = None
        self.batched = Xs[0].device.type != "cpu" if batched is None else bool(batched)
        if backend == "c":
            self.kernel = load_c_kernel(Xs[0].dtype)
        elif backend == "generic":
            self.generic = [GenericEngine(config, m, X) for m, X in zip(models, Xs)]

    def __len__(self) -> int:
        return len(self.models)

    def targets(self, Y: torch.Tensor) -> torch.Tensor:
        """Targets in the steps' form for labels Y (one replica's): y for MSE; logistic: the t with
        ∂ℓ/∂f = σ(f) − t (:func:`.torch_fused.shallow.kernel_targets`); the labels themselves for ``generic``."""
        if self.name == "generic":
            return Y
        return kernel_targets(self.config.loss, Y, self.config.p)

    def run(self, orders, targets, phases) -> list[TrainingDiverged | None]:
        """Step every replica not yet diverged: replica r takes ``len(orders[r]) // phases[r].batch``
        steps on its rows ``orders[r]`` with ``targets[r]`` (one per entry of the order).

        ``phases``: one Phase per replica, or one for all. Returns per replica None, or the
        :class:`TrainingDiverged` of its divergence (in this call or an earlier one: a diverged
        replica is skipped from then on, and the same object is returned again).
        """
        R = len(self)
        phases = list(phases) if isinstance(phases, (list, tuple)) else [phases] * R
        if not (len(orders) == len(targets) == len(phases) == R):
            raise ValueError(f"orders, targets, phases: expected {R} of each (one per replica), got "
                             f"{len(orders)}, {len(targets)}, {len(phases)}")
        todo = [r for r in range(R) if self.diverged[r] is None]
        if self.name == "triton":
            out = triton_run_(self, todo, orders, targets, phases)
        elif self.name == "torch" and self.batched:
            out = self.torch_together(todo, orders, targets, phases)
        elif self.threads == 1 or len(todo) <= 1:
            out = [self._one(r, orders[r], targets[r], phases[r]) for r in todo]
        else:
            with ThreadPoolExecutor(self.threads) as pool:
                out = list(pool.map(lambda r: self._one(r, orders[r], targets[r], phases[r]), todo))
        result = list(self.diverged)
        for r, err in zip(todo, out):
            result[r] = self.diverged[r] = err
        return result

    def torch_together(self, todo, orders, targets, phases) -> list[TrainingDiverged | None]:
        """The torch formulas for replicas ``todo``: all in each call when they share one batch size
        and order length (:func:`.torch_fused.batched.batched_run_`), else one replica at a time."""
        if not todo:
            return []
        if len({phases[r].batch for r in todo}) > 1 or len({len(orders[r]) for r in todo}) > 1:
            return [self._one(r, orders[r], targets[r], phases[r]) for r in todo]
        ok = batched_run_([self.tensors[r] for r in todo], [self.Xs[r] for r in todo], [orders[r] for r in todo],
                          [targets[r] for r in todo], [phases[r] for r in todo], radius=self.config.project_radius,
                          **self.kw)
        return [None if good else TrainingDiverged.non_finite("parameters") for good in ok]

    def _one(self, r: int, order, targets, ph) -> TrainingDiverged | None:
        """One replica's steps; None, or its divergence."""
        if self.generic is not None:
            try:
                self.generic[r].run(order, targets, ph)
            except TrainingDiverged as err:
                return err
            return None
        kw = dict(self.kw, lr=ph.lr, rho=ph.rho, wd=ph.weight_decay, radius=self.config.project_radius)
        if self.kernel is not None and ph.batch == 1:
            rc = self.kernel.run_tensors(self.tensors[r], self.Xs[r], order, targets, **kw)
            return TrainingDiverged.non_finite("output", step=rc - 1) if rc else None
        ok = torch_run_(self.tensors[r], self.Xs[r], order, targets, batch=ph.batch, **kw)
        return None if ok else TrainingDiverged.non_finite("parameters")
