"""The figures' trained claims (verify.ledger.trained_figures): each judge accepts synthetic runs that show
its claim and fails (3 seeds) or does not reproduce (10 seeds) on runs that do not; a schedule that never
reaches the named epoch is "condition not met"; in the quick profile every figure entry is "not run",
naming the profiles that run it, and none of its runs is trained."""
import json
import math
from dataclasses import replace

import pytest
import torch

from sharpgen.numerics.runs import checkpoint as ckpt
from sharpgen.numerics.runs.presets import get_preset
from sharpgen.theory import constructions
from sharpgen.verify.ledger import runs, trained, trained_figures as F, trained_sec6 as S
from sharpgen.verify.ledger.entries import entry
from sharpgen.verify.ledger.profiles import PROFILES
from sharpgen.verify.ledger.runs import RunRecord
from sharpgen.verify.runs import RunSpec

SQB = 4 * math.sqrt(31)  # F3 for bias at d = 30


def record(tmp_path, group, seed, *, test_error, trace=10.0, theory_min=None, rows=None, status="done",
           trace_gn=None, test_loss=0.1, config=None):
    """A run record without training: its final row, or ``rows`` (epoch, test error, trace) as its curve."""
    preset = runs.GROUPS[group][0]
    config = (config or get_preset(preset, quick=True)).replace(seed=seed)
    spec = RunSpec(config, tmp_path / runs.run_name(group, config), group=group, preset=preset)
    spec.run_dir.mkdir(parents=True, exist_ok=True)
    base = {"test_error": test_error, "trace": trace, "trace_gn": trace if trace_gn is None else trace_gn,
            "theory_min": theory_min, "train_loss": 1e-4, "test_loss": test_loss}
    curve = rows or [(0, 0.5, trace), (config.total_epochs, test_error, trace)]
    return RunRecord(spec, spec.run_dir, status, [dict(base, epoch=e, test_error=err, trace=tr) for e, err, tr in curve])


def seeds(tmp_path, group, n=3, first=0, bad=(), good=None, bad_kw=None):
    """n records of ``group``; those at positions ``bad`` get ``bad_kw`` instead of ``good``."""
    return [record(tmp_path / group, group, first + s, **(bad_kw if s in bad else good)) for s in range(n)]


def test_every_figure_entry_is_registered_with_groups_that_exist():
    for entry_id, check in F.TRAINED_FIGURES.items():
        assert trained.TRAINED[entry_id] is check and entry(entry_id).kinds == ("trained",)
        assert check.profiles == ("rates", "paper") and all(g in runs.GROUPS for g in check.groups)
        assert [s.config.seed for s in runs.specs_for(check.groups[0], PROFILES["rates"])] == list(range(1000, 1010))
    assert runs.specs_for("ball-bias-sam", PROFILES["rates"])[0].config.d == 10
    assert runs.specs_for("softplus-sam", PROFILES["paper"])[0].config.total_epochs == get_preset("fig5b").total_epochs


def test_fig_1a_needs_generalization_and_a_falling_sharpness(tmp_path):
    falls = {"test_error": 0.0, "rows": [(0, 0.5, 40.0), (1000, 0.1, 90.0), (20000, 0.0, 60.0)]}
    flat = {"test_error": 0.0, "rows": [(0, 0.5, 40.0), (1000, 0.1, 90.0), (20000, 0.0, 88.0)]}  # 2% below its peak
    g = lambda **kw: {"nobias-gd": seeds(tmp_path / str(len(kw)) / str(kw.get("n", 3)), "nobias-gd", **kw)}
    assert F.judge_fig_1a(g(good=falls)).status == "pass"
    out = F.judge_fig_1a(g(good=falls, bad=(1,), bad_kw=flat, n=3))
    assert out.status == "fail" and out.numbers["k"] == 2
    errs = {"test_error": 0.05, "rows": [(0, 0.5, 40.0), (1000, 0.1, 90.0), (20000, 0.05, 60.0)]}
    assert F.judge_fig_1a({"nobias-gd": seeds(tmp_path / "e", "nobias-gd", good=errs)}).status == "fail"
    ten = F.judge_fig_1a({"nobias-gd": seeds(tmp_path / "t", "nobias-gd", n=10, first=1000, good=falls, bad=(0, 1),
                                             bad_kw=flat)})
    assert ten.status == "not reproduced" and (ten.numbers["k"], ten.numbers["n"]) == (8, 10)
    assert "flatness of the model decreases" in ten.numbers["paper"]


