"""Sweep files (verify.sweep.spec) and grid expansion (verify.sweep.grid): no cluster needed."""
import re
import time
import tomllib
from pathlib import Path

import pytest

from sharpgen.numerics.runs.config import TrainConfig, parse_phases
from sharpgen.numerics.runs.presets import get_preset
from sharpgen.verify.sweep.catalog import STUDIES_DIR, study_names
from sharpgen.verify.sweep.grid import MAX_GRID_POINTS, expand, full_batch_phases
from sharpgen.verify.sweep.spec import load_spec, parse_spec

BASE = {"sweep": {"name": "t"}, "base": {"arch": "nobias", "width": 8, "d": 5, "n": 10,
                                         "phases": "0.1,0.05,1,0,3"}}


def spec(**tables):
    data = {k: dict(v) for k, v in BASE.items()}
    data.update(tables)
    return parse_spec(data)


def test_product_in_axis_order_with_the_last_axis_fastest():
    points = expand(spec(axes={"width": [8, 16], "seed": [0, 1, 2]}))
    assert [(p.config.width, p.config.seed) for p in points] == [(w, s) for w in (8, 16) for s in (0, 1, 2)]
    assert points[4].run_id == "width=16__seed=1"
    assert len({p.run_id for p in points}) == 6


def test_variants_overrides_and_excludes_apply_in_order():
    s = spec(axes={"method": {"sam": {"optimizer": "sam"},
                              "gd": {"optimizer": "sgd", "phases": "0.5,0,n,0,7"}},
                   "arch": ["nobias", "bias"]},
             override=[{"when": {"method": "sam", "arch": "bias"}, "phases": "0.2,0.1,1,0,4"},
                       {"when": {"arch": ["bias"]}, "width": 12}],
             exclude=[{"method": "gd", "arch": "nobias"}])
    got = {p.run_id: p.config for p in expand(s)}
    assert sorted(got) == ["method=gd__arch=bias", "method=sam__arch=bias", "method=sam__arch=nobias"]
    assert got["method=sam__arch=nobias"].phases == parse_phases("0.1,0.05,1,0,3")  # base untouched
    assert got["method=sam__arch=bias"].phases == parse_phases("0.2,0.1,1,0,4")
    assert got["method=gd__arch=bias"].phases == parse_phases("0.5,0,10,0,7")  # batch n -> n = 10
    assert {c.width for k, c in got.items() if "bias" in k and "nobias" not in k} == {12}
    assert got["method=sam__arch=nobias"].width == 8


def test_n_per_d_sets_n_and_the_full_batch():
    points = expand(spec(axes={"d": [4, 10], "n_per_d": [1.5, 3]},
                         base={"arch": "bias", "width": 8, "phases": "0.1,0,n,0,3", "optimizer": "sgd"}))
    assert [(p.config.d, p.config.n, p.config.phases[0].batch) for p in points] == \
        [(4, 6, 6), (4, 12, 12), (10, 15, 15), (10, 30, 30)]


def test_n_per_d_must_give_an_integer_n():
    with pytest.raises(ValueError, match=r"grid point d=5__n_per_d=1.5: n_per_d·d = 7.5 is not a positive integer"):
        expand(spec(axes={"d": [5], "n_per_d": [1.5]}))


def test_preset_base_and_fields_on_top():
    (point,) = expand(parse_spec({"sweep": {"name": "p"}, "base": {"preset": "fig4b", "quick": True},
                                  "axes": {"width": [30]}}))
    assert point.config == get_preset("fig4b", quick=True).replace(width=30)


def test_full_batch_phases_in_lists_of_tables():
    rows = [{"lr": 0.1, "batch": "n", "epochs": 2}, {"lr": 0.1, "batch": 1, "epochs": 2}]
    assert [r["batch"] for r in full_batch_phases(rows, 12)] == [12, 1]


