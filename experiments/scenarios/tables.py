"""The tables of docs/scenarios.md, printed as markdown from the run directories under runs/scenarios.

    python experiments/scenarios/tables.py [ROOT]

Three kinds of source: a batched `sim_bn` sweep (metrics.csv with a ``run``
column, from simbn_sweeps.py), a `sharpgen train` run directory
(metrics.csv + summary.json), and a `sim_ln` sweep (summary.csv, from
simln_sweeps.py). Nothing is typed in by hand.
"""
from __future__ import annotations

import csv
import dataclasses
import json
import statistics
import sys
from pathlib import Path

import torch

from sharpgen.numerics.nets.diagnostics import output_masses
from sharpgen.numerics.nets.params import from_params
from sharpgen.numerics.runs.config import TrainConfig
from sharpgen.numerics.runs.train import make_dataset


def top4_ratio(row: dict, prefix: str = "") -> float:
    """min over the top-4 neurons of min(|W1_j[1]|, |W1_j[2]|) / ||W1_j[3:d]|| (Figure 2b; criterion: >= 5)."""
    out = []
    for r in range(1, 5):
        w1, w2, rest = (abs(float(row[f"{prefix}top{r}_{k}"])) for k in ("w1", "w2", "rest"))
        out.append(min(w1, w2) / rest if rest > 0 else float("inf"))
    return min(out)


def simbn_sweep(root: Path, name: str, epochs: list[int]) -> str:
    """One line per run and requested epoch of a batched sweep."""
    configs = json.loads((root / name / "configs.json").read_text())
    rows = list(csv.DictReader((root / name / "metrics.csv").open()))
    lines = ["| run | seed | width | γ0 | phases (lr,ρ,batch,wd,epochs) | epoch | test error | train loss | mean abs f "
             "| ‖γ⊙W2‖₁ | top-4 ratio |", "|" + "---|" * 11]
    for r in rows:
        if int(r["epoch"]) not in epochs:
            continue
        c = configs[int(r["run"])]
        if float(r["train_loss"]) != float(r["train_loss"]):  # NaN: the run diverged (simbn_batch froze it)
            lines.append(f"| {r['run']} | {r['seed']} | {c['width']} | {c['init_gamma']} | | {r['epoch']} | diverged "
                         "| | | | |")
            continue
        phases = "; ".join(f"{p['lr']},{p['rho']},{p['epochs']}" for p in c["phases"])
        lines.append(f"| {r['run']} | {r['seed']} | {c['width']} | {c['init_gamma']} | {phases} | {r['epoch']} "
                     f"| {float(r['test_error']):.4f} | {float(r['train_loss']):.3g} | {float(r['mean_abs_f']):.3f} "
                     f"| {float(r['gamma_w2_l1']):.3f} | {top4_ratio(r):.1f} |")
    return "\n".join(lines)


def final_state(run: Path) -> dict:
    """mean |f| on the training set and ||γ ⊙ W2||₁ of a run's final checkpoint, recomputed with this
    branch's diagnostics (runs made with a sharpgen that does not log them, e.g. the paper-width runs)."""
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    saved = json.loads((run / "config.json").read_text())["config"]
    cfg = TrainConfig.from_dict({k: v for k, v in saved.items() if k in known})
    data = make_dataset(cfg)
    params = torch.load(run / "checkpoint.pt", weights_only=False)["params"]
    net = from_params("sim_bn", {k: v.double() for k, v in params.items()}, X_train=data.X)
    with torch.no_grad():
        mean_abs_f = float(net(data.X).abs().mean())
    return {"diag_mean_abs_f": mean_abs_f, **{f"diag_{k}": v for k, v in output_masses(net).items()}}


def train_runs(root: Path, name: str) -> str:
    """One line per `sharpgen train` run directory under root/name: its final row."""
    lines = ["| run | seed | width | phases | test error | train loss | mean abs f | ‖γ⊙W2‖₁ | Tr ∇²L | top-4 ratio "
             "| wall (s) |", "|" + "---|" * 11]
    for run in sorted(p for p in (root / name).iterdir() if (p / "summary.json").exists()):
        summary = json.loads((run / "summary.json").read_text())
        if summary.get("status") != "done":
            lines.append(f"| {run.name} | | | | {summary.get('status')} | | | | | | |")
            continue
        cfg = json.loads((run / "config.json").read_text())["config"]
        r = list(csv.DictReader((run / "metrics.csv").open()))[-1]
        if "diag_mean_abs_f" not in r:
            r.update(final_state(run))
        phases = "; ".join(f"{p['lr']},{p['rho']},{p['epochs']}" for p in cfg["phases"])
        lines.append(f"| {run.name} | {cfg['seed']} | {cfg['width']} | {phases} | {float(r['test_error']):.4f} "
                     f"| {float(r['train_loss']):.3g} | {float(r['diag_mean_abs_f']):.3f} "
                     f"| {float(r['diag_gamma_w2_l1']):.3f} | {float(r['trace']):.3f} "
                     f"| {top4_ratio(r, 'diag_'):.1f} | {summary['wall_s_this_session']:.0f} |")
    return "\n".join(lines)