def _pair_groups(tmp_path, sam_group, gd_group, sam_kw, gd_kw, n=3, first=0):
    return {sam_group: seeds(tmp_path / "s", sam_group, n=n, first=first, good=sam_kw),
            gd_group: seeds(tmp_path / "g", gd_group, n=n, first=first, good=gd_kw)}


@pytest.mark.parametrize("judge, sam, gd", [(F.judge_fig_5, "softplus-sam", "softplus-gd"),
                                            (F.judge_fig_9, "logit-bias-sam", "logit-bias-gd")])
def test_fig_5_and_9_need_a_flatter_memorizing_sam_and_a_generalizing_baseline(tmp_path, judge, sam, gd):
    ok = _pair_groups(tmp_path / "a", sam, gd, {"test_error": 0.3, "trace": 5.0}, {"test_error": 0.0, "trace": 9.0})
    assert judge(ok).status == "pass"
    swapped = {sam: ok[gd], gd: ok[sam]}  # the groups' runs mislabeled
    assert judge(swapped).status == "fail"
    sharper = _pair_groups(tmp_path / "b", sam, gd, {"test_error": 0.3, "trace": 9.5}, {"test_error": 0.0, "trace": 9.0})
    assert judge(sharper).status == "fail"
    unpaired = dict(ok, **{gd: ok[gd][:2]})
    assert judge(unpaired).status == "fail"  # seeds do not pair up
    ten = _pair_groups(tmp_path / "c", sam, gd, {"test_error": 0.3, "trace": 5.0}, {"test_error": 0.0, "trace": 9.0},
                       n=10, first=1000)
    assert judge(ten).status == "pass" and ten[sam][0].spec.config.seed == 1000
    ten[gd][0].rows[-1]["test_error"] = ten[gd][1].rows[-1]["test_error"] = 0.2
    assert judge(ten).status == "not reproduced"


def test_fig_6b_and_fig_10_hold_the_test_error_to_almost_perfect(tmp_path):
    good = {"test_error": 0.01, "trace": 1.5, "trace_gn": 2.2, "theory_min": 2.0}
    assert F.judge_fig_6b({"sim_ln-proj": seeds(tmp_path / "a", "sim_ln-proj", good=good)}).status == "pass"
    out = F.judge_fig_6b({"sim_ln-proj": seeds(tmp_path / "b", "sim_ln-proj", good=good, bad=(2,),
                                               bad_kw=dict(good, test_error=0.03))})
    assert out.status == "fail" and "test error <= 0.02" in out.numbers["criterion"]
    both = _pair_groups(tmp_path / "c", "logit-sim_bn-sam", "logit-sim_ln-sam", {"test_error": 0.0},
                        {"test_error": 0.015})
    assert F.judge_fig_10(both).status == "pass"
    both["logit-sim_ln-sam"][1].status = "diverged"  # a diverged run fails its seed
    assert F.judge_fig_10(both).status == "fail"


def test_fig_7_needs_nobias_to_generalize_and_bias_not_on_the_same_seed(tmp_path):
    ok = _pair_groups(tmp_path / "a", "ball-nobias-sam", "ball-bias-sam", {"test_error": 0.01, "theory_min": 9.0},
                      {"test_error": 0.3, "theory_min": 9.0})
    assert F.judge_fig_7(ok).status == "pass"
    assert F.judge_fig_7({"ball-nobias-sam": ok["ball-bias-sam"], "ball-bias-sam": ok["ball-nobias-sam"]}).status == "fail"
    ok["ball-bias-sam"][0].rows[-1]["test_error"] = 0.1  # bias errs, but not "much" more
    assert F.judge_fig_7(ok).status == "fail"


def test_runs_off_the_cube_are_not_described_by_the_cube_construction_they_approached(tmp_path, monkeypatch):
    from sharpgen.verify.ledger import trained_base

    def cube_only(record):
        raise ValueError("X_train: expected cube points")
    monkeypatch.setattr(trained_base, "describe_run", cube_only)  # Figure 7's runs are on the ball
    ok = _pair_groups(tmp_path, "ball-nobias-sam", "ball-bias-sam", {"test_error": 0.01}, {"test_error": 0.3})
    out = F.judge_fig_7(ok)
    assert out.status == "pass" and out.numbers["seeds"][0]["approached"] == {}


