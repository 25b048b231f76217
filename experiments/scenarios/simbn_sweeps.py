"""The named `sim_bn` sweeps of docs/scenarios.md, each a list of TrainConfigs run by simbn_batch.

    python experiments/scenarios/simbn_sweeps.py NAME [--out runs/scenarios]

runs sweep NAME into OUT/NAME (configs.json, metrics.csv, final.pt). Seeds
0-9 are tuning seeds; evaluation seeds (100 and up) are run only with the
frozen preset through `sharpgen train` (experiments/scenarios/evaluate.sh).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sharpgen.numerics.runs.config import TrainConfig, parse_phases

sys.path.insert(0, str(Path(__file__).parent))
import simbn_batch  # noqa: E402

BASE = dict(arch="sim_bn", d=30, n=100, n_test=2000, dtype="float32")


def grid(rows: str, eval_every: int, seeds, **axes) -> list[TrainConfig]:
    """Every combination of the ``axes`` values (field -> list) for every seed."""
    out = [dict(BASE, phases=parse_phases(rows), eval_every=eval_every)]
    for field, values in axes.items():
        out = [dict(c, **{field: v}) for c in out for v in values]
    return [TrainConfig(**c, seed=s).validate() for c in out for s in seeds]


def rho_rows(lr1, rho1, e1, lr2, rhos, e2):
    """Phase-2 ρ as a sweep axis: one phase string per ρ."""
    return [f"{lr1},{rho1},1,0,{e1}; {lr2},{r},1,0,{e2}" for r in rhos]


def with_phases(configs, phase_texts):
    return [c.replace(phases=parse_phases(t)).validate() for c in configs for t in phase_texts]


def literal_small(size, eval_every, epochs1, epochs2):
    """Seeds 0-3 at (d, n, width, n_test) = size, gamma_0 = 1, phase 1 as printed, phase 2 at rho 1 and 0.55."""
    d, n, width, n_test = size
    base = [c.replace(d=d, n=n, width=width, n_test=n_test)
            for c in grid("0.005,0.1,1,0,1", eval_every, range(4), init_gamma=[1.0])]
    return with_phases(base, rho_rows(0.005, 0.1, epochs1, 0.003, [1.0, 0.55], epochs2))


SWEEPS = {
    # Does the paper's phase 1 (lr 0.005, rho 0.1) diverge from gamma_0 at small width?
    "stability-w64": lambda: grid("0.005,0.1,1,0,5", 1, (0, 1), width=[64], init_gamma=[1.0, 2.0, 3.0, 4.0]),
    "stability-w128": lambda: grid("0.005,0.1,1,0,5", 1, (0, 1), width=[128], init_gamma=[1.0, 1.5, 2.0, 3.0]),
    # Phase 1 as printed, then phase 2 at rho 0.7 (reproducing) or 1 (as printed), two gamma_0.
    "twophase-w64": lambda: with_phases(grid("0.005,0.1,1,0,1", 100, (0, 1), width=[64], init_gamma=[0.5, 1.4]),
                                        rho_rows(0.005, 0.1, 1000, 0.003, [0.7, 1.0], 2000)),
    # Phase-2 rho below the collapse: 0.4 and 0.55, four tuning seeds.
    "rho2-w64": lambda: with_phases(grid("0.005,0.1,1,0,1", 100, (0, 1, 2, 3), width=[64], init_gamma=[0.5]),
                                    rho_rows(0.005, 0.1, 1000, 0.003, [0.4, 0.55], 3000)),
    # A shorter phase 1 (250 or 500 epochs) before 1000 epochs at rho 0.55: how short can the quick run be?
    "short-w64": lambda: with_phases(grid("0.005,0.1,1,0,1", 50, (0, 1, 2, 3), width=[64], init_gamma=[0.5]),
                                     ["0.005,0.1,1,0,250; 0.003,0.55,1,0,1250",
                                      "0.005,0.1,1,0,500; 0.003,0.55,1,0,1000"]),
    # Failure rate of the quick schedule (500 + 1000 epochs) at rho 0.45 and 0.55 on six more tuning seeds.
    "seeds-w64": lambda: with_phases(grid("0.005,0.1,1,0,1", 100, range(4, 10), width=[64], init_gamma=[0.5]),
                                     ["0.005,0.1,1,0,500; 0.003,0.45,1,0,1000",
                                      "0.005,0.1,1,0,500; 0.003,0.55,1,0,1000"]),
    # The printed protocol (gamma_0 = 1, stable at these widths) at small sizes, phase 2 at rho 1 or 0.55.
    "tiny-collapse": lambda: literal_small((8, 24, 16, 200), 20, 200, 100),
    "tiny-collapse-short": lambda: literal_small((8, 24, 16, 200), 25, 100, 150),
    "small-collapse-d12": lambda: literal_small((12, 40, 24, 500), 25, 100, 100),
    "small-collapse-d16": lambda: literal_small((16, 50, 32, 500), 25, 100, 100),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("name", choices=sorted(SWEEPS))
    parser.add_argument("--out", type=Path, default=Path("runs/scenarios"))
    args = parser.parse_args(argv)
    configs = SWEEPS[args.name]()
    out = args.out / args.name
    out.mkdir(parents=True, exist_ok=True)
    (out / "configs.json").write_text(json.dumps([c.to_dict() for c in configs], indent=1))
    simbn_batch.torch.set_num_threads(1)
    simbn_batch.run(configs, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
