"""The training runs behind the trained evidence: which runs (groups of seeds), where they live,
and running them (reusing finished runs, resuming interrupted ones) in a background process pool,
the seeds of a group together through the multi-replica engine (``verify.runs.launch``).

A run directory is ``<root>/<group>-seed<k>-<hash>`` (:func:`run_name`), the hash taken over the
run's full config, so a changed config never reuses or resumes a run made with another one. Inside
it ``numerics.train`` writes config.json, metrics.csv, checkpoint.pt and summary.json. A run found
``done`` or ``diverged`` (``numerics.state``) is reused as it is; a started one is resumed;
anything else starts fresh.

Groups (docs/paper.md §6 presets, taken from ``numerics.presets.SCENARIOS``; quick profile: the
presets' quick schedules at the paper's d = 30, n = 100, width 500, which the fused C steps run in
seconds):

* ``nobias-sam`` fig1b (1-SAM), ``nobias-sam-n30`` the same with n = 30 (Thm 3.1's n/d);
* ``bias-sam`` fig4b (1-SAM), ``bias-gd`` fig4a (GD + weight decay);
* ``sim_ln-sam`` fig6a (1-SAM, first layer ×1/100);
* ``sim_bn-sam`` the reproducing protocol ``SIM_BN_PRESET`` (γ starts at 0.5, phase 2 at
  ρ = 0.55; quick: width 64); ``sim_bn-printed`` fig2a as printed (γ starts at 1), which
  diverges or collapses (docs/scenarios.md): the ledger records what it does as a deviation.

The figures' groups (``verify.ledger.trained_figures``; trained in the rates and paper profiles only),
each the preset of its name in ``numerics.presets``:

* ``nobias-gd`` fig1a (GD + weight decay); ``softplus-gd`` fig5a, ``softplus-sam`` fig5b; ``sim_ln-proj``
  fig6b (first layer projected to norm 10); ``ball-nobias-sam`` fig7a, ``ball-bias-sam`` fig7b (uniform
  ball, d = 10);
* logistic loss: ``logit-nobias-gd`` fig8a, ``logit-nobias-sam`` fig8b, ``logit-bias-gd`` fig9a,
  ``logit-bias-sam`` fig9b, ``logit-sim_bn-sam`` fig10a, ``logit-sim_ln-sam`` fig10b;
* ``depth3-gd`` fig11a, ``depth3-sam`` fig11b (depth-3 ``bias``).
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import multiprocessing
from dataclasses import dataclass, field, replace
from pathlib import Path

from sharpgen.numerics.runs.config import TrainConfig
from sharpgen.numerics.runs.presets import SCENARIOS, get_preset
from sharpgen.numerics.runs.replica_runs import engine_key
from sharpgen.numerics.runs.rundir import RunDirError
from sharpgen.numerics.runs.state import DIVERGED, FAILED, read_run
from sharpgen.verify.ledger.lifetime import stop_workers, worker_init
from sharpgen.verify.ledger.profiles import training_seeds
from sharpgen.verify.runs import REUSED, RunSpec, launch

SIM_BN_PRESET = SCENARIOS["sim_bn"].sam  # the reproducing sim_bn protocol (issue: Scenario III)

GROUPS = {  # group -> (preset, overrides), the presets from the one scenario table (numerics.presets)
    "nobias-sam": (SCENARIOS["nobias"].sam, {}),
    "nobias-sam-n30": (SCENARIOS["nobias"].sam, {"n": 30}),
    "bias-sam": (SCENARIOS["bias"].sam, {}),
    "bias-gd": (SCENARIOS["bias"].baselines[0], {}),
    "sim_ln-sam": (SCENARIOS["sim_ln"].sam, {}),
    "sim_bn-sam": (SIM_BN_PRESET, {}),
    "sim_bn-printed": (SCENARIOS["sim_bn"].printed, {}),
    "nobias-gd": (SCENARIOS["nobias"].baselines[0], {}),
    "softplus-gd": ("fig5a", {}),
    "softplus-sam": ("fig5b", {}),
    "sim_ln-proj": ("fig6b", {}),
    "ball-nobias-sam": ("fig7a", {}),
    "ball-bias-sam": ("fig7b", {}),
    "logit-nobias-gd": ("fig8a", {}),
    "logit-nobias-sam": ("fig8b", {}),
    "logit-bias-gd": ("fig9a", {}),
    "logit-bias-sam": ("fig9b", {}),
    "logit-sim_bn-sam": ("fig10a", {}),
    "logit-sim_ln-sam": ("fig10b", {}),
    "depth3-gd": ("fig11a", {}),
    "depth3-sam": ("fig11b", {}),
}


def run_name(group: str, config) -> str:
    """A run's directory name: ``<group>-seed<k>-<hash of the full config>``.

    >>> run_name("bias-sam", TrainConfig(seed=3)).startswith("bias-sam-seed3-")
    True
    """
    digest = hashlib.sha1(json.dumps(config.to_dict(), sort_keys=True).encode()).hexdigest()[:8]
    return f"{group}-seed{config.seed}-{digest}"


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


def specs_for(group: str, profile, *, device: str = "cpu", root=Path(".")) -> list[RunSpec]:
    """The runs of ``group`` in ``profile``: its ``training_seeds`` (quick: 0, 1, 2; rates: 1000-1009), each in
    ``root / run_name(group, config)`` (``RunPool`` places a relative one under its root)."""
    preset, base, expected, reason = group_config(group, profile.quick_runs)
    if profile.epoch_cap is not None:
        base = shorten(base, profile.epoch_cap)
    configs = [base.replace(seed=seed, device=device).validate() for seed in training_seeds(profile)]
    return [RunSpec(c, Path(root) / run_name(group, c), group=group, preset=preset, expected=expected,
                    reason=reason) for c in configs]


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


def execute(config_dict: dict, run_dir: str) -> dict:
    """Run (or resume) one training run to completion; returns facts of the call (``execute_group`` of one)."""
    return execute_group([config_dict], [run_dir])[0]


def execute_group(config_dicts: list, run_dirs: list, threads: int | None = None) -> list[dict]:
    """Run (or resume) runs that differ only in seed to completion, together through the multi-replica
    engine (``verify.runs.launch``, ``threads`` cores); what a worker process does.

    Runs found done or diverged are reused; a started run (perhaps killed before its first
    checkpoint) is resumed. When a directory is busy or refused, only that run fails (its fact
    ``error``). Returns facts per run: reused, wall_s, notes, and diverged or error (the message).
    """
    specs = [RunSpec(TrainConfig.from_dict(c), Path(d)) for c, d in zip(config_dicts, run_dirs)]
    facts = []
    for done in launch(specs, replica_threads=threads, isolate=True):
        fact = {"reused": done.action == REUSED, "wall_s": done.wall_s, "notes": done.note}
        if done.status == DIVERGED and done.action != REUSED:
            fact["diverged"] = done.message
        elif done.status == FAILED:
            fact["error"] = done.message
        facts.append(fact)
    return facts


def read_record(spec: RunSpec, facts: dict) -> RunRecord:
    """The record of ``spec``'s run from its directory (``numerics.state.read_run``) and the facts of its call."""
    found = read_run(spec.run_dir)
    return RunRecord(spec, spec.run_dir, found.status, found.rows(), facts.get("wall_s", 0.0),
                     facts.get("reused", False), found.message or facts.get("error", ""))


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
        # worker_init: the workers leave the terminal's process group (verify answers Ctrl-C for them) and
        # die with this process, even when it is killed with SIGKILL
        self.pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=worker_init) \
            if specs else None
        self.futures = {}
        groups: dict[str, list[RunSpec]] = {}
        for spec in specs:
            spec = replace(spec, run_dir=self.root / spec.run_dir)  # a relative run_dir lies under root
            groups.setdefault(engine_key(spec.config), []).append(spec)
        for members in groups.values():
            fut = self.pool.submit(execute_group, [s.config.to_dict() for s in members],
                                   [str(s.run_dir) for s in members])
            fut.add_done_callback(lambda f, m=members: self._done(f, m))
            self.futures.update({s.name: (fut, k, s) for k, s in enumerate(members)})

    def _done(self, fut, members):
        if fut.cancelled() or fut.exception() is not None:
            return
        for spec, facts in zip(members, fut.result()):
            if "error" in facts:
                continue  # record() raises it: the run never trained
            how = "reused" if facts["reused"] else f"{facts['wall_s']:.0f} s"
            self.log(f"  trained {spec.group} seed {spec.config.seed} ({spec.preset}) [{how}]")

    def record(self, spec: RunSpec) -> RunRecord:
        """The run's record once its group is trained; RunDirError when its directory was refused (busy,
        a file in its place, a damaged file, a full disk): the files, never a claim, are at fault."""
        fut, k, placed = self.futures[spec.name]
        facts = fut.result()[k]
        if "error" in facts:
            raise RunDirError(facts["error"])
        return read_record(placed, facts)

    def stop(self) -> None:
        """Stop the training now: each worker saves its runs' checkpoints, then exits (``lifetime``)."""
        stop_workers({fut for fut, _, _ in self.futures.values()})

    def close(self, cancel: bool = False) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=cancel)
