"""Sweep files: a grid of training runs written in TOML, read and checked at the boundary.

A sweep file has these tables (every key is checked; an error names the key and
what it allows)::

    [sweep]        name = "..."            letters, digits and _ . - (names the default output folder)
                   description = "..."     optional
                   record = ["test_error", "diag_*"]   metric columns kept in the table (names or
                                           glob patterns over metrics.csv columns; default: all)
                   theory = true           compute each run's theory minimum (sympy; default true)
    [base]         TrainConfig fields shared by every run (docs/paper.md §6), optionally
                   preset = "fig1b" and quick = true to start from a preset
    [axes]         one entry per axis, in order: either a list of values of a TrainConfig
                   field (or of the derived axis n_per_d: n = n_per_d·d), or a table of
                   named variants, each a table of TrainConfig fields
    [[override]]   when = {axis = value or [values]} and TrainConfig fields, applied in file
                   order to the grid points that match every entry of ``when``
    [[exclude]]    {axis = value or [values]}: grid points matching every entry are dropped

In a ``phases`` string a batch written as ``n`` is the run's own n (full batch),
so one variant can describe full-batch GD for every n of the grid.

>>> spec = parse_spec({"sweep": {"name": "demo"}, "base": {"arch": "nobias"},
...                    "axes": {"d": [10, 20], "seed": [0, 1]}})
>>> [a.name for a in spec.axes], spec.record
(['d', 'seed'], ('*',))
>>> parse_spec({"sweep": {"name": "demo"}, "axes": {"width": []}})
Traceback (most recent call last):
...
ValueError: axes.width: expected a non-empty list of values or a table of named variants, got []
"""
from __future__ import annotations

import dataclasses
import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from sharpgen.numerics.runs.config import TrainConfig
from sharpgen.numerics.runs.presets import PRESETS
from sharpgen.verify.sweep.catalog import study_names, study_path

DERIVED_AXES = ("n_per_d",)
CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig))
SAFE_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
TOP_KEYS = ("sweep", "base", "axes", "override", "exclude")
SWEEP_KEYS = ("name", "description", "record", "theory")
METRIC_PREFIXES = ("diag_",)  # diagnostics columns whose names come from numerics.diagnostics at run time


@dataclass(frozen=True)
class Axis:
    """One axis: scalar ``values`` of a config field (or n_per_d), or named ``variants`` (name -> fields)."""

    name: str
    values: tuple
    variants: dict | None = None

    def label(self, value) -> str:
        """How ``value`` appears in run ids and the table (variants by name)."""
        return value if self.variants is not None else format_label(value)


@dataclass(frozen=True)
class Rule:
    """An ``[[override]]`` (``fields`` to set) or ``[[exclude]]`` (no fields): applies where ``when`` matches."""

    when: dict
    fields: dict = field(default_factory=dict)

    def matches(self, labels: dict) -> bool:
        return all(labels[axis] in allowed for axis, allowed in self.when.items())


@dataclass(frozen=True)
class SweepSpec:
    """A parsed, checked sweep file (see the module docstring for the format)."""

    name: str
    axes: tuple
    base: dict = field(default_factory=dict)
    preset: str | None = None
    quick: bool = False
    overrides: tuple = ()
    excludes: tuple = ()
    record: tuple = ("*",)
    theory: bool = True
    description: str = ""
    source: str = "<dict>"
    text: str | None = None


