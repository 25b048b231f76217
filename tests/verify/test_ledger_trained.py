"""Trained evidence: the judgments accept runs that show the claim and fail mislabeled or wrong ones;
the training runs are reused from --out and resumed after an interruption."""
import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from conftest import run_numbers

from sharpgen.numerics.runs import checkpoint as ckpt
from sharpgen.numerics.runs import train as train_module
from sharpgen.numerics.runs.presets import get_preset
from sharpgen.theory import constructions
from sharpgen.verify.ledger import runs, trained
from sharpgen.verify.ledger.profiles import PROFILES, training_seeds
from sharpgen.verify.ledger.rates import RATE_LOW_MIN, wilson
from sharpgen.verify.ledger.runs import RunRecord
from sharpgen.verify.runs import RunSpec

SQ = 4 * math.sqrt(30)      # 4 sqrt(d), nobias, d = 30
SQB = 4 * math.sqrt(31)     # 4 sqrt(d + 1), bias


def record(tmp_path, group, seed, *, test_error, trace, theory_min, trace_gn=None, preset="fig1b", expected=True,
           status="done", **extra):
    config = get_preset(preset, quick=True).replace(seed=seed)
    spec = RunSpec(config, tmp_path / runs.run_name(group, config), group=group, preset=preset, expected=expected,
                   reason="" if expected else "declared in advance")
    run_dir = spec.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    row = {"epoch": 10, "test_error": test_error, "trace": trace, "trace_gn": trace if trace_gn is None else trace_gn,
           "theory_min": theory_min, "train_loss": 1e-4, **extra}
    return RunRecord(spec, run_dir, status, [dict(row, epoch=0, test_error=0.5), row])


def test_nobias_accepts_a_generalizing_flat_run_and_rejects_a_mislabeled_memorizing_one(tmp_path):
    good = [record(tmp_path, "nobias-sam", s, test_error=0.0, trace=1.2 * SQ, theory_min=SQ) for s in range(3)]
    assert trained.judge_nobias({"nobias-sam": good}).status == "pass"
    # a bias 1-SAM run (flattest, memorizing) filed as nobias: the entry fails
    wrong = good[:2] + [record(tmp_path, "nobias-sam", 2, test_error=0.28, trace=1.02 * SQ, theory_min=SQ)]
    out = trained.judge_nobias({"nobias-sam": wrong})
    assert out.status == "fail" and out.numbers["seeds"][2]["test_error"] == 0.28


def test_bias_needs_flat_memorizing_sam_and_sharper_generalizing_gd(tmp_path):
    sam = [record(tmp_path, "bias-sam", s, test_error=0.3, trace=1.02 * SQB, theory_min=SQB, preset="fig4b")
           for s in range(3)]
    gd = [record(tmp_path, "bias-gd", s, test_error=0.001, trace=3.4 * SQB, theory_min=SQB, preset="fig4a")
          for s in range(3)]
    assert trained.judge_bias({"bias-sam": sam, "bias-gd": gd}).status == "pass"
    swapped = {"bias-sam": gd, "bias-gd": sam}  # the two groups' runs mislabeled
    assert trained.judge_bias(swapped).status == "fail"
    not_flat = [record(tmp_path, "bias-sam", 0, test_error=0.3, trace=1.08 * SQB, theory_min=SQB, preset="fig4b")]
    assert trained.judge_bias({"bias-sam": not_flat, "bias-gd": gd[:1]}).status == "fail"


def test_sim_ln_uses_the_interpolation_part_and_the_stated_error_threshold(tmp_path):
    ok = [record(tmp_path, "sim_ln-sam", 0, test_error=0.05, trace=1.1, trace_gn=2.04, theory_min=2.0, preset="fig6a")]
    assert trained.judge_sim_ln({"sim_ln-sam": ok}).status == "pass"
    bad = [record(tmp_path, "sim_ln-sam", 0, test_error=0.12, trace=1.1, trace_gn=2.04, theory_min=2.0, preset="fig6a")]
    assert trained.judge_sim_ln({"sim_ln-sam": bad}).status == "fail"


SMALL_SIM_BN = {"d": 8, "n": 32, "width": 64}  # a small sim_bn net: the checks read its checkpoint