def simln_sweep(root: Path, name: str) -> str:
    """Test errors per setting (rows) and seed (columns), with median and max."""
    rows = list(csv.DictReader((root / name / "summary.csv").open()))
    labels = list(dict.fromkeys(r["label"] for r in rows))
    seeds = sorted({int(r["seed"]) for r in rows})
    lines = ["| setting | " + " | ".join(f"seed {s}" for s in seeds) + " | median | max |",
             "|" + "---|" * (len(seeds) + 3)]
    for label in labels:
        errs = {int(r["seed"]): float(r["test_error"]) for r in rows if r["label"] == label}
        vals = [errs[s] for s in seeds if s in errs]
        cells = " | ".join(f"{errs[s]:.4f}" if s in errs else "" for s in seeds)
        lines.append(f"| {label} | {cells} | {statistics.median(vals):.4f} | {max(vals):.4f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    root = Path((argv or sys.argv[1:] or ["runs/scenarios"])[0])
    sections = [
        ("sim_bn: phase 2 at rho 0.7 / 1 (width 64)", lambda: simbn_sweep(root, "twophase-w64", [1000, 1100, 3000])),
        ("sim_bn: phase 2 at rho 0.4 / 0.55 (width 64)", lambda: simbn_sweep(root, "rho2-w64", [1000, 1500, 4000])),
        ("sim_bn: shorter phase 1 (width 64)", lambda: simbn_sweep(root, "short-w64", [1500])),
        ("sim_bn: seeds 4-9 (width 64)", lambda: simbn_sweep(root, "seeds-w64", [500, 1500])),
        ("sim_bn: phase 1 stability, width 64", lambda: simbn_sweep(root, "stability-w64", [0, 1, 5])),
        ("sim_bn: phase 1 stability, width 128", lambda: simbn_sweep(root, "stability-w128", [0, 1, 5])),
        ("fig2a-repro at width 500, 1000 + 2000 epochs (tuning seeds)", lambda: train_runs(root, "w500-short")),
        ("fig2a-repro at width 500, 1000 + 2000 epochs (evaluation seeds)", lambda: train_runs(root, "w500-eval-short")),
        ("fig2a-repro at width 500, 1e4 + 1e4 epochs (evaluation seeds)", lambda: train_runs(root, "w500-eval-1e4")),
        ("fig2a-repro at the paper's size and length (1e5 + 1e5 epochs, evaluation seed)",
         lambda: train_runs(root, "w500-eval-paper")),
        ("fig2a as printed, phase 1 at width 500 (3 epochs)", lambda: train_runs(root, "literal-phase1")),
        ("fig2a quick as printed with gamma 0.5, width 500", lambda: train_runs(root, "literal-quick-g0.5")),
        ("sim_bn: literal protocol, d = 16, width 32", lambda: simbn_sweep(root, "small-collapse-d16", [100, 150, 200])),
        ("sim_bn: literal protocol, d = 8, n = 24, width 16", lambda: simbn_sweep(root, "tiny-collapse-short", [100, 250])),
        ("fig2a-repro quick, evaluation seeds", lambda: train_runs(root, "eval-fig2a-repro-quick")),
        ("fig2a-repro quick, tuning seed 0 (the preset's default seed)", lambda: train_runs(root, "tune-fig2a-repro-quick")),
    ] + [(f"sim_ln: {n}", (lambda n=n: simln_sweep(root, n))) for n in (
        "base-quick", "base-paper", "one-factor", "data-vs-init", "n-sweep", "n-150", "eval-n200", "eval-n200-paper")]
    for title, make in sections:
        try:
            body = make()
        except FileNotFoundError as err:
            body = f"(not run: {err.filename})"
        print(f"### {title}\n\n{body}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
