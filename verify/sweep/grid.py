"""Grid expansion: every point of a sweep's axes (minus exclusions) as a validated ``TrainConfig``.

A point's config is built in one order: the preset (or ``TrainConfig()``
defaults), then ``[base]``, then each axis in file order (a list axis sets its
field, a variant its fields), then each matching ``[[override]]`` in file
order; ``n_per_d`` then fixes n = n_per_d·d and a ``phases`` batch written ``n``
becomes that n. Every config is validated here, so a bad grid point stops
the sweep before anything runs; the error names the point.

>>> from sharpgen.verify.sweep.spec import parse_spec
>>> spec = parse_spec({"sweep": {"name": "demo"},
...                    "base": {"arch": "nobias", "width": 8, "phases": "0.1,0,n,0,5"},
...                    "axes": {"d": [4, 6], "n_per_d": [1, 2]}, "exclude": [{"d": 6, "n_per_d": 2}]})
>>> [(p.run_id, p.config.n, p.config.phases[0].batch) for p in expand(spec)]
[('d=4__n_per_d=1', 4, 4), ('d=4__n_per_d=2', 8, 8), ('d=6__n_per_d=1', 6, 6)]
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from sharpgen.numerics.runs.config import TrainConfig
from sharpgen.numerics.runs.presets import get_preset
from sharpgen.verify.sweep.spec import DERIVED_AXES, SweepSpec


@dataclass(frozen=True)
class GridPoint:
    """One run of a sweep: its id (the run directory's name), axis labels and config."""

    run_id: str
    labels: dict
    values: dict
    config: TrainConfig


MAX_GRID_POINTS = 20_000  # training runs in one sweep: far beyond what a cluster day trains
MAX_RUN_ID_BYTES = 255  # a run id names its folder: the longest file name Linux and macOS allow


def full_batch_phases(phases, n: int):
    """``phases`` with a batch written ``n`` replaced by the run's ``n`` (strings or lists of tables).

    >>> full_batch_phases("0.5,0,n,0,100; 0.1,0.05,1,0,10", 40)
    '0.5,0,40,0,100; 0.1,0.05,1,0,10'
    """
    if isinstance(phases, str):
        rows = []
        for row in phases.split(";"):
            cells = row.split(",")
            if len(cells) > 2 and cells[2].strip() == "n":
                cells[2] = str(n)
            rows.append(",".join(c.strip() for c in cells))
        return "; ".join(r for r in rows if r)
    if isinstance(phases, list):
        return [dict(r, batch=n) if isinstance(r, dict) and r.get("batch") == "n" else r for r in phases]
    return phases


def _base_fields(spec: SweepSpec) -> dict:
    if spec.preset is not None:
        fields = get_preset(spec.preset, quick=spec.quick).to_dict()
    else:
        fields = TrainConfig().to_dict()
    fields.update(spec.base)
    return fields


def _config(spec: SweepSpec, labels: dict, values: dict, run_id: str) -> TrainConfig:
    fields = _base_fields(spec)
    for axis in spec.axes:
        if axis.variants is not None:
            fields.update(axis.variants[labels[axis.name]])
        elif axis.name not in DERIVED_AXES:
            fields[axis.name] = values[axis.name]
    for rule in spec.overrides:
        if rule.matches(labels):
            fields.update(rule.fields)
    if "n_per_d" in values:
        n = values["n_per_d"] * fields["d"]
        if not (isinstance(n, (int, float)) and n == round(n) and n >= 1):
            raise ValueError(f"grid point {run_id}: n_per_d·d = {n!r} is not a positive integer")
        fields["n"] = int(round(n))
    fields["phases"] = full_batch_phases(fields["phases"], fields["n"])
    try:
        return TrainConfig.from_dict(fields).validate()
    except (TypeError, ValueError) as err:
        raise ValueError(f"grid point {run_id}: {err}") from None


def expand(spec: SweepSpec) -> list[GridPoint]:
    """Every grid point of ``spec`` in axis order (the last axis varies fastest), exclusions dropped.

    A grid of more than ``MAX_GRID_POINTS`` combinations is refused before any is built.
    """
    size = math.prod(len(axis.values) for axis in spec.axes)
    if size > MAX_GRID_POINTS:
        raise ValueError(f"axes: the grid has {size} combinations, more than the limit {MAX_GRID_POINTS} (each is a "
                         f"training run with a directory of its own, and the whole grid is checked before anything "
                         f"runs); split the sweep or use fewer values")
    points = []
    for combo in itertools.product(*(axis.values for axis in spec.axes)):
        values = {axis.name: v for axis, v in zip(spec.axes, combo)}
        labels = {axis.name: axis.label(v) for axis, v in zip(spec.axes, combo)}
        if any(rule.matches(labels) for rule in spec.excludes):
            continue
        run_id = "__".join(f"{name}={label}" for name, label in labels.items())
        if len(run_id.encode()) > MAX_RUN_ID_BYTES:
            raise ValueError(f"axes: the run id {run_id[:60]}... is {len(run_id.encode())} bytes, longer than a "
                             f"folder name may be ({MAX_RUN_ID_BYTES}); give the axes' values shorter labels (a "
                             f"table of named variants)")
        points.append(GridPoint(run_id, labels, values, _config(spec, labels, values, run_id)))
    if not points:
        raise ValueError("exclude: every grid point is excluded; nothing to run")
    return points
