"""The training runs behind the trained evidence: which runs (groups of seeds), where they live,
and running them (reusing finished runs, resuming interrupted ones) in a background process pool,
the seeds of a group together through the multi-replica engine (``numerics.train.train_many``).

A run directory is ``<root>/<group>-seed<k>-<hash>``, the hash taken over the run's full
config, so a changed config never reuses or resumes a run made with another one. Inside it
``numerics.train`` writes config.json, metrics.csv, checkpoint.pt and summary.json. A run whose
summary says ``done`` (or ``diverged``) is reused as it is; one with a checkpoint but no final
summary is resumed; anything else starts fresh.

Groups (docs/paper.md §6 presets; quick profile: the presets' quick schedules at the paper's
d = 30, n = 100, width 500, which the fused C steps run in seconds):

* ``nobias-sam`` fig1b (1-SAM), ``nobias-sam-n30`` the same with n = 30 (Thm 3.1's n/d);
* ``bias-sam`` fig4b (1-SAM), ``bias-gd`` fig4a (GD + weight decay);
* ``sim_ln-sam`` fig6a (1-SAM, first layer ×1/100);
* ``sim_bn-sam`` the reproducing protocol ``SIM_BN_PRESET`` (γ starts at 0.5, phase 2 at
  ρ = 0.55; quick: width 64); ``sim_bn-printed`` fig2a as printed (γ starts at 1), which
  diverges or collapses (docs/scenarios.md): the ledger records what it does as a deviation.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import multiprocessing
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from sharpgen.numerics.runs.checkpoint import CONFIG
from sharpgen.numerics.runs.config import TrainConfig
from sharpgen.numerics.runs.metrics_csv import read_csv
from sharpgen.numerics.runs.presets import get_preset
from sharpgen.numerics.runs.rundir import RunDirError
from sharpgen.numerics.runs.replica_runs import engine_key
from sharpgen.numerics.runs.train import train_many
from sharpgen.verify.theory_min import theory_min_for

SIM_BN_PRESET = "fig2a-repro"  # the one place naming the reproducing sim_bn protocol (issue: Scenario III)

GROUPS = {
    "nobias-sam": ("fig1b", {}),
    "nobias-sam-n30": ("fig1b", {"n": 30}),
    "bias-sam": ("fig4b", {}),
    "bias-gd": ("fig4a", {}),
    "sim_ln-sam": ("fig6a", {}),
    "sim_bn-sam": (SIM_BN_PRESET, {}),
    "sim_bn-printed": ("fig2a", {}),
}


@dataclass(frozen=True)
class RunSpec:
    """One training run: its group, the preset it comes from, the full config."""

    group: str
    preset: str
    config: object  # numerics TrainConfig
    expected: bool = True
    reason: str = ""

    @property
    def name(self) -> str:
        digest = hashlib.sha1(json.dumps(self.config.to_dict(), sort_keys=True).encode()).hexdigest()[:8]
        return f"{self.group}-seed{self.config.seed}-{digest}"


def group_config(group: str, quick: bool):
    """(preset, base config, expected, reason) of a group, before seeds and device."""
    preset, overrides = GROUPS[group]
    return preset, get_preset(preset, quick=quick).replace(**overrides), True, ""


def shorten(config, cap: int):
    """``config`` with every phase's epochs scaled so the total is at most ``cap`` (each phase >= 1 epoch),
    evaluated about 10 times.

    >>> from sharpgen.numerics.runs.presets import get_preset
    >>> c = shorten(get_preset("fig4b"), 60)
    >>> [p.epochs for p in c.phases], c.eval_every
    ([20, 40], 6)
    """
    total = config.total_epochs
    if total <= cap:
        return config
    phases = tuple(replace(p, epochs=max(1, p.epochs * cap // total)) for p in config.phases)
    epochs = sum(p.epochs for p in phases)
    return config.replace(phases=phases, eval_every=max(1, epochs // 10), checkpoint_every=None)


def specs_for(group: str, profile, *, device: str = "cpu") -> list[RunSpec]:
    """The runs of ``group`` in ``profile``: seeds profile.seed, profile.seed + 1, ... (``profile.seeds`` of them)."""
    preset, base, expected, reason = group_config(group, profile.quick_runs)
    if profile.epoch_cap is not None:
        base = shorten(base, profile.epoch_cap)
    return [RunSpec(group, preset, base.replace(seed=profile.seed + k, device=device).validate(), expected, reason)
            for k in range(profile.seeds)]


@dataclass
class RunRecord:
    """A finished (or diverged) run read back from its directory."""

    spec: RunSpec
    run_dir: Path
    status: str
    rows: list = field(default_factory=list)
    wall_s: float = 0.0
    reused: bool = False
    message: str = ""

    @property
    def final(self) -> dict:
        return self.rows[-1] if self.rows else {}


def _summary(run_dir: Path) -> dict | None:
    path = run_dir / "summary.json"
    return json.loads(path.read_text()) if path.exists() else None


def _reusable(run_dir: Path) -> bool:
    summary = _summary(run_dir)
    return summary is not None and summary.get("status") in ("done", "diverged")


def _theory(config) -> tuple[float | None, str]:
    theory = theory_min_for(config)
    return theory.value, "" if theory.exact else f"theory minimum: {theory.source}"


def execute(config_dict: dict, run_dir: str) -> dict:
    """Run (or resume) one training run to completion; returns facts of the call (``execute_group`` of one)."""
    return execute_group([config_dict], [run_dir])[0]


def execute_group(config_dicts: list, run_dirs: list, threads: int | None = None) -> list[dict]:
    """Run (or resume) runs that differ only in seed to completion, together through the multi-replica
    engine (``numerics.train.train_many``, ``threads`` cores); what a worker process does.

    Runs whose summary says done or diverged are reused; a directory with a config.json holds a
    started run (perhaps killed before its first checkpoint) and is resumed. When a directory is
    busy or refused, each run goes alone, so only that run fails. Returns facts per run.
    """
    run_dirs = [Path(d) for d in run_dirs]
    facts = [{"reused": True, "wall_s": 0.0} if _reusable(d) else None for d in run_dirs]
    todo = [k for k, f in enumerate(facts) if f is None]
    if not todo:
        return facts
    configs = [TrainConfig.from_dict(config_dicts[k]) for k in todo]
    start = time.monotonic()
    theories = [_theory(c) for c in configs]
    try:
        results = train_many(configs, [run_dirs[k] for k in todo], theory_mins=[t for t, _ in theories],
                             resume=[(run_dirs[k] / CONFIG).exists() for k in todo], progress="off",
                             replica_threads=threads)
    except RunDirError as err:
        if len(todo) > 1:
            return [f or execute(config_dicts[k], str(run_dirs[k])) for k, f in enumerate(facts)]
        return [{"reused": False, "wall_s": time.monotonic() - start, "error": str(err), "notes": theories[0][1]}]
    wall = time.monotonic() - start
    for k, result, (_, notes) in zip(todo, results, theories):
        facts[k] = {"reused": False, "wall_s": wall, "notes": notes,
                    **({"diverged": result.message} if result.status == "diverged" else {})}
    return facts


def read_record(spec: RunSpec, run_dir: Path, facts: dict) -> RunRecord:
    summary = _summary(run_dir) or {}
    rows = read_csv(run_dir / "metrics.csv") if (run_dir / "metrics.csv").exists() else []
    status = summary.get("status", "missing")
    return RunRecord(spec, run_dir, status, rows, facts.get("wall_s", 0.0), facts.get("reused", False),
                     summary.get("message", "") or facts.get("error", ""))


class RunPool:
    """Training runs submitted up front to ``workers`` background processes; ``record(spec)`` waits for one.

    The runs that can share an engine (the seeds of a group: ``numerics.replica_runs.engine_key``)
    go to one process as one multi-replica call spread over every core, so a GPU steps them all
    in one launch; the groups are independent, so a background process trains while the main
    process does the exact and property checks.
    """

    def __init__(self, root: Path, specs: list[RunSpec], *, workers: int = 1, log=None):
        self.root = Path(root)
        self.log = log or (lambda msg: None)
        ctx = multiprocessing.get_context("spawn")
        self.pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) if specs else None
        self.futures = {}
        groups: dict[str, list[RunSpec]] = {}
        for spec in specs:
            groups.setdefault(engine_key(spec.config), []).append(spec)
        for members in groups.values():
            fut = self.pool.submit(execute_group, [s.config.to_dict() for s in members],
                                   [str(self.root / s.name) for s in members])
            fut.add_done_callback(lambda f, m=members: self._done(f, m))
            self.futures.update({s.name: (fut, k) for k, s in enumerate(members)})

    def _done(self, fut, members):
        if fut.cancelled() or fut.exception() is not None:
            return
        for spec, facts in zip(members, fut.result()):
            how = "reused" if facts["reused"] else f"{facts['wall_s']:.0f} s"
            self.log(f"  trained {spec.group} seed {spec.config.seed} ({spec.preset}) [{how}]")

    def record(self, spec: RunSpec) -> RunRecord:
        fut, k = self.futures[spec.name]
        return read_record(spec, self.root / spec.name, fut.result()[k])

    def close(self, cancel: bool = False) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=cancel)
