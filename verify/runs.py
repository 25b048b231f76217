"""Training runs as the commands plan them: one :class:`RunSpec` per run, and :func:`launch`, the one
place that trains them (``sharpgen train``, ``reproduce`` / ``table1``, the ledger's run pool and the
sweep's batches all call it).

``launch`` reads every run directory (``numerics.state.read_run``), reuses finished runs (when
asked), resumes started ones, starts the rest, and trains the runs that can share an engine (the
seeds of a setting: ``numerics.replica_runs.group_runs``) together in one
``numerics.train.train_many`` call, each written exactly as its single run. Holding every
directory's lock, it refuses what cannot start or resume (``numerics.checkpoint.open_run``) before
the data and the theory minimum (``verify.theory_min``, sympy) are computed. A resumed run keeps
the theory minimum its checkpoint logged.

>>> from sharpgen.numerics.runs.config import TrainConfig
>>> RunSpec(TrainConfig(seed=2), Path("runs/fig4b-seed2"), group="fig4b").name
'fig4b-seed2'
"""
from __future__ import annotations

import os
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from sharpgen.numerics.runs import state as S
from sharpgen.numerics.runs.rundir import RunDirError, locked

REUSED, RESUMED, TRAINED = "reused", "resumed", "trained"


@dataclass(frozen=True)
class RunSpec:
    """One training run: its ``config`` (a validated ``TrainConfig``), its ``run_dir``, the ``group`` of
    runs it is reported with (a preset, a ledger group), the ``preset`` it comes from, whether its
    theory minimum is computed and logged (``theory``), and whether it is ``expected`` to show the
    paper's claim (False: a deviation declared in advance, ``reason`` says which)."""

    config: object
    run_dir: Path
    group: str = ""
    preset: str = ""
    theory: bool = True
    expected: bool = True
    reason: str = ""

    @property
    def name(self) -> str:
        """The run's name: its directory's."""
        return Path(self.run_dir).name

    @property
    def seed(self) -> int:
        return self.config.seed


@dataclass
class Launched:
    """What :func:`launch` did for one spec: ``action`` (reused, resumed, trained), the run's ``status``
    afterwards (``numerics.state.STATUSES``), why it diverged or failed (``message``), the
    ``TrainResult`` (None when reused or refused), this session's wall time and steps, and a
    ``note`` on its theory minimum (a lower bound, or none for this setting)."""

    spec: RunSpec
    action: str
    status: str
    message: str = ""
    result: object = None
    wall_s: float = 0.0
    steps: int = 0
    note: str = ""


def launch(specs, *, reuse: bool = True, resume: bool | None = None, progress: str | None = "off", log=None,
           threads: int | None = 1, replica_threads: int | None = None, allow_backend_change: bool = False,
           isolate: bool = False, announce=None) -> list[Launched]:
    """Train, resume or reuse the run of every spec; one :class:`Launched` per spec, in order.

    ``reuse``: a run found done or diverged is reused as it is (else trained again from where it
    stands). ``resume``: None resumes every started run and starts the rest; True or False applies to
    all (``sharpgen train --resume``). ``log(line)``: what is done with each run and how long it
    took. ``isolate``: a run directory that is busy or refused (``RunDirError``) fails only its own
    run (status ``failed``, the error as message); else the error propagates. ``announce(specs,
    theory_mins, notes)`` is called before each ``train_many`` call. ``threads``,
    ``replica_threads``, ``allow_backend_change`` and ``progress`` go to ``train_many``.
    """
    from sharpgen.numerics.runs.replica_runs import group_runs  # deferred: it loads torch; --help imports this

    specs = list(specs)
    options = dict(reuse=reuse, resume=resume, progress=progress, log=log or (lambda line: None),
                   threads=threads, replica_threads=replica_threads, allow_backend_change=allow_backend_change,
                   announce=announce)
    done: dict[int, Launched] = {}
    for group in group_runs([s.config for s in specs]):
        members = [specs[i] for i in group]
        try:
            outcomes = _launch_group(members, **options)
        except RunDirError as err:
            if not isolate:
                raise
            outcomes = ([launch([s], isolate=True, **options)[0] for s in members]
                        if len(members) > 1 else [Launched(members[0], TRAINED, S.FAILED, str(err))])
        done.update(zip(group, outcomes))
    return [done[i] for i in range(len(specs))]


def _launch_group(specs, *, reuse, resume, progress, log, threads, replica_threads, allow_backend_change,
                  announce) -> list[Launched]:
    """The runs of ``specs`` (one engine group), holding every directory's lock from the first read."""
    from sharpgen.numerics.runs import checkpoint as ckpt  # deferred: torch is heavy; --help imports this
    from sharpgen.numerics.runs.train import make_dataset, train_many

    with ExitStack() as held:
        for spec in sorted(specs, key=lambda s: os.path.realpath(s.run_dir)):  # train_many's order
            held.enter_context(locked(spec.run_dir))
        states = [S.read_run(s.run_dir) for s in specs]
        if resume is None:  # deciding from the directory: it must hold this run, or none
            for spec, st in zip(specs, states):
                st.check_config(spec.config.to_dict())
        outcomes: list = [None] * len(specs)
        todo = []
        for k, (spec, st) in enumerate(zip(specs, states)):
            if reuse and st.status in S.FINISHED:
                outcomes[k] = Launched(spec, REUSED, st.status, st.message)
                log(f"reuse  {spec.run_dir}{' (diverged)' if st.status == S.DIVERGED else ''}")
                continue
            again = st.started if resume is None else resume
            log(f"{'resume' if again else 'train '} {spec.run_dir}")
            todo.append((k, again, ckpt.open_run(spec.run_dir, spec.config.to_dict(), resume=again)))
        if not todo:
            return outcomes
        runs = [specs[k] for k, _, _ in todo]
        datas = [make_dataset(s.config) for s in runs]
        theory = [(saved["theory_min"], "") if saved is not None else _theory(s, data)
                  for s, data, (_, _, saved) in zip(runs, datas, todo)]
        if announce is not None:
            announce(runs, [t for t, _ in theory], [n for _, n in theory])
        start = time.monotonic()
        results = train_many([s.config for s in runs], [s.run_dir for s in runs], datas=datas,
                             theory_mins=[t for t, _ in theory], resume=[again for _, again, _ in todo],
                             progress=progress, threads=threads, replica_threads=replica_threads,
                             allow_backend_change=allow_backend_change)
    for (k, again, _), result, (_, note) in zip(todo, results, theory):
        outcomes[k] = Launched(specs[k], RESUMED if again else TRAINED, result.status, result.message, result,
                               result.wall_s, result.steps_run, note)
        if result.status == S.DIVERGED:
            log(f"  diverged: {specs[k].name}: {result.message}")
    together = f" ({len(todo)} runs together)" if len(todo) > 1 else ""
    log(f"  done in {time.monotonic() - start:.1f} s{together}")
    return outcomes


def _theory(spec: RunSpec, data) -> tuple[float | None, str]:
    """(the theory minimum logged for a run starting at epoch 0, a note when it is not exact)."""
    if not spec.theory:
        return None, ""
    from sharpgen.verify.theory_min import theory_min_for  # deferred: sympy is heavy, --help must stay fast

    found = theory_min_for(spec.config, data)
    if found.value is None:
        return None, found.source
    return found.value, "" if found.exact else f"theory_min is a lower bound here ({found.source})"