def test_fig_8_needs_both_to_generalize_and_the_baselines_sharpness_to_fall(tmp_path):
    falls = {"test_error": 0.0, "rows": [(0, 0.5, 3.0), (500, 0.0, 6.0), (10000, 0.0, 4.0)]}
    ok = _pair_groups(tmp_path / "a", "logit-nobias-sam", "logit-nobias-gd", {"test_error": 0.0}, falls)
    assert F.judge_fig_8(ok).status == "pass"
    rising = _pair_groups(tmp_path / "b", "logit-nobias-sam", "logit-nobias-gd", {"test_error": 0.0},
                          {"test_error": 0.0, "rows": [(0, 0.5, 3.0), (500, 0.0, 4.0), (10000, 0.0, 6.0)]})
    assert F.judge_fig_8(rising).status == "fail"
    ok["logit-nobias-sam"][2].rows[-1]["test_error"] = 0.04
    assert F.judge_fig_8(ok).status == "fail"


def test_fig_11_is_table1_bias_criterion_against_f4(tmp_path):
    f4 = 6 * 31 ** (1 / 3)
    ok = _pair_groups(tmp_path / "a", "depth3-sam", "depth3-gd", {"test_error": 0.3, "trace": 1.03 * f4, "theory_min": f4},
                      {"test_error": 0.0, "trace": 2.5 * f4, "theory_min": f4})
    assert F.judge_fig_11(ok).status == "pass"
    not_flattest = _pair_groups(tmp_path / "b", "depth3-sam", "depth3-gd",
                                {"test_error": 0.3, "trace": 1.2 * f4, "theory_min": f4},
                                {"test_error": 0.0, "trace": 2.5 * f4, "theory_min": f4})
    assert F.judge_fig_11(not_flattest).status == "fail"  # flatter than the baseline, but not at F4
    gd_flat = _pair_groups(tmp_path / "c", "depth3-sam", "depth3-gd",
                           {"test_error": 0.3, "trace": 1.03 * f4, "theory_min": f4},
                           {"test_error": 0.0, "trace": 1.04 * f4, "theory_min": f4})
    assert F.judge_fig_11(gd_flat).status == "fail"


RISES = [(0, 0.5, 30.0), (3000, 0.22, 23.0), (4000, 0.20, 22.5), (7000, 0.23, 22.4), (10000, 0.25, 22.3),
         (20000, 0.21, 22.3)]


def test_fig_4_late_reads_the_phase_after_epoch_4000(tmp_path):
    sam = lambda rows, n=3, first=0, where="a": {"bias-sam": seeds(tmp_path / where, "bias-sam", n=n, first=first,
                                                                   good={"test_error": rows[-1][1], "rows": rows})}
    out = F.judge_fig_4_late(sam(RISES))
    assert out.status == "pass", out.detail
    row = out.numbers["seeds"][0]
    assert (row["named_epoch"], row["late_epoch"], row["window"]) == (4000, 10000, [4000, 10000])
    assert row["rise"] == pytest.approx(0.05)  # phase 2 (epochs 10000-20000, ρ 0.1) is not the paper's phase at 4000
    flat = [(e, 0.20 if e >= 4000 else err, tr) for e, err, tr in RISES]
    assert F.judge_fig_4_late(sam(flat, where="b")).status == "fail"
    small = [(e, 0.21 if e == 10000 else err, tr) for e, err, tr in RISES]  # a rise of 0.01 < 0.02
    assert F.judge_fig_4_late(sam(small, where="c")).status == "fail"
    assert F.judge_fig_4_late(sam(flat, n=10, first=1000, where="d")).status == "not reproduced"


def test_a_schedule_that_ends_before_the_named_epoch_is_condition_not_met(tmp_path):
    short = runs.shorten(get_preset("fig4b", quick=True), 60)  # a shortened profile's schedule: 60 epochs
    recs = [record(tmp_path, "bias-sam", s, test_error=0.3, config=short,
                   rows=[(0, 0.5, 30.0), (30, 0.2, 23.0), (60, 0.3, 22.0)]) for s in range(3)]
    out = F.judge_fig_4_late({"bias-sam": recs})
    assert out.status == "condition not met" and "ends at epoch 60" in out.unmet_condition
    late = F.judge_fig_9_late({"logit-bias-sam": [record(tmp_path / "9", "logit-bias-sam", 0, test_error=0.4,
                                                         rows=[(0, 0.5, 3.0), (2000, 0.3, 2.0), (10000, 0.4, 1.0)])]})
    assert late.status == "pass" and late.numbers["seeds"][0]["window"] == [2000, 10000]