def format_label(value) -> str:
    """A scalar as it appears in run ids: ints and strings as is, floats by repr, booleans lower-case.

    >>> format_label(3), format_label(1.5), format_label(True), format_label("sim_ln")
    ('3', '1.5', 'true', 'sim_ln')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def resolve_spec_path(spec) -> Path:
    """``spec`` as a file path, or the shipped study of that name (``verify.sweep.catalog``)."""
    path = Path(spec)
    if path.is_file():
        return path
    if study_path(str(spec)) is not None:
        return study_path(str(spec))
    raise ValueError(f"SPEC: {spec} is neither a file nor a shipped study (one of {', '.join(study_names())})")


def load_spec(spec) -> SweepSpec:
    """Read and check a sweep file (a path, or the name of a shipped study)."""
    path = resolve_spec_path(spec)
    text = path.read_text()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path}: not valid TOML ({err})") from None
    return parse_spec(data, source=str(path), text=text)


def _check_keys(where: str, data, allowed) -> None:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected a table, got {data!r}")
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}; expected some of {list(allowed)}")


def _check_fields(where: str, fields: dict, extra=()) -> dict:
    _check_keys(where, fields, CONFIG_FIELDS + tuple(extra))
    return dict(fields)


def _scalar_axis(name: str, values: list) -> Axis:
    if name not in CONFIG_FIELDS + DERIVED_AXES:
        raise ValueError(f"axes.{name}: a list axis must name a config field or one of {DERIVED_AXES}; "
                         f"config fields are {list(CONFIG_FIELDS)} (or give a table of named variants)")
    if name == "phases":
        raise ValueError("axes.phases: give phases as named variants ({name = {phases = '...'}}), not as a list")
    for v in values:
        if isinstance(v, (dict, list)) or not SAFE_LABEL.match(format_label(v)):
            raise ValueError(f"axes.{name}: values must be numbers, booleans or names of letters, digits and "
                             f"_ . + -; got {v!r}")
    labels = [format_label(v) for v in values]
    if len(set(labels)) != len(labels):
        raise ValueError(f"axes.{name}: duplicate values in {values!r}")
    return Axis(name, tuple(values))


def _variant_axis(name: str, variants: dict) -> Axis:
    if name in CONFIG_FIELDS:
        raise ValueError(f"axes.{name}: a variant axis cannot share its name with the config field {name!r} "
                         f"(the table has a column for each); call it e.g. {name + '_variant'!r}")
    for label, fields in variants.items():
        if not SAFE_LABEL.match(label):
            raise ValueError(f"axes.{name}.{label}: variant names use letters, digits and _ . + - only")
        _check_fields(f"axes.{name}.{label}", fields)
    return Axis(name, tuple(variants), {k: dict(v) for k, v in variants.items()})


def _axis(name: str, value) -> Axis:
    if isinstance(value, list) and value:
        return _scalar_axis(name, value)
    if isinstance(value, dict) and value:
        return _variant_axis(name, value)
    raise ValueError(f"axes.{name}: expected a non-empty list of values or a table of named variants, got {value!r}")


def _when(where: str, data, axes: dict) -> dict:
    _check_keys(where, data, tuple(axes))
    out = {}
    for name, value in data.items():
        axis = axes[name]
        wanted = value if isinstance(value, list) else [value]
        labels = {axis.label(v) for v in axis.values}
        for v in wanted:
            if (v if axis.variants is not None else format_label(v)) not in labels:
                raise ValueError(f"{where}.{name}: {v!r} is not a value of axis {name!r} "
                                 f"(values: {list(axis.values)})")
        out[name] = frozenset(v if axis.variants is not None else format_label(v) for v in wanted)
    if not out:
        raise ValueError(f"{where}: expected at least one axis to match on")
    return out


def _rules(kind: str, data, axes: dict) -> tuple:
    if not isinstance(data, list):
        raise ValueError(f"{kind}: expected an array of tables ([[{kind}]]), got {data!r}")
    rules = []
    for k, entry in enumerate(data):
        where = f"{kind}[{k}]"
        if kind == "exclude":
            rules.append(Rule(_when(where, entry, axes)))
            continue
        _check_keys(where, entry, ("when",) + CONFIG_FIELDS)
        fields = {f: v for f, v in entry.items() if f != "when"}
        if "when" not in entry or not fields:
            raise ValueError(f"{where}: expected 'when = {{axis = value}}' and at least one config field to set")
        clash = sorted(f for f in fields if f in axes and axes[f].variants is None)
        if clash:  # the run id and the table would name the axis's value while the run trains the override's
            raise ValueError(f"{where}: sets {', '.join(clash)}, which the axis of the same name also sets; "
                             f"drop the field here or make that axis a table of named variants")
        rules.append(Rule(_when(where + ".when", entry["when"], axes), fields))
    return tuple(rules)


def _record(value) -> tuple:
    from sharpgen.numerics.runs.train import METRIC_COLUMNS  # deferred on purpose: train loads torch; a spec parses without it
    if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        raise ValueError(f"sweep.record: expected a non-empty list of metric names or glob patterns, got {value!r}")
    for pattern in value:
        if not (fnmatch.filter(METRIC_COLUMNS, pattern) or pattern.startswith(METRIC_PREFIXES)):
            raise ValueError(f"sweep.record: {pattern!r} matches no metric; metrics are {METRIC_COLUMNS} "
                             f"and the diagnostics diag_*")
    return tuple(value)


def _head(data: dict) -> dict:
    head = data.get("sweep")
    _check_keys("sweep", head if head is not None else {}, SWEEP_KEYS)
    name = head.get("name") if head else None
    if not (isinstance(name, str) and SAFE_LABEL.match(name)):
        raise ValueError(f"sweep.name: expected a name of letters, digits and _ . + -, got {name!r}")
    theory = head.get("theory", True)
    if not isinstance(theory, bool):
        raise ValueError(f"sweep.theory: expected true or false, got {theory!r}")
    description = head.get("description", "")
    if not isinstance(description, str):
        raise ValueError(f"sweep.description: expected a string, got {description!r}")
    return dict(name=name, description=description, theory=theory, record=_record(head.get("record", ["*"])))


def parse_spec(data: dict, *, source: str = "<dict>", text: str | None = None) -> SweepSpec:
    """Check a sweep file already parsed from TOML (a dict) and return it as a :class:`SweepSpec`."""
    _check_keys("sweep file", data, TOP_KEYS)
    head = _head(data)
    base = _check_fields("base", data.get("base", {}), extra=("preset", "quick"))
    preset, quick = base.pop("preset", None), base.pop("quick", False)
    if preset is not None:
        if preset not in PRESETS:
            raise ValueError(f"base.preset: expected one of {list(PRESETS)}, got {preset!r}")
    if not isinstance(quick, bool):
        raise ValueError(f"base.quick: expected true or false, got {quick!r}")
    axes_data = data.get("axes")
    if not isinstance(axes_data, dict) or not axes_data:
        raise ValueError("axes: expected a table with at least one axis")
    axes = {name: _axis(name, value) for name, value in axes_data.items()}
    return SweepSpec(axes=tuple(axes.values()), base=base, preset=preset, quick=quick,
                     overrides=_rules("override", data.get("override", []), axes),
                     excludes=_rules("exclude", data.get("exclude", []), axes),
                     source=source, text=text, **head)