def _sim_bn_record(tmp_path, seed, W1, b1, gamma, W2, *, expected=True):
    rec = record(tmp_path, "sim_bn-sam", seed, test_error=0.0, trace=9.0, theory_min=8.0, preset="fig2a-repro",
                 expected=expected)
    rec.spec = replace(rec.spec, config=rec.spec.config.replace(**SMALL_SIM_BN))
    as_tensor = lambda m: torch.tensor([[float(v) for v in row] for row in m.tolist()], dtype=torch.float64)
    params = {"W1": as_tensor(W1), **{k: as_tensor(m).flatten() for k, m in (("b1", b1), ("gamma", gamma), ("W2", W2))}}
    cfg = rec.spec.config  # a complete checkpoint, bound to its config (numerics.checkpoint checks both)
    ckpt.save_checkpoint(rec.run_dir, {"epoch": 10, "wall_s": 0.0, "sessions": [], "params": params,
                                       "config": cfg.to_dict(), "config_digest": cfg.digest(), "theory_min": 8.0})
    return rec


def test_sim_bn_alignment_reads_the_checkpoint(tmp_path):
    p = constructions.generalizing("sim_bn", SMALL_SIM_BN["d"], scale=5)  # C6: exactly ±x1 ± x2
    aligned = _sim_bn_record(tmp_path, 0, p.W1, p.b1, p.gamma, p.W2)
    out = trained.judge_sim_bn({"sim_bn-sam": [aligned]})
    assert out.status == "pass", out.detail
    approached = out.numbers["seeds"][0]["approached"]
    assert approached["top4_sign_patterns"] == 4 and min(approached["top4_cosine"]) == pytest.approx(1.0)
    W1 = p.W1.copy()
    W1[0, 5] = 10  # one top neuron reads x6 strongly: not concentrated on x1, x2
    spread = _sim_bn_record(tmp_path / "b", 0, W1, p.b1, p.gamma, p.W2, expected=False)
    out = trained.judge_sim_bn({"sim_bn-sam": [spread]})
    assert not out.passed and out.status == "not reproduced" and out.reason


def test_the_printed_fig2a_protocol_is_recorded_as_a_measured_erratum(tmp_path):
    p = constructions.generalizing("sim_bn", SMALL_SIM_BN["d"], scale=5)
    aligned = _sim_bn_record(tmp_path, 0, p.W1, p.b1, p.gamma, p.W2)
    printed = [record(tmp_path / "p", "sim_bn-printed", 0, test_error=0.5, trace=9.0, theory_min=8.0, preset="fig2a",
                      status="diverged"),
               record(tmp_path / "p", "sim_bn-printed", 1, test_error=0.43, trace=0.01, theory_min=8.0,
                      preset="fig2a", diag_mean_abs_f=1e-3, train_loss=0.999),
               record(tmp_path / "p", "sim_bn-printed", 2, test_error=0.0, trace=9.0, theory_min=8.0,
                      preset="fig2a", diag_mean_abs_f=0.97)]
    out = trained.judge_table1_sim_bn({"sim_bn-sam": [aligned], "sim_bn-printed": printed})
    assert out.status == "pass"  # the deviation is recorded, the reproducing protocol is judged
    (erratum,) = out.errata
    assert erratum.basis == "measured" and "ρ 1" in erratum.paper and "γ starting at 1" in erratum.paper
    assert erratum.exact.startswith("seed 0: diverged after epoch 10; seed 1: collapsed (mean |f| 0.001, "
                                    "training loss 0.999, test error 0.43); seed 2: neither diverged nor collapsed")
    assert trained.judge_table1_sim_bn({"sim_bn-sam": [aligned]}).errata == []


def test_thm_3_1_and_lemma_3_1(tmp_path, monkeypatch):
    # these synthetic runs have no checkpoint: the proof's terms on real nets are tested in
    # tests/numerics/test_numerics_diagnostics.py; here they hold, and then one does not
    terms = {"am_gm_holds": True, "bound_holds": True, "path_norm_bound": 9.0, "inverse_G": 3.0}
    monkeypatch.setattr(trained, "_lemma31", lambda record: dict(terms))
    big = [record(tmp_path, "nobias-sam", s, test_error=0.0, trace=1.2 * SQ, theory_min=SQ, diag_path_norm=3.0)
           for s in range(2)]
    small = [record(tmp_path / "s", "nobias-sam-n30", s, test_error=0.1, trace=1.3 * SQ, theory_min=SQ,
                    diag_path_norm=3.5) for s in range(2)]
    groups = {"nobias-sam": big, "nobias-sam-n30": small}
    assert trained.judge_thm_3_1(groups).status == "pass"
    assert trained.judge_thm_3_1({"nobias-sam": small, "nobias-sam-n30": big}).status == "fail"
    assert trained.judge_lemma_3_1(groups).status == "pass"
    big[0].rows[-1]["diag_path_norm"] = 6.0  # > 2 x 2 sqrt(2)
    assert trained.judge_lemma_3_1(groups).status == "fail"
    big[0].rows[-1]["diag_path_norm"] = 3.0
    terms["bound_holds"] = False  # an exact inequality of the proof broken: a bug, whatever the norms
    out = trained.judge_lemma_3_1(groups)
    assert out.status == "fail" and "FAIL on some run" in out.detail and out.numbers["proof_steps_hold"] is False