@pytest.mark.parametrize("tables,message", [
    ({"axes": {"width": []}}, r"axes.width: expected a non-empty list of values or a table of named variants"),
    ({"axes": {"widht": [1]}}, r"axes.widht: a list axis must name a config field or one of \('n_per_d',\)"),
    ({"axes": {"optimizer": {"a": {"optimizer": "sam"}}}},
     r"axes.optimizer: a variant axis cannot share its name with the config field 'optimizer'"),
    ({"axes": {"m": {"a b": {"optimizer": "sam"}}}}, r"axes.m.a b: variant names use letters"),
    ({"axes": {"m": {"a": {"lrr": 1}}}}, r"axes.m.a: unknown keys \['lrr'\]"),
    ({"axes": {"seed": [0, 0]}}, r"axes.seed: duplicate values"),
    ({"axes": {"seed": [0]}, "override": [{"when": {"seed": 1}, "width": 3}]},
     r"override\[0\].when.seed: 1 is not a value of axis 'seed' \(values: \[0\]\)"),
    ({"axes": {"seed": [0]}, "override": [{"when": {"seed": 0}}]}, r"override\[0\]: expected 'when"),
    ({"axes": {"seed": [0]}, "exclude": [{"d": 3}]}, r"exclude\[0\]: unknown keys \['d'\]"),
    ({"axes": {"seed": [0]}, "exclude": [{"seed": 0}]}, r"exclude: every grid point is excluded"),
    ({"axes": {"seed": [0]}, "extra": {}}, r"sweep file: unknown keys \['extra'\]"),
    ({"axes": {"width": [0]}}, r"grid point width=0: width: expected an integer >= 1, got 0"),
    ({"axes": {"seed": [0]}, "base": {"preset": "fig99"}}, r"base.preset: expected one of"),
])
def test_bad_sweep_files_name_the_key(tables, message):
    with pytest.raises(ValueError, match=message):
        expand(spec(**tables))


@pytest.mark.parametrize("head,message", [
    ({}, r"sweep.name: expected a name"),
    ({"name": "a/b"}, r"sweep.name: expected a name"),
    ({"name": "a", "record": ["test_eror"]}, r"sweep.record: 'test_eror' matches no metric"),
    ({"name": "a", "theory": "yes"}, r"sweep.theory: expected true or false"),
    ({"name": "a", "colour": 1}, r"sweep: unknown keys \['colour'\]"),
])
def test_bad_sweep_table(head, message):
    with pytest.raises(ValueError, match=message):
        parse_spec({"sweep": head, "axes": {"seed": [0]}})


def test_load_spec_reports_bad_toml_and_missing_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[sweep\nname = 1")
    with pytest.raises(ValueError, match=r"bad.toml: not valid TOML"):
        load_spec(bad)
    with pytest.raises(ValueError, match=r"SPEC: nothing.toml is neither a file nor a shipped study"):
        load_spec("nothing.toml")


@pytest.mark.parametrize("name", study_names())
def test_shipped_studies_expand_to_valid_grids(name):
    s = load_spec(name)
    points = expand(s)
    assert s.name == name and len(points) >= 10
    assert all(isinstance(p.config, TrainConfig) for p in points)
    assert tomllib.loads((STUDIES_DIR / f"{name}.toml").read_text())["sweep"]["name"] == name


def test_the_sweeps_page_example_is_a_valid_sweep_file():
    page = (Path(__file__).resolve().parents[2] / "docs" / "sweeps.md").read_text()
    (block,) = re.findall(r"```toml\n(.*?)```", page, flags=re.S)
    points = expand(parse_spec(tomllib.loads(block)))
    assert len(points) == 2 * 2 * 2 * 2 * 3
    bias_sam = [p for p in points if p.labels["arch"] == "bias" and p.labels["method"] == "sam1"]
    assert all(len(p.config.phases) == 2 for p in bias_sam)
    assert {p.config.phases[0].batch for p in points if p.labels["method"] == "gd_wd"} == {20, 40, 80}


def test_a_huge_grid_is_refused_before_any_point_is_built():
    start = time.monotonic()
    huge = spec(axes={"seed": list(range(1000)), "data_seed": list(range(1000))})
    with pytest.raises(ValueError, match=rf"^axes: the grid has 1000000 combinations, more than the limit {MAX_GRID_POINTS}"):
        expand(huge)
    assert time.monotonic() - start < 5


def test_a_run_id_too_long_for_a_folder_name_is_refused_at_expansion():
    long_values = spec(axes={"eval_every": [10 ** 250]})
    with pytest.raises(ValueError, match=r"^axes: the run id eval_every=1000.* bytes, longer than a folder name may be"):
        expand(long_values)


def test_an_override_of_a_field_a_list_axis_sets_is_refused():
    with pytest.raises(ValueError, match=r"^override\[0\]: sets width, which the axis of the same name also sets"):
        spec(axes={"width": [20, 30]}, override=[{"when": {"width": 30}, "width": 20}])
    # a field no axis sets stays allowed
    (point, other) = expand(spec(axes={"width": [20, 30]}, override=[{"when": {"width": 30}, "n_test": 8}]))
    assert (point.config.width, point.config.n_test, other.config.width, other.config.n_test) == (20, 1000, 30, 8)
