"""The named `sim_ln` sweeps of docs/scenarios.md, run through the project's trainer one run at a time.

    python experiments/scenarios/simln_sweeps.py NAME [--out runs/scenarios]

Each run is an ordinary `sharpgen train` run directory OUT/NAME/LABEL-sSEED
(config.json, metrics.csv, summary.json); OUT/NAME/summary.csv has one line per
run: its label, the fields that differ from the base, the seed and the final
metrics. A finished run directory is skipped, so an interrupted sweep resumes.
Seeds 0-4 are tuning seeds; 100-104 are evaluation seeds, used only for
settings frozen beforehand (the ``eval-*`` sweeps).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import torch

from sharpgen.numerics.runs.presets import get_preset
from sharpgen.numerics.runs.train import TrainingDiverged, parse_phases, train

QUICK = get_preset("fig6a", quick=True).replace(n_test=2000, eval_every=250)
PAPER = get_preset("fig6a").replace(n_test=2000, eval_every=5000)
TUNE, EVAL = range(5), range(100, 105)
KEEP = ("epoch", "train_loss", "test_loss", "test_error", "trace", "trace_gn", "diag_zero_fraction",
        "diag_dead_neurons", "diag_one_point_neurons", "diag_mean_abs_f", "diag_col_norm_1", "diag_col_norm_2",
        "diag_col_norm_rest_max")


def one_factor(base, seeds, **axes):
    """(label, config) for the base and for each single change of one field to one value."""
    runs = [("base", base.replace(seed=s)) for s in seeds]
    for field, values in axes.items():
        for v in values:
            change = {field: parse_phases(v) if field == "phases" else v}
            label = f"{field}={v}".replace(" ", "").replace(";", "+")
            runs += [(label, base.replace(**change, seed=s)) for s in seeds]
    return runs


SWEEPS = {
    "base-quick": lambda: [("base", QUICK.replace(seed=s)) for s in range(10)],
    "base-paper": lambda: [("base", PAPER.replace(seed=s)) for s in TUNE],
    "one-factor": lambda: one_factor(
        QUICK, TUNE, init_scale_first_layer=[1.0, 0.1, 0.001], eps=[1e-1, 1e-2, 1e-5],
        width=[100, 2000], phases=["0.03,0.1,1,0,5e3", "0.3,0.1,1,0,5e3", "0.1,0.03,1,0,5e3",
                                   "0.1,0.3,1,0,5e3", "0.1,1,1,0,5e3"]),
    # Training set or initialisation: data_seed x seed, crossed (tuning seeds only).
    "data-vs-init": lambda: [(f"data{ds}", QUICK.replace(data_seed=ds, seed=s)) for ds in TUNE for s in TUNE],
    # More training points at d = 30 (not a knob of the paper's protocol; tells whether the failures are data-limited).
    "n-sweep": lambda: [(f"n={n}", QUICK.replace(n=n, seed=s)) for n in (200, 400) for s in TUNE],
    "n-150": lambda: [("n=150", QUICK.replace(n=150, seed=s)) for s in TUNE],
    # Frozen after n-sweep (n = 200: 5/5 tuning seeds at 0.000): evaluation seeds, quick and paper length.
    "eval-n200": lambda: [("n=200", QUICK.replace(n=200, seed=s)) for s in EVAL],
    "eval-n200-paper": lambda: [("n=200", PAPER.replace(n=200, seed=s)) for s in EVAL],
}


def run_one(label: str, config, root: Path) -> dict:
    run_dir = root / f"{label}-s{config.seed}"
    summary = run_dir / "summary.json"
    saved = json.loads(summary.read_text()) if summary.exists() else {}
    if saved.get("status") == "done":
        final = saved["final"]
    elif saved.get("status") == "diverged":
        final = {"epoch": "diverged", "test_error": float("nan")}
    else:
        try:
            final = train(config, run_dir).final
        except TrainingDiverged as err:
            final = {"epoch": "diverged", "test_error": float("nan"), "note": str(err)[:80]}
    print(f"{label:28s} seed {config.seed:3d} test_error {final['test_error']}", flush=True)
    return {"label": label, "seed": config.seed, **{k: final.get(k) for k in KEEP}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("name", choices=sorted(SWEEPS))
    parser.add_argument("--out", type=Path, default=Path("runs/scenarios"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    root = args.out / args.name
    root.mkdir(parents=True, exist_ok=True)
    rows = [run_one(label, cfg.validate(), root) for label, cfg in SWEEPS[args.name]()]
    with (root / "summary.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
