"""The figure, the run table and the summary of a shipped sweep study, from its finished sweep folder
(README, "Sweeps"; figures from ``sharpgen.verify.plots.sweep``).

    python experiments/sweeps/study_figures.py sweeps/sample_complexity
    python experiments/sweeps/study_figures.py sweeps/minimizers --docs docs/sweeps
    python experiments/sweeps/study_figures.py sweeps/minimizers_sim_bn

Writes DOCS/<study>.png (the figure) and DOCS/<study>.csv (OUT/results.csv: every run, one row
each) and prints the study's summary as markdown: the n/d thresholds for ``sample_complexity``,
the per-scenario table for ``minimizers`` and ``minimizers_sim_bn``.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tomllib
from pathlib import Path

import pandas as pd

from sharpgen.verify.plots import style
from sharpgen.verify.plots import sweep as plots

STUDIES = {"sample_complexity": (plots.sample_complexity_figure, plots.thresholds),
           "minimizers": (plots.minimizers_figure, plots.minimizers_summary),
           "minimizers_sim_bn": (plots.minimizers_figure, plots.minimizers_summary)}


def study_name(out: Path) -> str:
    """The study a sweep folder holds: [sweep] name of its sweep.toml (else the folder's name),
    without a ``_full`` suffix."""
    spec = out / "sweep.toml"
    name = tomllib.loads(spec.read_text())["sweep"]["name"] if spec.is_file() else out.name
    return name.removesuffix("_full")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the sweep folder (sharpgen sweep --out)")
    parser.add_argument("--docs", type=Path, default=Path("docs/sweeps"), help="where the figure and table go")
    args = parser.parse_args(argv)
    name = study_name(args.out)
    if name not in STUDIES:
        print(f"study_figures: error: out: {name!r} is not one of {sorted(STUDIES)}", file=sys.stderr)
        return 2
    draw, summarize = STUDIES[name]
    table = pd.read_csv(args.out / "results.csv")
    args.docs.mkdir(parents=True, exist_ok=True)
    style.save(draw(table), args.docs / name, formats=("png",))
    shutil.copyfile(args.out / "results.csv", args.docs / f"{name}.csv")
    print(plots.markdown(summarize(table)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
