"""What each preset's paper protocol costs on this machine: measured µs per step of the backend
each phase really uses, times the phase's step count, plus the evaluations.

Not a full run: every phase is timed on a chunk of steps from the preset's
initial network, built as ``numerics.runs.train`` builds a run's (its dataset,
network and resolved backend, stepped by a one-replica ``ReplicaEngine``), best
of a few repeats, one torch thread. Time is this process's CPU time
(``time.process_time``), so a machine shared with other jobs reports what the
run costs on one free core. Usage:

    python experiments/preset_costs.py [--quick] [--only fig4b,fig6a] [--seconds 0.5]
"""
from __future__ import annotations

import argparse
import dataclasses
import time

import torch

from sharpgen.numerics.device import resolve_device
from sharpgen.numerics.engine.backends import resolve_backend
from sharpgen.numerics.engine.replicas import ReplicaEngine
from sharpgen.numerics.runs.presets import get_preset, preset_names
from sharpgen.numerics.runs.schedule import chunk_plan, evaluation_epochs
from sharpgen.numerics.runs.train import evaluate, phase_backends, setup_model
from sharpgen.numerics.validate import torch_dtype


def _best(fn, repeats: int = 3, reset=lambda: None) -> float:
    times = []
    for _ in range(repeats):
        reset()
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def _phase_us(engine_for, config, ph, targets, n: int, reset, seconds: float) -> float:
    """µs per step of phase ``ph``, on chunks grown until one takes about ``seconds``.

    A phase whose step size diverges from the initial network (fig2a's paper lr, fig5b's last
    phase) is timed with lr / 10, / 100, ...: the arithmetic of a step does not depend on lr,
    and a diverged chunk stops early (the C loop) or computes with NaN. Each trial lr gets a
    fresh engine from ``engine_for()`` (an engine skips a replica once it diverged).
    """
    spe = ph.steps_per_epoch(n)
    for shrink in range(8):
        trial = dataclasses.replace(ph, lr=ph.lr * 10.0 ** -shrink)
        engine, diverged = engine_for(), []

        def chunk(plan):
            diverged.extend(err for err in engine.run([plan[0]], [plan[1]], [trial]) if err is not None)

        epochs = 1
        while True:
            plan = chunk_plan(config, 0, epochs, trial, targets)
            took = _best(lambda: chunk(plan), repeats=1, reset=reset)
            if diverged or took >= seconds or epochs * spe >= 200000:
                break
            epochs *= 4
        us = None if diverged else 1e6 * _best(lambda: chunk(plan), reset=reset) / (epochs * spe)
        if not diverged:  # a diverged trial is timed again at a smaller lr
            return us
    raise RuntimeError(f"phase {ph}: diverges from the initial network even at lr / 1e7")


def _initial_run(config):
    """(data, network, training inputs in the run's dtype, resolved backend) as a run of ``config``
    starts with them."""
    device, dtype = resolve_device(config.device), torch_dtype(config.dtype)
    data, model, X = setup_model(config, None, device, dtype)
    return data, model, X, resolve_backend(config.backend, fused=config.fused, device=device, dtype=dtype)


def preset_cost(name: str, *, quick: bool, seconds: float) -> dict:
    config = get_preset(name, quick=quick)
    data, model, X, backend = _initial_run(config)
    engine_for = lambda: ReplicaEngine(config, [model], [X], backend, threads=1)
    targets = engine_for().targets(data.Y).detach().cpu()
    n, total_s, phases = data.n, 0.0, []
    start = {k: v.detach().clone() for k, v in model.named_parameters()}

    def reset():  # every timed chunk starts from the initial network (fig2a's paper lr diverges from it)
        with torch.no_grad():
            for k, v in model.named_parameters():
                v.copy_(start[k])

    for ph, used in zip(config.phases, phase_backends(backend, config)):
        us = _phase_us(engine_for, config, ph, targets, n, reset, seconds)
        steps = ph.epochs * ph.steps_per_epoch(n)
        total_s += steps * us * 1e-6
        phases.append((used, us, steps))
    evals = len(evaluation_epochs(config))
    reset()
    eval_s = _best(lambda: evaluate(model, data, config))
    return {"name": name, "phases": phases, "steps_s": total_s, "evals": evals, "eval_s": evals * eval_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="")
    parser.add_argument("--seconds", type=float, default=0.5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    names = [n for n in preset_names() if not args.only or n in args.only.split(",")]
    print("| preset | backend, µs/step, steps (per phase) | steps | evaluations | total |")
    print("|---|---|---|---|---|")
    for name in names:
        c = preset_cost(name, quick=args.quick, seconds=args.seconds)
        cells = "; ".join(f"{b} {us:.3g} µs × {steps:.3g}" for b, us, steps in c["phases"])
        total = c["steps_s"] + c["eval_s"]
        human = f"{total / 60:.1f} min" if total < 7200 else f"{total / 3600:.1f} h"
        print(f"| {name} | {cells} | {c['steps_s']:.0f} s | {c['evals']} × = {c['eval_s']:.0f} s | {human} |",
              flush=True)


if __name__ == "__main__":
    main()