def test_a_diverged_run_fails_the_claim(tmp_path):
    rec = record(tmp_path, "nobias-sam", 0, test_error=0.0, trace=1.2 * SQ, theory_min=SQ, status="diverged")
    assert trained.judge_nobias({"nobias-sam": [rec]}).status == "fail"


TINY = replace(PROFILES["quick"], seeds=1, epoch_cap=4)


def test_runs_resume_after_an_interruption_and_match_an_uninterrupted_run(tmp_path, monkeypatch):
    spec = runs.specs_for("nobias-sam", TINY)[0]
    runs.execute(spec.config.to_dict(), str(tmp_path / "whole"))
    real, calls = train_module.append_csv_row, []

    def interrupt(*a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("killed")
        return real(*a, **k)

    monkeypatch.setattr(train_module, "append_csv_row", interrupt)
    with pytest.raises(RuntimeError, match="killed"):
        runs.execute(spec.config.to_dict(), str(tmp_path / "cut"))
    monkeypatch.setattr(train_module, "append_csv_row", real)
    assert ckpt.load_checkpoint(tmp_path / "cut")["epoch"] < spec.config.total_epochs
    facts = runs.execute(spec.config.to_dict(), str(tmp_path / "cut"))
    assert facts["reused"] is False
    whole = json.loads((tmp_path / "whole" / "summary.json").read_text())["final"]
    cut = json.loads((tmp_path / "cut" / "summary.json").read_text())["final"]
    assert whole.pop("wall_s") > 0 and cut.pop("wall_s") > 0  # the wall clock is the one column that differs
    assert whole == cut
    assert runs.execute(spec.config.to_dict(), str(tmp_path / "cut"))["reused"] is True


def test_run_names_change_with_the_config():
    a, b = runs.specs_for("bias-sam", TINY)[0], runs.specs_for("bias-gd", TINY)[0]
    assert a.name != b.name and a.name.startswith("bias-sam-seed0-")
    assert runs.run_name("bias-sam", a.config.replace(width=7)) != a.name
    assert runs.specs_for("bias-sam", TINY, root=Path("r"))[0].run_dir == Path("r") / a.name


def test_paper_profile_uses_the_paper_protocol_with_five_seeds():
    specs = runs.specs_for("bias-sam", PROFILES["paper"])
    assert len(specs) == 5 and [s.config.seed for s in specs] == [0, 1, 2, 3, 4]
    c = specs[0].config
    assert (c.d, c.n, c.width, c.total_epochs) == (30, 100, 500, get_preset("fig4b").total_epochs)
    assert runs.specs_for("bias-sam", PROFILES["quick"])[0].config.total_epochs == get_preset("fig4b", quick=True).total_epochs


def test_trained_kind_end_to_end_writes_figures_and_reuses_runs(tmp_path, capsys):
    from sharpgen.verify.ledger.command import Options, run_verify
    from sharpgen.verify.ledger.entries import select
    profile = replace(PROFILES["paper"], seeds=1, epoch_cap=3)  # the paper profile, shortened
    opts = Options(select(["table1-sim_ln"]), ("trained",), profile, 1, tmp_path)
    run_verify(opts)
    first = json.loads((tmp_path / "report.json").read_text())
    assert [r["reused"] for r in first["runs"]] == [False]
    assert first["runs"][0]["config"]["width"] == 500 and first["runs"][0]["status"] == "done"
    assert (tmp_path / "figures" / "table1-sim_ln.png").stat().st_size > 0
    assert (tmp_path / "figures" / "table1-sim_ln.pdf").stat().st_size > 0
    row = next(e for e in first["entries"] if e["id"] == "table1-sim_ln")["evidence"][0]
    assert isinstance(row["numbers"]["seeds"][0]["trace_gn"], float)
    run_verify(opts)
    second = json.loads((tmp_path / "report.json").read_text())
    assert [r["reused"] for r in second["runs"]] == [True]
    assert second["runs"][0]["final"] == first["runs"][0]["final"]
    assert "table1-sim_ln" in capsys.readouterr().out


def test_the_seeds_of_a_group_train_together_exactly_as_alone(tmp_path):
    specs = runs.specs_for("nobias-sam", replace(TINY, seeds=2))
    together = [tmp_path / "together" / s.name for s in specs]
    facts = runs.execute_group([s.config.to_dict() for s in specs], [str(d) for d in together])
    assert [(f["reused"], "diverged" in f) for f in facts] == [(False, False)] * 2
    for spec, run_dir in zip(specs, together):
        runs.execute(spec.config.to_dict(), str(tmp_path / "alone" / spec.name))
        assert run_numbers(run_dir) == run_numbers(tmp_path / "alone" / spec.name)
    assert [f["reused"] for f in runs.execute_group([s.config.to_dict() for s in specs], together)] == [True, True]


def test_a_busy_directory_fails_only_its_own_run_of_the_group(tmp_path):
    import threading
    from sharpgen.numerics.runs.rundir import locked
    specs = runs.specs_for("nobias-sam", replace(TINY, seeds=2))
    dirs = [str(tmp_path / s.name) for s in specs]
    out = []
    with locked(dirs[1]):  # held by this thread; the group runs in another one, as in another process
        worker = threading.Thread(target=lambda: out.extend(runs.execute_group([s.config.to_dict() for s in specs],
                                                                                dirs)))
        worker.start()
        worker.join()
    assert "error" not in out[0] and json.loads((Path(dirs[0]) / "summary.json").read_text())["status"] == "done"
    assert "is in use by another thread" in out[1]["error"] and not (Path(dirs[1]) / "config.json").exists()


Z2 = 1.96 ** 2


def test_wilson_at_the_ends_and_in_the_middle():
    n = 10
    assert wilson(0, n)[0] == 0.0 and wilson(0, n)[1] == pytest.approx(Z2 / (n + Z2))  # closed form at k = 0
    assert wilson(n, n)[1] == 1.0 and wilson(n, n)[0] == pytest.approx(n / (n + Z2))
    low, high = wilson(9, n)
    assert (round(low, 4), round(high, 4)) == (0.5958, 0.9821)  # by hand: rates.wilson's docstring
    assert wilson(1, n) == pytest.approx(tuple(1 - v for v in reversed(wilson(9, n))))
    assert low < 9 / n < high
    with pytest.raises(ValueError, match="0 <= k <= n"):
        wilson(11, n)


def _nobias_seeds(tmp_path, good: int, total: int, first: int = 1000):
    return [record(tmp_path, "nobias-sam", first + s, test_error=0.0 if s < good else 0.2, trace=1.2 * SQ,
                   theory_min=SQ) for s in range(total)]


def test_the_pass_rule_turns_seed_tables_into_verdicts(tmp_path):
    nine = trained.judge_nobias({"nobias-sam": _nobias_seeds(tmp_path / "a", 9, 10)})
    assert nine.status == "pass" and nine.numbers["k"] == 9 and nine.numbers["n"] == 10
    assert nine.numbers["wilson_low"] >= RATE_LOW_MIN and nine.numbers["pass_rule"].startswith("wilson_low >= 0.5")
    eight = trained.judge_nobias({"nobias-sam": _nobias_seeds(tmp_path / "b", 8, 10)})
    assert eight.status == "not reproduced" and eight.numbers["k"] == 8
    assert eight.numbers["wilson_low"] < RATE_LOW_MIN and "Wilson lower bound" in eight.reason
    three = trained.judge_nobias({"nobias-sam": _nobias_seeds(tmp_path / "c", 3, 3, first=0)})
    assert three.status == "pass" and three.numbers["pass_rule"].startswith("all seeds")
    assert three.numbers["wilson_high"] == 1.0 and "3/3 seeds" in three.detail
    two = trained.judge_nobias({"nobias-sam": _nobias_seeds(tmp_path / "d", 2, 3, first=0)})
    assert two.status == "fail" and two.numbers["rate"] == pytest.approx(2 / 3)


def test_rate_numbers_reach_report_json_with_the_papers_words(tmp_path):
    out = trained.judge_nobias({"nobias-sam": _nobias_seeds(tmp_path, 10, 10)}).to_json()
    assert {"rate", "k", "n", "wilson_low", "wilson_high", "criterion", "pass_rule"} <= set(out["numbers"])
    assert "perfect generalization" in out["numbers"]["paper"] and json.dumps(out)


def test_sim_ln_is_held_to_almost_perfect_generalization_under_the_rate_rule(tmp_path):
    seeds = [record(tmp_path, "sim_ln-sam", 1000 + s, test_error=0.05, trace=1.1, trace_gn=2.04, theory_min=2.0,
                    preset="fig6a") for s in range(10)]
    out = trained.judge_sim_ln({"sim_ln-sam": seeds})
    assert out.status == "not reproduced" and out.numbers["k"] == 0 and "test error <= 0.02" in out.numbers["criterion"]
    for rec in seeds[:9]:
        rec.rows[-1]["test_error"] = 0.01
    assert trained.judge_sim_ln({"sim_ln-sam": seeds}).status == "pass"


def test_bias_and_sim_bn_and_thm_3_1_report_rates(tmp_path):
    sam = [record(tmp_path, "bias-sam", 1000 + s, test_error=0.3, trace=1.02 * SQB, theory_min=SQB, preset="fig4b")
           for s in range(10)]
    gd = [record(tmp_path, "bias-gd", 1000 + s, test_error=0.001 if s < 8 else 0.3, trace=3.4 * SQB, theory_min=SQB,
                 preset="fig4a") for s in range(10)]
    out = trained.judge_bias({"bias-sam": sam, "bias-gd": gd})
    assert out.status == "not reproduced" and (out.numbers["k"], out.numbers["n"]) == (8, 10)
    assert trained.judge_bias({"bias-sam": sam, "bias-gd": gd[:9]}).status == "fail"  # seeds do not pair up
    big = _nobias_seeds(tmp_path / "big", 10, 10)
    small = [record(tmp_path / "s", "nobias-sam-n30", 1000 + s, test_error=0.1, trace=1.3 * SQ, theory_min=SQ)
             for s in range(10)]
    out = trained.judge_thm_3_1({"nobias-sam": big, "nobias-sam-n30": small})
    assert out.status == "pass" and out.numbers["k"] == 10 and "n = 100" in out.numbers["criterion"]
    worse = _nobias_seeds(tmp_path / "worse", 10, 10)
    for rec in worse:
        rec.rows[-1]["test_error"] = 0.15  # errs more than at n = 30: the mean part fails outright
    assert trained.judge_thm_3_1({"nobias-sam": worse, "nobias-sam-n30": small}).status == "fail"


# seeds the presets were tuned or evaluated on: 0-9 tuning, 100-104 evaluation (docs/scenarios.md,
# numerics/runs/presets.py, experiments/scenarios/simln_sweeps.py); the quick and paper profiles train on 0-2, 0-4
SEEDS_ALREADY_USED = set(range(10)) | set(range(100, 105))


@pytest.mark.parametrize("seed", [0, 5])
def test_rates_profile_runs_ten_unused_evaluation_seeds_of_the_quick_schedules(seed):
    rates = replace(PROFILES["rates"], seed=seed)  # as `sharpgen verify --profile rates --seed SEED` builds it
    seeds = set(training_seeds(rates))
    assert len(seeds) >= 10 and not seeds & SEEDS_ALREADY_USED
    assert not seeds & (set(training_seeds(PROFILES["quick"])) | set(training_seeds(PROFILES["paper"])))
    specs = runs.specs_for("bias-sam", rates)
    assert {s.config.seed for s in specs} == seeds
    assert specs[0].config.total_epochs == get_preset("fig4b", quick=True).total_epochs
    assert runs.specs_for("bias-sam", PROFILES["quick"])[2].config.seed == 2  # quick keeps its 3 seeds 0-2


def test_verify_cli_offers_the_rates_profile_with_its_cost():
    import argparse
    from sharpgen.verify.cmd_verify import add_parser
    sub = argparse.ArgumentParser().add_subparsers()
    add_parser(sub)
    parser = sub.choices["verify"]
    assert parser.parse_args(["--profile", "rates"]).profile == "rates"
    help_text = " ".join(parser.format_help().split())
    assert "rates:" in help_text and "min" in help_text.split("rates:")[1].split("paper:")[0]
