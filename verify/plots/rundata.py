"""Reading run directories for figures: config.json, metrics.csv and checkpoint.pt of ``sharpgen train``.

Figures read only what a run directory holds, so any run a user made can be
drawn. Rows are plotted against their own ``epoch`` column (evaluations need
not be equally spaced), and columns a figure does not know are ignored.
Seeds of one setting (configs equal up to ``seed`` and ``data_seed``) are
summarised by their mean and their min–max spread over the epochs every seed
evaluated.

>>> import numpy as np
>>> a = Run(None, None, [{"epoch": 0.0, "trace": 4.0}, {"epoch": 10.0, "trace": 2.0}])
>>> b = Run(None, None, [{"epoch": 0.0, "trace": 6.0}, {"epoch": 5.0, "trace": 9.0}, {"epoch": 10.0, "trace": 4.0}])
>>> s = aggregate([a, b], "trace")
>>> s.epochs.tolist(), s.mean.tolist(), s.lo.tolist(), s.hi.tolist()
([0.0, 10.0], [5.0, 3.0], [4.0, 2.0], [6.0, 4.0])
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sharpgen.numerics.nets.params import from_params
from sharpgen.numerics.runs import checkpoint as ckpt
from sharpgen.numerics.runs.config import TrainConfig
from sharpgen.numerics.runs.state import CONFIG, DIVERGED, METRICS, read_run
from sharpgen.numerics.runs.train import make_dataset

SEED_FIELDS = ("seed", "data_seed")


@dataclass
class Run:
    """One run directory: its path, its ``TrainConfig``, its metric rows (dicts of floats) and
    whether its training diverged (summary.json; the rows then stop at its last evaluation)."""

    path: Path | None
    config: object
    rows: list
    diverged: bool = False

    @property
    def seed(self) -> int:
        return self.config.seed


@dataclass
class Series:
    """One metric over the epochs shared by a group of runs: mean, min and max over the runs."""

    epochs: np.ndarray
    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    count: int


def load_run(run_dir) -> Run:
    """The run in ``run_dir`` (made by ``sharpgen train`` or ``numerics.train.train``), read through
    ``numerics.state.read_run``.

    Raises ValueError naming the directory or the file when config.json or metrics.csv is missing,
    damaged or truncated (a last row cut short is left out), or holds no rows.
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise ValueError(f"run_dir: {path} is not a directory (expected a run made by `sharpgen train`)")
    found = read_run(path)
    if found.config is None:
        raise ValueError(f"run_dir: {path} has no {CONFIG} (expected a run made by `sharpgen train`)")
    if not found.path(METRICS).exists():
        raise ValueError(f"run_dir: {path} has no {METRICS} (the run has not evaluated yet)")
    rows = found.rows()
    if not rows or "epoch" not in rows[0]:
        raise ValueError(f"run_dir: {found.path(METRICS)} has no rows with an 'epoch' column")
    try:
        config = TrainConfig.from_dict(found.config)
    except (ValueError, TypeError) as err:
        raise ValueError(f"run_dir: {found.path(CONFIG)} is not a run config ({err})") from None
    return Run(path, config, rows, found.status == DIVERGED)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def values(run: Run, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, values) of column ``name``, rows without that value dropped; sorted by epoch."""
    pairs = sorted((r["epoch"], r[name]) for r in run.rows if _is_number(r.get(name)) and _is_number(r.get("epoch")))
    return np.array([e for e, _ in pairs], dtype=float), np.array([v for _, v in pairs], dtype=float)


def aggregate(runs, name: str) -> Series:
    """Mean and min–max of column ``name`` over ``runs`` at the epochs all of them logged it.

    A NaN in one seed (e.g. a run that diverged) is left out of that epoch's statistics.
    """
    per_run = [dict(zip(*values(run, name))) for run in runs]
    common = sorted(set.intersection(*(set(d) for d in per_run))) if per_run else []
    table = np.array([[d[e] for d in per_run] for e in common], dtype=float).reshape(len(common), len(per_run))
    finite = np.isfinite(table).any(axis=1) if len(common) else np.array([], dtype=bool)
    table, epochs = table[finite], np.array(common, dtype=float)[finite]
    with np.errstate(all="ignore"):
        mean = np.nanmean(table, axis=1) if len(epochs) else np.array([])
        lo = np.nanmin(table, axis=1) if len(epochs) else np.array([])
        hi = np.nanmax(table, axis=1) if len(epochs) else np.array([])
    return Series(epochs, mean, lo, hi, len(runs))


def final(run: Run, name: str) -> float:
    """The value of ``name`` at the last logged epoch (NaN when never logged)."""
    epochs, vals = values(run, name)
    return float(vals[-1]) if len(vals) else math.nan


def theory_minimum(run: Run) -> float | None:
    """The run's logged ``theory_min`` (one value per run: it depends on the training set only), or None."""
    found = {r["theory_min"] for r in run.rows if _is_number(r.get("theory_min"))}
    if len(found) > 1:
        raise ValueError(f"run_dir: {run.path} logs several theory_min values {sorted(found)}")
    return found.pop() if found else None


def residual_matters(runs, *, rel: float = 1e-6) -> bool:
    """Whether Tr ∇²L and its interpolation part ``trace_gn`` differ anywhere (Lemma 4.1's residual term).

    For relu nets they agree up to rounding (docs/paper.md §3, F1); for ``sim_ln``,
    ``sim_bn`` and softplus the residual term separates them off interpolation.
    """
    for run in runs:
        for r in run.rows:
            t, g = r.get("trace"), r.get("trace_gn")
            if _is_number(t) and _is_number(g) and math.isfinite(t) and math.isfinite(g):
                if abs(t - g) > rel * max(abs(t), abs(g), 1e-12):
                    return True
    return False


def phase_boundaries(config) -> list[int]:
    """Epochs where a new phase starts (docs/paper.md §6), the first and the end excluded.

    >>> from sharpgen.numerics.runs.config import TrainConfig, parse_phases
    >>> phase_boundaries(TrainConfig(phases=parse_phases("0.01,0.05,1,0,200; 0.01,0.1,1,0,400; 0.1,1,1,0,5")))
    [200, 600]
    """
    out, at = [], 0
    for ph in config.phases[:-1]:
        at += ph.epochs
        out.append(at)
    return out


def setting_key(config) -> tuple:
    """What identifies a setting across seeds: the config without seed and data_seed."""
    return tuple(sorted((k, repr(v)) for k, v in config.to_dict().items() if k not in SEED_FIELDS))


def group_seeds(runs) -> list[list[Run]]:
    """Runs grouped by setting (first appearance order), seeds sorted inside each group."""
    groups: dict[tuple, list[Run]] = {}
    for run in runs:
        groups.setdefault(setting_key(run.config), []).append(run)
    return [sorted(g, key=lambda r: r.seed) for g in groups.values()]


def load_model(run: Run):
    """The network saved in the run's checkpoint.pt (float64), a ``numerics.models.Net``."""
    state = ckpt.load_checkpoint(run.path)
    if state is None:
        raise ValueError(f"run_dir: {run.path} has no {ckpt.CHECKPOINT} (nothing to inspect)")
    params = dict(state["params"])
    depth = run.config.depth
    params["middle"] = tuple(params.pop(f"middle.{k}") for k in range(depth - 2))
    cfg = run.config
    X_train = make_dataset(cfg).X if cfg.arch == "sim_bn" else None
    return from_params(cfg.arch, params, activation=cfg.activation, eps=cfg.eps, X_train=X_train)