def _sim_bn_record(tmp_path, seed, W1, b1, gamma, W2):
    small = {"d": 8, "n": 32, "width": 64}  # a small sim_bn net: the check reads its checkpoint
    rec = record(tmp_path, "sim_bn-sam", seed, test_error=0.0, trace=9.0, theory_min=8.0)
    rec.spec = replace(rec.spec, config=rec.spec.config.replace(**small))
    as_tensor = lambda m: torch.tensor([[float(v) for v in row] for row in m.tolist()], dtype=torch.float64)
    params = {"W1": as_tensor(W1), **{k: as_tensor(m).flatten() for k, m in (("b1", b1), ("gamma", gamma), ("W2", W2))}}
    cfg = rec.spec.config
    ckpt.save_checkpoint(rec.run_dir, {"epoch": 10, "wall_s": 0.0, "sessions": [], "params": params,
                                       "config": cfg.to_dict(), "config_digest": cfg.digest(), "theory_min": 8.0})
    return rec


def test_fig_2b_columns_reads_the_checkpoints_column_norms(tmp_path):
    p = constructions.generalizing("sim_bn", 8, scale=5)  # C6: four neurons ±5 x1 ± 5 x2, columns 1, 2 of norm 10
    W1 = p.W1.copy()
    W1[0, 2] = 1  # one neuron reads x3 a little: column 3 has norm 1, a tenth of columns 1, 2
    out = F.judge_fig_2b_columns({"sim_bn-sam": [_sim_bn_record(tmp_path / "a", 0, W1, p.b1, p.gamma, p.W2)]})
    assert out.status == "pass", out.detail
    row = out.numbers["seeds"][0]
    assert row["columns_over_rest"] == pytest.approx(10) and row["column_1"] == pytest.approx(row["column_2"])
    W1[1, 6] = 3  # another reads x7: column 7 has norm 3, a third of columns 1, 2
    out = F.judge_fig_2b_columns({"sim_bn-sam": [_sim_bn_record(tmp_path / "b", 0, W1, p.b1, p.gamma, p.W2)]})
    assert out.status == "fail" and out.numbers["seeds"][0]["columns_over_rest"] == pytest.approx(10 / 3)


def test_quick_profile_reports_figure_entries_as_not_run_without_training(tmp_path):
    from sharpgen.verify.ledger.command import Options, run_verify
    from sharpgen.verify.ledger.entries import select
    from sharpgen.verify.ledger.runner import Session
    ids = list(F.TRAINED_FIGURES)
    opts = Options(select(ids), ("trained",), PROFILES["quick"], 1, tmp_path)
    assert Session(opts, tmp_path / "runs")._specs() == {}  # nothing to train
    assert run_verify(opts) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["runs"] == [] and report["summary"] == {"not run": len(ids)}
    by_id = {e["id"]: e for e in report["entries"]}
    for entry_id in ids:
        (ev,) = by_id[entry_id]["evidence"]
        assert by_id[entry_id]["status"] == ev["status"] == "not run"
        assert "runs in --profile rates and --profile paper" in ev["detail"] and ev["not_run"] == ev["detail"]
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())
    # a shortened rates profile does train them: the gate reads the profile's name only
    rates = replace(PROFILES["rates"], seeds=1)
    assert set(Session(Options(select(["fig-6b"]), ("trained",), rates, 1, tmp_path), tmp_path / "r")._specs()) == \
        {"sim_ln-proj"}


def test_a_row_not_run_here_gets_no_figure_even_where_its_groups_runs_exist(tmp_path):
    from types import SimpleNamespace

    from sharpgen.verify.ledger.figures import trained_figures
    from sharpgen.verify.ledger.outcome import Outcome
    row = SimpleNamespace(kind="trained", entry=SimpleNamespace(id="fig-4-late", ref="Figure 4"), status="not run",
                          outcome=Outcome(True, "runs in --profile rates", not_run="runs in --profile rates"))
    runs = {"bias-sam": [SimpleNamespace(rows=[{"epoch": 0, "trace": 1.0}], final={}, spec=None)]}  # table1-bias's
    assert trained_figures([row], runs, tmp_path) == {} and not list(tmp_path.iterdir())


# ------------------------------------------------------------------ §6: 1-SAM reaches the exact lower bound

def _sec6_groups(tmp_path, n, ratio_of=lambda group, seed: 1.0):
    """Records of every §6 group with Tr = ratio x theory_min (theory_min 10; sim_ln: trace_gn carries it)."""
    out = {}
    for group in S.SEC6_GROUPS:
        recs = []
        for k in range(n):
            r = ratio_of(group, 1000 + k)
            sim_ln = runs.GROUPS[group][0] in ("fig6a", "fig10b")
            recs.append(record(tmp_path / group, group, 1000 + k, test_error=0.0, theory_min=10.0,
                               trace=10.0 * (1.0 if sim_ln else r), trace_gn=10.0 * r))
        out[group] = recs
    return out


