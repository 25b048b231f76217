"""Runs trained together through one :class:`~sharpgen.numerics.engine.replicas.ReplicaEngine`
(docs/paper.md §6: many seeds of a protocol, lr/ρ/weight-decay sweeps; ``numerics.train.train_many``).

Runs share an engine when their configs differ at most in the seeds (``seed``, ``data_seed``)
and the phases' ``lr``, ``rho`` and ``weight_decay``: then they have one network shape, one
loss, one backend and one schedule (phase lengths, batch sizes, evaluation and checkpoint
epochs), so they can step chunk by chunk side by side, each replica with its own data, sample
order and phase values. :func:`engine_key` is the one place that says so.

>>> from sharpgen.numerics.runs.config import Phase, TrainConfig
>>> a = TrainConfig(phases=(Phase(0.01, 0.05, 1, 0.0, 10),))
>>> group_runs([a, a.replace(seed=3), a.replace(width=20), a.replace(phases=(Phase(0.02, 0.1, 1, 0.0, 10),))])
[[0, 1, 3], [2]]
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from sharpgen.numerics.engine.replicas import ReplicaEngine
from sharpgen.numerics.runs.progress import Progress

SEED_FIELDS = ("seed", "data_seed")
PHASE_FIELDS = ("lr", "rho", "weight_decay")
_ALLOWED = "seed, data_seed and the phases' lr, rho and weight_decay"


def _shared(config) -> dict:
    d = config.to_dict()
    for name in SEED_FIELDS:
        d.pop(name)
    d["phases"] = [{k: v for k, v in ph.items() if k not in PHASE_FIELDS} for ph in d["phases"]]
    return d


def engine_key(config) -> str:
    """What runs trained together must share: the config without its seeds and phase values, as text."""
    return json.dumps(_shared(config), sort_keys=True)


def group_runs(configs) -> list[list[int]]:
    """Indices of ``configs`` grouped by :func:`engine_key`, groups and members in first-seen order."""
    groups: dict[str, list[int]] = {}
    for i, config in enumerate(configs):
        groups.setdefault(engine_key(config), []).append(i)
    return list(groups.values())


def check_shared(configs) -> None:
    """ValueError naming the first config that cannot train beside ``configs[0]`` and its fields.

    >>> from sharpgen.numerics.runs.config import TrainConfig
    >>> check_shared([TrainConfig(), TrainConfig(seed=1, width=20, n=10)])
    Traceback (most recent call last):
    ...
    ValueError: configs[1]: differs from configs[0] in ['n', 'width']; runs trained together may differ only in seed, data_seed and the phases' lr, rho and weight_decay
    """
    first = _shared(configs[0])
    for i, config in enumerate(configs[1:], 1):
        other = _shared(config)
        if other != first:
            diff = sorted(k for k in set(first) | set(other) if first.get(k) != other.get(k))
            raise ValueError(f"configs[{i}]: differs from configs[0] in {diff}; runs trained together may differ "
                             f"only in {_ALLOWED}")


class Cohorts:
    """The engines of subsets of the runs: the runs at one epoch step together (``engine(members)``),
    and their evaluations run side by side on as many cores (``side_by_side``).

    Usually every run is at the same epoch and one engine serves throughout; runs resumed from
    different epochs step alone until they meet, and a diverged run leaves its cohort. A
    replica's numbers do not depend on which others share its engine call (``ReplicaEngine``).
    """

    def __init__(self, config, models, Xs, backend: str, *, threads: int | None = None):
        self._make = lambda idx: ReplicaEngine(config, [models[i] for i in idx], [Xs[i] for i in idx], backend,
                                               threads=threads)
        everyone = tuple(range(len(models)))
        self._engines = {everyone: self._make(everyone)}
        self.backend, self.threads = backend, self._engines[everyone].threads

    def targets(self, Y):
        """The steps' targets for labels ``Y`` (``ReplicaEngine.targets``; the same rule for every run)."""
        return next(iter(self._engines.values())).targets(Y)

    def side_by_side(self, fn, items) -> list:
        """``[fn(x) for x in items]``, computed on up to ``threads`` cores at once (torch releases the
        GIL; each item touches its own run only, so every result is what a lone call gives)."""
        items = list(items)
        if self.threads <= 1 or len(items) <= 1:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(min(self.threads, len(items))) as pool:
            return list(pool.map(fn, items))

    def engine(self, members) -> object:
        """The engine stepping runs ``members`` (indices, ascending), built on first use."""
        key = tuple(members)
        if key not in self._engines:
            self._engines[key] = self._make(key)
        return self._engines[key]


class MultiProgress:
    """Progress of several runs: one line per run and evaluation (``numerics.progress`` lines mode),
    or one bar for them all on a terminal (the furthest run's epoch; the last evaluation shown)."""

    def __init__(self, total: int, starts, labels, mode):
        first = Progress(total, start=min(starts), mode=mode,
                         label=labels[0] if len(labels) == 1 else f"{len(labels)} runs")
        self.shared = first if first.mode == "bar" or len(labels) == 1 else None
        if self.shared is None:
            first.close()
            self.each = [Progress(total, start=s, mode=first.mode, label=lab) for s, lab in zip(starts, labels)]
        else:
            self.each = [first] * len(labels)

    def phase(self, k: int, count: int, backend: str) -> None:
        for bar in dict.fromkeys(self.each):
            bar.phase(k, count, backend)

    def update(self, i: int, epoch: int) -> None:
        """Run ``i`` has reached ``epoch`` (the shared bar shows the furthest run)."""
        bar = self.each[i]
        if bar is not self.shared or epoch > bar.done:
            bar.update(epoch)

    def evaluation(self, i: int, row: dict) -> None:
        self.each[i].evaluation(row)

    def close(self) -> None:
        for bar in dict.fromkeys(self.each):
            bar.close()