@pytest.fixture
def exact_except(monkeypatch):
    """theory_min_for replaced by a stub: exact for every run but those of the architectures/data named."""
    from sharpgen.verify.theory_min import TheoryMinimum
    bound_only = {("nobias", "ball"), ("sim_bn", "logistic")}

    def fake(config):
        key = {(config.arch, config.data), (config.arch, config.loss)}
        return TheoryMinimum(10.0, not (key & bound_only), "stub")
    monkeypatch.setattr(S, "theory_min_for", fake)


def test_sec6_is_registered_over_the_papers_1sam_groups():
    check = trained.TRAINED["sec6-lower-bound"]
    assert check is S.TRAINED_SEC6["sec6-lower-bound"] and check.profiles == ("rates", "paper")
    assert all(g in runs.GROUPS and g.endswith("-sam") for g in check.groups)
    assert not set(check.groups) & set(S.LEFT_OUT) and "sim_ln-proj" in S.LEFT_OUT
    assert entry("sec6-lower-bound").kinds == ("trained",)


def test_sec6_passes_when_every_exact_experiment_reaches_its_bound(tmp_path, exact_except):
    out = S.judge_sec6_lower_bound(_sec6_groups(tmp_path, 10, lambda g, s: 1.03))
    assert out.status == "pass", out.detail
    judged = {e["group"]: e for e in out.numbers["experiments"]}
    assert not judged["ball-nobias-sam"]["judged"] and not judged["logit-sim_bn-sam"]["judged"]
    assert judged["bias-sam"]["k"] == 10 and "not judged" in out.detail


def test_sec6_one_experiment_short_of_its_bound_is_not_reproduced_and_names_it(tmp_path, exact_except):
    far = lambda g, s: 1.25 if g == "nobias-sam" else 1.0
    out = S.judge_sec6_lower_bound(_sec6_groups(tmp_path, 10, far))
    assert out.status == "not reproduced" and "fig1b" in out.reason
    assert out.worst == pytest.approx(0.25)
    # a lower-bound-only experiment far from its bound changes nothing
    loose = lambda g, s: 2.0 if g == "ball-nobias-sam" else 1.0
    assert S.judge_sec6_lower_bound(_sec6_groups(tmp_path / "b", 10, loose)).status == "pass"
    # sim_ln is judged on its interpolation part: the full trace at the bound does not rescue a far trace_gn
    gn = lambda g, s: 1.2 if g == "sim_ln-sam" else 1.0
    assert S.judge_sec6_lower_bound(_sec6_groups(tmp_path / "c", 10, gn)).status == "not reproduced"


def test_sec6_with_few_seeds_every_seed_must_reach_and_a_diverged_run_does_not(tmp_path, exact_except):
    one_off = lambda g, s: 1.08 if (g, s) == ("depth3-sam", 1002) else 1.0
    assert S.judge_sec6_lower_bound(_sec6_groups(tmp_path, 3, one_off)).status == "fail"
    groups = _sec6_groups(tmp_path / "d", 3)
    groups["bias-sam"][0].status = "diverged"
    assert S.judge_sec6_lower_bound(groups).status == "fail"


def test_sec6_reads_exactness_from_the_theory():
    from sharpgen.verify.theory_min import theory_min_for
    exact = {g: theory_min_for(get_preset(runs.GROUPS[g][0], quick=True)).exact
             for g in ("nobias-sam", "bias-sam", "ball-nobias-sam", "logit-sim_bn-sam")}
    assert exact == {"nobias-sam": True, "bias-sam": True, "ball-nobias-sam": False, "logit-sim_bn-sam": False}


def test_sec6_judges_only_the_runs_whose_minimum_is_exact(tmp_path, monkeypatch):
    from sharpgen.verify.theory_min import TheoryMinimum
    monkeypatch.setattr(S, "theory_min_for", lambda config: TheoryMinimum(10.0, config.seed % 5 != 0, "stub"))
    far_on_bound_only = lambda g, s: 1.5 if s % 5 == 0 else 1.0  # seeds 1000, 1005: far, but a lower bound only
    out = S.judge_sec6_lower_bound(_sec6_groups(tmp_path, 10, far_on_bound_only))
    assert out.status == "pass", out.detail
    bias = next(e for e in out.numbers["experiments"] if e["group"] == "bias-sam")
    assert (bias["k"], bias["n"]) == (8, 8) and bias["bound_only_ratios"] == [1.5, 1.5]
    assert "2 more with a lower bound only" in out.detail
